"""HTTP answers of the service without a web framework: what the Lambda handler serves directly.

`Service.answer(method, path, headers, body)` gives the status, headers and body of every route
the container service has, from the core alone (card, validation, `Outputs`, the page): the
Lambda serves Function URL events with it and imports neither BentoML nor a web framework. The
bodies are the container's, byte for byte where it matters to a client: the same 400 shape
(`{"error": "<n> validation error for Input", "detail": [{"type", "loc", "msg"...}]}`, pydantic's
own errors of the same request model), 413/415/503 `{"error": ...}`, plain-text 404/405.
`tests/service/test_adapters.py` sends one list of requests to both and compares.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError

from modelops.serving import openapi
from modelops.serving.capture import Capture
from modelops.serving.features import Feature
from modelops.serving.inference import (
    InputError,
    ModelLoadError,
    Predictor,
    card_task,
    instance_schema,
    prediction_schema,
    read_model_card,
    service_metadata,
)
from modelops.serving.outputs import Outputs
from modelops.serving.page import ASSETS, DOCS_PAGE, render_page

log = logging.getLogger("modelops.service")
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
NOT_READY = "Service is not ready because .__is_ready__() returns False."
# Routes by path: the methods each takes. Metrics are labelled by these paths only (and "other"),
# so unknown paths cannot grow them.
ROUTES = {
    "/predict": ("POST",),
    "/metadata": ("GET", "HEAD"),
    "/": ("GET",),
    "/docs": ("GET",),
    "/docs.json": ("GET",),
    "/livez": ("GET", "HEAD"),
    "/readyz": ("GET", "HEAD"),
    "/metrics": ("GET",),
}


def route_label(path: str) -> str:
    """The metrics label of a request path: its route, `/web` (the page's files) or `other`.

    Unknown paths share `other`, so that they cannot grow the metrics.
    """
    return path if path in ROUTES else "/web" if path.startswith("/web/") else "other"


METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def method_label(route: str, method: str) -> str:
    """The metrics label of a request method: `other` for unknown routes and odd methods."""
    return method if route != "other" and method in METHODS else "other"


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, body and the headers that matter (content type, allow)."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def header_map(self) -> dict[str, str]:
        """The headers as a dict, content type first."""
        found = {"content-type": self.content_type} if self.content_type else {}
        return found | dict(self.headers)


def compact_json(data: Any, status: int = 200) -> Answer:
    """A JSON answer written as Starlette's JSONResponse writes it (BentoML's error bodies)."""
    body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Answer(status, body.encode(), JSON)


def error(status: int, message: str) -> Answer:
    """`{"error": message}` as the request guard writes it (413, 415)."""
    return Answer(status, json.dumps({"error": message}).encode(), JSON)


def bad_request(message: str, loc: tuple[Any, ...] = ("instances",)) -> ValidationError:
    """A 400 in the service's one error shape, from the model's input check `message`."""
    detail: InitErrorDetails = {
        "type": PydanticCustomError("invalid_input", "{message}", {"message": message}),
        "loc": loc,
        "input": None,
    }
    return ValidationError.from_exception_data("Input", [detail])


def validation_answer(exc: ValidationError) -> Answer:
    """The 400 of a request the schema refuses, as BentoML's API route writes it."""
    return compact_json(
        {
            "error": f"{exc.error_count()} validation error for {exc.title}",
            "detail": exc.errors(include_context=False, include_input=False),
        },
        400,
    )


def request_model(features: list[Feature], max_instances: int) -> type[BaseModel]:
    """The body of `POST /predict`: `{"instances": [1..max_instances rows]}`, named Input."""
    instance = instance_schema(features)
    rows = Annotated[list[instance], Field(min_length=1, max_length=max_instances)]  # type: ignore[valid-type]
    return create_model("Input", instances=(rows, ...))


class ModelInfo(BaseModel):
    """Which model answered."""

    name: str
    version: str


