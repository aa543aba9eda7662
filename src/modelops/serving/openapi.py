"""The service's OpenAPI document, one for both adapters (`GET /docs.json`).

Made from the card and the request and response models, on the container and on Lambda alike.

It documents what the service answers: `POST /predict` with its required body, the 200 shaped by
the task, the 400 (`{"error", "detail": [...]}`), 413, 415 and 503 (`{"error"}`); `/metadata`;
`/livez` and `/readyz`. Its `info` names the model served.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

JSON = "application/json"
REF = "#/components/schemas/{model}"
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
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _component(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    """Add `model` (and the models it uses) to `components`; a reference to it."""
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def document(
    card: dict[str, Any] | None,
    task: str,
    request: type[BaseModel],
    response: type[BaseModel],
) -> dict[str, Any]:
    """The OpenAPI 3 document of the service over the model `card` describes (None: no model)."""
    components: dict[str, Any] = {"BadRequest": BAD_REQUEST, "Error": ERROR}
    error = {"$ref": REF.format(model="Error")}
    if card is None:
        info = {
            "title": "modelops-classifier",
            "version": "unknown",
            "description": "No model is loaded.",
        }
    else:
        target = card.get("target") or "the target"
        info = {
            "title": str(card.get("name")),
            "version": str(card.get("version")),
            "description": (
                f"Predicts `{target}` ({task}) from one row of raw values per instance: "
                "`POST /predict`. The model card, with the features, their types and "
                "categories, is at [/metadata](./metadata); a page to try the model is at [/](./)."
            ),
        }
    predict = {
        "operationId": "predict",
        "summary": f"Predict ({task}) from raw rows",
        "description": (
            "1 to max_instances rows, every feature's key (null for missing). Classification: "
            "the label and each class's probability (binary: also the positive class's); "
            "regression: the value."
        ),
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": _component(request, components)}},
        },
        "responses": {
            "200": _json(_component(response, components), "The predictions, in row order."),
            "400": _json(
                {"$ref": REF.format(model="BadRequest")},
                "The body is not valid JSON or does not fit the schema.",
            ),
            "413": _json(error, "The body is larger than the service accepts."),
            "415": _json(error, "The body is not sent as application/json."),
            "503": _json(error, "No model is loaded; /readyz says why."),
        },
    }
    metadata = {
        "summary": "The model card",
        "description": "Task, target, classes, feature types, categories and max_instances.",
        "responses": {
            "200": _json({"type": "object"}, "The model card."),
            "503": _json(error, "No model is loaded; the body says why."),
        },
    }
    return {
        "openapi": "3.0.2",
        "info": info,
        "paths": {
            "/predict": {"post": predict},
            "/metadata": {
                "get": {**metadata, "operationId": "metadata"},
                "head": {**metadata, "operationId": "metadata_head"},
            },
            "/livez": {
                "get": {
                    "operationId": "livez",
                    "summary": "The process is up",
                    "responses": {"200": _text("Alive.")},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "The model is loaded",
                    "responses": {"200": _text("Ready."), "503": _text("Not ready.")},
                }
            },
        },
        "components": {"schemas": components},
    }
