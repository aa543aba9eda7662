"""Build and smoke-test the service image with the `docker` CLI (any engine DOCKER_HOST names).

    python -m modelops.delivery.image build    # make image
    python -m modelops.delivery.image smoke    # make image-smoke
    python -m modelops.delivery.image push --repository <registry>/<name>  # make image-push
    python -m modelops.delivery.image lookup --repository <registry>/<name>  # make image-lookup

`smoke` starts the image as an HTTP server on a free port and runs the smoke suite against it;
then checks Lambda mode: with AWS_LAMBDA_RUNTIME_API set, the entrypoint starts the runtime
interface client, which polls a fake Runtime API; and the image's Lambda handler answers
real-format Function URL events inside the image (read-only root, writable /tmp, as on Lambda).
Every container it starts is removed, whatever fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelops.delivery.lambda_runtime import FakeLambdaRuntime, lambda_event
from modelops.delivery.local_server import free_port, wait_ready
from modelops.delivery.registry import ImageError, check_lambda_manifest, existing_image
from modelops.serving.inference import example_instance

REPO = Path(__file__).resolve().parents[3]  # the project: src/modelops/delivery/ -> .
BENTO_RECORD = REPO / "models" / "bento.json"
SERVING_FOLDER = REPO / "models" / "serving"  # the package stage's output, copied into the image
IMAGE_NAME = os.environ.get("IMAGE_NAME", "modelops-classifier")


def docker(
    *args: str, check: bool = True, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI in the project folder (any engine DOCKER_HOST names)."""
    return subprocess.run(
        ["docker", *args], cwd=REPO, check=check, text=True,
        capture_output=capture,
    )  # fmt: skip


def engine_unavailable() -> str | None:
    """Why no container engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "no container engine: the docker CLI is not installed"
    if docker("version", "--format", "{{.Server.Version}}", check=False).returncode != 0:
        return "no container engine: docker CLI cannot reach an engine (set DOCKER_HOST)"
    return None


def packaged_model() -> dict[str, Any]:
    """The model the package stage imported, or a clear error naming what produces it."""
    if not BENTO_RECORD.is_file():
        raise ImageError(f"{BENTO_RECORD} not found: run 'make run' first")
    record = json.loads(BENTO_RECORD.read_text())
    name, version = record["model_tag"].split(":")
    if not (SERVING_FOLDER / "serving.json").is_file():
        raise ImageError(
            f"{SERVING_FOLDER} (the packaged model the image copies) is missing: "
            "run 'dvc repro package' (make run), or 'dvc pull' it"
        )
    return {**record, "name": name, "version": version}


def model_data_hash(card: Path | None = None) -> str:
    """The data hash in the packaged model's card (models/best/model_card.json), or ""."""
    card = card or REPO / "models" / "best" / "model_card.json"
    if not card.is_file():
        return ""
    return str(json.loads(card.read_text()).get("data_hash") or "")


def git_commit() -> str:
    """The commit being built, or "unknown" outside a git checkout."""
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def image_tag(model: dict[str, Any]) -> str:
    """`<name>:<commit>-v<registry version>`: which code and which model, from the tag alone."""
    return f"{IMAGE_NAME}:{git_commit()[:12]}-v{model['model_version']}"


def require_image(tag: str) -> str:
    """`tag` if the engine has it, else a clear error naming the target that builds it."""
    if docker("image", "inspect", tag, check=False).returncode != 0:
        raise ImageError(f"image {tag} not found: run 'make image' first")
    return tag


