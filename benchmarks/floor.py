"""A constant-JSON ASGI endpoint: the cost of HTTP alone on this machine (`make bench-serve`)."""

import json

_CONSTANT = json.dumps({"predictions": [{"label": 1, "probability": 0.5}]}).encode()


async def floor_app(scope, receive, send) -> None:
    """Answer every request with the same small JSON body."""
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body, as any real endpoint must
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": _CONSTANT})
