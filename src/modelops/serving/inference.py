"""Inference: raw rows (numbers, booleans, category strings, nulls) to predictions, for every task.

The `Predictor` is the selected `TabularModel` with its model card. The service, the Lambda
handler and batch scoring share it; the request and response schemas the service publishes are
derived here from the card's `feature_schema`, task and classes (never a second hand-kept list).

Serving-safe: imports numpy and pydantic only (never mlflow, great_expectations or dvc), so the
service, the Lambda handler and batch scoring share it without paying for the pipeline's imports.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr
from typing_extensions import TypedDict

from modelops.serving.model import EncodingError, Feature, TabularModel

MODEL_CARD = "model_card.json"
STORED_MODEL_FILE = "model.pkl"  # the pickled TabularModel inside a BentoML model-store entry
DEFAULT_THRESHOLD = 0.5
PROBABILITY_DIGITS = 6

FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A JSON number: not a string or a boolean, not NaN or Infinity (an integer is accepted)."""


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
    """Load the pickled model that the pipeline wrote (a `TabularModel`).

    Raises:
        ModelLoadError: the file is missing or does not unpickle to a model that predicts.

    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            model = pickle.load(handle)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: model file not found") from None
    except Exception as exc:  # truncated or foreign files raise many types
        raise ModelLoadError(f"{path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if not hasattr(model, "predict"):
        raise ModelLoadError(f"{path}: {type(model).__name__} has no predict")
    return model


# --- schemas the service publishes ---------------------------------------------------------


def _integer_coded(feature: Feature) -> bool:
    return bool(feature.categories) and all(c.lstrip("-").isdigit() for c in feature.categories)


def _field_type(feature: Feature) -> Any:
    """The JSON type of one column: what pydantic accepts for it, with its OpenAPI description."""
    missing = " null: missing (the model predicts on it)."
    if feature.type == "number":
        return Annotated[
            FiniteNumber | None,
            Field(title=feature.name, description="A finite number." + missing),
        ]
    if feature.type == "boolean":
        return Annotated[
            StrictBool | None,
            Field(title=feature.name, description="true or false." + missing),
        ]
    known = list(feature.categories)
    shown = ", ".join(known[:50]) + (f" (and {len(known) - 50} more)" if len(known) > 50 else "")
    description = (
        f"A category. Known: {shown}. Any other value is accepted and predicted on as missing."
        + missing
    )
    # A column of integer codes treated as categorical: a DataFrame's records carry ints.
    value = StrictStr | StrictInt if _integer_coded(feature) else StrictStr
    return Annotated[
        value | None,
        Field(
            title=feature.name,
            description=description,
            json_schema_extra={"examples": known[:10], "x-known-categories": known},
        ),
    ]


def instance_schema(features: Sequence[Feature]) -> type:
    """A typed dict of one row: every feature's key required (its value may be null), nothing else.

    Number columns take finite JSON numbers, boolean columns true/false, category columns strings
    (integer-coded ones also integers); unseen categories are accepted. Validated rows stay plain
    dicts keyed by the real column names, so they go straight to `TabularModel.encode_rows`.
    """
    instance = TypedDict("Instance", {f.name: _field_type(f) for f in features})  # type: ignore[misc]
    instance.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return instance


def prediction_schema(task: str, classes: Sequence[Any]) -> type:
    """A typed dict of one row's prediction, as `Predictor.predict` returns it."""
    if task == "regression":
        value = Annotated[float, Field(description="Predicted value.")]
        return TypedDict("Prediction", {"value": value})  # type: ignore[misc]
    keys = [str(c) for c in classes]
    probability = Annotated[float, Field(ge=0.0, le=1.0)]
    probabilities = TypedDict("Probabilities", dict.fromkeys(keys, probability))  # type: ignore[misc]
    fields: dict[str, Any] = {
        "label": Annotated[
            Literal[tuple(_plain(c) for c in classes)],  # type: ignore[valid-type]
            Field(description="Predicted class, as the target column names it."),
        ],
        "probabilities": Annotated[
            probabilities,
            Field(description="Probability of each class (keys are the classes as text)."),
        ],
    }
    if task == "binary":
        fields["probability"] = Annotated[
            float,
            Field(ge=0.0, le=1.0, description=f"Probability of the positive class {keys[1]!r}."),
        ]
    return TypedDict("Prediction", fields)  # type: ignore[misc]