def this_commits_image() -> str:
    """The tag of this commit's image, or ImageError saying why there is none to use.

    Raises:
        ImageError: no container engine answers, or the image is not built (`make image`).

    """
    reason = engine_unavailable()
    if reason:
        raise ImageError(reason)
    return require_image(image_tag(packaged_model()))


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH if set, else the commit's time: the image's only timestamp.

    The reproducible-builds convention: the same commit gives the same time on every machine,
    where the time of the build would give every rebuild a new digest.
    """
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given:
        if not given.isdigit():
            raise ImageError(f"SOURCE_DATE_EPOCH={given!r} is not a number of seconds (Unix time)")
        return int(given)
    out = subprocess.run(
        ["git", "log", "-1", "--format=%ct"], cwd=REPO, capture_output=True, text=True
    )
    if out.returncode != 0 or not out.stdout.strip().isdigit():
        raise ImageError("no commit to take the image's time from: set SOURCE_DATE_EPOCH")
    return int(out.stdout.strip())


def engine_kind() -> str:
    """`podman` when the docker CLI talks to Podman's Docker-compatible API, else `docker`."""
    version = docker("version", "--format", "{{json .Server.Components}}", check=False)
    return "podman" if "Podman Engine" in version.stdout else "docker"


def build_command(engine: str, epoch: int, build_args: list[str], tags: list[str]) -> list[str]:
    """The build command that makes the same image from the same inputs on `engine`.

    - Docker (BuildKit): `SOURCE_DATE_EPOCH` as a build arg sets the image's and its history's
      times, and the exporter's `rewrite-timestamp=true` clamps the files' times in the layers
      to it (Docker's "Reproducible builds" documentation).
    - Podman: its Docker-compatible API takes no timestamp, so the podman CLI builds (the same
      image store as the API it serves): `--timestamp` sets the created time and every file's
      time in the new layers (podman-build(1); podman 5's --source-date-epoch/--rewrite-timestamp
      are the same for this purpose, and 4.x has only --timestamp).
    Both also get `SOURCE_DATE_EPOCH` as a build arg: the Dockerfile's RUN steps read it.
    """
    tagging = [item for tag in tags for item in ("-t", tag)]
    epoch_arg = ["--build-arg", f"SOURCE_DATE_EPOCH={epoch}"]
    if engine == "podman":
        return ["podman", "build", "--timestamp", str(epoch), *epoch_arg, *build_args, *tagging]
    return [
        "docker", "build", *epoch_arg, *build_args,
        "--output", "type=docker,rewrite-timestamp=true", *tagging,
    ]  # fmt: skip


def build(base_image: str | None = None, no_cache: bool = False) -> str:
    """Build the image of this commit and the packaged model; return its tag.

    Reproducible: the same commit and packaged model give the same image id (and so the same
    digest when pushed) on a rebuild; see `build_command` for how each engine is told.
    """
    model = packaged_model()
    tag = image_tag(model)
    args = {
        "MODEL_NAME": model["name"],
        "MODEL_VERSION": model["version"],
        "MODEL_REGISTRY_VERSION": model["model_version"],
        # scikit-learn is installed only for a pickled winner (older records: assume one)
        "SERVING_FORMAT": model.get("serving_format", "pickle"),
        "GIT_COMMIT": git_commit(),
        "SOURCE_URL": os.environ.get("SOURCE_URL", "unknown"),
    }
    if base_image:
        args["PYTHON_IMAGE"] = base_image
    build_args = [item for key, value in args.items() for item in ("--build-arg", f"{key}={value}")]
    if no_cache:
        build_args.append("--no-cache")
    engine, epoch = engine_kind(), source_date_epoch()
    if engine == "docker":
        build_args += attestation_flags()
    command = build_command(engine, epoch, build_args, [tag, f"{IMAGE_NAME}:latest"])
    if engine == "podman" and shutil.which("podman") is None:
        raise ImageError(
            "the engine is Podman, whose Docker API cannot set the image's timestamps: "
            "install the podman CLI to build a reproducible image"
        )
    print(f"building {tag} (model {model['model_tag']}, version {model['model_version']}, "
          f"{engine}, SOURCE_DATE_EPOCH={epoch})")  # fmt: skip
    result = subprocess.run([*command, "."], cwd=REPO, check=False, text=True)
    if result.returncode != 0:
        raise ImageError(f"{command[0]} build of {tag} failed (exit {result.returncode})")
    return tag


def image_id(tag: str) -> str:
    """The image's id (the digest of its configuration, which names every layer's digest)."""
    return str(docker("image", "inspect", "--format", "{{.Id}}", tag).stdout).strip()


