"""Start, wait for and stop local server processes (smoke tests and benchmarks)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import requests

log = logging.getLogger(__name__)


# Ports handed out by free_port() in this process, so two servers of one run never share one.
_HANDED_OUT: set[int] = set()


# Below the kernel's ephemeral range (bind(0) and every outgoing connection take ports from it,
# so a port found there is soon someone's client socket); the range is read from /proc.
class SupportsPoll(Protocol):
    """Anything with Popen's `poll()`: a subprocess, or a running container."""

    def poll(self) -> int | None:
        """The exit code once it has exited, else None."""
        ...


_LOWEST_PORT = 20000
# Not the global generator: a test that seeds it would make every xdist worker pick alike.
_RANDOM = random.SystemRandom()


def _ephemeral_start() -> int:
    try:
        low, _ = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low)
    except (OSError, ValueError):
        return 32768  # Linux's default


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something is bound to `port` on `host` now."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def free_port() -> int:
    """A TCP port on loopback that nothing is bound to now, outside the ephemeral range.

    The port is released before the server binds it, so another process can still take it in
    between: start servers with `start_on_free_port`, which starts again on another port when
    that happened.
    """
    high = max(_ephemeral_start(), _LOWEST_PORT + 1000)
    for _ in range(200):
        port = _RANDOM.randrange(_LOWEST_PORT, high)
        if port not in _HANDED_OUT and not port_in_use(port):
            _HANDED_OUT.add(port)
            return port
    with socket.socket() as sock:  # the low range is full: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_on_free_port(
    start: Callable[[int], Any],
    ready: Callable[[int, Any], None],
    *,
    attempts: int = 3,
    what: str = "server",
) -> tuple[Any, int]:
    """Start a server on a free port, and on another one if it lost that port to someone else.

    Args:
        start: starts the server on the port it is given; returns its process (anything with
            Popen's `poll()`).
        ready: waits until that process serves on that port; raises RuntimeError otherwise.
        attempts: how many ports to try.
        what: the server's name in the log line of a retry.

    Returns:
        The ready process and its port.

    Raises:
        RuntimeError: the server failed for another reason than a taken port (`ready`'s
            error), or lost its port `attempts` times.

    """
    for attempt in range(1, attempts + 1):
        port = free_port()
        process = start(port)
        try:
            ready(port, process)
            return process, port
        except RuntimeError:
            lost = process.poll() is not None and port_in_use(port)
            if isinstance(process, subprocess.Popen):
                stop(process)
            if not lost or attempt == attempts:
                raise
            log.warning("%s lost port %d to another process; starting again", what, port)
    raise AssertionError("unreachable")  # pragma: no cover


def wait_until(
    check: Callable[[], bool],
    process: SupportsPoll,
    what: str,
    timeout: float = 90.0,
    interval: float = 0.2,
) -> None:
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
    url: str,
    process: SupportsPoll,
    timeout: float = 90.0,
    path: str = "/readyz",
    interval: float = 0.2,
) -> None:
    """Poll `url + path` until it answers 200; fail if the process exits or time runs out."""
    wait_until(lambda: answers_200(f"{url}{path}"), process, f"server at {url}", timeout, interval)


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop the server and every worker it started (its own process group).

    Returns once the whole group is gone, not just the server: a worker still shutting down keeps
    the port, and the next server on that port would fail to bind while the old worker answers.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    if _group_gone(process.pid, within=20):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if not _group_gone(process.pid, within=10):
        log.warning("process group %s still has members after SIGKILL", process.pid)


def _group_gone(group: int, within: float) -> bool:
    """Whether no process of `group` is left, waiting up to `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a member runs as another user: still there
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
