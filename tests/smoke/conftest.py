"""The endpoint under test: SMOKE_BASE_URL, or a `bentoml serve` this fixture starts and stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.delivery.local_server import start_on_free_port, stop, wait_ready
from tests.smoke.client import SmokeClient

REPO = Path(__file__).resolve().parents[2]


def start_server(model_tag: str, log: Path) -> tuple[subprocess.Popen, str]:
    """`bentoml serve` of `model_tag` on a free loopback port, in its own process group, ready.

    Raises:
        RuntimeError: it did not become ready (on another port too, if it lost its port).
    """
    bentoml = Path(sys.executable).parent / "bentoml"

    def start(port: int) -> subprocess.Popen:
        with open(log, "ab") as out:
            return subprocess.Popen(
                [str(bentoml), "serve", "services.classifier:Classifier",
                 "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "MODELOPS_MODEL_TAG": model_tag},
            )  # fmt: skip

    def ready(port: int, process: subprocess.Popen) -> None:
        wait_ready(f"http://127.0.0.1:{port}", process)

    process, port = start_on_free_port(start, ready, what="bentoml serve")
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def local_server(packaged, tmp_path_factory):
    """`bentoml serve` of the test model on a free loopback port; stopped afterwards."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    try:
        process, url = start_server(packaged["tag"], log)
    except RuntimeError as exc:
        pytest.fail(f"{exc}\n{log.read_text()[-3000:]}")
    try:
        yield {"url": url, "process": process, "log": log, "version": packaged["card"]["version"]}
    finally:
        stop(process)  # whatever happened: nothing is left running


@pytest.fixture(scope="session")
def endpoint(request) -> dict:
    """Where the smoke suite points: SMOKE_BASE_URL if set, else the local server."""
    if os.environ.get("SMOKE_BASE_URL"):
        return {
            "url": os.environ["SMOKE_BASE_URL"],
            "version": os.environ.get("SMOKE_EXPECT_VERSION"),
        }
    return request.getfixturevalue("local_server")


@pytest.fixture(scope="session")
def client(endpoint) -> SmokeClient:
    return SmokeClient(endpoint["url"])
