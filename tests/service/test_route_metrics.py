"""`RouteMetrics` counts a request before the client can read the end of its answer."""

import asyncio

import pytest
from prometheus_client import REGISTRY

from services.guard import RouteMetrics

pytestmark = pytest.mark.xdist_group("service")


def count(status: str) -> float:
    labels = {"route": "/metadata", "method": "GET", "status": status}
    return REGISTRY.get_sample_value("modelops_requests_total", labels) or 0.0


def run(app, messages: list) -> None:
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        # what a scrape taken the moment this message reaches the client would read
        messages.append((message["type"], message.get("more_body", False), count("418")))

    scope = {"type": "http", "path": "/metadata", "method": "GET"}
    asyncio.run(RouteMetrics(app)(scope, receive, send))


def test_the_count_is_written_before_the_last_body_chunk_goes_out():
    """A client that read its whole answer, then scrapes another worker, finds it counted."""

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    before = count("418")
    messages: list = []
    run(app, messages)
    assert messages == [
        ("http.response.start", False, before),
        ("http.response.body", True, before),
        ("http.response.body", False, before + 1),
    ]
    assert count("418") == before + 1  # once, not again when the app returns


def test_an_app_that_raises_before_answering_counts_one_500():
    async def app(scope, receive, send):
        raise RuntimeError("boom")

    before = count("500")
    with pytest.raises(RuntimeError):
        run(app, [])
    assert count("500") == before + 1
