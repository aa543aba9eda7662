"""`python -m services.serve`: the one-process server the image runs (and `make serve`)."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest
import requests

from modelops.delivery.local_server import start_on_free_port, stop, wait_ready
from modelops.serving.inference import service_metadata
from services import serve
from tests.service.test_api import GOOD

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("port", ["0", "70000"])
def test_a_port_outside_1_to_65535_is_refused(port, capsys):
    with pytest.raises(SystemExit):
        serve.parse_args(["--port", port])
    assert f"--port {port} is not a TCP port" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_worker_counts_are_refused_naming_the_value(value, monkeypatch):
    monkeypatch.setenv("MODELOPS_WORKERS", value)
    with pytest.raises(SystemExit, match=f"MODELOPS_WORKERS='{value}' must be a positive integer"):
        serve.workers()


def test_serves_the_contract_from_one_process(binary, tmp_path):
    def start(port: int) -> subprocess.Popen:
        with open(tmp_path / "serve.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "services.serve", "--port", str(port)],
                env={**os.environ, "MODELOPS_MODEL_TAG": binary["tag"], "PORT": "1"},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    process, port = start_on_free_port(
        start, lambda port, process: wait_ready(f"http://127.0.0.1:{port}", process)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        answer = requests.post(f"{url}/predict", json={"instances": [GOOD]}, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["model"]["version"] == binary["card"]["version"]
        assert answer.json()["predictions"][0]["label"] in binary["card"]["classes"]
        metadata = requests.get(f"{url}/metadata", timeout=5).json()
        assert metadata == service_metadata(binary["card"], 50)
        metrics = requests.get(f"{url}/metrics", timeout=5)
        assert 'endpoint="/predict",http_response_code="200"' in metrics.text
        assert psutil.Process(process.pid).children(recursive=True) == []  # no arbiter, no worker
    finally:
        stop(process)
