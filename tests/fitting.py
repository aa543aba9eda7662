"""Fit one candidate on an in-memory table: what the validate and train stages do, for tests."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import Contract, infer_contract
from modelops.pipeline.training import (
    XGBoostParams,
    fit_candidate,
    training_data,
    training_labels,
)
from modelops.serving.model import TabularModel


def fit_table(
    frame: pd.DataFrame,
    data: DataParams,
    name: str = "xgboost",
    params: BaseModel | None = None,
    seed: int = 0,
    threshold: float = 0.5,
) -> tuple[TabularModel, Contract]:
    """Infer a table's contract and fit one candidate kind on it; the model and its contract."""
    if params is None:
        params = XGBoostParams(n_estimators=20, n_jobs=1)
    contract, _ = infer_contract(frame, data, ValidateParams(min_rows=1), "in-memory table")
    features = contract.features()
    fitted = fit_candidate(
        name, params, seed,
        features=features, task=contract.task, classes=list(contract.classes),
        matrix=training_data(frame, features), labels=training_labels(contract, frame),
        threshold=threshold,
    )  # fmt: skip
    return fitted.model, contract
