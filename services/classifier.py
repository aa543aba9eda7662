"""BentoML service over the selected model.

Routes: `POST /predict`, `GET /metadata` (the model card and `max_instances`), `/` (a page to try
the model, services/web.py), `/docs` (Swagger UI), and BentoML's own `/livez`, `/readyz`,
`/metrics` (Prometheus) and `/docs.json` (OpenAPI).
Configured by environment: MODELOPS_MODEL_DIR (the packaged model folder, models/serving/: what
the image sets) or else MODELOPS_MODEL_TAG (default `modelops-classifier:latest` in
BENTOML_HOME), MODELOPS_MAX_INSTANCES (rows per request, default 1000), MODELOPS_MAX_BODY_BYTES
(default 1 MB), MODELOPS_MAX_BATCH_ROWS, MODELOPS_MAX_LATENCY_MS and MODELOPS_BATCH_BELOW_ROWS
(adaptive batching of requests smaller than that),
MODELOPS_WORKERS (processes, default 1), MODELOPS_ACCESS_LOG=1 (per-request log lines),
MODELOPS_TRACING=1 (OpenTelemetry spans, for an exporter set in BentoML's configuration),
MODELOPS_FAST_PATH=0 (every /predict through BentoML's route, see services.fast_path).

Imports only what inference needs: bentoml, pydantic, numpy and the model's own libraries.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import shutil
import tempfile
from itertools import pairwise
from typing import Annotated, Any

import bentoml
import numpy as np
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modelops.serving.capture import Capture
from modelops.serving.features import Feature
from modelops.serving.inference import (
    InputError,
    Predictor,
    card_task,
    instance_schema,
    prediction_schema,
    read_model_card,
    service_metadata,
)
from services.bentoml_private import CorkDispatcher
from services.client_errors import bad_request, quiet_client_errors
from services.fast_path import FastPredict
from services.guard import RequestGuard, use_cancelling_timeout
from services.openapi import OpenAPIDocument
from services.speedups import cache_api_callers, no_gc_while_loading
from services.web import page_routes

log = logging.getLogger("modelops.service")
# One INFO line per refused request (413, 415, 400) and per start: BentoML's logging leaves
# loggers at WARNING, which silenced them.
log.setLevel(logging.INFO)
use_cancelling_timeout()  # before BentoML builds the app: its own timeout leaks a timer a request
cache_api_callers()  # BentoML re-inspects the API method's signature on every request
quiet_client_errors()  # a 4xx is one INFO line without the client's payload, not an ERROR

# BentoML's /metrics reads Prometheus in multiprocess mode from this folder. `bentoml serve` sets
# it for its workers; a single process (services.serve, the Lambda handler) needs its own, and
# /tmp is the one writable place on Lambda. Set before prometheus_client is first imported.
# The folder is this process's own: removed when the service shuts down (they piled up in /tmp;
# uvicorn ends by re-raising SIGTERM, so atexit alone does not run).
OWN_METRICS_DIR = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    OWN_METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="modelops-prometheus-"
    )
    atexit.register(shutil.rmtree, OWN_METRICS_DIR, ignore_errors=True)

MODEL_TAG = os.environ.get("MODELOPS_MODEL_TAG", "modelops-classifier:latest")
MAX_INSTANCES = int(os.environ.get("MODELOPS_MAX_INSTANCES", "1000"))
MAX_BODY_BYTES = int(os.environ.get("MODELOPS_MAX_BODY_BYTES", "1000000"))
# Adaptive batching: concurrent requests are merged into one vectorised predict of at most this
# many rows, waiting at most this long (BentoML's dispatcher adapts the wait to the traffic).
MAX_BATCH_ROWS = int(os.environ.get("MODELOPS_MAX_BATCH_ROWS", "1000"))
MAX_LATENCY_MS = int(os.environ.get("MODELOPS_MAX_LATENCY_MS", "200"))
# A request this large is a batch already: it is predicted at once, not queued.
BATCH_BELOW_ROWS = int(os.environ.get("MODELOPS_BATCH_BELOW_ROWS", "16"))
# Lambda runs one request per instance, so 1 worker; on a container host, one per core.
# OpenTelemetry spans cost ~15% of a request's CPU (profiled under load) and go nowhere unless an
# exporter is configured in BentoML's config: every URL is excluded unless MODELOPS_TRACING=1.
TRACING = os.environ.get("MODELOPS_TRACING") == "1"

# The image's model is the package stage's folder, byte for byte (a BentoML store entry holds a
# model.yaml stamped with its creation time): MODELOPS_MODEL_DIR names it; without it, the model
# comes from the BentoML model store by tag (`bentoml serve` on a workstation).
MODEL_DIR = os.environ.get("MODELOPS_MODEL_DIR")
model_ref = None if MODEL_DIR else bentoml.models.BentoModel(MODEL_TAG)


def _model_path() -> str | None:
    """The folder of the model to serve, or None when it is missing."""
    if model_ref is None:
        return MODEL_DIR if MODEL_DIR and os.path.isdir(MODEL_DIR) else None
    stored = model_ref.stored
    return None if stored is None else str(stored.path)


def _load_card() -> tuple[dict[str, Any] | None, str | None]:
    """The model card, read at import so the request schema names the real features."""
    try:
        path = _model_path()
        if path is None:
            if MODEL_DIR:
                return None, f"model folder MODELOPS_MODEL_DIR={MODEL_DIR} does not exist"
            return None, f"model {MODEL_TAG} is not in the BentoML model store"
        return read_model_card(path), None
    except Exception as exc:  # a corrupt store must not stop the process: /readyz says why
        return None, f"cannot read the card of model {MODEL_TAG}: {exc}"


CARD, CARD_ERROR = _load_card()
# The request and response schemas follow the card: each column typed (number, boolean,
# category with its known categories), each prediction shaped by the task and its classes.
FEATURES = [Feature.from_schema(f) for f in CARD["feature_schema"]] if CARD else []
TASK, CLASSES = card_task(CARD) if CARD else ("binary", [0, 1])
Instance = instance_schema(FEATURES)
Prediction = prediction_schema(TASK, CLASSES)
METADATA = service_metadata(CARD, MAX_INSTANCES) if CARD else None
# Prediction capture for the monitor: off unless MODELOPS_CAPTURE(_DIR) asks (docs/monitoring.md)
CAPTURE = Capture.from_environment(CARD)


class ModelInfo(BaseModel):
    """Which model answered."""

    name: str
    version: str


class PredictResponse(BaseModel):
    """Predictions in the order of the instances sent."""

    predictions: list[Prediction]  # type: ignore[valid-type]
    model: ModelInfo


def api_info(card: dict[str, Any] | None, task: str) -> dict[str, Any]:
    """The OpenAPI document's title, version and description: the model this service serves."""
    if card is None:
        return {"title": MODEL_TAG, "version": "unknown", "description": "No model is loaded."}
    target = card.get("target") or "the target"
    return {
        "title": card["name"],
        "version": str(card["version"]),
        "description": (
            f"Predicts `{target}` ({task}) from one row of raw values per instance: "
            "`POST /predict`. The model card, with the features, their types and categories, "
            "is at [/metadata](./metadata); a page to try the model is at [/](./)."
        ),
    }


