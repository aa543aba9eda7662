"""The winner's serving format: the lightest form that predicts exactly as the trained model does.

The package stage writes one folder (`write_serving_model`); the service and the Lambda load it
(`load_scorer`) with only what that format needs:

- `xgboost`: the native booster (`booster.ubj`), loaded with xgboost and numpy alone (no
  scikit-learn, no pandas: ~0.4 s to import on Lambda instead of ~1.5 s);
- `linear`: the imputation, scaling, one-hot levels and coefficients of the linear pipeline as
  numbers in `linear.json`, computed with numpy alone;
- `pickle`: the fitted estimator itself (`estimator.pkl`, needs scikit-learn), for what nothing
  lighter reproduces exactly (a random forest, a new kind of candidate).

A light format is written only when it gives the same scores as the trained estimator on a probe
of rows (missing values and every category code included), within `EXACT`; otherwise the
estimator is pickled. Every format shares `serving.json`: the format, the input columns (the
card's encoding), the task, the classes and the threshold.
"""

from __future__ import annotations

import contextlib
import json
import math
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from modelops.serving.features import Feature

SERVING_FILE = "serving.json"
BOOSTER_FILE = "booster.ubj"
LINEAR_FILE = "linear.json"
ESTIMATOR_FILE = "estimator.pkl"
FORMATS = ("xgboost", "linear", "pickle")
EXACT = 1e-9  # largest score difference a light format may show on the probe


class NotExact(ValueError):
    """The estimator has a part the light format cannot reproduce exactly."""


class FormatError(RuntimeError):
    """A serving folder that is missing, incomplete or of an unknown format."""


class Scorer(Protocol):
    """What the core needs of a model: scores for an encoded float matrix."""

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities (rows x classes) or values (rows)."""


# --- xgboost ---------------------------------------------------------------------------------


class BoosterScorer:
    """An XGBoost booster, predicting as `XGBClassifier.predict_proba`/`XGBRegressor.predict`."""

    def __init__(self, path: Path, task: str, iteration_end: int = 0) -> None:
        import xgboost

        self.booster = xgboost.Booster(model_file=str(path))
        # Requests are small: a thread pool per call costs more than it saves.
        self.booster.set_param({"nthread": 1})
        self.task = task
        self.iteration_range = (0, iteration_end)

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """What XGBoost's scikit-learn wrapper returns for the same matrix."""
        predicted = self.booster.inplace_predict(
            matrix, iteration_range=self.iteration_range, missing=np.nan
        )
        if self.task == "binary" and predicted.ndim == 1:
            return np.vstack((1.0 - predicted, predicted)).transpose()
        return predicted


def _xgboost_parts(estimator: Any) -> tuple[Any, int]:
    """The booster of an XGBoost scikit-learn model and where its iterations end (0: all)."""
    module = type(estimator).__module__
    if not module.startswith("xgboost") or not hasattr(estimator, "get_booster"):
        raise NotExact(f"{type(estimator).__name__} is not an XGBoost model")
    if getattr(estimator, "booster", None) not in (None, "gbtree", "dart"):
        raise NotExact(f"booster {estimator.booster!r}")
    if getattr(estimator, "objective", None) == "multi:softmax":
        raise NotExact("multi:softmax predicts margins through softmax")
    try:
        end = int(estimator.best_iteration) + 1
    except AttributeError:  # no early stopping: every iteration
        end = 0
    return estimator.get_booster(), end


# --- linear ----------------------------------------------------------------------------------


