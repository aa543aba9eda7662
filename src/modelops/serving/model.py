"""The model the pipeline trains: raw rows in, predictions out, as a scikit-learn estimator.

Imputation and encoding live in the artifact, so the registered MLflow model, batch scoring and
the service all take a table's raw columns. The artifact is two parts:

- `Feature`s, from the data contract (`modelops.serving.features`): how each raw column becomes
  one float (number as is, boolean as 0/1, category as its index in the known categories; null
  and an unseen category as NaN).
- `estimator`: any fitted scikit-learn-compatible estimator over that float matrix (it sees
  categories as integer codes with NaN for missing, and handles them natively or in its own
  pipeline: see `modelops.pipeline.training`).

`TabularModel` is a scikit-learn `BaseEstimator` so that MLflow's scikit-learn flavor stores it
as it is. The service does not load it: the package stage writes the winner in its lightest
exact serving format (`modelops.serving.formats`), so an XGBoost winner serves without
scikit-learn. Its predictions go through `Outputs`, the one place labels and thresholds are
decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from modelops.serving.features import (
    TASKS,
    EncodingError,
    Feature,
    FeatureType,
    Task,
    category_key,
    encode_frame,
    encode_rows,
)
from modelops.serving.outputs import Outputs

__all__ = [
    "TASKS",
    "EncodingError",
    "Feature",
    "FeatureType",
    "TabularModel",
    "Task",
    "category_key",
]


class TabularModel(BaseEstimator):  # type: ignore[misc]  # scikit-learn is untyped
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
        return encode_rows(self.features, rows)

    def encode_frame(self, frame: Any) -> np.ndarray:
        """A DataFrame with (at least) the feature columns to the estimator's float matrix."""
        return encode_frame(self.features, frame)

    # --- predictions on encoded matrices ----------------------------------------------------

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (columns in `classes` order) or predicted values."""
        if self.task == "regression":
            return np.asarray(self.estimator.predict(matrix), dtype=np.float64).reshape(-1)
        return np.asarray(self.estimator.predict_proba(matrix), dtype=np.float64)

    def outputs(self, matrix: np.ndarray) -> Outputs:
        """The predictions of an encoded matrix (labels decided once, see `Outputs`)."""
        return Outputs.of(self.task, self.classes, self.threshold, self.scores(matrix))

    def predict_encoded(self, matrix: np.ndarray) -> list[dict[str, Any]]:
        """One prediction per row, in the service's response shape."""
        return self.outputs(matrix).records()

    # --- the scikit-learn face (MLflow's sklearn flavor, pyfunc and batch scoring) ----------

    def predict(self, frame: Any) -> np.ndarray:
        """Original class labels (classification) or values (regression) for a DataFrame."""
        return self.outputs(self.encode_frame(frame)).labels()

    def predict_proba(self, frame: Any) -> np.ndarray:
        """Class probabilities for a DataFrame, columns in the order of `classes`."""
        if self.task == "regression":
            raise AttributeError("a regression model has no predict_proba")
        return np.asarray(self.estimator.predict_proba(self.encode_frame(frame)))

    @property
    def classes_(self) -> np.ndarray:
        """The original class labels, as scikit-learn classifiers expose them."""
        return np.array(self.classes, dtype=object)
