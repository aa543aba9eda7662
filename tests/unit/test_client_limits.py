"""The client's limits against real HTTP servers on loopback that misbehave on purpose.

A total deadline per call (retries, waits and the answer's body), Retry-After capped and never
waited past the deadline, a 413 that costs no retries, batches halved on 413 and on a dropped
connection, a single row over the server's limit named as such, and an answer that is not JSON
raised as the client's own error.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from modelops.client import (
    BadAnswer,
    Client,
    ClientError,
    ConnectionDropped,
    DeadlineExceeded,
    RequestRejected,
    ServerUnreachable,
)
from modelops.delivery.local_server import free_port

CARD = {"name": "fake", "version": "1", "max_instances": 100, "feature_schema": []}


class Behaviour:
    """How the server treats each POST /predict; `posts` counts the attempts it saw."""

    card: object = CARD

    def __init__(self):
        self.posts = 0
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def predict(self, handler: BaseHTTPRequestHandler) -> None:
        rows = json.loads(handler.rfile.read(int(handler.headers["content-length"])))
        reply(handler, 200, {"predictions": [{"value": row["v"]} for row in rows["instances"]]})


def reply(handler, status, body, headers=()):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-length", str(len(data)))
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def serve():
    servers = []

    def start(behaviour: Behaviour) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                reply(self, 200, behaviour.card)

            def do_POST(self):
                with behaviour.lock:
                    behaviour.posts += 1
                    behaviour.sizes.append(int(self.headers["content-length"]))
                behaviour.predict(self)

        httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def rows(n: int, size: int = 10) -> list[dict]:
    return [{"v": i, "pad": "x" * size} for i in range(n)]


class SizeLimit(Behaviour):
    """413 (optionally with a Retry-After) for any body over `limit` bytes, unread."""

    def __init__(self, limit: int, retry_after: str | None = None):
        super().__init__()
        self.limit, self.retry_after = limit, retry_after

    def predict(self, handler):
        if int(handler.headers["content-length"]) > self.limit:
            headers = [("Retry-After", self.retry_after)] if self.retry_after else []
            handler.close_connection = True
            headers.append(("Connection", "close"))
            reply(handler, 413, {"error": f"body over {self.limit} bytes"}, headers)
            return
        super().predict(handler)


def test_a_413_with_retry_after_is_halved_at_once_without_retries(serve):
    behaviour = SizeLimit(limit=60, retry_after="5")  # one row (46 bytes) fits, two (77) do not
    client = Client(serve(behaviour), batch_size=4, backoff=0)
    result = client.predict(rows(4))
    assert result["value"].tolist() == [0, 1, 2, 3]
    assert behaviour.posts == 7  # 4 rows, 2 + 2, then 1 + 1 + 1 + 1: no 413 is retried


def test_a_single_row_over_the_limit_is_one_clear_error(serve):
    behaviour = SizeLimit(limit=200)
    client = Client(serve(behaviour), batch_size=3, backoff=0)
    data = rows(3)
    data[1]["pad"] = "x" * 5000
    with pytest.raises(RequestRejected) as refused:
        client.predict(data)
    assert refused.value.status == 413
    assert str(refused.value) == (
        f"{client.url}/predict answered 413: rows 0-2: one row alone (5,036 bytes as JSON) is "
        "over the server's size limit: body over 200 bytes"
    )
    # all 3 (413), the first alone (fine), the other 2 (413), the big one alone (413): stop
    assert behaviour.posts == 4


def test_a_single_row_alone_over_the_limit_costs_one_request(serve):
    behaviour = SizeLimit(limit=200)
    client = Client(serve(behaviour), backoff=0)
    with pytest.raises(RequestRejected, match=r"one row alone \(10,036 bytes as JSON\)"):
        client.predict(rows(1, size=10_000))
    assert behaviour.posts == 1


class DropsLarge(Behaviour):
    """Closes the connection with a reset, body unread, when it is over `limit` bytes."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def predict(self, handler):
        if int(handler.headers["content-length"]) > self.limit:
            # SO_LINGER 0: close() sends a reset, as a proxy or server over its limit may
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        super().predict(handler)


def test_a_batch_whose_connection_is_dropped_is_halved(serve):
    behaviour = DropsLarge(limit=100_000)
    client = Client(serve(behaviour), batch_size=4, retries=0, backoff=0)
    result = client.predict(rows(4, size=60_000))  # two rows are over the limit, one is not
    assert result["value"].tolist() == [0, 1, 2, 3]
    assert behaviour.posts == 7  # 4 rows (dropped), 2 + 2 (dropped), then one at a time
    assert sorted(behaviour.sizes) == [60_036] * 4 + [120_057] * 2 + [240_099]


def test_a_single_row_whose_connection_is_dropped_says_so(serve):
    behaviour = DropsLarge(limit=1000)
    client = Client(serve(behaviour), retries=0, backoff=0)
    with pytest.raises(ConnectionDropped, match=r"/predict closed the connection"):
        client.predict(rows(1, size=5000))
    assert behaviour.posts == 1


def test_a_refused_connection_is_not_mistaken_for_a_dropped_one():
    client = Client(f"http://127.0.0.1:{free_port()}", retries=0)
    with pytest.raises(ServerUnreachable) as caught:
        client.predict_records(rows(2))
    assert not isinstance(caught.value, ConnectionDropped)


