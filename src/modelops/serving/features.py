"""The model's input columns and their encoding: raw values to the float matrix an estimator sees.

Raw values are numbers, booleans, category strings and nulls.

Plain Python and NumPy on purpose: a scikit-learn ColumnTransformer over a one-row DataFrame costs
milliseconds, a dict lookup per cell costs microseconds; and the Lambda of an XGBoost winner loads
nothing else (pandas only when a frame is given, by the caller).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

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


def encode_rows(features: Sequence[Feature], rows: Iterable[Mapping[str, Any]]) -> np.ndarray:
    """Rows of {feature: raw value} to the estimator's float matrix (a missing key is null).

    Always one matrix row per input row, even with no features (an empty vector each), as
    `encode_frame` gives: the shape comes from the counts, not inferred from the values.
    """
    encoded = [[feature.encode(row.get(feature.name)) for feature in features] for row in rows]
    return np.array(encoded, dtype=np.float64).reshape(len(encoded), len(features))


def encode_frame(features: Sequence[Feature], frame: Any) -> np.ndarray:
    """A DataFrame with (at least) the feature columns to the estimator's float matrix."""
    missing = [feature.name for feature in features if feature.name not in frame.columns]
    if missing:
        raise EncodingError(f"missing feature columns: {', '.join(missing)}")
    columns = []
    for feature in features:
        if feature.type == "number":
            try:
                column = frame[feature.name].astype("float64").to_numpy()
            except (TypeError, ValueError):
                raise EncodingError(f"{feature.name}: expected numbers") from None
            if np.isinf(column).any():
                raise EncodingError(f"{feature.name}: must be finite (found infinity)")
        else:
            values = frame[feature.name].to_numpy(dtype=object)
            column = np.array(
                [math.nan if _is_missing(v) else feature.encode(v) for v in values],
                dtype=np.float64,
            )
        columns.append(column)
    return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pandas.NA refuses to be a bool: it is the missing value itself
        return True
