"""services.fast_path: a good /predict skips BentoML's route; everything else still takes it."""

from __future__ import annotations

import asyncio
import json

import bentoml
import pytest

from services import fast_path
from services.fast_path import FastPredict
from tests.service.conftest import run_driver
from tests.typed_models import TASKS, features_only

pytestmark = pytest.mark.xdist_group("service")


class Service:
    """Stands in for the running service instance: answers what it is told, records bodies."""

    def __init__(self, answer: bytes | None):
        self.answer = answer
        self.bodies: list[bytes] = []

    async def answer_predict(self, body: bytes) -> bytes | None:
        self.bodies.append(body)
        return self.answer


class Route:
    """Stands in for BentoML's app: records what reached it and the body it could read."""

    def __init__(self):
        self.calls: list[tuple[str, bytes]] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((scope["path"], body))
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


def call(middleware, messages, method="POST", path="/predict"):
    """Drive the middleware with these receive messages; return what it sent."""
    pending, sent = list(messages), []

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(middleware(scope, receive, send))
    return sent


def chunks(*parts):
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


@pytest.fixture
def running(monkeypatch):
    """`running(service)`: make the middleware's `get_current_service()` return it."""

    def install(service):
        monkeypatch.setattr(fast_path, "get_current_service", lambda: service)

    return install


def test_a_request_the_service_answers_never_reaches_the_route(running):
    service, route = Service(b'{"predictions": []}'), Route()
    running(service)
    sent = call(FastPredict(route, server="BentoML Service/x"), chunks(b'{"inst', b'ances": []}'))
    assert route.calls == []
    assert service.bodies == [b'{"instances": []}']  # the chunks, joined
    start, body = sent
    assert start["status"] == 200
    assert dict(start["headers"]) == {
        b"content-type": b"application/json",
        b"server": b"BentoML Service/x",
        b"content-length": str(len(b'{"predictions": []}')).encode(),
    }
    assert body["body"] == b'{"predictions": []}'


def test_a_request_the_service_declines_goes_to_the_route_with_its_body(running):
    service, route = Service(None), Route()
    running(service)
    sent = call(FastPredict(route), chunks(b"{not js", b"on"))
    assert route.calls == [("/predict", b"{not json")]  # replayed whole
    assert sent[0]["status"] == 418


def test_other_requests_pass_through_untouched(running):
    service, route = Service(b"{}"), Route()
    running(service)
    call(FastPredict(route), chunks(b"x"), method="GET")
    call(FastPredict(route), chunks(b"y"), path="/metadata")
    call(FastPredict(route, enabled=False), chunks(b"z"))  # MODELOPS_FAST_PATH=0
    assert route.calls == [("/predict", b"x"), ("/metadata", b"y"), ("/predict", b"z")]
    assert service.bodies == []


def test_before_the_service_exists_the_route_answers(monkeypatch):
    def not_yet():
        raise bentoml.exceptions.BentoMLException("service isn't instantiated yet")

    monkeypatch.setattr(fast_path, "get_current_service", not_yet)
    route = Route()
    call(FastPredict(route), chunks(b"{}"))
    assert route.calls == [("/predict", b"{}")]


def test_a_client_that_leaves_mid_body_gets_nothing_and_nothing_runs(running):
    service, route = Service(b"{}"), Route()
    running(service)
    sent = call(FastPredict(route), [{"type": "http.request", "body": b"{", "more_body": True}])
    assert (sent, route.calls, service.bodies) == ([], [], [])


def test_the_service_answers_good_requests_itself(client, binary, monkeypatch):
    """In the real app, a good body is answered by `answer_predict`; a bad one by the route."""
    instance = bentoml.get_current_service()
    answered = []
    original = instance.answer_predict

    async def spy(body):
        answered.append(await original(body))
        return answered[-1]

    monkeypatch.setattr(instance, "answer_predict", spy)
    row = features_only(binary["rows"][0])
    good = client.post("/predict", json={"instances": [row]})
    bad = client.post("/predict", json={"instances": [{**row, "flag": "yes"}]})
    assert good.status_code == 200 and answered[0] == good.content
    assert bad.status_code == 400 and answered[1] is None  # the route answered the 400
    assert "flag" in bad.text


def test_prometheus_counts_the_requests_the_fast_path_answers(client, binary):
    def count():
        line = next(
            (line for line in client.get("/metrics").text.splitlines()
             if line.startswith("bentoml_service_request_total")
             and 'endpoint="/predict"' in line and 'http_response_code="200"' in line),
            None,
        )  # fmt: skip
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = count()
    for row in binary["rows"][:3]:
        assert client.post("/predict", json={"instances": [features_only(row)]}).status_code == 200
    assert count() == before + 3


def requests_for(rows: list[dict]) -> list[dict]:
    """Good and bad requests of every kind /predict sees, for one task's rows."""
    clean = [features_only(row) for row in rows]
    first = clean[0]
    some_key = next(iter(first))
    return [
        {"method": "POST", "path": "/predict", "json": {"instances": clean[:1]}},
        {"method": "POST", "path": "/predict", "json": {"instances": clean[:5]}},
        {"method": "POST", "path": "/predict", "json": {"instances": clean[:40]}},  # unqueued
        {"method": "POST", "path": "/predict", "json": {"instances": [dict.fromkeys(first)]}},
        {"method": "POST", "path": "/predict", "json": {"instances": [{**first, "extra": 1}]}},
        {"method": "POST", "path": "/predict", "json": {"instances": [{**first, some_key: []}]}},
        {"method": "POST", "path": "/predict", "json": {"instances": []}},
        {"method": "POST", "path": "/predict", "json": {"rows": clean[:1]}},
        {"method": "POST", "path": "/predict", "json": None},  # no body: 415 from the guard
    ]


@pytest.mark.parametrize("task", TASKS)
def test_every_answer_is_the_one_bentomls_route_gives(task, typed, monkeypatch):
    """Fast path on and off: the same status and body for good and bad requests alike."""
    lines = requests_for(typed[task]["rows"])
    fast = run_driver("tests.service.asgi_driver", typed[task]["tag"], lines)
    monkeypatch.setenv("MODELOPS_FAST_PATH", "0")
    route = run_driver("tests.service.asgi_driver", typed[task]["tag"], lines)
    assert [answer["status"] for answer in fast] == [200, 200, 200, 200, 400, 400, 400, 400, 415]
    assert json.dumps(fast, sort_keys=True) == json.dumps(route, sort_keys=True)
