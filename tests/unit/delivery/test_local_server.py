"""The readiness helpers every server fixture and the image tooling share."""

import subprocess
import sys

import pytest

from modelops.delivery.local_server import free_port, wait_ready, wait_until


def test_a_process_that_exits_is_reported_with_its_code():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(RuntimeError, match="exited with 3 before it was ready"):
        wait_ready(f"http://127.0.0.1:{free_port()}", process, timeout=5)


def test_a_check_that_never_passes_times_out_naming_what():
    class Running:
        def poll(self):  # a container-like object: still running
            return None

    with pytest.raises(RuntimeError, match="postgres not ready after 0 s"):
        wait_until(lambda: False, Running(), "postgres", timeout=0.3, interval=0.05)
