"""The service's OpenAPI document, made to match what it answers.

BentoML 1.4 generates /docs.json with a 400 whose `detail` is a string (the body has a list of
errors), no 413/415 (the request guard's answers), a request body that is not marked required,
nothing for /metadata (a plain Starlette route), and its `info` is BentoML's boilerplate, not the
model's. `document` corrects those;
`OpenAPIDocument` is the ASGI middleware that applies it to the /docs.json response.
"""

from __future__ import annotations

import copy
import json
from typing import Any

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What is wrong, in words."}},
}
BAD_REQUEST = {
    "type": "object",
    "title": "BadRequest",
    "description": "The request does not fit the schema; each detail names where and why.",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "examples": ["1 validation error for Input"]},
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "loc", "msg"],
                "properties": {
                    "type": {"type": "string", "examples": ["float_type"]},
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        "examples": [["instances", 0, "feature_01"]],
                    },
                    "msg": {"type": "string", "examples": ["Input should be a valid number"]},
                    "url": {"type": "string"},
                },
            },
        },
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _metadata(method: str) -> dict[str, Any]:
    """/metadata, a plain Starlette route that BentoML does not document itself."""
    return {
        "tags": ["Service APIs"],  # next to /predict, BentoML's tag for its API routes
        "summary": "The model card",
        "description": (
            "The model card with task, target, classes, feature types, categories and "
            "max_instances."
        ),
        "operationId": "metadata" if method == "get" else "metadata_head",
        "responses": {
            "200": _json({"type": "object"}, "The model card."),
            "503": _json(ERROR, "No model is loaded; the body says why."),
        },
    }


def document(
    spec: dict[str, Any],
    post_paths: tuple[str, ...] = ("/predict",),
    info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`spec` with the error responses, request bodies and operationIds the service really has.

    `info` (title, version, description of the model served) replaces BentoML's: a README of
    BentoML's own badges (images from the internet, blank offline), "version: None" and
    BentoML's team as the contact.
    """
    spec = copy.deepcopy(spec)
    if info is not None:
        spec["info"] = dict(info)
    spec.setdefault("components", {}).setdefault("schemas", {})["BadRequest"] = BAD_REQUEST
    bad_request = {"$ref": "#/components/schemas/BadRequest"}
    for path in post_paths:
        operation = spec.get("paths", {}).get(path, {}).get("post")
        if not operation:
            continue
        if "requestBody" in operation:
            operation["requestBody"]["required"] = True
        responses = operation.setdefault("responses", {})
        responses["400"] = _json(bad_request, "The body is not valid JSON or not the schema.")
        responses["413"] = _json(ERROR, "The body is larger than the service accepts.")
        responses["415"] = _json(ERROR, "The body is not sent as application/json.")
        responses["503"] = _json(ERROR, "No model is loaded; /readyz says why.")
    spec.setdefault("paths", {}).setdefault(
        "/metadata", {"get": _metadata("get"), "head": _metadata("head")}
    )
    return spec


class OpenAPIDocument:
    """ASGI middleware: pass /docs.json through `document` (everything else untouched)."""

    def __init__(self, app: Any, path: str = "/docs.json", info: dict | None = None) -> None:
        self.app = app
        self.path = path
        self.info = info

    async def __call__(self, scope, receive, send) -> None:
        """Buffer and correct the OpenAPI response; stream every other response as it is."""
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def buffered_send(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if start.get("status") == 200:
                body = json.dumps(document(json.loads(body), info=self.info)).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered_send)
