"""The local tasks behind make's serve, smoke, mlflow-server, bench-serve and monitor targets.

Each checks what it needs, says what is missing in one line, then runs the tool:

    python -m modelops.delivery.tasks serve [--port 3000] [--capture-dir captures]
    python -m modelops.delivery.tasks smoke --url <base url> [--auth none|aws_iam]
    python -m modelops.delivery.tasks mlflow-server [--host] [--port] [--workers] [--app-name]
    python -m modelops.delivery.tasks bench-serve
    python -m modelops.delivery.tasks monitor --source <folder|s3://...|logs://...> [--days N]

A missing prerequisite exits 1 (a file a target produces is missing) or 2 (a usage error), as
make's guards did; otherwise the process becomes the tool (os.execvpe), so its exit code, signals
and output are the tool's. The tools run as processes: delivery imports no other wing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

BENTO_RECORD = Path("models/bento.json")
REFERENCE = Path("models/reference.json")
NO_MODEL = "no packaged model: run 'make run' first"


class TaskError(RuntimeError):
    """A prerequisite that is missing, in words, with make's exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def require_file(path: Path, message: str) -> Path:
    """`path` if it exists, else TaskError(message)."""
    if not path.is_file():
        raise TaskError(message)
    return path


def become(command: Sequence[str], environ: Mapping[str, str]) -> NoReturn:
    """Replace this process by `command` (its exit code and signals are then the tool's)."""
    sys.stdout.flush()
    os.execvpe(command[0], list(command), dict(environ))


def serve_command(
    port: int, capture_dir: str, environ: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The service on 127.0.0.1:<port> for the packaged model, and the URLs it answers on.

    The capture follows params.yaml's settings; those already set in the environment win.
    """
    record = require_file(BENTO_RECORD, NO_MODEL)
    tag = json.loads(record.read_text())["model_tag"]
    base = f"http://127.0.0.1:{port}"
    print(f"serving {tag} at {base}  page: {base}/  docs: {base}/docs  openapi: {base}/docs.json")
    capture = subprocess.run(
        [sys.executable, "-m", "modelops.monitoring.monitor", "--capture-env"],
        stdout=subprocess.PIPE, text=True, check=False, env={**os.environ, **environ},
    )  # fmt: skip
    if capture.returncode != 0:
        raise TaskError("the capture settings could not be read (above)", capture.returncode)
    env = dict(environ)
    env.update(setting.partition("=")[::2] for setting in capture.stdout.split())
    env["MODELOPS_CAPTURE_DIR"] = environ.get("MODELOPS_CAPTURE_DIR") or capture_dir
    env["MODELOPS_MODEL_TAG"] = tag
    command = [sys.executable, "-m", "bentoml", "serve", "services.classifier:Classifier",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    return command, env


def smoke_command(
    url: str, auth: str, environ: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The smoke suite (tests/smoke) against a running endpoint, signed when auth is aws_iam."""
    if not url:
        raise TaskError("usage: make smoke URL=<base url of the service> [AUTH=none|aws_iam]", 2)
    auth = auth or environ.get("SMOKE_AUTH") or "none"
    command = [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
               "tests/smoke"]  # fmt: skip
    return command, {**environ, "SMOKE_BASE_URL": url, "SMOKE_AUTH": auth}


MLFLOW_USAGE = (
    "usage: MLFLOW_BACKEND_STORE_URI=postgresql://USER@HOST:5432/mlflow (password: PGPASSWORD) "
    "MLFLOW_ARTIFACTS_DESTINATION=s3://<bucket>/mlflow make mlflow-server "
    "[MLFLOW_HOST=127.0.0.1 MLFLOW_PORT=5000 MLFLOW_WORKERS=2; "
    "MLFLOW_APP_NAME=basic-auth for user accounts; MLFLOW_S3_ENDPOINT_URL "
    "for S3-compatible storage] (README: Team setup)"
)


def mlflow_server_command(
    host: str, port: int, workers: int, app_name: str, environ: Mapping[str, str]
) -> list[str]:
    """The team's MLflow tracking server on a database store and S3 artifacts."""
    store = environ.get("MLFLOW_BACKEND_STORE_URI", "")
    artifacts = environ.get("MLFLOW_ARTIFACTS_DESTINATION", "")
    if not store or not artifacts:
        raise TaskError(MLFLOW_USAGE, 2)
    scheme = store.split("://", 1)[0]  # never the credentials a URI may carry
    print(f"MLflow tracking server on http://{host}:{port} "
          f"(store: {scheme}://..., artifacts: {artifacts})")  # fmt: skip
    command = ["mlflow", "server", "--backend-store-uri", store,
               "--artifacts-destination", artifacts, "--host", host, "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    return command + (["--app-name", app_name] if app_name else [])


def bench_serve_command() -> list[str]:
    """The serving benchmark, after the packaged model and wrk (installed by apt when missing)."""
    require_file(BENTO_RECORD, NO_MODEL)
    if shutil.which("wrk") is None:
        print("installing wrk (apt)", flush=True)
        installed = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"],
                                   stdout=subprocess.DEVNULL, check=False)  # fmt: skip
        if installed.returncode != 0:
            raise TaskError("wrk is not installed and apt-get could not install it",
                            installed.returncode)  # fmt: skip
    return [sys.executable, "-m", "benchmarks.serve"]


def monitor_command(source: str, days: str) -> list[str]:
    """Drift of captured predictions against the training reference."""
    require_file(
        REFERENCE,
        f"no reference summary ({REFERENCE}): run 'make run' (or 'make pull') first",
    )
    command = [sys.executable, "-m", "modelops.monitoring.monitor", "--source", source]
    return command + (["--days", days] if days else [])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modelops.delivery.tasks",
        description="Local tasks of the Makefile: check what they need, then run the tool.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the packaged model locally")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--capture-dir", default="captures", help="unless MODELOPS_CAPTURE_DIR")
    smoke = commands.add_parser("smoke", help="the smoke suite against a running endpoint")
    smoke.add_argument("--url", default="", help="base URL of the service")
    smoke.add_argument("--auth", default="", help="none or aws_iam (default: $SMOKE_AUTH, none)")
    mlflow = commands.add_parser("mlflow-server", help="the team's MLflow tracking server")
    mlflow.add_argument("--host", default="127.0.0.1")
    mlflow.add_argument("--port", type=int, default=5000)
    mlflow.add_argument("--workers", type=int, default=2)
    mlflow.add_argument("--app-name", default="", help="e.g. basic-auth")
    commands.add_parser("bench-serve", help="the serving benchmark")
    monitor = commands.add_parser("monitor", help="drift of captured predictions")
    monitor.add_argument("--source", required=True)
    monitor.add_argument("--days", default="")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check the command's prerequisites, then become the tool; 1 or 2 with a reason if not."""
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    try:
        if args.command == "serve":
            command, environ = serve_command(args.port, args.capture_dir, environ)
        elif args.command == "smoke":
            command, environ = smoke_command(args.url, args.auth, environ)
        elif args.command == "mlflow-server":
            command = mlflow_server_command(
                args.host, args.port, args.workers, args.app_name, environ
            )
        elif args.command == "bench-serve":
            command = bench_serve_command()
        else:
            command = monitor_command(args.source, args.days)
    except TaskError as error:
        print(error, file=sys.stderr)
        return error.code
    become(command, environ)


if __name__ == "__main__":
    raise SystemExit(main())
