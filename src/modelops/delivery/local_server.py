"""Start, wait for and stop local server processes (smoke tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import requests


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, process, what: str, timeout: float = 90.0, interval: float = 0.2) -> None:
    """Poll `check()` until it is true; fail if `process` exits first or time runs out.

    `process` is anything with Popen's `poll()` (a subprocess, or a running container).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise RuntimeError(f"{what} exited with {code} before it was ready")
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s")


def answers_200(url: str) -> bool:
    """Whether `url` answers 200 now (not listening yet, or busy starting, is False)."""
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def wait_ready(
    url: str, process, timeout: float = 90.0, path: str = "/readyz", interval: float = 0.2
) -> None:
    """Poll `url + path` until it answers 200; fail if the process exits or time runs out."""
    wait_until(lambda: answers_200(f"{url}{path}"), process, f"server at {url}", timeout, interval)


def stop(process: subprocess.Popen) -> None:
    """Stop the server and every worker it started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