class LinearScorer:
    """A linear model over imputed, scaled and one-hot encoded columns, in numpy."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.blocks = [_block(block) for block in spec["blocks"]]
        self.coef = np.asarray(spec["coef"], dtype=np.float64)
        self.intercept = np.asarray(spec["intercept"], dtype=np.float64)
        self.link = spec["link"]

    def design(self, matrix: np.ndarray) -> np.ndarray:
        """The matrix the coefficients apply to."""
        parts: list[np.ndarray] = []
        for kind, columns, a, b in self.blocks:
            values = matrix[:, columns]
            if kind == "onehot":
                for column, levels in zip(values.T, a, strict=True):
                    parts.extend(_level_match(column, level) for level in levels)
                continue
            values = np.where(np.isnan(values), a, values)
            if b is not None:
                values = (values - b[0]) / b[1]
            parts.extend(values.T)
        return np.column_stack(parts) if parts else np.empty((len(matrix), 0))

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """Probabilities (logistic or softmax link) or values (identity)."""
        decision: np.ndarray = self.design(matrix) @ self.coef.T + self.intercept
        if self.link == "identity":
            return decision.reshape(-1)
        if self.link == "logistic":
            positive: np.ndarray = 1.0 / (1.0 + np.exp(-decision.reshape(-1)))
            pair: np.ndarray = np.vstack((1.0 - positive, positive)).transpose()
            return pair
        shifted: np.ndarray = np.exp(decision - decision.max(axis=1, keepdims=True))
        normalised: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
        return normalised


def _level_match(column: np.ndarray, level: float | None) -> np.ndarray:
    matches: np.ndarray = np.isnan(column) if level is None else column == level
    return matches.astype(np.float64)  # level None: NaN was a level of its own in training


def _block(block: dict[str, Any]) -> tuple[str, list[int], Any, Any]:
    if block["kind"] == "onehot":
        return "onehot", block["columns"], block["levels"], None
    fill = np.asarray(block["fill"], dtype=np.float64)
    scale = None
    if block.get("center") is not None:
        scale = (
            np.asarray(block["center"], dtype=np.float64),
            np.asarray(block["scale"], dtype=np.float64),
        )
    return "impute", block["columns"], fill, scale


def _imputer(step: Any, columns: list[int], scaler: Any = None) -> dict[str, Any]:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    if type(step) is not SimpleImputer or not _is_nan(step.missing_values):
        raise NotExact(f"{type(step).__name__} is not a SimpleImputer of NaN")
    if getattr(step, "add_indicator", False):
        raise NotExact("SimpleImputer(add_indicator=True)")
    fill = np.asarray(step.statistics_, dtype=np.float64)
    if np.isnan(fill).any():  # a column empty in training is dropped by the imputer
        raise NotExact("an imputer dropped an all-missing column")
    block: dict[str, Any] = {"kind": "impute", "columns": columns, "fill": fill.tolist()}
    if scaler is not None:
        if type(scaler) is not StandardScaler:
            raise NotExact(f"{type(scaler).__name__} is not a StandardScaler")
        center = scaler.mean_ if scaler.with_mean else np.zeros(len(columns))
        scale = scaler.scale_ if scaler.with_std else np.ones(len(columns))
        block |= {"center": np.asarray(center).tolist(), "scale": np.asarray(scale).tolist()}
    return block


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _onehot(step: Any, columns: list[int]) -> dict[str, Any]:
    from sklearn.preprocessing import OneHotEncoder

    if type(step) is not OneHotEncoder or step.handle_unknown != "ignore" or step.drop is not None:
        raise NotExact("a OneHotEncoder other than handle_unknown='ignore' without drop")
    if getattr(step, "infrequent_categories_", None) is not None and any(
        c is not None for c in step.infrequent_categories_
    ):
        raise NotExact("a OneHotEncoder with infrequent categories")
    levels = [
        [None if _is_nan(float(level)) else float(level) for level in categories]
        for categories in step.categories_
    ]
    return {"kind": "onehot", "columns": columns, "levels": levels}


def _preprocessing(step: Any, width: int) -> list[dict[str, Any]]:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if type(step) is not ColumnTransformer:
        return [_imputer(step, list(range(width)))]
    if step.remainder != "drop":
        raise NotExact("a ColumnTransformer that passes the other columns through")
    blocks = []
    for _name, part, columns in step.transformers_:
        if part == "drop" or (isinstance(columns, list) and not columns):
            continue
        columns = [int(c) for c in columns]
        if type(part) is Pipeline and len(part.steps) == 2:
            blocks.append(_imputer(part.steps[0][1], columns, part.steps[1][1]))
        elif type(part).__name__ == "OneHotEncoder":
            blocks.append(_onehot(part, columns))
        else:
            blocks.append(_imputer(part, columns))
    return blocks


def _linear_spec(estimator: Any, task: str, width: int) -> dict[str, Any]:
    """The numbers of a `make_pipeline(preprocessing, LogisticRegression | Ridge)`."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline

    if type(estimator) is not Pipeline or len(estimator.steps) != 2:
        raise NotExact(f"{type(estimator).__name__} is not a two-step pipeline")
    preprocessing, head = estimator.steps[0][1], estimator.steps[1][1]
    if task == "regression":
        if type(head) is not Ridge:
            raise NotExact(f"{type(head).__name__} is not a Ridge regression")
        link = "identity"
    else:
        if type(head) is not LogisticRegression:
            raise NotExact(f"{type(head).__name__} is not a logistic regression")
        link = "logistic" if task == "binary" else "softmax"
        if link == "softmax" and head.solver == "liblinear":
            raise NotExact("one-vs-rest logistic regression")
    coef = np.atleast_2d(np.asarray(head.coef_, dtype=np.float64))
    return {
        "blocks": _preprocessing(preprocessing, width),
        "coef": coef.tolist(),
        "intercept": np.atleast_1d(np.asarray(head.intercept_, dtype=np.float64)).tolist(),
        "link": link,
    }


# --- pickle ----------------------------------------------------------------------------------


class EstimatorScorer:
    """A fitted scikit-learn-compatible estimator, as it was trained."""

    def __init__(self, estimator: Any, task: str) -> None:
        self.estimator = _single_threaded(estimator)
        self.task = task

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """`predict_proba` (classification) or `predict` (regression) of the estimator."""
        if self.task == "regression":
            return np.asarray(self.estimator.predict(matrix), dtype=np.float64).reshape(-1)
        return np.asarray(self.estimator.predict_proba(matrix), dtype=np.float64)


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


