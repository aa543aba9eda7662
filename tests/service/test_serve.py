"""`bentoml serve services.classifier:Classifier`: what the image runs (and `make serve`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from modelops.delivery.local_server import start_on_free_port, stop, wait_ready
from modelops.serving.inference import service_metadata
from tests.service.test_api import GOOD

pytestmark = pytest.mark.slow
BENTOML = Path(sys.executable).parent / "bentoml"


def serve(tag: str, log: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """`bentoml serve` of the model `tag` with `workers` processes, ready, on a free port."""
    # An in-process service test on this worker may have set PROMETHEUS_MULTIPROC_DIR;
    # `bentoml serve` sets its own for its workers.
    inherited = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}

    def start(port: int) -> subprocess.Popen:
        with open(log, "ab") as out:
            return subprocess.Popen(
                [str(BENTOML), "serve", "services.classifier:Classifier",
                 "--host", "127.0.0.1", "--port", str(port)],
                env={**inherited, "MODELOPS_MODEL_TAG": tag, "MODELOPS_WORKERS": str(workers)},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    process, port = start_on_free_port(
        start, lambda port, process: wait_ready(f"http://127.0.0.1:{port}", process)
    )
    return process, f"http://127.0.0.1:{port}"


def series(metrics: str, name: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.startswith(name + "{")]


def test_two_workers_serve_the_contract_with_bounded_metric_labels(binary, tmp_path):
    process, url = serve(binary["tag"], tmp_path / "serve.log", workers=2)
    try:
        answer = requests.post(f"{url}/predict", json={"instances": [GOOD]}, timeout=5)
        assert answer.status_code == 200
        assert answer.json()["model"]["version"] == binary["card"]["version"]
        assert answer.json()["predictions"][0]["label"] in binary["card"]["classes"]
        metadata = requests.get(f"{url}/metadata", timeout=5).json()
        assert metadata == service_metadata(binary["card"], 50)
        refused = [
            requests.post(f"{url}/predict", data="{}", headers={"content-type": "text/plain"}),
            requests.post(f"{url}/predict", json={"instances": [GOOD] * 400}),  # over 20,000 B
        ]
        assert [r.status_code for r in refused] == [415, 413]
        before = requests.get(f"{url}/metrics", timeout=5).text
        unknown = [requests.get(f"{url}/probe-{i}", timeout=5) for i in range(300)]
        assert {(r.status_code, r.text) for r in unknown} == {(404, "Not Found")}
        assert requests.get(f"{url}/web/page.js", timeout=5).status_code == 200
        for _ in range(20):  # spread over both workers
            requests.post(f"{url}/predict", json={"instances": [GOOD]}, timeout=5)
        metrics = requests.get(f"{url}/metrics", timeout=5).text
    finally:
        stop(process)
    assert "probe-" not in metrics
    requests_total = series(metrics, "modelops_requests_total")
    # one series per route, method and status: 300 unknown paths are one `other` series
    other = [line for line in requests_total if 'route="other"' in line]
    assert len(other) == 1 and other[0].endswith(" 300.0"), other
    # new since `before`: the 404s' `other`, `/web`, and `/metrics` itself (the `before` scrape)
    assert len(requests_total) == len(series(before, "modelops_requests_total")) + 3
    # the workers' counts are summed (multiprocess mode): all 21 good predictions
    good = [line for line in requests_total if 'route="/predict"' in line and '"200"' in line]
    assert good and float(good[0].rsplit(" ", 1)[1]) == 21.0, good
    assert any('route="/web"' in line for line in requests_total)
    log = (tmp_path / "serve.log").read_text()
    for status in (415, 413):  # one INFO line each, without the payload
        assert len(re.findall(f"client error {status}", log)) == 1, log[-3000:]
    assert "mean perimeter" not in log  # no payload in the log


def test_a_body_over_the_limit_always_gets_its_413_never_a_reset(binary, tmp_path):
    """3.6 MB bodies, one after the other, on a quiet server: each answered 413, none reset."""
    process, url = serve(binary["tag"], tmp_path / "serve.log")
    body = b'{"instances": [' + b"1," * 1_800_000 + b"1]}"
    statuses: list[int | str] = []
    try:
        with requests.Session() as session:
            for _ in range(30):
                try:
                    statuses.append(
                        session.post(
                            f"{url}/predict", data=body,
                            headers={"content-type": "application/json"}, timeout=30,
                        ).status_code
                    )  # fmt: skip
                except requests.ConnectionError as exc:  # a reset or a broken pipe
                    statuses.append(type(exc).__name__)
        fresh = [
            requests.post(
                f"{url}/predict", data=body, headers={"content-type": "application/json"},
                timeout=30,
            ).status_code
            for _ in range(10)
        ]  # fmt: skip
    finally:
        stop(process)
    assert statuses == [413] * 30
    assert fresh == [413] * 10