def attestation_flags() -> list[str]:
    """`--provenance=false --sbom=false` when `docker build` is BuildKit (buildx), else nothing.

    BuildKit adds provenance attestations by default and then pushes an OCI image index; Lambda
    accepts only single-platform image manifests (Docker v2 schema 2 or OCI image manifest) and
    refuses an index with attestations (docker/buildx#1533). The legacy builder (no buildx, e.g.
    podman's Docker API) writes no attestations and does not know these flags.
    """
    if docker("buildx", "version", check=False).returncode != 0:
        return []
    return ["--provenance=false", "--sbom=false"]


# Every container this process starts carries this label, so what it left behind can be told
# apart from containers of other processes (another test worker, a benchmark) on the same engine.
OWNER_LABEL = f"ai.modelops.started-by={os.getpid()}"

REPOSITORY = re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def push(repository: str) -> str:
    """Push the image for this commit and model to `repository`; return `<repository>@<digest>`.

    Deploys refer to the image by that digest, never by a tag. When $GITHUB_OUTPUT is set, the
    URI, the model's registry version and its data hash are also written there (`image_uri=`,
    `model_version=`, `model_data_hash=`) for the next workflow steps.
    """
    if not REPOSITORY.match(repository):
        raise ImageError(
            f"repository {repository!r} is not '<registry>/<name>' without a tag or digest, "
            "e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops-classifier"
        )
    local = require_image(image_tag(packaged_model()))
    remote = f"{repository}:{local.split(':', 1)[1]}"
    docker("tag", local, remote)
    pushed = docker("push", remote, check=False)
    print(pushed.stdout, end="")
    if pushed.returncode != 0:
        raise ImageError(f"docker push {remote} failed: {pushed.stderr.strip()[-2000:]}")
    digest = pushed_digest(pushed.stdout, remote, repository)
    image_uri = f"{repository}@{digest}"
    media_type = check_lambda_manifest(repository, digest)
    print(f"manifest: {media_type or 'not checked (not an ECR repository)'}")
    write_outputs(image_uri)
    return image_uri


def write_outputs(image_uri: str) -> str:
    """Print (and append to $GITHUB_OUTPUT) what CD's next steps read."""
    # The registry version the image serves: what the smoke tests expect /metadata to report;
    # and its data hash, which CD checks the registry's version against before moving `champion`.
    outputs = (
        f"image_uri={image_uri}\nmodel_version={packaged_model()['model_version']}\n"
        f"model_data_hash={model_data_hash()}\n"
    )
    print(outputs, end="")
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as out:
            out.write(outputs)
    return outputs


def lookup(repository: str) -> str | None:
    """CD re-runs: the image of this commit and model already in `repository`, or None."""
    tag = image_tag(packaged_model()).split(":", 1)[1]
    image_uri = existing_image(repository, tag)
    if image_uri is None:
        print(f"{repository}:{tag} is not in the registry yet: build and push it")
        if os.environ.get("GITHUB_OUTPUT"):
            with open(os.environ["GITHUB_OUTPUT"], "a") as out:
                out.write("found=false\n")
        return None
    print(f"{repository}:{tag} is already pushed ({image_uri}): re-using it, not rebuilding")
    check_lambda_manifest(repository, image_uri.split("@", 1)[1])
    write_outputs(image_uri)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as out:
            out.write("found=true\n")
    return image_uri


def pushed_digest(push_output: str, remote: str, repository: str) -> str:
    """The manifest digest the registry stored: from `docker push`'s last line, else RepoDigests."""
    for line in reversed(push_output.splitlines()):
        if "digest:" in line and (found := DIGEST.search(line)):
            return str(found.group())
    digests = json.loads(
        docker("image", "inspect", remote, "--format", "{{json .RepoDigests}}").stdout
    )
    for entry in digests or []:
        name, _, digest = entry.partition("@")
        if name == repository and DIGEST.fullmatch(digest):
            return str(digest)
    raise ImageError(f"pushed {remote}, but the engine reported no digest for it")


