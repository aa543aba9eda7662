"""The local server of the test fixtures serves metrics and is gone afterwards, workers included."""

import os

import pytest

from modelops.delivery.local_server import stop, wait_ready
from tests.conftest import start_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]


def test_stop_leaves_no_process_of_the_server_group(packaged, tmp_path):
    process, url = start_server(packaged["tag"], tmp_path / "serve.log")
    try:
        wait_ready(url, process)
        os.killpg(process.pid, 0)  # the group exists while serving
    finally:
        stop(process)
    assert process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


def test_local_server_serves_metrics(local_server):
    import requests

    metrics = requests.get(f"{local_server['url']}/metrics", timeout=10)
    assert metrics.status_code == 200 and "modelops_requests_total" in metrics.text
