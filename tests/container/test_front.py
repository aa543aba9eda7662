"""The image's HTTP front (Caddy, services/Caddyfile) in container mode: the tester's findings.

Without it, `bentoml serve` (uvicorn + httptools, whose protocol options BentoML does not expose)
kept idle and partial-header connections open for good (20,000 stalled sockets exhausted the
file descriptors) and answered a 200 MB header with 200 OK after 73 s. Through the front, headers
over MODELOPS_MAX_HEADER_BYTES get 431 and the connection closes, and a connection that sends no
complete headers within MODELOPS_HEADER_TIMEOUT, or idles MODELOPS_IDLE_TIMEOUT after an answer,
is closed; everything the service answers still arrives as the service answered it.
"""

from __future__ import annotations

import contextlib
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from modelops.delivery import image as img
from modelops.delivery.local_server import free_port

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.xdist_group("container")]

HEADER_TIMEOUT_S = 2  # short, so the tests wait little; the image's defaults are 10 s and 75 s
IDLE_TIMEOUT_S = 4
MAX_BODY_BYTES = 1_000_000  # the image's default MODELOPS_MAX_BODY_BYTES
MARGIN_S = 2.0  # scheduling slack on a loaded machine


class Served:
    def __init__(self, container: img.Container, port: int):
        self.container, self.port = container, port
        self.url = f"http://127.0.0.1:{port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def logs(self) -> str:
        out = img.docker("logs", self.container.id, check=False)
        return out.stdout + out.stderr


@pytest.fixture(scope="module")
def front(built_image) -> Iterator[Served]:
    port = free_port()
    args = [*img.http_container_args(port),
            "-e", f"MODELOPS_HEADER_TIMEOUT={HEADER_TIMEOUT_S}",
            "-e", f"MODELOPS_IDLE_TIMEOUT={IDLE_TIMEOUT_S}"]  # fmt: skip
    with img.running(built_image, *args) as container:
        served = Served(container, port)
        img.wait_http_ready(container, served.url)
        yield served


