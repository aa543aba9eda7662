"""ResponseTimeout: BentoML's per-request timeout without its timer leak."""

from __future__ import annotations

import asyncio
import gc

import pytest
from starlette.testclient import TestClient

from services.bentoml_private import traffic
from services.guard import ResponseTimeout

# BentoML's own class, whether or not the service module has replaced it yet in this process
BentoTimeoutMiddleware = ResponseTimeout.replaced or traffic.TimeoutMiddleware


async def answer(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def too_slow(scope, receive, send):
    await asyncio.sleep(5)
    await answer(scope, receive, send)


async def broken(scope, receive, send):
    raise RuntimeError("the app failed before answering")


def pending_timers() -> int:
    return sum(
        1 for o in gc.get_objects() if isinstance(o, asyncio.TimerHandle) and not o.cancelled()
    )


async def serve_requests(app, count: int) -> int:
    """Send `count` GET requests through `app` on this loop; the timers still pending after."""

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    for _ in range(count):
        await app(scope, receive, send)
    return pending_timers()


@pytest.mark.parametrize(
    ("middleware", "left"),
    [(ResponseTimeout, 0), (BentoTimeoutMiddleware, 50)],
    ids=["ResponseTimeout", "bentoml's own"],
)
def test_an_answered_request_leaves_no_timer_behind(middleware, left):
    # one event loop for all requests, as in a server; bentoml's own shows what the test catches
    assert asyncio.run(serve_requests(middleware(answer, timeout=30), 50)) == left


def test_a_response_that_does_not_start_in_time_is_a_504():
    response = TestClient(ResponseTimeout(too_slow, timeout=0.05)).get("/")
    assert response.status_code == 504
    assert "Not able to process the request in 0.05 s" in response.text


def test_an_app_failing_before_it_answers_raises_at_once_not_after_the_timeout():
    client = TestClient(ResponseTimeout(broken, timeout=30))
    with pytest.raises(RuntimeError, match="failed before answering"):
        client.get("/")


def test_the_service_app_uses_it(service_module):
    assert traffic.TimeoutMiddleware is ResponseTimeout
