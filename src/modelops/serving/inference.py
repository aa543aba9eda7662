"""Inference: turn validated instances into predictions with the selected model.

Serving-safe: imports numpy and pydantic only (never mlflow, great_expectations or dvc), so the
service, the Lambda handler and batch scoring share it without paying for the pipeline's imports.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

MODEL_CARD = "model_card.json"
DEFAULT_THRESHOLD = 0.5

FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A JSON number: not a string, not NaN or Infinity (strict: "1.5" is refused, 1 is accepted)."""


class InputError(ValueError):
    """A request or file that does not fit the model's feature schema; the message says how."""


class ModelLoadError(RuntimeError):
    """The packaged model or its card is missing or unreadable."""


def read_model_card(path: str | Path) -> dict[str, Any]:
    """Read `model_card.json` from a folder (or the file itself).

    Raises:
        ModelLoadError: missing, not JSON, or without a feature schema.

    """
    path = Path(path)
    card_path = path / MODEL_CARD if path.is_dir() else path
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"{card_path}: model card not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{card_path}: model card is not valid JSON ({exc})") from None
    if not isinstance(card, dict) or not card.get("feature_schema"):
        raise ModelLoadError(f"{card_path}: model card has no feature_schema")
    return card


def load_pickled_model(path: str | Path) -> Any:
    """Load the cloudpickled model that the pipeline wrote (plain pickle reads it).

    Raises:
        ModelLoadError: the file is missing or does not unpickle to a classifier.

    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            model = pickle.load(handle)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: model file not found") from None
    except Exception as exc:  # truncated or foreign files raise many types
        raise ModelLoadError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if not hasattr(model, "predict_proba"):
        raise ModelLoadError(f"{path}: {type(model).__name__} has no predict_proba")
    return model


def instance_schema(feature_names: list[str]) -> type[BaseModel]:
    """A pydantic model of one row: every feature required, finite number, nothing else.

    Fields are aliased, so feature names that are not Python identifiers still work, and the
    OpenAPI document lists the real names.
    """
    fields: dict[str, Any] = {
        f"f{index}": (FiniteNumber, Field(alias=name)) for index, name in enumerate(feature_names)
    }
    return create_model(
        "Instance",
        __config__=ConfigDict(extra="forbid", frozen=True, populate_by_name=False),
        **fields,
    )


def _single_threaded(model: Any) -> Any:
    """Make the model predict on one thread.

    Requests are small: a thread pool per call (XGBoost's OpenMP, scikit-learn's joblib) costs
    more than it saves and lengthens the latency tail (measured with make bench-serve).
    """
    try:
        if "n_jobs" in model.get_params():
            model.set_params(n_jobs=1)
    except (AttributeError, TypeError, ValueError):
        pass
    return model


class Predictor:
    """The selected model with its card: validates rows and predicts label and probability."""

    def __init__(self, model: Any, card: dict[str, Any]):
        self.model = _single_threaded(model)
        self.card = card
        self.features: list[str] = [feature["name"] for feature in card["feature_schema"]]
        self.threshold = float(card.get("threshold", DEFAULT_THRESHOLD))
        self._index = {name: position for position, name in enumerate(self.features)}
        # Rows arrive as arrays in schema order; sklearn would warn on every call that the
        # array has no column names although the order is guaranteed here.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")

    @classmethod
    def from_directory(cls, path: str | Path) -> Predictor:
        """Load `models/best/`-shaped folders: `model_card.json` + `model/model.pkl`."""
        path = Path(path)
        card = read_model_card(path)
        return cls(load_pickled_model(path / card.get("model_path", "model/model.pkl")), card)

    @property
    def model_info(self) -> dict[str, str]:
        """Name and version, as returned with every prediction."""
        return {"name": str(self.card.get("name")), "version": str(self.card.get("version"))}

    def check_columns(self, columns: list[str]) -> None:
        """Refuse rows whose feature names differ from the schema, listing the differences."""
        missing = [name for name in self.features if name not in columns]
        unknown = [name for name in columns if name not in self._index]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing features: {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown features: {', '.join(map(str, unknown))}")
            raise InputError(f"{'; '.join(parts)} (expected: {', '.join(self.features)})")

    def matrix(self, rows: list[dict[str, float]]) -> np.ndarray:
        """Rows of {feature: number} to a float matrix in schema order."""
        if not rows:
            raise InputError("no instances given")
        for row in rows:
            if len(row) != len(self.features) or any(name not in self._index for name in row):
                self.check_columns(list(row))
        return np.array([[row[name] for name in self.features] for row in rows], dtype=np.float64)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Probability of class 1 for each row of a schema-ordered matrix."""
        if features.ndim != 2 or features.shape[1] != len(self.features):
            raise InputError(f"expected {len(self.features)} features per row")
        if not np.isfinite(features).all():
            raise InputError("features must be finite numbers (no NaN or Infinity)")
        return self.model.predict_proba(features)[:, 1]

    def predict_matrix(self, features: np.ndarray) -> list[dict[str, Any]]:
        """Label and probability of class 1 for each row."""
        probability = self.probabilities(features)
        labels = (probability >= self.threshold).astype(int)
        return [
            {"label": int(label), "probability": round(float(p), 6)}
            for label, p in zip(labels, probability, strict=True)
        ]

    def predict(self, rows: list[dict[str, float]]) -> list[dict[str, Any]]:
        """Predict rows given as {feature: number} mappings."""
        return self.predict_matrix(self.matrix(rows))
