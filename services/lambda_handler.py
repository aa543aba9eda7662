"""AWS Lambda entry point: Function URL and API Gateway HTTP API (payload v2.0) events.

The same ASGI app as `bentoml serve`, adapted by Mangum. The app's startup (model load) runs
once per container, at cold start, not once per request: Mangum's `lifespan="auto"` would run
startup and shutdown around every invocation, so the lifespan is entered here, once, on the event
loop Mangum uses, and requests are served with `lifespan="off"`.

Handler: `services.lambda_handler.handler`.
"""

from __future__ import annotations

import atexit

from mangum import Mangum
from mangum.protocols.lifespan import LifespanCycle

from services.classifier import Classifier

app = Classifier.to_asgi()
_lifespan = LifespanCycle(app, "on")
_lifespan.__enter__()  # cold start: create the service instance and load the model
atexit.register(_lifespan.__exit__, None, None, None)

handler = Mangum(app, lifespan="off", api_gateway_base_path="/")
