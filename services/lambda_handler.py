"""AWS Lambda entry point: Function URL (payload 2.0) events, answered straight from the core.

Each Lambda instance serves one request at a time and AWS is the HTTP server, so BentoML's
server, batching and a web framework buy nothing here and cost their start-up at every cold
start. The handler reads the event, asks `modelops.serving.answers.Service` (which the container
service's answers match) and writes the Function URL response. It imports numpy, pydantic and
what the model's serving format needs: an XGBoost winner loads numpy and xgboost, never
scikit-learn or pandas (the image of such a winner does not install them).

The model loads once per instance, at import (Lambda's init phase). Every event gets an HTTP
answer, never an exception: one this handler cannot read (not a JSON object, payload version
1.0, no `requestContext.http`, headers that are not an object, a body that is not text or not
valid base64) gets a 400 that says why, logged as one INFO line without the event.

Handler: `services.lambda_handler.handler`. Settings: MODELOPS_MODEL_DIR (the packaged model
folder; default: MODELOPS_MODEL_TAG's entry under BENTOML_HOME), MODELOPS_MAX_INSTANCES,
MODELOPS_MAX_BODY_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from pathlib import Path
from typing import Any

from modelops.serving.answers import Answer, Service

log = logging.getLogger("modelops.service")


def model_folder() -> Path:
    """MODELOPS_MODEL_DIR, else the BentoML store entry MODELOPS_MODEL_TAG names (no bentoml)."""
    if os.environ.get("MODELOPS_MODEL_DIR"):
        return Path(os.environ["MODELOPS_MODEL_DIR"])
    home = Path(os.environ.get("BENTOML_HOME", Path.home() / "bentoml"))
    name, _, version = os.environ.get("MODELOPS_MODEL_TAG", "modelops-classifier:latest").partition(
        ":"
    )
    models = home / "models" / name
    if version in ("", "latest") and (models / "latest").is_file():
        version = (models / "latest").read_text().strip()
    return models / version


SERVICE = Service(
    model_folder(),
    max_instances=int(os.environ.get("MODELOPS_MAX_INSTANCES", "1000")),
    max_body_bytes=int(os.environ.get("MODELOPS_MAX_BODY_BYTES", "1000000")),
)


class UnreadableEvent(ValueError):
    """An event that is not a Function URL / HTTP API payload 2.0 request."""


def read_event(event: Any) -> tuple[str, str, dict[str, str], bytes]:
    """Method, path, headers (lower-case names) and body of a payload 2.0 event.

    Raises:
        UnreadableEvent: what is wrong with the event.

    """
    if not isinstance(event, dict):
        raise UnreadableEvent("the event is not a JSON object")
    if event.get("version", "2.0") != "2.0":
        raise UnreadableEvent(f"payload format version {event.get('version')!r}: use 2.0")
    context = event.get("requestContext")
    http = context.get("http") if isinstance(context, dict) else None
    if not isinstance(http, dict) or not isinstance(http.get("method"), str):
        raise UnreadableEvent(
            "not a function URL or HTTP API (payload 2.0) event: requestContext.http is missing"
        )
    path = event.get("rawPath", http.get("path", "/"))
    if not isinstance(path, str):
        raise UnreadableEvent("rawPath is not a string")
    headers = event.get("headers")
    if headers is None:
        headers = {}
    if not isinstance(headers, dict):
        raise UnreadableEvent("headers is not an object")
    body = event.get("body")
    if body is None:
        raw = b""
    elif not isinstance(body, str):
        raise UnreadableEvent("body is not a string")
    elif event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableEvent(
                "isBase64Encoded is true but the body is not valid base64"
            ) from None
    else:
        raw = body.encode("utf-8", errors="surrogateescape")
    names = {str(k).lower(): str(v) for k, v in headers.items()}
    return http["method"], path, names, raw


def response(answer: Answer) -> dict[str, Any]:
    """The Function URL response of an answer (text bodies as text, others base64)."""
    kind = answer.content_type or ""
    text = kind.startswith(("text/", "application/json", "application/javascript"))
    return {
        "statusCode": answer.status,
        "headers": answer.header_map(),
        "body": answer.body.decode() if text else base64.b64encode(answer.body).decode(),
        "isBase64Encoded": not text,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Serve one Lambda event; never raises."""
    try:
        method, path, headers, body = read_event(event)
    except UnreadableEvent as exc:
        log.info("client error 400 on the Lambda event: %s", exc)
        return response(Answer(400, json.dumps({"error": f"unreadable event: {exc}"}).encode(),
                               "application/json"))  # fmt: skip
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str):  # the capture's sampling key: stable across this request
        headers.setdefault("x-request-id", request_id)
    try:
        return response(SERVICE.answer(method, path, headers, body))
    except Exception:  # a bug of ours: a 500 the client can read, the traceback in the log
        log.exception("server error on %s %s", method, path if path in SERVICE_PATHS else "?")
        body = b'{"error":"An unexpected error has occurred, please check the server log."}'
        return response(Answer(500, body, "application/json"))


SERVICE_PATHS = frozenset(
    ("/predict", "/metadata", "/", "/docs", "/docs.json", "/livez", "/readyz")
)
