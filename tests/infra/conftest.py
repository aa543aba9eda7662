import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelops.delivery.local_server import free_port, stop


@pytest.fixture(scope="session")
def moto_url():
    """A real moto server on a free loopback port, stopped whatever the tests do."""
    import requests

    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists():
        found = shutil.which("moto_server")
        if not found:
            pytest.skip("moto_server is not installed (dev group: moto[server])")
        binary = Path(found)
    port = free_port()
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "MOTO_LAMBDA_STUB_ECR": "true"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {process.returncode}")
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start in 30 s") from None
                time.sleep(0.2)
        yield url
    finally:
        stop(process)
