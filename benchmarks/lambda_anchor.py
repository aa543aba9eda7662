"""The benchmark's anchor: the Lambda handler before issue 22 (BentoML's app through Mangum).

Kept only so that `make bench-image` measures the lean handler's cold init against it; nothing
deploys it. Handler: `benchmarks.lambda_anchor.handler` (in the image: `bench.lambda_anchor`).
Since the serving rewrite it wraps today's `services.classifier` (BentoML's public API over the
core), which imports less than the service issue 22 timed: in an XGBoost or linear image there
is no scikit-learn to import. Ratios to it are therefore conservative.

What it was: AWS Lambda entry point for Function URL and API Gateway HTTP API (payload v2.0) events.

The same ASGI app as `bentoml serve`, adapted by Mangum. The app's startup (model load) runs
once per container, at cold start, not once per request: Mangum's `lifespan="auto"` would run
startup and shutdown around every invocation, so the lifespan is entered here, once, on the event
loop Mangum uses, and requests are served with `lifespan="off"`.

An event the adapter cannot read (not a Function URL / HTTP API v2.0 event: no
`requestContext.http`, or a body flagged base64 that is not) is answered with a 400 that says
what is wrong, logged as one INFO line without the event, instead of an exception (a Lambda
error, retried by some callers, and a traceback with the payload in CloudWatch).

"""

from __future__ import annotations

import atexit
import base64
import binascii
import json
import logging
from typing import Any

from mangum import Mangum
from mangum.protocols.lifespan import LifespanCycle

from services.classifier import Classifier

app = Classifier.to_asgi()
_lifespan = LifespanCycle(app, "on")
_lifespan.__enter__()  # create the service instance and load the model
atexit.register(_lifespan.__exit__, None, None, None)

adapter = Mangum(app, lifespan="off", api_gateway_base_path="/")
log = logging.getLogger("modelops.service")


def unreadable(event: Any) -> str | None:
    """Why `event` is not an HTTP event this handler can serve, or None when it is."""
    if not isinstance(event, dict):
        return "the event is not a JSON object"
    http = (
        (event.get("requestContext") or {}).get("http")
        if isinstance(event.get("requestContext"), dict)
        else None
    )
    if not isinstance(http, dict) or not http.get("method"):
        return "not a function URL or HTTP API (payload 2.0) event: requestContext.http is missing"
    if not isinstance(event.get("rawPath", "/"), str):
        return "rawPath is not a string"
    if event.get("isBase64Encoded") and event.get("body") is not None:
        try:
            base64.b64decode(event["body"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            return "isBase64Encoded is true but the body is not valid base64"
    return None


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Serve one Lambda event; an unreadable one gets a 400 saying why."""
    reason = unreadable(event)
    if reason is not None:
        log.info("client error 400 on the Lambda event: %s", reason)
        return {
            "statusCode": 400,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"error": f"unreadable event: {reason}"}),
            "isBase64Encoded": False,
        }
    return adapter(event, context)