def closed_after(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closes `sock` (EOF or reset), or None if not within `seconds`."""
    sock.settimeout(0.2)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionError:
            return time.monotonic() - started
    return None


def get_with_header(served: Served, size: int) -> tuple[bytes, socket.socket]:
    sock = served.connect()
    request = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    # the front may answer and close before the whole header is sent
    with contextlib.suppress(ConnectionError):
        sock.sendall(request)
    return sock.recv(65536), sock


def test_headers_over_the_bound_get_431_and_the_connection_closes(front):
    answer, sock = get_with_header(front, 200_000)  # the default bound is 64 KiB
    with sock:
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        assert closed_after(sock, MARGIN_S) is not None


def test_headers_under_the_bound_are_served(front):
    answer, sock = get_with_header(front, 60_000)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /livez HTTP/1.1\r\nHost: x\r\n"],  # nothing; headers without their blank line
    ids=["silent", "partial-header"],
)
def test_a_connection_without_complete_headers_is_closed_within_the_header_timeout(front, sent):
    with front.connect() as sock:
        sock.sendall(sent)
        seconds = closed_after(sock, HEADER_TIMEOUT_S + MARGIN_S)
    assert seconds is not None, f"still open {HEADER_TIMEOUT_S + MARGIN_S} s later"
    assert seconds > HEADER_TIMEOUT_S / 2  # closed by the timeout, not refused outright


def test_headers_dripping_a_line_at_a_time_are_cut_off_at_the_header_timeout(front):
    with front.connect() as sock:
        started = time.monotonic()
        sock.sendall(b"GET /livez HTTP/1.1\r\n")
        closed = False
        while not closed and time.monotonic() - started < HEADER_TIMEOUT_S + MARGIN_S:
            try:
                sock.sendall(b"X-Drip: a\r\n")  # a line every 0.25 s: never idle for long
            except OSError:  # reset or broken pipe: the front has closed it
                closed = True
            else:
                closed = closed_after(sock, 0.25) is not None
    assert closed, f"still open {HEADER_TIMEOUT_S + MARGIN_S} s into its headers"


def test_an_idle_keep_alive_connection_is_closed_within_the_idle_timeout(front):
    with front.connect() as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        seconds = closed_after(sock, IDLE_TIMEOUT_S + MARGIN_S)
    assert seconds is not None, f"still open {IDLE_TIMEOUT_S + MARGIN_S} s after its answer"
    assert seconds > HEADER_TIMEOUT_S  # the idle timeout, not the header timeout, applied


def test_the_service_answers_through_the_front_as_it_would_alone(front):
    card = requests.get(f"{front.url}/metadata", timeout=10).json()
    answer = requests.post(
        f"{front.url}/predict", json={"instances": [img.example_row(card)] * 3}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 3
    assert answer.json()["model"]["version"] == card["version"]
    assert "server" not in answer.headers  # neither Caddy's name nor BentoML's
    page = requests.get(f"{front.url}/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert requests.get(f"{front.url}/readyz", timeout=10).status_code == 200
    metrics = requests.get(f"{front.url}/metrics", timeout=10)
    assert 'modelops_requests_total{method="POST",route="/predict",status="200"}' in metrics.text
    refused = requests.post(f"{front.url}/predict", data="a,b", timeout=10,
                            headers={"content-type": "text/csv"})  # fmt: skip
    assert refused.status_code == 415, refused.text
    assert requests.get(f"{front.url}/no-such-path", timeout=10).status_code == 404


def test_a_body_over_the_limit_gets_its_413_through_the_front_never_a_reset(front):
    body = b'{"instances": [' + b'{"num_00": 1.5}, ' * 200_000 + b"{}]}"  # ~3.6 MB
    assert len(body) > MAX_BODY_BYTES
    headers = {"content-type": "application/json"}
    with requests.Session() as session:  # keep-alive: the connection survives each 413
        for _ in range(6):
            answer = session.post(f"{front.url}/predict", data=body, headers=headers, timeout=30)
            assert answer.status_code == 413, answer.text
    for _ in range(4):  # fresh connections
        answer = requests.post(f"{front.url}/predict", data=body, headers=headers, timeout=30)
        assert answer.status_code == 413, answer.text


def test_the_front_logs_nothing_of_a_request(front):
    marker = f"marker{uuid.uuid4().hex}"
    address = "203.0.113.77"  # a forwarded client address the front must not log either
    headers = {"x-forwarded-for": address, "x-note": marker, "content-type": "application/json"}
    requests.post(f"{front.url}/predict", data=f"{{{marker}", headers=headers, timeout=10)
    requests.get(f"{front.url}/{marker}", headers=headers, timeout=10)
    requests.post(f"{front.url}/predict?{marker}=1", data=marker, timeout=10,
                  headers={"content-type": "text/plain", "x-forwarded-for": address})  # fmt: skip
    get_with_header(front, 200_000)[1].close()  # the front's own 431
    logs = front.logs()
    assert "front: caddy on" in logs  # the entrypoint's start line: these are the logs
    assert marker not in logs
    assert address not in logs


def test_front_off_serves_bentoml_directly(built_image):
    port = free_port()
    args = [*img.http_container_args(port), "-e", "MODELOPS_FRONT=off"]
    with img.running(built_image, *args) as container:
        url = f"http://127.0.0.1:{port}"
        img.wait_http_ready(container, url)
        card = requests.get(f"{url}/metadata", timeout=10).json()
        answer = requests.post(
            f"{url}/predict", json={"instances": [img.example_row(card)]}, timeout=10
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["server"].startswith("BentoML")  # its own header: no front
        assert "front: caddy" not in container.logs()


def wait_exit(container: img.Container, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while (code := container.poll()) is None:
        assert time.monotonic() < deadline, f"still running {timeout:.0f} s later"
        time.sleep(0.2)
    return code


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("MODELOPS_MAX_HEADER_BYTES=64k", "MODELOPS_MAX_HEADER_BYTES=64k is not a positive"),
        ("MODELOPS_HEADER_TIMEOUT=0", "MODELOPS_HEADER_TIMEOUT=0 is not a positive"),
        ("MODELOPS_FRONT=maybe", "MODELOPS_FRONT=maybe is neither 'on' nor 'off'"),
    ],
)
def test_a_bad_front_setting_stops_the_container_naming_it(built_image, setting, named):
    with img.running(built_image, "-e", setting) as container:  # (podman's `run --rm` exits 0)
        assert wait_exit(container) == 2
        assert named in container.logs()


def pid_of(container: img.Container, program: str) -> int:
    """The pid of the container's process whose command line starts with `program`."""
    code = (
        "import os, sys\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try: argv = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')\n"
        "    except OSError: continue\n"
        "    if b' '.join(argv).decode(errors='replace').startswith(sys.argv[1]): print(pid)\n"
    )
    found = img.docker("exec", container.id, "python", "-c", code, program).stdout.split()
    assert found, f"no process {program!r} in the container"
    return int(found[0])


@pytest.mark.parametrize(
    ("program", "named"),
    [
        ("caddy run", "the front (caddy) exited"),
        ("/opt/venv/bin/python /opt/venv/bin/bentoml serve", "bentoml serve exited"),
    ],
    ids=["front", "service"],
)
def test_the_container_exits_non_zero_when_either_process_dies(built_image, program, named):
    port = free_port()
    with img.running(built_image, *img.http_container_args(port)) as container:
        img.wait_http_ready(container, f"http://127.0.0.1:{port}")
        pid = pid_of(container, program)
        img.docker("exec", container.id, "bash", "-c", f"kill -KILL {pid}")  # (no kill binary)
        assert wait_exit(container) != 0
        assert named in container.logs()


def test_sigterm_stops_both_gracefully_and_the_container_exits_zero(built_image):
    port = free_port()
    with img.running(built_image, *img.http_container_args(port)) as container:
        img.wait_http_ready(container, f"http://127.0.0.1:{port}")
        img.docker("kill", "--signal", "TERM", container.id)
        assert wait_exit(container, timeout=30) == 0, container.logs()
        assert "exited" not in container.logs().split("front: caddy on", 1)[1]
