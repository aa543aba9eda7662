"""A plain FastAPI app serving the same model with the same contract (`make bench-serve`).

The anchor the service is measured against: the same Predictor, the same request schema typed
per column from the model card (pydantic), the idiomatic FastAPI way (a sync endpoint).
"""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from modelops.serving.inference import InputError, Predictor, instance_schema

_predictor = Predictor.from_directory(os.environ.get("MODELOPS_MODEL_DIR", "models/best"))
Instance = instance_schema(_predictor.feature_schema)


class PredictRequest(BaseModel):
    """The same body as the service: 1..1000 raw rows, each column typed from the card."""

    instances: list[Instance] = Field(min_length=1, max_length=1000)  # type: ignore[valid-type]


fastapi_app = FastAPI()


@fastapi_app.post("/predict")
def predict(request: PredictRequest) -> dict:
    try:
        predictions = _predictor.predict(request.instances)
    except InputError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {"predictions": predictions, "model": _predictor.model_info}


@fastapi_app.get("/readyz")
def ready() -> dict:
    return {"ready": True}