class Busy(Behaviour):
    """503 with a Retry-After (or none), `times` times, then answers."""

    def __init__(self, retry_after: str | None, times: int = 1):
        super().__init__()
        self.retry_after, self.times = retry_after, times

    def predict(self, handler):
        handler.rfile.read(int(handler.headers["content-length"]))
        if self.posts <= self.times:
            headers = [("Retry-After", self.retry_after)] if self.retry_after else []
            reply(handler, 503, {"error": "busy"}, headers)
            return
        reply(handler, 200, {"predictions": [{"value": 1}]})


def test_a_retry_after_past_the_deadline_is_not_waited_for(serve):
    behaviour = Busy(retry_after="3600")
    client = Client(serve(behaviour), deadline=5, max_retry_after=3600, backoff=0)
    client.metadata()
    with pytest.raises(DeadlineExceeded) as caught:
        client.predict(rows(1))
    assert str(caught.value) == (
        f"no answer from {client.url}/predict within 5 s: gave up: the next attempt (in 3600 s) "
        "would start after the deadline"
    )
    assert behaviour.posts == 1


def test_a_backoff_past_the_deadline_is_not_waited_for(serve):
    behaviour = Busy(retry_after=None, times=10)
    client = Client(serve(behaviour), deadline=5, backoff=60)
    client.metadata()
    with pytest.raises(DeadlineExceeded, match=r"the next attempt \(in \d+ s\)"):
        client.predict(rows(1))
    assert behaviour.posts == 2  # urllib3 retries once at once; the next wait is the backoff


def test_retry_after_is_obeyed_up_to_its_cap(serve, monkeypatch):
    waits: list[float] = []
    # Record the test's own waits instead of waiting. `modelops.client.time` is the process's
    # `time` module: a daemon thread an earlier test left behind (on the same xdist worker) that
    # sleeps in a loop must keep sleeping, or it spins and floods the record.
    caller, real_sleep = threading.current_thread(), time.sleep

    def record(seconds: float) -> None:
        if threading.current_thread() is caller:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr("modelops.client.time.sleep", record)
    behaviour = Busy(retry_after="3600", times=2)
    client = Client(serve(behaviour), deadline=7200, max_retry_after=2.5, backoff=0)
    client.metadata()
    assert client.predict(rows(1))["value"].tolist() == [1]
    assert waits == [2.5, 2.5] and behaviour.posts == 3
    behaviour.posts, waits[:] = 0, []
    behaviour.retry_after = "1"
    client.predict(rows(1))
    assert waits == [1.0, 1.0]  # a short Retry-After as asked


class Drip(Behaviour):
    """Sends the headers, then the body a byte at a time, each well within the read timeout."""

    def predict(self, handler):
        handler.rfile.read(int(handler.headers["content-length"]))
        body = json.dumps({"predictions": [{"value": 1}] * 20}).encode()
        handler.send_response(200)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        try:
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up, as it should


def test_an_answer_dripping_slower_than_the_deadline_is_cut_off(serve):
    client = Client(serve(Drip()), timeout=5, deadline=1, retries=0)
    client.metadata()
    with pytest.raises(
        DeadlineExceeded, match=r"/predict: the answer was still arriving after 1 s"
    ):
        client.predict(rows(20))


class NotJson(Behaviour):
    def predict(self, handler):
        handler.rfile.read(int(handler.headers["content-length"]))
        reply(handler, 200, b"<html>maintenance</html>", [("content-type", "text/html")])


def test_an_answer_that_is_not_json_raises_the_clients_own_error(serve):
    client = Client(serve(NotJson()))
    with pytest.raises(BadAnswer) as caught:
        client.predict(rows(2))
    assert isinstance(caught.value, ClientError)
    assert str(caught.value) == (
        f"{client.url}/predict answered 200 with a body that is not JSON "
        "(text/html, 24 bytes: '<html>maintenance</html>')"
    )


class WrongShape(Behaviour):
    def predict(self, handler):
        handler.rfile.read(int(handler.headers["content-length"]))
        reply(handler, 200, {"predictions": [{"value": 1}]})  # one, whatever was sent


def test_an_answer_without_one_prediction_per_row_is_a_bad_answer(serve):
    with pytest.raises(BadAnswer, match=r"/predict: answer without one prediction per row"):
        Client(serve(WrongShape())).predict(rows(2))


class ListCard(Behaviour):
    card = ("not", "a", "card")  # a JSON list


def test_a_card_that_is_not_an_object_is_a_bad_answer(serve):
    with pytest.raises(BadAnswer, match=r"/metadata: the answer is not a model card"):
        Client(serve(ListCard())).metadata()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"deadline": 0}, "both must be positive"), ({"timeout": -1}, "both must be positive")],
)
def test_a_deadline_or_timeout_that_is_not_positive_is_refused(kwargs, message):
    with pytest.raises(ClientError, match=message):
        Client("http://127.0.0.1:1", **kwargs)


class Page(Behaviour):
    card: ClassVar[dict] = {"name": "fake"}


def test_request_gives_the_response_of_any_route_read_within_the_deadline(serve):
    # the smoke tests read /livez, the page and raw /predict bodies through it
    client = Client(serve(Page()))
    response = client.request("GET", "/metadata")
    assert response.status_code == 200 and response.json() == {"name": "fake"}
    assert response.content == b'{"name": "fake"}' and response.text == '{"name": "fake"}'
    assert client.call("GET", "/metadata") == {"name": "fake"}
