"""A plain FastAPI app serving the same model with the same contract (`make bench-serve`)."""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from modelops.serving.inference import InputError, Predictor

_predictor = Predictor.from_directory(os.environ.get("MODELOPS_MODEL_DIR", "models/best"))


class PredictRequest(BaseModel):
    """The same body as the service: 1..1000 rows of {feature: number}."""

    instances: list[dict[str, float]] = Field(min_length=1, max_length=1000)


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
