"""The model artifact: raw rows in (numbers, booleans, category strings, nulls), predictions out.

Imputation and encoding live in the artifact, so the registered MLflow model, the Bento, batch
scoring and the Lambda all take a table's raw columns. The artifact is two parts:

- `Feature`s, from the data contract: how each raw column becomes one float (number as is,
  boolean as 0/1, category as its index in the known categories; null and an unseen category as
  NaN). This encoding is plain Python/NumPy on purpose: a scikit-learn ColumnTransformer over a
  one-row DataFrame costs milliseconds, a dict lookup per cell costs microseconds.
- `estimator`: any fitted scikit-learn-compatible estimator over that float matrix (it sees
  categories as integer codes with NaN for missing, and handles them natively or in its own
  pipeline: see `modelops.pipeline.training`).

Serving-safe: NumPy and scikit-learn's base class (pandas lazily, for frames); never mlflow,
great_expectations or dvc. `TabularModel` is a scikit-learn `BaseEstimator` so that MLflow's and
BentoML's scikit-learn flavors store it as it is; unpickling its estimator needs scikit-learn
(or xgboost) anyway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator

FeatureType = Literal["number", "boolean", "category"]
Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")

# True == 1 and False == 0 in a set, so the integers 1 and 0 match too
_TRUE = frozenset({True, "true", "True", "TRUE", "1", "yes", "Yes", "YES"})
_FALSE = frozenset({False, "false", "False", "FALSE", "0", "no", "No", "NO"})


class EncodingError(ValueError):
    """A raw value that cannot stand in its column (a string in a numeric column, ...)."""


def category_key(value: Any) -> str | None:
    """The category a raw value names, as text; None for a missing value.

    Integral floats read back from CSV (3.0) name the same category as the integer 3.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return category_key(value.item())
    return str(value)


@dataclass(frozen=True)
class Feature:
    """One input column of the model, as the data contract describes it."""

    name: str
    type: FeatureType = "number"
    categories: tuple[str, ...] = ()
    nullable: bool = True
    _codes: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in ("number", "boolean", "category"):
            raise ValueError(f"feature {self.name!r}: unknown type {self.type!r}")
        if self.type == "category":
            categories = tuple(str(c) for c in self.categories)
            object.__setattr__(self, "categories", categories)
            object.__setattr__(self, "_codes", {c: i for i, c in enumerate(categories)})

    def encode(self, value: Any) -> float:
        """One raw cell to the float the estimator sees (NaN for missing or unseen)."""
        if value is None:
            return math.nan
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise EncodingError(f"{self.name}: expected a number, got {type(value).__name__}")
            number = float(value)
            if math.isinf(number):
                raise EncodingError(f"{self.name}: must be finite (got {number})")
            return number
        if self.type == "boolean":
            if isinstance(value, float) and math.isnan(value):
                return math.nan
            if value in _TRUE:
                return 1.0
            if value in _FALSE:
                return 0.0
            raise EncodingError(f"{self.name}: expected true or false, got {value!r}")
        key = category_key(value)
        if key is None:
            return math.nan
        return float(self._codes.get(key, math.nan))  # unseen: predicted on as missing

    def schema(self) -> dict[str, Any]:
        """The feature as the model card's `feature_schema` entry."""
        entry: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.type == "category":
            entry["categories"] = list(self.categories)
        return entry

    @classmethod
    def from_schema(cls, entry: Mapping[str, Any]) -> Feature:
        """The inverse of `schema()`; an entry without a type is a number (older cards)."""
        return cls(
            name=str(entry["name"]),
            type=entry.get("type", "number"),
            categories=tuple(entry.get("categories") or ()),
            nullable=bool(entry.get("nullable", True)),
        )


