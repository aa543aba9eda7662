"""BentoML service over the selected model: a thin adapter over `modelops.serving.answers.Service`.

Started with BentoML's CLI: `bentoml serve services.classifier:Classifier` (`make serve`, the
container image). Only BentoML's public API is used (`bentoml.service`, `bentoml.api` with a
pydantic input spec, `bentoml.models`, service config, `bentoml.asgi_app`,
`add_asgi_middleware`); a test fails if a private BentoML module or a patch comes back.

Routes: `POST /predict` (the API), `GET /metadata`, `/` (a page to try the model), `/docs`
(Swagger UI), `/web/*` (the page's files) and `/metrics` (Prometheus, bounded labels) from the
core through a mounted ASGI app; BentoML's own `/livez`, `/readyz` and `/docs.json` (OpenAPI).
The 415/413/400 of `/predict` come from the core in `services.guard.PredictGuard`, so every
client error is one INFO line without the payload, and a body over the limit is drained before
its 413.

Configured by environment: MODELOPS_MODEL_DIR (the package stage's folder, models/serving/,
byte for byte: what the image sets) or else MODELOPS_MODEL_TAG (default
`modelops-classifier:latest` in BENTOML_HOME, what `make serve` uses),
MODELOPS_MAX_INSTANCES (rows per request, default 1000), MODELOPS_MAX_BODY_BYTES (default 1 MB),
MODELOPS_WORKERS (processes, default 1), MODELOPS_TIMEOUT (seconds per request, default 30),
MODELOPS_MAX_CONCURRENCY (requests in flight per service before 503, default 256),
MODELOPS_ACCESS_LOG=1 (per-request log lines), MODELOPS_TRACING=1 (OpenTelemetry spans).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from pathlib import Path
from typing import Any

import bentoml
import numpy as np
from bentoml.exceptions import BentoMLException, NotFound
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from modelops.serving.answers import ROUTES, Answer, Service
from modelops.serving.outputs import Outputs
from services.guard import PredictGuard, RouteMetrics, metrics_answer

log = logging.getLogger("modelops.service")
# One INFO line per refused request (413, 415, 400) and per start: BentoML's logging leaves
# loggers at WARNING.
log.setLevel(logging.INFO)

MODEL_TAG = os.environ.get("MODELOPS_MODEL_TAG", "modelops-classifier:latest")
MAX_INSTANCES = int(os.environ.get("MODELOPS_MAX_INSTANCES", "1000"))
MAX_BODY_BYTES = int(os.environ.get("MODELOPS_MAX_BODY_BYTES", "1000000"))
WORKERS = int(os.environ.get("MODELOPS_WORKERS", "1"))
TIMEOUT = float(os.environ.get("MODELOPS_TIMEOUT", "30"))
MAX_CONCURRENCY = int(os.environ.get("MODELOPS_MAX_CONCURRENCY", "256"))
# OpenTelemetry spans cost CPU and go nowhere unless an exporter is configured in BentoML's
# configuration: every URL is excluded unless MODELOPS_TRACING=1.
TRACING = os.environ.get("MODELOPS_TRACING") == "1"


# The image's model is the package stage's folder as DVC tracks it (a BentoML store entry holds
# a model.yaml stamped with its creation time, which would make every image build differ).
MODEL_DIR = os.environ.get("MODELOPS_MODEL_DIR")


def model_folder() -> tuple[Path | None, str | None]:
    """The packaged model's folder (MODELOPS_MODEL_DIR, else the BentoML store), or None and why.

    A missing or unreadable entry must not stop the process: it comes up not ready, and
    /readyz, /metadata and the log say why.
    """
    if MODEL_DIR:
        folder = Path(MODEL_DIR)
        if folder.is_dir():
            return folder, None
        return None, f"model folder MODELOPS_MODEL_DIR={MODEL_DIR} does not exist"
    try:
        return Path(bentoml.models.get(MODEL_TAG).path), None
    except NotFound:
        return None, f"model {MODEL_TAG} is not in the BentoML model store"
    except BentoMLException as exc:
        return None, f"cannot read model {MODEL_TAG} from the BentoML model store: {exc}"


FOLDER, STORE_ERROR = model_folder()
# The card and the request schema, without the model: BentoML imports this module in its
# arbiter too, which only needs the service's declaration. Each worker loads the model.
DECLARED = Service(FOLDER, MAX_INSTANCES, MAX_BODY_BYTES, load=False)
DECLARED.error = STORE_ERROR or DECLARED.error


class Batcher:
    """Requests that reach the API in the same turn of the event loop share one predict.

    A model's predict has a fixed cost per call (XGBoost's ~0.2 ms for one row): under
    concurrent load, the rows of every request waiting at once are predicted together and the
    outputs split back per request. Nothing waits for company: a lone request is predicted in
    the next turn of the loop. (BentoML's `batchable=True` would need the API to take and return
    bare lists, changing the `{"predictions", "model"}` envelope.)
    """

    def __init__(self) -> None:
        self.waiting: list[tuple[np.ndarray, asyncio.Future[Outputs]]] = []

    async def outputs(self, service: Service, matrix: np.ndarray) -> Outputs:
        """The outputs of `matrix`, predicted with those of the other requests waiting."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outputs] = loop.create_future()
        self.waiting.append((matrix, future))
        if len(self.waiting) == 1:
            loop.call_soon(self.flush, service)
        return await future

    def flush(self, service: Service) -> None:
        """Predict every waiting request's rows at once; hand each its share."""
        batch, self.waiting = self.waiting, []
        try:
            results = service.outputs([matrix for matrix, _ in batch])
        except Exception as exc:  # each request fails as it would alone (BentoML's 500)
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)


