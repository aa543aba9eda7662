import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.delivery.local_server import answers_200, start_on_free_port, stop, wait_until


@pytest.fixture(scope="session")
def moto_url():
    """A real moto server on a free loopback port, stopped whatever the tests do."""
    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists():
        found = shutil.which("moto_server")
        if not found:
            pytest.skip("moto_server is not installed (dev group: moto[server])")
        binary = Path(found)

    def start(port: int) -> subprocess.Popen:
        return subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "MOTO_LAMBDA_STUB_ECR": "true"},
        )

    def ready(port: int, process: subprocess.Popen) -> None:
        url = f"http://127.0.0.1:{port}/moto-api/"
        wait_until(lambda: answers_200(url), process, "moto_server", timeout=30)

    process, port = start_on_free_port(start, ready, what="moto_server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