def metadata(request: Request) -> JSONResponse:
    """The model card with task, target, classes, feature types, categories, max_instances."""
    if METADATA is None:
        return JSONResponse({"error": CARD_ERROR}, status_code=503)
    return JSONResponse(METADATA)


# Mounted at "/" after BentoML's own routes. Plain Starlette, not FastAPI: importing FastAPI
# costs ~0.3 s of cold start; services.openapi documents /metadata in the service's OpenAPI.
extra_routes = Starlette(
    routes=[
        Route("/metadata", metadata, methods=["GET", "HEAD"]),
        *page_routes(lambda: CARD, lambda: CARD_ERROR, MAX_INSTANCES),
    ]
)


def _not_batched() -> None:
    """What the dispatcher returns for a request it dropped from its queue (waited too long)."""
    return None


@bentoml.asgi_app(extra_routes, path="/")
@bentoml.service(
    name="modelops-classifier",
    traffic={"timeout": 30},
    workers=int(os.environ.get("MODELOPS_WORKERS", "1")),
    http={"cors": {"enabled": False}},
    tracing={} if TRACING else {"excluded_urls": ["."]},
    # One log line per request costs more than the prediction; BentoML's Prometheus metrics
    # still count every request. MODELOPS_ACCESS_LOG=1 turns the access log back on.
    logging={"access": {"enabled": os.environ.get("MODELOPS_ACCESS_LOG") == "1"}},
)
class Classifier:
    """The model selected by the pipeline: binary, multiclass or regression, over raw rows."""

    # Declared only when present: `bentoml serve` refuses to start over a missing model, and a
    # container must instead come up not-ready and say why.
    model = model_ref if CARD is not None else None

    def __init__(self) -> None:
        self.predictor: Predictor | None = None
        self.error = CARD_ERROR
        # BentoML's own adaptive-batching dispatcher (what `batchable=True` APIs use), driven
        # directly so that /predict keeps its {"predictions", "model"} envelope: a batchable API
        # must return a bare list.
        self.dispatcher = CorkDispatcher(
            max_latency_in_ms=MAX_LATENCY_MS,
            max_batch_size=MAX_BATCH_ROWS,
            fallback=_not_batched,
            get_batch_size=len,
        )
        self.batched_predict = self.dispatcher(self._predict_batches)
        if CARD is None:
            log.error("not ready: %s", CARD_ERROR)
            return
        try:
            with no_gc_while_loading():  # the model and its libraries (imported on unpickling)
                self.predictor = Predictor.from_directory(_model_path())
        except Exception as exc:  # report on /readyz and in the log instead of crashing
            self.error = f"cannot load model {MODEL_TAG}: {type(exc).__name__}: {exc}"
            log.error("not ready: %s", self.error)
            return
        # Everything loaded so far (libraries, model) lives as long as the process: keep it out
        # of the cyclic GC, whose full passes over it otherwise stall a request for ~100 ms.
        gc.freeze()
        log.info("serving %s version %s", CARD["name"], CARD["version"])

    async def _predict_batches(self, matrices: list[np.ndarray]) -> list[list[dict[str, Any]]]:
        """One predict over the rows of several requests, split back per request."""
        if len(matrices) == 1:
            # Nobody came to share this predict: stop waiting for company. The dispatcher learns
            # its wait from the waits it saw, so after a burst a lone request kept waiting the
            # burst's wait (c=1 p50 0.7 -> 2.5 ms after c=16); it relearns if traffic returns.
            self.dispatcher.optimizer.wait = 0
        predictions = self.predictor.predict_encoded(np.vstack(matrices))
        bounds = np.cumsum([0, *(len(m) for m in matrices)])
        return [predictions[a:b] for a, b in pairwise(bounds)]

    @bentoml.on_shutdown
    def remove_own_metrics_dir(self) -> None:
        """Remove the Prometheus folder this process made (none under `bentoml serve`)."""
        if OWN_METRICS_DIR:
            shutil.rmtree(OWN_METRICS_DIR, ignore_errors=True)

    def __is_ready__(self) -> bool:
        return self.predictor is not None

    @bentoml.api(route="/predict")
    async def predict(
        self,
        instances: Annotated[
            list[Instance],  # type: ignore[valid-type]
            Field(min_length=1, max_length=MAX_INSTANCES),
        ],
    ) -> PredictResponse:
        """Predict 1 to MODELOPS_MAX_INSTANCES raw rows (every feature's key, null for missing).

        Classification: the label (an original class) and each class's probability, binary also
        the positive class's probability; regression: the value.
        """
        if self.predictor is None:
            # A 503 that says why (BentoML replaces the message of any 5xx it raises itself).
            error = self.error or "model not loaded"
            return JSONResponse({"error": error}, status_code=503)  # type: ignore[return-value]
        try:
            body = await self._answer(instances)
        except InputError as exc:
            raise bad_request(str(exc)) from exc  # the same 400 shape as a schema error
        return Response(body, media_type="application/json")  # type: ignore[return-value]

    async def _answer(self, instances: list[dict[str, Any]]) -> bytes:
        """The JSON answer to `instances` (raises InputError for a value the model refuses)."""
        # Encoded per request (dict lookups), so the batch queue only stacks float matrices.
        matrix = self.predictor.encode(instances)
        predictions = None
        if len(instances) < BATCH_BELOW_ROWS:
            predictions = await self.batched_predict(matrix)
        if predictions is None:  # a large request, or one the batch queue gave up on
            predictions = self.predictor.predict_encoded(matrix)
        if CAPTURE is not None:
            CAPTURE.record(instances, predictions)
        # Serialized here: BentoML would validate a PredictResponse, dump it to Python objects
        # and then to JSON (~3x the cost, per request). The API's annotation still documents it.
        return json.dumps({"predictions": predictions, "model": self.predictor.model_info}).encode()

    async def answer_predict(self, body: bytes) -> bytes | None:
        """services.fast_path's /predict: the JSON answer to a request body, as `predict` gives.

        None when the API route must answer instead, with BentoML's own status, error body and
        log line: a body the API's request model refuses, a row the model refuses, no model
        loaded, or any other error.
        """
        if self.predictor is None:
            return None
        try:
            # What BentoML's JSON serde does with the body, with the same request model.
            request = PREDICT_REQUEST.model_validate_json(body or b"{}")
            return await self._answer(request.instances)
        except Exception:  # the API route answers it, and logs it as it should
            return None


PREDICT_REQUEST = Classifier.apis["predict"].input_spec
Classifier.add_asgi_middleware(RequestGuard, max_body_bytes=MAX_BODY_BYTES)
# A good /predict is answered here: after the guard, inside BentoML's metrics and timeout.
Classifier.add_asgi_middleware(
    FastPredict,
    server=f"BentoML Service/{Classifier.name}",
    enabled=os.environ.get("MODELOPS_FAST_PATH", "1") != "0",
)
Classifier.add_asgi_middleware(OpenAPIDocument, info=api_info(CARD, TASK))  # as it answers
