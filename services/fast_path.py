"""ASGI middleware: answer a good `POST /predict` without BentoML's per-request machinery.

Profiled with py-spy at concurrency 16 (`make bench-serve`), a one-row prediction spent about
five times as long in BentoML's request path (Starlette's router and exception middleware,
BentoML's context middleware, its endpoint wrapper, its request parsing and response building)
as in the model. This middleware sits inside BentoML's Prometheus metrics, its tracing, the
timeout and `RequestGuard` (413/415), so those still see every request; for a `POST /predict`
it reads the body and hands it to the running service instance's `answer_predict(body)`
(`bentoml.get_current_service()`). That validates the body with the API's own request model
and predicts, as the API method does, and returns the JSON answer.

Anything else goes to BentoML's own route with the body replayed: a request the service does
not answer (`answer_predict` returned None: a schema or input error, a model not loaded, a
server error), so every error keeps BentoML's status, body and log line. Set
MODELOPS_FAST_PATH=0 to send every request down BentoML's route (the tests compare the two).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bentoml import get_current_service
from bentoml.exceptions import BentoMLException

Receive = Callable[[], Awaitable[dict[str, Any]]]


class FastPredict:
    """Answer `POST <path>` with `service.answer_predict(body)` when it returns bytes."""

    def __init__(self, app: Any, path: str = "/predict", server: str = "", enabled: bool = True):
        self.app = app
        self.path = path
        self.enabled = enabled
        # The headers BentoML's route sends with a JSON answer (its Server header included).
        self.headers = [(b"content-type", b"application/json")]
        if server:
            self.headers.append((b"server", server.encode("latin-1")))

    async def __call__(self, scope, receive, send) -> None:
        """Answer a good prediction request here; pass every other request on unchanged."""
        if (
            not self.enabled
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:  # the client left, or RequestGuard already answered 413
            return
        answer = None
        try:
            service = get_current_service()  # bound at import: `bentoml.<name>` is a lazy lookup
        except BentoMLException:  # no instance yet: BentoML's route says why
            service = None
        if service is not None:
            answer = await service.answer_predict(body)
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*self.headers, (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer})


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the connection closed before it ended."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` again in one message, then whatever `receive` gives."""
    given = False

    async def again() -> dict[str, Any]:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again
