"""The Spark engine behind the `Engine` protocol the stages' shared logic is written against."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from typing_extensions import override

from modelops.pipeline.contract import Contract
from modelops.pipeline.engines import Engine, FitRequest
from modelops.pipeline.engines.spark.evaluation import evaluate_model, model_metrics
from modelops.pipeline.engines.spark.tables import folder_md5, is_uri, read_table
from modelops.pipeline.engines.spark.training import fit_xgboost, skip_reason
from modelops.pipeline.engines.spark.validation import validate_table
from modelops.pipeline.training import FittedCandidate, XGBoostParams
from modelops.pipeline.validation import ValidationReport
from modelops.serving.model import TabularModel

# Rows brought to the driver for training metrics, the MLflow example and plot data; the fit,
# the validation and the test metrics the gate compares always see the whole table.
DRIVER_ROWS = 200_000


class SparkEngine(Engine):
    """Tables are Spark DataFrames of one session (opened and stopped by `open_engine`)."""

    name = "spark"
    driver_rows: int | None = DRIVER_ROWS

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    @override
    def read(self, location: str | Path, role: str) -> DataFrame:
        return read_table(self.session, location, role)

    @override
    def to_pandas(self, table: DataFrame, limit: int | None = None) -> pd.DataFrame:
        return (table if limit is None else table.limit(limit)).toPandas()

    @override
    def data_hash(self, location: str | Path) -> str:
        if is_uri(location):
            # A table URI is written once (tables.write_table) and its part files carry a random
            # id per write: their names identify its bytes without reading them to the driver.
            files = sorted(self.session.read.parquet(str(location)).inputFiles())
            return hashlib.md5("\n".join(files).encode(), usedforsecurity=False).hexdigest()
        return folder_md5(location)

    @override
    def validate(
        self, table: DataFrame, contract: Contract, docs_dir: str | Path | None
    ) -> ValidationReport:
        return validate_table(table, contract, docs_dir=docs_dir)

    @override
    def skip_reason(self, kind: str) -> str | None:
        return skip_reason(kind)

    @override
    def fit(self, table: DataFrame, request: FitRequest) -> FittedCandidate:
        params = request.params
        assert isinstance(params, XGBoostParams), request.kind  # skip_reason passes xgboost only
        return fit_xgboost(table, request.contract, params, request.seed, request.threshold)

    @override
    def evaluate(
        self, model: TabularModel, table: DataFrame, target: str, curve_points: int, bins: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return evaluate_model(model, table, target, curve_points, bins, DRIVER_ROWS)

    @override
    def metrics(self, model: TabularModel, table: DataFrame, target: str) -> dict[str, Any]:
        return model_metrics(model, table, target)