class Container:
    """A running container; `poll()` mirrors subprocess.Popen for the readiness helpers."""

    def __init__(self, container_id: str):
        self.id = container_id

    def poll(self) -> int | None:
        """None while running, else the exit code (as Popen.poll)."""
        state = docker("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", self.id)
        running, code = state.stdout.split()
        return None if running == "true" else int(code)

    def logs(self) -> str:
        """The last 4,000 characters of the container's output."""
        out = docker("logs", self.id, check=False)
        return (out.stdout + out.stderr)[-4000:]


@contextmanager
def running(image: str, *run_args: str) -> Iterator[Container]:
    """`docker run -d` the image; always `docker rm -f` it afterwards."""
    started = docker("run", "-d", "--label", OWNER_LABEL, *run_args, image)
    container = Container(started.stdout.strip())
    try:
        yield container
    finally:
        remove(container.id)


def own_containers() -> set[str]:
    """IDs of the containers this process started that the engine still lists."""
    return set(docker("ps", "-aq", "--filter", f"label={OWNER_LABEL}").stdout.split())


def remove(container_id: str, timeout: float = 30.0) -> None:
    """`docker rm -f`, then wait until the engine no longer lists it (podman removes lazily)."""
    docker("rm", "-f", container_id, check=False)
    deadline = time.monotonic() + timeout
    # `ps -a`, not `inspect`: podman still lists a container it is removing after inspect fails
    while docker("ps", "-aq", "--filter", f"id={container_id}", check=False).stdout.strip():
        if time.monotonic() > deadline:
            raise ImageError(f"container {container_id} still exists {timeout:.0f} s after rm -f")
        time.sleep(0.2)


def wait_http_ready(container: Container, url: str, timeout: float = 90.0) -> float:
    """Seconds until `/readyz` answers 200; raises with the container log if it never does."""
    started = time.perf_counter()
    try:
        wait_ready(url, container, timeout, interval=0.05)
    except RuntimeError as exc:
        raise ImageError(f"container: {exc}:\n{container.logs()}") from None
    return time.perf_counter() - started


def http_container_args(port: int) -> list[str]:
    """`docker run` arguments of an HTTP server on loopback `port`."""
    return ["-e", f"PORT={port}", "-p", f"127.0.0.1:{port}:{port}"]


def lambda_container_args(runtime: FakeLambdaRuntime) -> list[str]:
    """`docker run` arguments of Lambda mode against `runtime`."""
    # As on Lambda: read-only root file system, writable /tmp, the runtime API address given.
    return ["--network", "host", "--read-only", "--tmpfs", "/tmp",
            "-e", f"AWS_LAMBDA_RUNTIME_API={runtime.address}"]  # fmt: skip


def example_row(card: dict[str, Any]) -> dict[str, Any]:
    """A row the model accepts: the card's input example, else one value of each feature's type."""
    return example_instance(card)  # the serving wing's, so the image and the smoke suite agree


def smoke(tag: str) -> None:
    """Smoke the image over HTTP, then in Lambda mode; raise ImageError on any failure."""
    model = packaged_model()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(tag, *http_container_args(port)) as container:
        seconds = wait_http_ready(container, url)
        print(f"{tag}: ready in {seconds:.1f} s at {url}; running the smoke suite")
        env = {**os.environ, "SMOKE_BASE_URL": url, "SMOKE_EXPECT_VERSION": model["model_version"]}
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
             "tests/smoke/test_smoke.py"], cwd=REPO, env=env,
        )  # fmt: skip
        if suite.returncode != 0:
            raise ImageError(f"smoke suite failed against the container:\n{container.logs()}")

    if not runtime_client_polls(tag):
        raise ImageError("Lambda mode: the runtime interface client never polled the Runtime API")
    metadata = invoke_lambda_handler(tag, [lambda_event("GET", "/metadata")])[0]
    card = json.loads(metadata["body"])
    body = json.dumps({"instances": [example_row(card)]})
    answer = invoke_lambda_handler(tag, [lambda_event("POST", "/predict", body)])[0]
    if answer["statusCode"] != 200 or metadata["statusCode"] != 200:
        raise ImageError(f"Lambda handler in the image answered {answer}")
    predictions = json.loads(answer["body"]).get("predictions")
    if not isinstance(predictions, list) or len(predictions) != 1:
        raise ImageError(f"Lambda handler answered no prediction for one row: {answer}")
    print(f"{tag}: Lambda handler answered {json.loads(answer['body'])}")


