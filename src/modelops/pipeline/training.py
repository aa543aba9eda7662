"""Candidate models per task: each is a `TabularModel` (raw rows in) around one estimator.

The estimator sees the contract's encoding (numbers as is, booleans 0/1, categories as integer
codes, NaN for missing or unseen) and handles it the way its library does best:

- linear: an sklearn Pipeline that imputes numbers (median) and booleans (most frequent),
  one-hot encodes category codes (NaN is its own level, unseen codes are ignored) and scales,
  then LogisticRegression (classification) or Ridge (regression);
- random_forest: scikit-learn's forest, which splits on NaN natively;
- xgboost: XGBoost with `feature_types` "c" for category codes (`enable_categorical`) and NaN as
  missing, natively.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from modelops.params import LinearParams, RandomForestParams, XGBoostParams
from modelops.serving.model import Feature, TabularModel


@dataclass(frozen=True)
class FittedCandidate:
    """A trained candidate and what it took to train it."""

    name: str
    model: TabularModel
    hyperparameters: dict[str, Any]
    fit_seconds: float


def _linear_preprocessing(features: list[Feature]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def indices(kind: str) -> list[int]:
        return [i for i, feature in enumerate(features) if feature.type == kind]

    parts = []
    if numbers := indices("number"):
        parts.append(
            ("number", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers)
        )
    if booleans := indices("boolean"):
        parts.append(("boolean", SimpleImputer(strategy="most_frequent"), booleans))
    if categories := indices("category"):
        parts.append(
            (
                "category",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                categories,
            )
        )
    # a column that is all NaN in training is kept by the imputers (as 0), not dropped
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def build_estimator(
    name: str, params: BaseModel, seed: int, task: str, features: list[Feature]
) -> Any:
    """An unfitted estimator over the encoded matrix for one candidate kind and task.

    Raises:
        ValueError: `name` is not a known candidate kind.

    """
    classify = task != "regression"
    if isinstance(params, LinearParams):
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline

        head = (
            LogisticRegression(
                C=params.C,
                max_iter=params.max_iter,
                class_weight=params.class_weight,
                random_state=seed,
            )
            if classify
            else Ridge(alpha=1.0 / params.C, random_state=seed)
        )
        return make_pipeline(_linear_preprocessing(features), head)
    if isinstance(params, RandomForestParams):
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = RandomForestClassifier if classify else RandomForestRegressor
        return forest(**params.model_dump(), random_state=seed)
    if isinstance(params, XGBoostParams):
        from xgboost import XGBClassifier, XGBRegressor

        objective, metric = {
            "binary": ("binary:logistic", "logloss"),
            "multiclass": ("multi:softprob", "mlogloss"),
            "regression": ("reg:squarederror", "rmse"),
        }[task]
        booster = XGBClassifier if classify else XGBRegressor
        return booster(
            **params.model_dump(),
            tree_method="hist",
            objective=objective,
            eval_metric=metric,
            enable_categorical=True,
            feature_types=["c" if f.type == "category" else "q" for f in features],
            max_cat_to_onehot=1,
            random_state=seed,
        )
    raise ValueError(f"unknown candidate kind {name!r} ({type(params).__name__})")


def fit_candidate(
    name: str,
    params: BaseModel,
    seed: int,
    *,
    features: list[Feature],
    task: str,
    classes: list[Any],
    matrix: np.ndarray,
    labels: np.ndarray,
    threshold: float = 0.5,
) -> FittedCandidate:
    """Fit one candidate on an encoded training matrix; labels are class indices or values."""
    estimator = build_estimator(name, params, seed, task, features)
    started = time.perf_counter()
    estimator.fit(matrix, labels)
    if "n_jobs" in estimator.get_params(deep=False):
        # A forest's threads add their trees' predictions in the order they finish: predicting
        # on one thread fixes that order, so evaluation gives the same bytes on every run.
        estimator.set_params(n_jobs=1)
    model = TabularModel(features, estimator, task, classes, threshold)  # type: ignore[arg-type]
    return FittedCandidate(
        name=name,
        model=model,
        hyperparameters=params.model_dump(),
        fit_seconds=time.perf_counter() - started,
    )


def training_data(frame: pd.DataFrame, model_features: list[Feature]) -> np.ndarray:
    """The encoded float matrix of a frame's feature columns (as the model will encode them)."""
    return TabularModel(model_features, None, "regression").encode_frame(frame)


def scores_of(model: TabularModel, matrix: np.ndarray) -> np.ndarray:
    """Class probabilities (classification, columns in `classes` order) or predicted values."""
    if model.task == "regression":
        return np.asarray(model.estimator.predict(matrix), dtype=np.float64)
    return np.asarray(model.estimator.predict_proba(matrix), dtype=np.float64)


def positive_probability(model: Any, features: pd.DataFrame) -> Any:
    """Probability of the positive class (index 1) for each row of a raw frame (binary)."""
    return model.predict_proba(features)[:, 1]


def fit_table(
    frame: pd.DataFrame,
    data: Any,
    name: str = "xgboost",
    params: BaseModel | None = None,
    seed: int = 0,
    threshold: float = 0.5,
) -> tuple[TabularModel, Any]:
    """Infer a table's contract and fit one candidate on it: what the train stage does, in memory.

    For tests, benchmarks and notebooks; returns the model and its `Contract`.
    """
    from modelops.params import ValidateParams
    from modelops.pipeline.contract import infer_contract

    if params is None:
        params = XGBoostParams(n_estimators=20, n_jobs=1)
    contract, _ = infer_contract(frame, data, ValidateParams(min_rows=1), "in-memory table")
    features = contract.features()
    labels = (
        frame[data.target].to_numpy(dtype=np.float64)
        if contract.task == "regression"
        else contract.class_index(frame[data.target])
    )
    fitted = fit_candidate(
        name, params, seed,
        features=features, task=contract.task, classes=list(contract.classes),
        matrix=training_data(frame, features), labels=labels, threshold=threshold,
    )  # fmt: skip
    return fitted.model, contract
