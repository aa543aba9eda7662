"""The local engine: pandas in this process, scikit-learn's metrics, every candidate kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pandas as pd
from typing_extensions import override

from modelops.pipeline import evaluation
from modelops.pipeline.contract import Contract
from modelops.pipeline.data import file_md5, read_table
from modelops.pipeline.engines import Engine, FitRequest, UnknownLabels
from modelops.pipeline.training import FittedCandidate, fit_candidate, scores_of
from modelops.pipeline.validation import ValidationReport, validate_dataset
from modelops.serving.model import TabularModel, Task


class LocalEngine(Engine):
    """Every stage's table in memory, as one pandas DataFrame."""

    name = "local"
    driver_rows: int | None = None

    @override
    def read(self, location: str | Path, role: str) -> pd.DataFrame:
        return read_table(location)

    @override
    def to_pandas(self, table: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
        return table if limit is None else table.head(limit)

    @override
    def data_hash(self, location: str | Path) -> str:
        return file_md5(location)

    @override
    def validate(
        self, table: pd.DataFrame, contract: Contract, docs_dir: str | Path | None
    ) -> ValidationReport:
        return validate_dataset(table, contract, docs_dir=docs_dir)

    @override
    def skip_reason(self, kind: str) -> str | None:
        return None

    @override
    def fit(self, table: pd.DataFrame, request: FitRequest) -> FittedCandidate:
        contract = request.contract
        return fit_candidate(
            request.kind, request.params, request.seed,
            features=contract.features(), task=cast(Task, contract.task),
            classes=list(contract.classes), matrix=request.matrix, labels=request.labels,
            threshold=request.threshold,
        )  # fmt: skip

    @override
    def evaluate(
        self, model: TabularModel, table: pd.DataFrame, target: str, curve_points: int, bins: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        labels = evaluation.label_indices(model, table[target])
        output = scores_of(model, model.encode_frame(table))
        scores = evaluation.task_metrics(model.task, labels, output, model.classes, model.threshold)
        return scores, evaluation.plot_data(model, labels, output, curve_points, bins)

    @override
    def metrics(self, model: TabularModel, table: pd.DataFrame, target: str) -> dict[str, Any]:
        labels = evaluation.label_indices(model, table[target])
        if model.task != "regression" and (labels < 0).any():
            raise UnknownLabels(f"{target} holds values that are not classes of the model")
        output = scores_of(model, model.encode_frame(table))
        return evaluation.task_metrics(model.task, labels, output, model.classes, model.threshold)