# --- writing and loading ---------------------------------------------------------------------


def probe_matrix(features: Sequence[Feature], rows: int = 256, seed: int = 0) -> np.ndarray:
    """Encoded rows that exercise every column: numbers, every category code, 0/1, and NaN."""
    rng = np.random.default_rng(seed)
    columns = []
    for feature in features:
        if feature.type == "category":
            codes = np.arange(len(feature.categories), dtype=np.float64)
            column = (
                rng.choice(np.append(codes, np.nan), rows) if len(codes) else np.full(rows, np.nan)
            )
        elif feature.type == "boolean":
            column = rng.choice(np.array([0.0, 1.0, np.nan]), rows)
        else:
            column = rng.normal(0.0, 100.0, rows)
            column[rng.random(rows) < 0.2] = np.nan
        columns.append(column)
    return np.column_stack(columns) if columns else np.empty((rows, 0))


def _same_scores(reference: np.ndarray, light: np.ndarray) -> bool:
    return reference.shape == light.shape and bool(
        np.allclose(reference, light, rtol=0.0, atol=EXACT, equal_nan=True)
    )


def write_serving_model(model: Any, folder: str | Path, probe: np.ndarray | None = None) -> str:
    """Write `model` (a `TabularModel`) into `folder` in its lightest exact format; return it.

    Args:
        model: the trained model: `features`, `estimator`, `task`, `classes`, `threshold`.
        folder: an existing folder (the BentoML model-store entry the package stage creates).
        probe: encoded rows to prove a light format exact on (default: `probe_matrix`); the
            test split's rows are a good addition.

    """
    folder = Path(folder)
    features = list(model.features)
    matrix = probe_matrix(features) if probe is None else np.vstack([probe_matrix(features), probe])
    reference = EstimatorScorer(model.estimator, model.task).scores(matrix)
    spec: dict[str, Any] = {
        "features": [feature.schema() for feature in features],
        "task": model.task,
        "classes": list(model.classes),
        "threshold": float(model.threshold),
    }
    written = None
    with contextlib.suppress(NotExact):
        booster, end = _xgboost_parts(model.estimator)
        booster.save_model(str(folder / BOOSTER_FILE))
        if _same_scores(
            reference, BoosterScorer(folder / BOOSTER_FILE, model.task, end).scores(matrix)
        ):
            written = {"format": "xgboost", "file": BOOSTER_FILE, "iteration_end": end}
        else:
            (folder / BOOSTER_FILE).unlink()
    if written is None:
        with contextlib.suppress(NotExact):
            linear = _linear_spec(model.estimator, model.task, len(features))
            if _same_scores(reference, LinearScorer(linear).scores(matrix)):
                (folder / LINEAR_FILE).write_text(json.dumps(linear))
                written = {"format": "linear", "file": LINEAR_FILE}
    if written is None:
        (folder / ESTIMATOR_FILE).write_bytes(pickle.dumps(model.estimator))
        written = {"format": "pickle", "file": ESTIMATOR_FILE}
    (folder / SERVING_FILE).write_text(json.dumps({**written, **spec}, indent=1))
    return str(written["format"])


def read_spec(folder: str | Path) -> dict[str, Any]:
    """`serving.json` of a serving folder.

    Raises:
        FormatError: missing, not JSON, or of an unknown format.

    """
    path = Path(folder) / SERVING_FILE
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        raise FormatError(f"{path}: not found (package the model with 'make run')") from None
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: unreadable ({exc})") from None
    if not isinstance(spec, dict) or spec.get("format") not in FORMATS:
        raise FormatError(f"{path}: unknown serving format {spec.get('format')!r}")
    return spec


def load_scorer(folder: str | Path, spec: dict[str, Any] | None = None) -> Scorer:
    """The scorer of a serving folder, importing only what its format needs.

    Raises:
        FormatError: the folder, its spec or its model file cannot be read.

    """
    folder = Path(folder)
    spec = read_spec(folder) if spec is None else spec
    path = folder / spec["file"]
    try:
        if spec["format"] == "xgboost":
            if not path.is_file():
                raise FileNotFoundError(path)
            return BoosterScorer(path, spec["task"], int(spec.get("iteration_end", 0)))
        if spec["format"] == "linear":
            return LinearScorer(json.loads(path.read_text()))
        with open(path, "rb") as handle:
            estimator = pickle.load(handle)
    except FileNotFoundError:
        raise FormatError(f"{path}: model file not found") from None
    except Exception as exc:  # truncated or foreign files raise many types
        raise FormatError(f"{path}: cannot load ({type(exc).__name__}: {exc})") from None
    if not hasattr(estimator, "predict"):
        raise FormatError(f"{path}: {type(estimator).__name__} has no predict")
    return EstimatorScorer(estimator, spec["task"])
