"""Inference: raw rows (numbers, booleans, category strings, nulls) to predictions, for every task.

The `Predictor` is the packaged model (a scorer in its serving format, `modelops.serving.formats`)
with its model card. The service, the Lambda handler and batch scoring share it; the request and
response schemas the service publishes are derived here from the card's `feature_schema`, task
and classes (never a second hand-kept list). Predictions come out as `Outputs`, computed once and
shown as an HTTP answer or as columns.

Serving-safe: imports numpy and pydantic only (never mlflow, great_expectations, dvc, nor
scikit-learn or pandas: the model's format imports what it needs).
"""

from __future__ import annotations

import json
import pickle
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, StrictBool, StrictInt, StrictStr
from typing_extensions import TypedDict

from modelops.serving.features import EncodingError, Feature, encode_frame, encode_rows
from modelops.serving.formats import (
    SERVING_FILE,
    EstimatorScorer,
    FormatError,
    Scorer,
    load_scorer,
    read_spec,
)
from modelops.serving.outputs import Outputs, plain

MODEL_CARD = "model_card.json"
DEFAULT_THRESHOLD = 0.5

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
            json_schema_extra={"examples": list(known[:10]), "x-known-categories": list(known)},
        ),
    ]


def typed_dict(name: str, fields: dict[str, Any]) -> type:
    """A TypedDict class made at run time (the fields come from the model card)."""
    make: Any = TypedDict  # the functional form, with fields known only at run time
    made: type = make(name, fields)
    return made


def instance_schema(features: Sequence[Feature]) -> type:
    """A typed dict of one row: every feature's key required (its value may be null), nothing else.

    Number columns take finite JSON numbers, boolean columns true/false, category columns strings
    (integer-coded ones also integers); unseen categories are accepted. Validated rows stay plain
    dicts keyed by the real column names, so they go straight to `Predictor.encode`.
    """
    instance = typed_dict("Instance", {f.name: _field_type(f) for f in features})
    instance.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
    return instance


def prediction_schema(task: str, classes: Sequence[Any]) -> type:
    """A typed dict of one row's prediction, as `Predictor.predict` returns it."""
    if task == "regression":
        value = Annotated[float, Field(description="Predicted value.")]
        return typed_dict("Prediction", {"value": value})
    keys = [str(c) for c in classes]
    probability = Annotated[float, Field(ge=0.0, le=1.0)]
    probabilities = typed_dict("Probabilities", dict.fromkeys(keys, probability))
    fields: dict[str, Any] = {
        "label": Annotated[
            Literal[tuple(plain(c) for c in classes)],
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
    return typed_dict("Prediction", fields)


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


class Predictor:
    """The packaged model with its card: raw rows in, `Outputs` out (one prediction path)."""

    def __init__(
        self,
        scorer: Scorer,
        card: dict[str, Any],
        features: Sequence[Feature] | None = None,
        threshold: float | None = None,
    ):
        self.scorer = scorer
        self.card = card
        self.task, self.classes = card_task(card)
        self.threshold = float(
            card.get("threshold", DEFAULT_THRESHOLD) if threshold is None else threshold
        )
        if features is None:
            features = [Feature.from_schema(entry) for entry in card["feature_schema"]]
        self.feature_schema: list[Feature] = list(features)
        self.features: list[str] = [feature.name for feature in self.feature_schema]
        self._index = {name: position for position, name in enumerate(self.features)}
        # Rows arrive as arrays in schema order; sklearn would warn on every call that the
        # array has no column names although the order is guaranteed here.
        warnings.filterwarnings("ignore", message="X does not have valid feature names")

    @classmethod
    def from_directory(cls, path: str | Path) -> Predictor:
        """Load a serving folder, or a `models/best/`-shaped one.

        A serving folder holds `serving.json` (what the package stage writes); `models/best/`
        holds `model_card.json` and the pickled model the card's `model_path` names.

        Raises:
            ModelLoadError: the card or the model is missing or unreadable.

        """
        path = Path(path)
        card = read_model_card(path)
        if (path / SERVING_FILE).is_file():
            try:
                spec = read_spec(path)
                scorer = load_scorer(path, spec)
            except FormatError as exc:
                raise ModelLoadError(str(exc)) from None
            features = [Feature.from_schema(entry) for entry in spec["features"]]
            return cls(scorer, card, features, spec.get("threshold"))
        model = load_pickled_model(path / card.get("model_path", "model/model.pkl"))
        if hasattr(model, "scores") and hasattr(model, "features"):  # a TabularModel
            return cls(EstimatorScorer(model.estimator, model.task), card, model.features,
                       model.threshold)  # fmt: skip
        return cls(EstimatorScorer(model, card_task(card)[0]), card)  # an older bare estimator

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
            return encode_rows(self.feature_schema, rows)
        except EncodingError as exc:
            raise InputError(str(exc)) from None

    def encode_frame(self, frame: Any) -> np.ndarray:
        """A DataFrame with (at least) the feature columns to the float matrix.

        Raises:
            EncodingError: a missing column, or a value that cannot stand in its column.

        """
        return encode_frame(self.feature_schema, frame)

    def outputs(self, matrix: np.ndarray) -> Outputs:
        """The predictions of an encoded matrix: the one place the model is asked."""
        if matrix.ndim != 2 or matrix.shape[1] != len(self.features):
            raise InputError(f"expected {len(self.features)} features per row")
        return Outputs.of(self.task, self.classes, self.threshold, self.scorer.scores(matrix))

    def predict_encoded(self, matrix: np.ndarray) -> list[dict[str, Any]]:
        """One prediction per row of an encoded matrix, in the service's response shape."""
        return self.outputs(matrix).records()

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Predict rows given as {feature: raw value} mappings."""
        return self.predict_encoded(self.encode(rows))

    def prediction_columns(self, matrix: np.ndarray) -> dict[str, np.ndarray]:
        """The predictions of an encoded matrix as columns, for batch scoring."""
        return self.outputs(matrix).columns()
