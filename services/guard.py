"""ASGI middleware refusing what BentoML would otherwise read whole: big or non-JSON bodies."""

from __future__ import annotations

import json
from typing import Any

DEFAULT_MAX_BODY_BYTES = 1_000_000


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
                    await _reply(send, 413, f"body over {self.max_body_bytes} bytes")
                    return {"type": "http.disconnect"}  # the app stops reading and gives up
            return message

        async def guarded_send(message):
            if not replied:  # once the 413 is out, whatever the app sends is dropped
                await send(message)

        await self.app(scope, limited_receive, guarded_send)


async def _reply(send, status: int, message: str) -> None:
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
