"""Candidate models: build each kind from its hyperparameters and fit it, deterministically."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel

from modelops.params import LogisticRegressionParams, RandomForestParams, XGBoostParams


@dataclass(frozen=True)
class FittedCandidate:
    """A trained candidate and what it took to train it."""

    name: str
    model: Any
    hyperparameters: dict[str, Any]
    fit_seconds: float


def build_estimator(name: str, params: BaseModel, seed: int) -> Any:
    """An unfitted scikit-learn-compatible classifier for one candidate kind.

    Raises:
        ValueError: `name` is not a known candidate kind.

    """
    if isinstance(params, LogisticRegressionParams):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        # Scaling inside the pipeline keeps serving identical to training.
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(
                C=params.C,
                max_iter=params.max_iter,
                class_weight=params.class_weight,
                random_state=seed,
            ),
        )
    if isinstance(params, RandomForestParams):
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**params.model_dump(), random_state=seed)
    if isinstance(params, XGBoostParams):
        from xgboost import XGBClassifier

        return XGBClassifier(
            **params.model_dump(),
            tree_method="hist",
            objective="binary:logistic",
            eval_metric="logloss",
            random_state=seed,
        )
    raise ValueError(f"unknown candidate kind {name!r} ({type(params).__name__})")


def fit_candidate(
    name: str, params: BaseModel, seed: int, features: pd.DataFrame, labels: pd.Series
) -> FittedCandidate:
    """Fit one candidate on the training data."""
    model = build_estimator(name, params, seed)
    started = time.perf_counter()
    model.fit(features, labels)
    return FittedCandidate(
        name=name,
        model=model,
        hyperparameters=params.model_dump(),
        fit_seconds=time.perf_counter() - started,
    )


def positive_probability(model: Any, features: pd.DataFrame) -> Any:
    """Probability of class 1 for each row."""
    return model.predict_proba(features)[:, 1]