BATCHER = Batcher()


class Core:
    """The running worker's core (set when BentoML creates the service instance)."""

    service: Service = DECLARED


def core() -> Service:
    """The core this process answers with."""
    return Core.service


def response(answer: Answer) -> Response:
    """The Starlette response of a core answer."""
    return Response(
        answer.body, answer.status, headers=dict(answer.headers), media_type=answer.content_type
    )


async def from_core(request: Request) -> Response:
    """A route the core answers (the page, its files, Swagger UI, /metadata)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    answer = core().answer(request.method, request.url.path, headers, await request.body())
    return response(answer)


async def metrics(request: Request) -> Response:
    """Prometheus metrics of every worker, labelled by route (bounded)."""
    return response(metrics_answer())


# Mounted at "/" next to BentoML's routes; only these paths match it, everything else falls
# through to BentoML (its 404 for unknown paths).
pages = Starlette(
    routes=[
        *(Route(path, from_core, methods=list(ROUTES[path])) for path in ("/", "/metadata")),
        Route("/docs", from_core, methods=["GET"]),
        Route("/docs.json", from_core, methods=["GET"]),  # ahead of BentoML's generated one
        Route("/web/{name:path}", from_core, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
)


@bentoml.asgi_app(pages, path="/")
@bentoml.service(
    name="modelops-classifier",
    workers=WORKERS,
    traffic={"timeout": TIMEOUT, "max_concurrency": MAX_CONCURRENCY},
    http={"cors": {"enabled": False}},
    # BentoML labels its metrics with the raw request path (one series per unknown path):
    # services.guard.RouteMetrics counts by route instead, served at /metrics above.
    metrics={"enabled": False},
    tracing={} if TRACING else {"excluded_urls": ["."]},
    # One log line per request costs more than the prediction; MODELOPS_ACCESS_LOG=1 adds it.
    logging={"access": {"enabled": os.environ.get("MODELOPS_ACCESS_LOG") == "1"}},
)
class Classifier:
    """The model selected by the pipeline: binary, multiclass or regression, over raw rows."""

    # Declared only when present: `bentoml serve` refuses to start over a missing model, and a
    # container must instead come up not-ready and say why (/readyz, /metadata).
    model = bentoml.models.BentoModel(MODEL_TAG) if FOLDER is not None and not MODEL_DIR else None

    def __init__(self) -> None:
        service = Service(FOLDER, MAX_INSTANCES, MAX_BODY_BYTES)
        if STORE_ERROR is not None:
            service.error = STORE_ERROR
            log.error("not ready: %s", service.error)
        Core.service = service
        # Everything loaded so far (libraries, model) lives as long as the process: keep it out
        # of the cyclic GC, whose full passes over it otherwise stall a request (~100 ms).
        gc.freeze()
        if service.card is not None and service.predictor is not None:
            log.info("serving %s version %s", service.card["name"], service.card["version"])

    def __is_ready__(self) -> bool:
        return core().predictor is not None

    @bentoml.api(  # type: ignore[untyped-decorator]  # bentoml.api's overloads leave it untyped
        route="/predict", input_spec=DECLARED.input, output_spec=DECLARED.output
    )
    async def predict(self, instances: list[Any]) -> Response:
        """Predict 1 to MODELOPS_MAX_INSTANCES raw rows (every feature's key, null for missing).

        Classification: the label (an original class) and each class's probability, binary also
        the positive class's probability; regression: the value.
        """
        service = core()
        matrix = service.encode(instances)
        if isinstance(matrix, Answer):  # a 400 naming a refused value, or a 503
            return response(matrix)
        outputs = await BATCHER.outputs(service, matrix)
        return response(service.answer_outputs(instances, outputs))


# ASGI middleware by BentoML's documented hook, inside BentoML's timeout and concurrency limit.
# (`bentoml.asgi_app` is typed to return the class it decorates; it returns a bentoml.Service.)
Classifier.add_asgi_middleware(RouteMetrics)  # type: ignore[attr-defined]
Classifier.add_asgi_middleware(PredictGuard, core=core)  # type: ignore[attr-defined]