def response_model(task: str, classes: list[Any]) -> type[BaseModel]:
    """The body of a `POST /predict` answer: predictions in the order of the rows, the model."""
    prediction = prediction_schema(task, classes)
    return create_model(
        "PredictResponse",
        predictions=(list[prediction], ...),  # type: ignore[valid-type]
        model=(ModelInfo, ...),
    )


class Service:
    """The service's routes over a packaged model folder, framework-free."""

    def __init__(
        self,
        folder: str | Path | None,
        max_instances: int,
        max_body_bytes: int,
        load: bool = True,
    ):
        """Read the card of the model in `folder` and, if `load`, load the model.

        `load=False` gives the request schema and the card without the model (what a process
        that only declares the service, such as BentoML's arbiter, needs).
        """
        self.max_instances = max_instances
        self.max_body_bytes = max_body_bytes
        self.card: dict[str, Any] | None = None
        self.predictor: Predictor | None = None
        self.error: str | None = None
        self.counts: Counter[tuple[str, str, int]] = Counter()
        try:
            if folder is None:
                raise ModelLoadError("no model folder given")
            self.card = read_model_card(folder)
        except ModelLoadError as exc:
            self.error = f"cannot read the model card: {exc}"
        features = [Feature.from_schema(f) for f in (self.card or {}).get("feature_schema", [])]
        self.input = request_model(features, max_instances)
        if self.card is not None and folder is not None and load:
            try:
                self.predictor = Predictor.from_directory(folder)
            except ModelLoadError as exc:
                self.error = f"cannot load model: {exc}"
        if self.error and load:
            log.error("not ready: %s", self.error)
        self.metadata = service_metadata(self.card, max_instances) if self.card else None
        self.task, classes = card_task(self.card) if self.card else ("binary", [0, 1])
        self.output = response_model(self.task, classes)
        # Prediction capture for the monitor: off unless MODELOPS_CAPTURE(_DIR) asks
        # (docs/monitoring.md); on Lambda MODELOPS_CAPTURE=log writes one JSON line per record.
        self.capture = Capture.from_environment(self.card) if self.card and load else None

    # --- routes -------------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one request (`headers` with lower-case names)."""
        method = method.upper()
        route = route_label(path)
        answer = self._route(method, path, headers, body)
        self.counts[(route, method_label(route, method), answer.status)] += 1
        return answer

    def _route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path.startswith("/web/") and method in ("GET", "HEAD"):
            return self.asset(path.removeprefix("/web/"))
        methods = ROUTES.get(path)
        if methods is None:
            return Answer(404, b"Not Found", TEXT)
        if method not in methods:
            return Answer(405, b"Method Not Allowed", TEXT, (("allow", ", ".join(methods)),))
        if path == "/predict":
            return self.predict(headers, body)
        if path == "/metadata":
            if self.metadata is None:
                return compact_json({"error": self.error}, 503)
            return compact_json(self.metadata)
        if path == "/":
            return Answer(
                200 if self.card else 503,
                render_page(self.card, self.max_instances, self.error).encode(),
                HTML,
            )
        if path == "/docs":
            return Answer(200, DOCS_PAGE.encode(), HTML)
        if path == "/docs.json":
            return compact_json(self.openapi())
        if path == "/livez":
            return Answer(200, b"\n", TEXT)
        if path == "/readyz":
            if self.predictor is None:
                return Answer(503, NOT_READY.encode(), TEXT)
            return Answer(200, b"\n", TEXT)
        return Answer(200, self.metrics().encode(), "text/plain; version=0.0.4; charset=utf-8")

    def predict(self, headers: dict[str, str], body: bytes) -> Answer:
        """`POST /predict`: 415, 413, 400 (naming the column), 503 or the predictions."""
        refused = self.refuse(headers, len(body))
        if refused is not None:
            return refused
        parsed = self.parse(body)
        if isinstance(parsed, Answer):
            return parsed
        return self.predict_instances(parsed, headers.get("x-request-id"))

    def refuse(self, headers: dict[str, str], length: int | None) -> Answer | None:
        """The 415 of a body that is not JSON, the 413 of one over the limit, else None.

        `length` is the body's size in bytes if known (Content-Length, or what was read).
        """
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != JSON:
            log.info("client error 415 on /predict: not application/json")
            return error(415, "send the body as JSON with content-type: application/json")
        if length is not None and length > self.max_body_bytes:
            return self.too_large()

        return None

    def too_large(self) -> Answer:
        """The 413 of a body over `max_body_bytes` (one INFO line)."""
        log.info("client error 413 on /predict: body over %s bytes", self.max_body_bytes)
        return error(413, f"body over {self.max_body_bytes} bytes")

    def parse(self, body: bytes) -> list[Any] | Answer:
        """The rows of a `/predict` body, or the 400 naming what is wrong (one INFO line)."""
        try:
            parsed = self.input.model_validate_json(body or b"{}")
            instances: list[Any] = parsed.instances  # type: ignore[attr-defined]  # made at run time
        except ValidationError as exc:
            return self.refused_rows(exc)
        return instances

    def refused_rows(self, exc: ValidationError) -> Answer:
        """The 400 of rows the schema or the model refuses, logged without the payload."""
        log.info("client error 400 on /predict: ValidationError, %s error(s)", exc.error_count())
        return validation_answer(exc)

    def predict_instances(self, instances: list[Any], request_id: str | None = None) -> Answer:
        """The answer for rows the schema accepted: the predictions, a 400 or a 503.

        400: a value the model refuses, naming the column; 503: no model is loaded.
        """
        matrix = self.encode(instances)
        if isinstance(matrix, Answer):
            return matrix
        return self.answer_outputs(instances, self.outputs([matrix])[0], request_id)

    def encode(self, instances: list[Any]) -> np.ndarray | Answer:
        """The model's input matrix of the rows; a 400 naming a refused value; 503: no model."""
        if self.predictor is None:
            return compact_json({"error": self.error or "model not loaded"}, 503)
        try:
            return self.predictor.encode(instances)
        except InputError as exc:
            return self.refused_rows(bad_request(str(exc)))

    def outputs(self, matrices: list[np.ndarray]) -> list[Outputs]:
        """The outputs of several requests' matrices, from one predict over all their rows."""
        if self.predictor is None:
            raise ModelLoadError(self.error or "model not loaded")
        if len(matrices) == 1:
            return [self.predictor.outputs(matrices[0])]
        together = self.predictor.outputs(np.vstack(matrices))
        bounds = np.cumsum([0, *(len(m) for m in matrices)]).tolist()
        return [together.take(a, b) for a, b in pairwise(bounds)]

    def answer_outputs(
        self, instances: list[Any], outputs: Outputs, request_id: str | None = None
    ) -> Answer:
        """The 200 of the predictions `outputs` of `instances` (captured if capture is on)."""
        if self.predictor is None:
            return compact_json({"error": self.error or "model not loaded"}, 503)
        records = outputs.records()
        if self.capture is not None:
            self.capture.record(instances, records, request_id)
        answer = {"predictions": records, "model": self.predictor.model_info}
        return Answer(200, json.dumps(answer).encode(), JSON)

    def asset(self, name: str) -> Answer:
        """A file of the page (its script and style sheet); nothing outside that folder."""
        path = (ASSETS / name).resolve()
        if not path.is_relative_to(ASSETS.resolve()) or not path.is_file():
            return Answer(404, b"Not Found", TEXT)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        charset = "; charset=utf-8" if kind.startswith("text/") else ""
        return Answer(200, path.read_bytes(), kind + charset)

    def openapi(self) -> dict[str, Any]:
        """The service's OpenAPI document (`modelops.serving.openapi`)."""
        return openapi.document(self.card, self.task, self.input, self.output)

    def metrics(self) -> str:
        """Request counts in Prometheus' text format, labelled by route (bounded)."""
        lines = [
            "# HELP modelops_requests_total Requests answered, by route, method and status.",
            "# TYPE modelops_requests_total counter",
        ]
        for (route, method, status), count in sorted(self.counts.items()):
            lines.append(
                f'modelops_requests_total{{route="{route}",method="{method}",'
                f'status="{status}"}} {count}'
            )
        return "\n".join(lines) + "\n"