class TabularModel(BaseEstimator):
    """A fitted estimator with the encoding of its raw input columns and its task's labels.

    For classification, the estimator was fitted on class indices 0..K-1 of `classes` (original
    labels: strings, ints or bools); for binary, index 1 is `positive_class`, so column 1 of
    `predict_proba` is its probability and `threshold` decides the label.
    """

    def __init__(
        self,
        features: Sequence[Feature],
        estimator: Any,
        task: Task,
        classes: Sequence[Any] = (),
        threshold: float = 0.5,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
        if task != "regression" and len(classes) < 2:
            raise ValueError(f"a {task} model needs at least 2 classes, got {list(classes)}")
        if task == "binary" and len(classes) != 2:
            raise ValueError(f"a binary model has exactly 2 classes, got {list(classes)}")
        self.features = list(features)
        self.estimator = estimator
        self.task = task
        self.classes = list(classes)
        self.threshold = float(threshold)
        self.feature_names = [feature.name for feature in self.features]

    # --- encoding ---------------------------------------------------------------------------

    def encode_rows(self, rows: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Rows of {feature: raw value} to the estimator's float matrix (a missing key is null)."""
        features = self.features
        return np.array(
            [[feature.encode(row.get(feature.name)) for feature in features] for row in rows],
            dtype=np.float64,
        ).reshape(-1, len(features))

    def encode_frame(self, frame: Any) -> np.ndarray:
        """A DataFrame with (at least) the feature columns to the estimator's float matrix."""
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            raise EncodingError(f"missing feature columns: {', '.join(missing)}")
        columns = []
        for feature in self.features:
            values = frame[feature.name].to_numpy(dtype=object)
            if feature.type == "number":
                try:
                    column = frame[feature.name].astype("float64").to_numpy()
                except (TypeError, ValueError):
                    raise EncodingError(f"{feature.name}: expected numbers") from None
                if np.isinf(column).any():
                    raise EncodingError(f"{feature.name}: must be finite (found infinity)")
            else:
                column = np.array(
                    [math.nan if _is_missing(v) else feature.encode(v) for v in values],
                    dtype=np.float64,
                )
            columns.append(column)
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    # --- predictions on encoded matrices ----------------------------------------------------

    def predict_encoded(self, matrix: np.ndarray) -> list[dict[str, Any]]:
        """One prediction per row, in the service's response shape."""
        if self.task == "regression":
            values = np.asarray(self.estimator.predict(matrix), dtype=np.float64).reshape(-1)
            return [{"value": float(value)} for value in values]
        probabilities = np.asarray(self.estimator.predict_proba(matrix), dtype=np.float64)
        keys = [str(label) for label in self.classes]
        if self.task == "binary":
            positive = probabilities[:, 1]
            chosen = (positive >= self.threshold).astype(int)
        else:
            chosen = probabilities.argmax(axis=1)
        return [
            {
                "label": _plain(self.classes[index]),
                "probabilities": {k: round(float(p), 6) for k, p in zip(keys, row, strict=True)},
                **({"probability": round(float(row[1]), 6)} if self.task == "binary" else {}),
            }
            for index, row in zip(chosen, probabilities, strict=True)
        ]

    # --- the scikit-learn face (MLflow's sklearn flavor, pyfunc and batch scoring) ----------

    def predict(self, frame: Any) -> np.ndarray:
        """Original class labels (classification) or values (regression) for a DataFrame."""
        matrix = self.encode_frame(frame)
        if self.task == "regression":
            return np.asarray(self.estimator.predict(matrix), dtype=np.float64)
        predictions = self.predict_encoded(matrix)
        return np.array([p["label"] for p in predictions], dtype=object)

    def predict_proba(self, frame: Any) -> np.ndarray:
        """Class probabilities for a DataFrame, columns in the order of `classes`."""
        if self.task == "regression":
            raise AttributeError("a regression model has no predict_proba")
        return np.asarray(self.estimator.predict_proba(self.encode_frame(frame)))

    @property
    def classes_(self) -> np.ndarray:
        """The original class labels, as scikit-learn classifiers expose them."""
        return np.array(self.classes, dtype=object)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pandas.NA refuses to be a bool: it is the missing value itself
        return True


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value JSON can carry."""
    return value.item() if isinstance(value, np.generic) else value
