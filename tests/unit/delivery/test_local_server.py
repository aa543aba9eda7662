"""The readiness helpers every server fixture and the image tooling share."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.delivery import local_server
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


def test_free_port_is_outside_the_ephemeral_range_and_never_handed_out_twice():
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(20000 <= port < max(low, 21000) for port in ports)


def test_a_server_that_lost_its_port_is_started_again_on_another(monkeypatch):
    taken = socket.socket()  # another process "took" the first port between pick and bind
    taken.bind(("127.0.0.1", 0))
    ports = iter([taken.getsockname()[1], free_port()])
    monkeypatch.setattr(local_server, "free_port", lambda: next(ports))
    started = []

    def start(port):
        started.append(port)
        # a server that binds its port, and exits at once when it cannot
        code = "import socket,sys,time; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))"
        code += "; s.listen(); time.sleep(30)"
        return subprocess.Popen([sys.executable, "-c", code, str(port)], start_new_session=True)

    def listening(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def ready(port, process):
        wait_until(lambda: listening(port), process, "toy server", timeout=10)

    try:
        process, port = local_server.start_on_free_port(start, ready, what="toy server")
        assert port == started[1] != started[0]
        assert process.poll() is None
    finally:
        taken.close()
        local_server.stop(process)


def test_a_server_failing_for_another_reason_is_not_retried():
    started = []

    def start(port):
        started.append(port)
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(4)"])

    def ready(port, process):
        wait_until(lambda: False, process, "broken server", timeout=10)

    with pytest.raises(RuntimeError, match="broken server exited with 4"):
        local_server.start_on_free_port(start, ready)
    assert len(started) == 1


WORKER_THAT_LINGERS = """
import signal, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c",
    "import signal, sys, time;"
    "signal.signal(signal.SIGTERM, lambda *a: (time.sleep(1), sys.exit(0)));"
    "print('up', flush=True); time.sleep(60)"])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # the parent leaves at once
time.sleep(60)
"""


def test_stop_returns_only_once_the_workers_are_gone_too():
    """A worker still shutting down holds the port: the next server on it would fail to bind."""
    import os

    process = subprocess.Popen(
        [sys.executable, "-c", WORKER_THAT_LINGERS],
        start_new_session=True, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "up"  # the worker is running
    local_server.stop(process)
    with pytest.raises(ProcessLookupError):  # nobody left in the group
        os.killpg(process.pid, 0)