def runtime_client_polls(tag: str, timeout: float = 60.0) -> bool:
    """With AWS_LAMBDA_RUNTIME_API set, the image runs awslambdaric, which asks for an event."""
    with FakeLambdaRuntime() as runtime, running(tag, *lambda_container_args(runtime)):
        return runtime.polled.wait(timeout)


# Runs inside the image: one Lambda event per stdin line in, one response per stdout line out.
_HANDLER_DRIVER = """
import json, sys, time
started = time.perf_counter()
from services.lambda_handler import handler
print("IMPORTED %.3f" % (time.perf_counter() - started), flush=True)
class Context:
    function_name = "modelops-classifier"; memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:modelops-classifier"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    def get_remaining_time_in_millis(self): return 30000
for line in sys.stdin:
    started = time.perf_counter()
    response = handler(json.loads(line), Context())
    print("TOOK %.3f" % ((time.perf_counter() - started) * 1000), flush=True)
    print("RESPONSE " + json.dumps(response), flush=True)
"""


def invoke_lambda_handler(
    tag: str, events: list[dict[str, Any]], timings: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Call the image's Lambda handler with `events` in one container (one cold start).

    `timings`, if given, receives the handler module's import (cold start) seconds and each
    invocation's milliseconds, measured inside the container.
    """
    result = subprocess.run(
        ["docker", "run", "--rm", "-i", "--label", OWNER_LABEL, "--read-only", "--tmpfs", "/tmp",
         "--entrypoint", "python", tag, "-c", _HANDLER_DRIVER],
        input="".join(json.dumps(event) + "\n" for event in events),
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    responses = [
        json.loads(line.removeprefix("RESPONSE "))
        for line in result.stdout.splitlines()
        if line.startswith("RESPONSE ")
    ]
    if result.returncode != 0 or len(responses) != len(events):
        raise ImageError(f"Lambda handler in the image failed:\n{result.stderr[-3000:]}")
    if timings is not None:
        for line in result.stdout.splitlines():
            if line.startswith("IMPORTED "):
                timings["import_s"] = float(line.split()[1])
            elif line.startswith("TOOK "):
                timings.setdefault("invocations_ms", []).append(float(line.split()[1]))
    return responses


def main() -> None:
    """CLI: build, smoke or push."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["build", "smoke", "push", "lookup"])
    parser.add_argument("--base-image", help="override the Dockerfile's PYTHON_IMAGE")
    parser.add_argument(
        "--no-cache", action="store_true", help="build: rebuild every layer (to check a rebuild)"
    )
    parser.add_argument("--repository", help="push: <registry>/<name>, e.g. an ECR repository URI")
    args = parser.parse_args()
    if args.command in ("push", "lookup") and not args.repository:
        example = " (e.g. an ECR repository URI)" if args.command == "push" else ""
        print(f"usage: make image-{args.command} REPOSITORY=<registry>/<name>{example}",
              file=sys.stderr)  # fmt: skip
        sys.exit(2)
    reason = None if args.command == "lookup" else engine_unavailable()
    try:
        if reason:
            raise ImageError(reason)
        if args.command == "lookup":
            lookup(args.repository)
            return
        if args.command == "build":
            tag = build(args.base_image, no_cache=args.no_cache)
            print(f"built {tag}: {image_id(tag)}")
        elif args.command == "push":
            push(args.repository)
        else:
            smoke(require_image(image_tag(packaged_model())))
    except ImageError as exc:
        sys.exit(f"error: image {args.command}: {exc}")


if __name__ == "__main__":
    main()
