"""Header limits of the container service (the tester's findings), known to be missing.

BentoML 1.4.39 runs uvicorn with `http="auto"` (httptools) and exposes none of its protocol
options; uvicorn has no header-read timeout and httptools no header size limit, and an ASGI
middleware sees a request only after its headers are complete. Neither can be had through
BentoML's public API (docs/serving.md, "The BentoML adapter"): these tests record the gap as
strict expected failures, so they fail, and their marks must go, once a front (proxy) closes it.
"""

from __future__ import annotations

import socket
import time

import pytest

from modelops.delivery.local_server import stop
from tests.service.test_serve import serve

pytestmark = pytest.mark.slow
BOUND_S = 5.0  # an idle or partial-header connection must be closed within this


@pytest.fixture(scope="module")
def server(typed, tmp_path_factory):
    process, url = serve(typed["binary"]["tag"], tmp_path_factory.mktemp("headers") / "serve.log")
    yield url.removeprefix("http://").split(":")
    stop(process)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes `sock` (EOF or reset) within `seconds`."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionError:
            return True
    return False


@pytest.mark.xfail(strict=True, reason="uvicorn under bentoml serve has no header-read timeout")
def test_a_partial_header_connection_is_closed_within_a_bound(server):
    host, port = server
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        assert closed_within(sock, BOUND_S + 1)


@pytest.mark.xfail(strict=True, reason="httptools under bentoml serve has no header size limit")
def test_headers_over_a_bound_get_431_and_the_connection_closes(server):
    host, port = server
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        sock.settimeout(10)
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 431")
        assert closed_within(sock, 2)
