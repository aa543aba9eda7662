"""ASGI middleware of the BentoML service, added with BentoML's documented `add_asgi_middleware`.

`PredictGuard`: the core's 415 (not JSON), 413 (body over MODELOPS_MAX_BODY_BYTES, drained first
so the client reads its 413 instead of a reset) and 400 (the schema refuses the rows, naming
where and why) of `POST /predict`, before BentoML reads the body. Each is one INFO line without
the payload. A body the core accepts is handed on unchanged to BentoML's API route.

`RouteMetrics`: Prometheus counts and latencies labelled by route (the service's routes, `/web`
for the page's files, one `other` for every unknown path), through prometheus_client's public
API; in multiprocess mode under `bentoml serve` (it sets PROMETHEUS_MULTIPROC_DIR for its
workers) `/metrics` sums every worker. BentoML's own metrics are switched off in the service's
config: they label each raw path, so unknown paths grew them without bound.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from modelops.serving.answers import Answer, Service, method_label, route_label

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A body over the limit is read and thrown away, up to this much, before its 413: answering
# while the client still sends made the server close a connection with unread data, and the
# client got a reset instead of its 413 (9 of 30 tries with a 3.6 MB body).
DRAIN_BYTES = 64 * 1024 * 1024

REQUESTS = Counter(
    "modelops_requests",
    "Requests answered, by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "modelops_request_duration_seconds",
    "Time to answer a request, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def metrics_answer() -> Answer:
    """The metrics of this process, or of every worker when in multiprocess mode."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)


class RouteMetrics:
    """Count and time every HTTP request by its route label (bounded)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; record its route, method and status before its last byte goes out.

        Recording after the answer was sent raced the client: its next request, taken by the
        other worker, could scrape /metrics before this count was written (a count missing
        from a scrape made after the answer arrived).
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_label(scope["path"])
        status = 500  # an app that raised without answering
        recorded = False
        start = time.perf_counter()

        def record() -> None:
            nonlocal recorded
            recorded = True
            LATENCY.labels(route).observe(time.perf_counter() - start)
            REQUESTS.labels(route, method_label(route, scope["method"]), str(status)).inc()

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                record()
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            if not recorded:
                record()


class PredictGuard:
    """The core's 415, 413 and 400 of `POST /predict`; good bodies go on to BentoML's API."""

    def __init__(self, app: ASGIApp, core: Callable[[], Service], path: str = "/predict") -> None:
        self.app = app
        self.core = core
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a refused `/predict` here; hand every other request on unchanged."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        service = self.core()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        refused = service.refuse(headers, int(declared) if declared.isdigit() else None)
        if refused is not None:
            await _drain(receive)
            await _reply(send, refused)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > service.max_body_bytes:
                if message.get("more_body", False):
                    await _drain(receive)
                await _reply(send, service.too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        parsed = service.parse(body)
        if isinstance(parsed, Answer):
            await _reply(send, parsed)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _drain(receive: Receive, limit: int = DRAIN_BYTES) -> None:
    """Read and discard the rest of a request body, up to `limit` bytes."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _reply(send: Send, answer: Answer) -> None:
    """Send a core answer."""
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.header_map().items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
