"""The client's limits against real HTTP servers on loopback that misbehave on purpose.

A total deadline per call (retries, waits and the answer's body), Retry-After capped and never
waited past the deadline, a 413 that costs no retries, batches halved on 413 and on a dropped
connection, a single row over the server's limit named as such, and an answer that is not JSON
raised as the client's own error.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

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
        self.gets: list[str] = []  # the path of each other request (GET, HEAD, PUT)
        self.sizes: list[int] = []
        self.lock = threading.Lock()

    def get(self, handler: BaseHTTPRequestHandler) -> None:
        reply(handler, 200, self.card)

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
                with behaviour.lock:
                    behaviour.gets.append(self.path)
                behaviour.get(self)

            do_HEAD = do_PUT = do_GET

            def do_POST(self):
                with behaviour.lock:
                    behaviour.posts += 1
                    behaviour.sizes.append(int(self.headers["content-length"]))
                behaviour.predict(self)

        httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
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


def test_retry_after_is_obeyed_up_to_its_cap(serve, waits):
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
    with pytest.raises(DeadlineExceeded) as caught:
        client.predict(rows(20))
    found = re.fullmatch(
        rf"{re.escape(client.url)}/predict: the answer was still arriving after 1 s "
        r"\((\d+) bytes so far\)",
        str(caught.value),
    )
    assert found and 1 <= int(found.group(1)) < 20 * len('{"value": 1}, ')  # part of the body


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


# --- what the defaults and each setting of the retries do -----------------------------------------
class Failing(Behaviour):
    """Answers every request with `statuses` in turn (then 200), optionally dropping the first."""

    def __init__(self, *statuses: int, drop_first: bool = False):
        super().__init__()
        self.statuses, self.drop_first = list(statuses), drop_first

    def answer(self, handler) -> None:
        if self.drop_first:
            self.drop_first = False
            handler.close_connection = True  # no answer at all: the client sees a broken read
            return
        status = self.statuses.pop(0) if self.statuses else 200
        if handler.command == "HEAD":
            handler.send_response(status)
            handler.send_header("content-length", "0")
            handler.end_headers()
            return
        reply(handler, status, {"error": f"failing with {status}"} if status >= 400 else CARD)

    def get(self, handler):
        self.answer(handler)

    def predict(self, handler):
        rows = json.loads(handler.rfile.read(int(handler.headers["content-length"])))
        if self.statuses or self.drop_first:
            self.answer(handler)
            return
        reply(handler, 200, {"predictions": [{"value": row["v"]} for row in rows["instances"]]})


def test_by_default_five_retries_waiting_half_a_second_doubled(serve, waits):
    behaviour = Failing(*[503] * 10)
    client = Client(serve(behaviour))
    with pytest.raises(RequestRejected) as caught:
        client.metadata()
    assert len(behaviour.gets) == 6  # the first attempt and 5 retries
    assert waits == [1.0, 2.0, 4.0, 8.0]  # urllib3 retries once at once, then backoff * 2^n
    # the last answer is reported with the server's own message, not as "too many retries"
    assert str(caught.value) == f"{client.url}/metadata answered 503: failing with 503"


@pytest.mark.parametrize(("status", "attempts"), [(429, 2), (502, 2), (503, 2), (504, 2), (500, 1)])
def test_which_statuses_are_retried(serve, status, attempts):
    behaviour = Failing(status, status)
    with pytest.raises(RequestRejected) as caught:
        Client(serve(behaviour), retries=1, backoff=0).metadata()
    assert caught.value.status == status and len(behaviour.gets) == attempts


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_each_method_the_client_sends_is_retried(serve, method):
    behaviour = Failing(503)
    client = Client(serve(behaviour), retries=1, backoff=0)
    if method == "POST":
        assert client.predict_records(rows(1)) == [{"value": 0}]
        assert behaviour.posts == 2
    else:
        assert client.request(method, "/anything").status_code == 200
        assert behaviour.gets == ["/anything", "/anything"]


def test_retries_count_every_failure_together(serve):
    # a broken answer, then 503s: with 2 retries the third failure is the last, whatever the kind
    behaviour = Failing(*[503] * 5, drop_first=True)
    with pytest.raises(RequestRejected, match="answered 503"):
        Client(serve(behaviour), retries=2, backoff=0).metadata()
    assert len(behaviour.gets) == 3  # the broken one counts among them


def test_a_backoff_is_waited_between_attempts(serve, waits):
    behaviour = Failing(503, 503, 503)
    assert Client(serve(behaviour), retries=3, backoff=0.25).metadata() == CARD
    assert waits == [0.5, 1.0]  # none is zero: a zero wait is not slept at all


class Hangs(Behaviour):
    """Takes `delay` seconds to answer anything."""

    def __init__(self, delay: float):
        super().__init__()
        self.delay = delay

    def get(self, handler):
        time.sleep(self.delay)
        with contextlib.suppress(OSError):  # the client gave up
            reply(handler, 200, {})


def test_an_answer_slower_than_the_timeout_is_no_answer(serve):
    behaviour = Hangs(delay=1.0)
    client = Client(serve(behaviour), timeout=0.2, retries=0)
    started = time.monotonic()
    # PUT is not retried: its read timeout is reported as such
    with pytest.raises(ServerUnreachable) as caught:
        client.request("PUT", "/slow")
    assert str(caught.value) == f"no answer from {client.url}/slow within 0.2 s"
    assert time.monotonic() - started < 0.9
    assert client.ready() is False  # /readyz asked with the same timeout


class Readiness(Behaviour):
    def __init__(self, status: int):
        super().__init__()
        self.status = status

    def get(self, handler):
        reply(handler, self.status if handler.path == "/readyz" else 404, {})


@pytest.mark.parametrize(("status", "ready"), [(200, True), (503, False)])
def test_ready_asks_readyz_once(serve, status, ready):
    behaviour = Readiness(status)
    assert Client(serve(behaviour), retries=5, backoff=0).ready() is ready
    assert behaviour.gets == ["/readyz"]  # no retry: "not yet" is an answer


class Gzipped(Behaviour):
    def get(self, handler):
        reply(
            handler, 200, gzip.compress(json.dumps(CARD).encode()), [("content-encoding", "gzip")]
        )


def test_a_compressed_answer_is_decompressed(serve):
    client = Client(serve(Gzipped()))
    assert client.metadata() == CARD
    assert client.request("GET", "/metadata").content == json.dumps(CARD).encode()


class BreaksOff(Behaviour):
    def get(self, handler):
        handler.send_response(200)
        handler.send_header("content-length", "1000")
        handler.end_headers()
        handler.wfile.write(b'{"name": ')
        handler.wfile.flush()
        handler.close_connection = True


def test_an_answer_that_breaks_off_is_named(serve):
    client = Client(serve(BreaksOff()), retries=0)
    with pytest.raises(ServerUnreachable) as caught:
        client.metadata()
    assert str(caught.value) == (
        f"{client.url}/metadata: the answer broke off "
        "(Connection broken: IncompleteRead(9 bytes read, 991 more expected))"
    )


class Garbage(Behaviour):
    def get(self, handler):
        handler.send_response(200)
        body = b"\xff" + b"a" * 100
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def test_a_body_that_is_not_json_is_shown_in_its_first_80_bytes(serve):
    client = Client(serve(Garbage()))
    with pytest.raises(BadAnswer) as caught:
        client.call("GET", "/metadata")
    start = "\ufffd" + "a" * 79
    assert str(caught.value) == (
        f"{client.url}/metadata answered 200 with a body that is not JSON "
        f"(no content type, 101 bytes: {start!r})"
    )


class GivesUp(requests.adapters.BaseAdapter):
    """A transport that reports its retries used up (urllib3's MaxRetryError on a response)."""

    def send(self, request, **kwargs):
        raise requests.exceptions.RetryError("too many 503 error responses")

    def close(self):
        pass


def test_retries_used_up_in_the_transport_are_a_503_rejection():
    client = Client("http://service.test")
    client.session.mount("http://service.test", GivesUp())
    with pytest.raises(RequestRejected) as caught:
        client.call("GET", "/metadata")
    assert (caught.value.url, caught.value.status) == ("http://service.test/metadata", 503)
    assert caught.value.message == "still failing after retries (too many 503 error responses)"


# --- batches in flight --------------------------------------------------------------------------
class Slow(Behaviour):
    """Answers each batch after `delay` s, counting the batches in flight; a row v=0 is refused."""

    def __init__(self, delay: float = 0.1):
        super().__init__()
        self.delay, self.in_flight, self.peak = delay, 0, 0
        self.batches: list[list[dict]] = []

    def predict(self, handler):
        instances = json.loads(handler.rfile.read(int(handler.headers["content-length"])))[
            "instances"
        ]
        with self.lock:
            self.batches.append(instances)
        if any(row.get("v") == 0 for row in instances):
            reply(handler, 400, {"error": "v=0 is not allowed"})
            return
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        reply(handler, 200, {"predictions": [{"value": row["v"]} for row in instances]})


def numbered(n: int, first: int = 1) -> list[dict]:
    return [{"v": i} for i in range(first, first + n)]


def test_batches_go_one_at_a_time_by_default(serve):
    behaviour, done = Slow(delay=0.05), []
    result = Client(serve(behaviour), batch_size=2).predict(numbered(5), progress=done.append)
    assert result["value"].tolist() == [1, 2, 3, 4, 5]
    assert behaviour.peak == 1 and done == [2, 2, 1]


@pytest.mark.parametrize(("n", "batch_size"), [(4, 2), (12, 2)])
def test_concurrency_keeps_that_many_batches_in_flight(serve, n, batch_size):
    behaviour, done = Slow(), []
    client = Client(serve(behaviour), batch_size=batch_size)
    result = client.predict(numbered(n), progress=done.append, concurrency=2)
    assert result["value"].tolist() == list(range(1, n + 1))  # in input order
    assert behaviour.peak == 2  # two at once, never more
    assert done == [batch_size] * (n // batch_size)  # one call per batch as it comes back


def test_a_refused_batch_stops_the_batches_not_yet_sent(serve):
    behaviour = Slow()
    client = Client(serve(behaviour), batch_size=2)
    with pytest.raises(RequestRejected, match=r"answered 400: rows 0-1: v=0 is not allowed"):
        client.predict(numbered(20, first=0), concurrency=2)
    assert len(behaviour.batches) <= 4  # of 10: the rest were cancelled


def test_without_a_feature_schema_every_column_but_the_id_is_sent(serve):
    behaviour = Slow(delay=0)
    data = [{"id": "a", "v": 1, "w": "x"}, {"id": "b", "v": 2, "w": None}]
    result = Client(serve(behaviour)).predict(data, id_column="id")
    assert behaviour.batches == [[{"v": 1, "w": "x"}, {"v": 2, "w": None}]]
    assert list(result.columns) == ["id", "value"] and result["id"].tolist() == ["a", "b"]


def test_the_model_card_is_asked_once_and_again_only_on_refresh(serve):
    behaviour = Slow(delay=0)
    client = Client(serve(behaviour))
    client.predict(numbered(3))
    client.predict(numbered(3))
    assert behaviour.gets == ["/metadata"]
    assert client.metadata(refresh=True) == CARD and behaviour.gets == ["/metadata"] * 2


class Bare(Slow):
    card: ClassVar[dict] = {"name": "bare"}  # no max_instances, no feature_schema


def test_without_the_servers_maximum_batches_are_of_1000_rows(serve):
    behaviour = Bare(delay=0)
    result = Client(serve(behaviour)).predict(numbered(1001))
    assert [len(batch) for batch in behaviour.batches] == [1000, 1]
    assert result["value"].tolist() == list(range(1, 1002))


def test_the_servers_maximum_sets_the_batches(serve):
    behaviour = Slow(delay=0)  # max_instances 100
    Client(serve(behaviour)).predict(numbered(150))
    assert [len(batch) for batch in behaviour.batches] == [100, 50]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_refused_connection_is_retried_with_backoff_on_either_scheme(scheme, waits):
    client = Client(f"{scheme}://127.0.0.1:{free_port()}", retries=2, backoff=0.5)
    with pytest.raises(ServerUnreachable, match="Connection refused"):
        client.metadata()
    assert waits == [1.0]  # three attempts: the second at once, the third after 0.5 * 2


class Empty(Behaviour):
    def get(self, handler):
        handler.send_response(404)
        handler.send_header("content-length", "0")
        handler.end_headers()


def test_a_refusal_without_a_body_carries_the_status_reason(serve):
    client = Client(serve(Empty()))
    with pytest.raises(RequestRejected) as caught:
        client.call("GET", "/nothing")
    assert str(caught.value) == f"{client.url}/nothing answered 404: Not Found"


def test_a_concurrency_below_one_sends_one_batch_at_a_time(serve):
    behaviour = Slow(delay=0.05)
    result = Client(serve(behaviour), batch_size=1).predict(numbered(3), concurrency=0)
    assert result["value"].tolist() == [1, 2, 3] and behaviour.peak == 1


class ListAnswer(Behaviour):
    def predict(self, handler):
        handler.rfile.read(int(handler.headers["content-length"]))
        reply(handler, 200, [{"value": 1}])  # a JSON list, not {"predictions": [...]}


def test_an_answer_that_is_not_an_object_is_a_bad_answer(serve):
    with pytest.raises(BadAnswer, match=r"/predict: answer without one prediction per row"):
        Client(serve(ListAnswer())).predict_records(rows(1))


class Pieces(Behaviour):
    """Sends the card in three pieces, a moment apart: the client reads each as it comes."""

    def get(self, handler):
        body = json.dumps(CARD).encode()
        handler.send_response(200)
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        for start in range(0, len(body), 20):
            handler.wfile.write(body[start : start + 20])
            handler.wfile.flush()
            time.sleep(0.02)


def test_an_answer_in_pieces_is_put_back_together(serve):
    client = Client(serve(Pieces()))
    assert client.request("GET", "/metadata").content == json.dumps(CARD).encode()