def card_task(card: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """The task and classes a card describes; cards older than issue 13 are binary 0/1."""
    task = str(card.get("task", "binary"))
    return task, [] if task == "regression" else list(card.get("classes") or [0, 1])


def service_metadata(card: Mapping[str, Any], max_instances: int) -> dict[str, Any]:
    """The model card as `GET /metadata` serves it.

    Completed with what a caller needs to build a request: task, target, classes, each
    feature's type and categories, and the rows per request the server accepts.
    """
    task, classes = card_task(card)
    extra: dict[str, Any] = {
        "task": task,
        "target": card.get("target", "target"),
        "feature_schema": [Feature.from_schema(f).schema() for f in card["feature_schema"]],
        "max_instances": max_instances,
    }
    if task != "regression":
        extra["classes"] = classes
    if task == "binary":
        extra["positive_class"] = card.get("positive_class", classes[1])
        extra["threshold"] = float(card.get("threshold", DEFAULT_THRESHOLD))
    return {**card, **extra}


def example_instance(card: Mapping[str, Any]) -> dict[str, Any]:
    """A valid request row for the model of `card`: its input example, else one built by type.

    Built rows hold 0.0 for numbers, false for booleans and the first known category.
    """
    examples = card.get("input_example")
    names = [entry["name"] for entry in card["feature_schema"]]
    if (
        isinstance(examples, list)
        and examples
        and isinstance(examples[0], dict)
        and sorted(examples[0]) == sorted(names)
    ):
        return dict(examples[0])
    row: dict[str, Any] = {}
    for entry in card["feature_schema"]:
        feature = Feature.from_schema(entry)
        if feature.type == "category":
            row[feature.name] = feature.categories[0] if feature.categories else None
        else:
            row[feature.name] = False if feature.type == "boolean" else 0.0
    return row


# --- the predictor ---------------------------------------------------------------------------


def _single_threaded(estimator: Any) -> Any:
    """Make the estimator (and every step of a pipeline) predict on one thread.

    Requests are small: a thread pool per call (XGBoost's OpenMP, scikit-learn's joblib) costs
    more than it saves and lengthens the latency tail (measured with make bench-serve).
    """
    try:
        params = estimator.get_params(deep=True)
    except (AttributeError, TypeError):
        return estimator
    updates = {
        key: 1
        for key, value in params.items()
        if key.rsplit("__", 1)[-1] in ("n_jobs", "nthread", "thread_count") and value != 1
    }
    if updates:
        with contextlib.suppress(TypeError, ValueError):  # an estimator that refuses: as it is
            estimator.set_params(**updates)
    return estimator


def as_tabular_model(model: Any, card: Mapping[str, Any]) -> TabularModel:
    """The model as a `TabularModel`; an older binary estimator is wrapped using its card."""
    if isinstance(model, TabularModel):
        return model
    return TabularModel(
        features=[Feature.from_schema(entry) for entry in card["feature_schema"]],
        estimator=model,
        task=card_task(card)[0],  # type: ignore[arg-type]
        classes=card_task(card)[1],
        threshold=float(card.get("threshold", DEFAULT_THRESHOLD)),
    )


class Predictor:
    """The selected model with its card: raw rows in, predictions in the service's shape out."""

    def __init__(self, model: Any, card: dict[str, Any]):
        self.model = as_tabular_model(model, card)
        _single_threaded(self.model.estimator)
        self.card = card
        self.task: str = self.model.task
        self.classes: list[Any] = self.model.classes
        self.feature_schema: list[Feature] = self.model.features
        self.features: list[str] = self.model.feature_names
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

    def check_columns(self, columns: Iterable[str]) -> None:
        """Refuse rows whose feature names differ from the schema, listing the differences."""
        columns = list(columns)
        missing = [name for name in self.features if name not in columns]
        unknown = [name for name in columns if name not in self._index]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing features: {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown features: {', '.join(map(str, unknown))}")
            raise InputError(f"{'; '.join(parts)} (expected: {', '.join(self.features)})")

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Rows of {feature: raw value} to the estimator's float matrix.

        Raises:
            InputError: no rows, a missing or unknown key, or a value that cannot stand in its
                column (naming the column).

        """
        if not rows:
            raise InputError("no instances given")
        width = len(self.features)
        for row in rows:
            if len(row) != width or any(name not in self._index for name in row):
                self.check_columns(row)
        try:
            return self.model.encode_rows(rows)
        except EncodingError as exc:
            raise InputError(str(exc)) from None

    def predict_encoded(self, matrix: np.ndarray) -> list[dict[str, Any]]:
        """One prediction per row of an encoded matrix, in the service's response shape."""
        if matrix.ndim != 2 or matrix.shape[1] != len(self.features):
            raise InputError(f"expected {len(self.features)} features per row")
        return self.model.predict_encoded(matrix)

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Predict rows given as {feature: raw value} mappings."""
        return self.predict_encoded(self.encode(rows))

    def prediction_columns(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """The predictions of an encoded matrix as columns, for batch scoring.

        Classification: `label` (original class values), `probability` (binary: of the positive
        class) and `proba_<class>` per class; regression: `value`. Same numbers as
        `predict_encoded`, without a dict per row.
        """
        estimator = self.model.estimator
        if self.task == "regression":
            return {"value": np.asarray(estimator.predict(matrix), dtype=np.float64).reshape(-1)}
        probabilities = np.asarray(estimator.predict_proba(matrix), dtype=np.float64)
        if self.task == "binary":
            chosen = (probabilities[:, 1] >= self.model.threshold).astype(int)
        else:
            chosen = probabilities.argmax(axis=1)
        labels = np.empty(len(self.classes), dtype=object)
        labels[:] = [_plain(c) for c in self.classes]
        columns: dict[str, np.ndarray] = {"label": labels[chosen]}
        rounded = probabilities.round(PROBABILITY_DIGITS)
        if self.task == "binary":
            columns["probability"] = rounded[:, 1]
        for position, label in enumerate(self.classes):
            columns[f"proba_{label}"] = rounded[:, position]
        return columns


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can carry."""
    return value.item() if isinstance(value, np.generic) else value
