"""ASGI middleware: refuse big or non-JSON bodies (BentoML reads bodies whole), and time out."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1_000_000
# A body over the limit is read and thrown away, up to this much, before its 413: answering
# while the client still sends made the server close a connection with unread data, and the
# client got a reset instead of its 413 (9 of 30 tries with a 3.6 MB body).
DRAIN_BYTES = 64 * 1024 * 1024
log = logging.getLogger("modelops.service")


class RequestGuard:
    """413 for a body over `max_body_bytes`, 415 for a POST whose content type is not JSON.

    The size is checked against Content-Length and again while the body streams in, so a chunked
    request cannot get around it.
    """

    def __init__(self, app: Any, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, paths=("/predict",)):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.paths = tuple(paths)

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on unless it is a POST to a guarded path that breaks a rule."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            await _reply(send, 415, "send the body as JSON with content-type: application/json")
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _drain(receive)
            await _reply(send, 413, f"body over {self.max_body_bytes} bytes")
            return
        received = 0
        replied = False

        async def limited_receive():
            nonlocal received, replied
            message = await receive()
            if message["type"] == "http.request" and not replied:
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    replied = True
                    if message.get("more_body", False):
                        await _drain(receive)
                    await _reply(send, 413, f"body over {self.max_body_bytes} bytes")
                    return {"type": "http.disconnect"}  # the app stops reading and gives up
            return message

        async def guarded_send(message):
            if not replied:  # once the 413 is out, whatever the app sends is dropped
                await send(message)

        await self.app(scope, limited_receive, guarded_send)


async def _drain(receive, limit: int = DRAIN_BYTES) -> None:
    """Read and discard the rest of a request body, up to `limit` bytes."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _reply(send, status: int, message: str) -> None:
    log.info("client error %s on /predict: %s", status, message)  # one line, no payload
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ResponseTimeout:
    """504 when no response started within `timeout` s; BentoML's timeout, minus its timer leak.

    BentoML 1.4's own middleware schedules `loop.call_later(timeout, ...)` for every request and
    never cancels it, so each request leaves a timer, a future and a bound method alive for the
    whole timeout (30 s here): ~70,000 live objects at 2,300 requests/s, which made every full
    garbage collection take 60-100 ms. `use_cancelling_timeout()` puts this class in its place.
    """

    replaced: type | None = None

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope, receive, send) -> None:
        """Run the app; answer 504 if it has not started its response in time."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started = loop.create_future()

        def give_up() -> None:
            if not started.done():
                started.set_exception(TimeoutError())

        timer = loop.call_later(self.timeout, give_up)

        async def timed_send(message) -> None:
            if not started.done():
                started.set_result(None)
            await send(message)

        app = asyncio.ensure_future(self.app(scope, receive, timed_send))
        # An app that ends without answering must not wait out the timer: wake up at once.
        app.add_done_callback(lambda _: give_up())
        try:
            await started
        except TimeoutError:
            if not app.done():  # really out of time
                app.cancel()
                await _reply(send, 504, f"Not able to process the request in {self.timeout} s")
                return
        finally:
            timer.cancel()
        await app  # let a started response finish however long it streams; raise what it raised


def use_cancelling_timeout() -> None:
    """Make BentoML build its apps with ResponseTimeout instead of its leaking middleware.

    BentoML imports the class from this module each time it builds an app, so replacing the
    module attribute (before `to_asgi()` or `bentoml serve`) is enough; bentoml is pinned.
    """
    from services.bentoml_private import traffic

    if traffic.TimeoutMiddleware is not ResponseTimeout:
        ResponseTimeout.replaced = (
            traffic.TimeoutMiddleware
        )  # kept for the test that shows the leak
        traffic.TimeoutMiddleware = ResponseTimeout
