"""The local server the smoke suite starts is gone afterwards, workers included."""

import os

import pytest

from modelops.delivery.local_server import stop, wait_ready
from tests.smoke.conftest import start_server

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
