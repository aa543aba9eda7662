"""Real PostgreSQL, moto S3 and MLflow tracking servers on loopback, for the team-setup tests.

Each server runs in its own process group and is stopped with everything it started, whatever
the test did; `stop_all` is also registered at exit in case a fixture's teardown never runs.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from modelops.delivery.local_server import answers_200, start_on_free_port, stop, wait_until
from tests.project_copy import REPO

BIN = Path(sys.executable).parent
# The credentials moto accepts when it does not check them; never real ones.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
    "AWS_DEFAULT_REGION": "us-east-1",
}
POSTGRES_USER = "nobody"  # postgres refuses to run as root; machines here run tests as root


def postgres_missing() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None when it can."""
    for tool in ("initdb", "postgres", "pg_isready"):
        if shutil.which(tool) is None:
            return f"PostgreSQL binary {tool!r} not on PATH"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            return f"running as root and no {POSTGRES_USER!r} user to run PostgreSQL as"
        if shutil.which("setpriv") is None:
            return "running as root and no setpriv to drop privileges for PostgreSQL"
    return None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    # setpriv execs in place: the process we hold is postgres itself, not a wrapper.
    return ["setpriv", f"--reuid={POSTGRES_USER}", "--regid=nogroup", "--clear-groups", *cmd]


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait(check, process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    try:
        wait_until(check, process, what, timeout)
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}:\n{_log_tail(log)}") from None


def _start(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


_RUNNING: list[subprocess.Popen] = []


def stop_all() -> None:
    """Stop every server this module started that is still running (newest first)."""
    while _RUNNING:
        stop(_RUNNING.pop())


@contextmanager
def _running(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    _RUNNING.append(process)
    try:
        yield process
    finally:
        if process in _RUNNING:
            _RUNNING.remove(process)
        stop(process)


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server: its SQLAlchemy URL for a database named `mlflow`."""

    url: str
    port: int


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb on a temp folder, then a postgres on a free loopback port with a `mlflow` database."""
    # Not under pytest's tmp_path: that is root-only (0700), and postgres runs as another user.
    home = Path(tempfile.mkdtemp(prefix="modelops-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(home, POSTGRES_USER)
        data, log = home / "data", home / "postgres.log"
        subprocess.run(
            _as_postgres_user(
                ["initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--no-sync", "--no-instructions"]
            ),
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

        def start(port: int) -> subprocess.Popen:
            cmd = ["postgres", "-D", str(data), "-p", str(port), "-h", "127.0.0.1"]
            cmd += ["-k", str(home)]
            # Durability is not what these tests are about: skip fsync for speed.
            cmd += ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=50"]
            return _start(_as_postgres_user(cmd), log)

        def ready(port: int, process: subprocess.Popen) -> None:
            def accepting() -> bool:
                probe = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
                return subprocess.run(probe, capture_output=True).returncode == 0

            _wait(accepting, process, "postgres", log)

        process, port = start_on_free_port(start, ready, what="postgres")
        with _running(process):
            subprocess.run(
                ["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow"],
                check=True, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            yield Postgres(f"postgresql://postgres@127.0.0.1:{port}/mlflow", port)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def moto_s3(log_dir: Path, *, check_credentials: bool = False) -> Iterator[str]:
    """A moto server on a free loopback port; yields its endpoint URL.

    With `check_credentials`, moto authenticates every request against its (empty) IAM, so
    any access key is refused as AWS would refuse an unknown one.
    """
    env = {**os.environ, **FAKE_AWS}
    if check_credentials:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"

    def start(port: int) -> subprocess.Popen:
        cmd = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        return _start(cmd, log_dir / f"moto-{port}.log", env)

    def ready(port: int, process: subprocess.Popen) -> None:
        url = f"http://127.0.0.1:{port}/moto-api/"
        _wait(lambda: answers_200(url), process, "moto_server", log_dir / f"moto-{port}.log")

    process, port = start_on_free_port(start, ready, what="moto_server")
    with _running(process):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def mlflow_server(
    log_dir: Path,
    *,
    backend_store_uri: str,
    artifacts_destination: str,
    s3_endpoint: str,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`make mlflow-server` over a database and an S3 artifact destination; yields its URL.

    Started through the Makefile target a team runs, with this interpreter's environment
    (`BIN`) and without the venv bootstrap (`SYNCED=`), which the test run already has.
    """
    env = {
        **{k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
        **FAKE_AWS,
        "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
        "MLFLOW_BACKEND_STORE_URI": backend_store_uri,
        "MLFLOW_ARTIFACTS_DESTINATION": artifacts_destination,
        # The job runner serves GenAI features these tests do not use: 7 fewer processes.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        **(extra_env or {}),
    }

    def start(port: int) -> subprocess.Popen:
        cmd = [
            "make", "-C", str(REPO), "mlflow-server", "SYNCED=", f"BIN={BIN}",
            f"MLFLOW_PORT={port}", "MLFLOW_WORKERS=1",
        ]  # fmt: skip
        return _start(cmd, log_dir / f"mlflow-{port}.log", env)

    def ready(port: int, process: subprocess.Popen) -> None:
        url, log = f"http://127.0.0.1:{port}/health", log_dir / f"mlflow-{port}.log"
        _wait(lambda: answers_200(url), process, "mlflow server", log, timeout=120)

    process, port = start_on_free_port(start, ready, what="mlflow server")
    with _running(process):
        yield f"http://127.0.0.1:{port}"


def process_alive(pid: int) -> bool:
    """Whether a process with this id still exists (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())
