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
    scratch = tmp_path / "tmp"  # the server's TMPDIR: what it leaves there is seen
    scratch.mkdir()
    # An in-process service test on this worker sets PROMETHEUS_MULTIPROC_DIR in os.environ
    # (services.classifier does at import); the server must make its own folder, as it does alone.
    inherited = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}

    def start(port: int) -> subprocess.Popen:
        with open(tmp_path / "serve.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "services.serve", "--port", str(port)],
                env={**inherited, "MODELOPS_MODEL_TAG": binary["tag"], "PORT": "1",
                     "TMPDIR": str(scratch)},
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
        assert list(scratch.glob("modelops-prometheus-*"))  # its metrics folder, while it runs
        refused = [
            requests.post(f"{url}/predict", data="{}", headers={"content-type": "text/plain"}),
            requests.post(f"{url}/predict", json={"instances": [GOOD] * 400}),  # over 20,000 B
        ]
        assert [r.status_code for r in refused] == [415, 413]
        unknown = [requests.get(f"{url}/probe-{i}", timeout=5) for i in range(30)]
        assert {(r.status_code, r.text) for r in unknown} == {(404, "Not Found")}
        assert requests.get(f"{url}/web/page.js", timeout=5).status_code == 200
        labels = requests.get(f"{url}/metrics", timeout=5).text
        assert "probe-" not in labels and 'endpoint="/unknown-path"' in labels  # one label
        assert 'endpoint="/web/page.js"' in labels
    finally:
        stop(process)
    log = (tmp_path / "serve.log").read_text()
    for status in (415, 413):  # one INFO line each, without the payload
        assert len([line for line in log.splitlines() if f"client error {status}" in line]) == 1
    assert "mean perimeter" not in log  # no payload in the log
    assert not list(scratch.glob("modelops-prometheus-*"))  # removed when the server stops


def test_a_body_over_the_limit_always_gets_its_413_never_a_reset(binary, tmp_path):
    """3.6 MB bodies, one after the other, on a quiet server: each answered 413, none reset."""

    def start(port: int) -> subprocess.Popen:
        with open(tmp_path / "serve.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "services.serve", "--port", str(port)],
                env={**os.environ, "MODELOPS_MODEL_TAG": binary["tag"]},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    process, port = start_on_free_port(
        start, lambda port, process: wait_ready(f"http://127.0.0.1:{port}", process)
    )
    body = b'{"instances": [' + b"1," * 1_800_000 + b"1]}"
    try:
        statuses = []
        for _ in range(10):
            try:
                statuses.append(
                    requests.post(
                        f"http://127.0.0.1:{port}/predict", data=body,
                        headers={"content-type": "application/json"}, timeout=30,
                    ).status_code
                )  # fmt: skip
            except requests.ConnectionError as exc:  # a reset or a broken pipe
                statuses.append(type(exc).__name__)
    finally:
        stop(process)
    assert statuses == [413] * 10
