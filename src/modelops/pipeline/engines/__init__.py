"""Compute engines of the data stages: `local` (pandas, one process) and `spark` (Apache Spark).

`compute.engine` in params.yaml picks one; `local` is the default and is exactly the stages'
pandas code. A stage's logic (`modelops.pipeline.orchestration`) is written once against the
`Engine` protocol below: the engine reads a table, validates it, fits a candidate and measures a
model on it; everything else (the contract, MLflow, the outputs and their bytes) is shared.

The Spark engine lives in `modelops.pipeline.engines.spark`, the only place that imports pyspark,
so the local engine and serving never load it. Reading the section here costs no pyspark import:
`open_engine` imports the Spark engine only when it is chosen.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modelops.params import ComputeParams, parse_section, read_params_file

if TYPE_CHECKING:  # the stages that only ask which engine to use import none of these
    import numpy as np
    import pandas as pd

    from modelops.pipeline.contract import Contract
    from modelops.pipeline.training import FittedCandidate
    from modelops.pipeline.validation import ValidationReport
    from modelops.serving.model import TabularModel


class UnknownLabels(ValueError):
    """Target values that are not classes of the model being measured."""


@dataclass(frozen=True)
class FitRequest:
    """One candidate to fit: its kind and hyperparameters, and what every engine fits it with.

    `matrix`/`labels` are the encoded rows in this process (the engine's `driver_rows`): the local
    engine fits on them; the Spark engine fits on the whole table on its executors.
    """

    kind: str
    params: Any
    seed: int
    contract: Contract
    threshold: float
    matrix: np.ndarray
    labels: np.ndarray


class Engine(Protocol):
    """What a stage needs from a compute engine; a table is whatever the engine reads."""

    name: str
    # rows brought to the driver (pandas) for training metrics, the MLflow example and plots;
    # None: the whole table (the local engine's table is already in memory)
    driver_rows: int | None

    def read(self, location: str | Path, role: str) -> Any:
        """The table at `location` (`role`: the argument that named it, for error messages)."""

    def to_pandas(self, table: Any, limit: int | None = None) -> pd.DataFrame:
        """The table's first `limit` rows (all with None) in this process, as pandas."""

    def data_hash(self, location: str | Path) -> str:
        """A digest of the table's bytes (a file, or a folder of Parquet parts)."""

    def validate(
        self, table: Any, contract: Contract, docs_dir: str | Path | None
    ) -> ValidationReport:
        """Great Expectations' run of the contract's suite on the table."""

    def skip_reason(self, kind: str) -> str | None:
        """Why candidates of `kind` are not trained on this engine (None: they are)."""

    def fit(self, table: Any, request: FitRequest) -> FittedCandidate:
        """Fit one candidate."""

    def evaluate(
        self, model: TabularModel, table: Any, target: str, curve_points: int, bins: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The model's task metrics on the whole table, and the data of its plots."""

    def metrics(self, model: TabularModel, table: Any, target: str) -> dict[str, Any]:
        """The model's task metrics on the whole table.

        Raises:
            UnknownLabels: a target value is not one of the model's classes.

        """


def compute_params(params_path: str | Path) -> ComputeParams:
    """The `compute:` section of a params file; a file without one runs the local engine.

    Raises:
        ParamsError: the section is there but has a bad value (naming the dotted key).

    """
    raw = read_params_file(params_path)
    if raw.get("compute") is None:
        return ComputeParams()
    section = parse_section(raw, "compute")
    assert isinstance(section, ComputeParams)
    return section


def uses_spark(params_path: str | Path) -> bool:
    """Whether the params choose the Spark engine."""
    return compute_params(params_path).engine == "spark"


@contextmanager
def open_engine(params_path: str | Path) -> Iterator[Engine]:
    """The engine `compute.engine` chooses, open for one stage (a Spark session stops after)."""
    compute = compute_params(params_path)
    if compute.engine == "local":
        from modelops.pipeline.engines.local import LocalEngine

        yield LocalEngine()
        return
    from modelops.pipeline.engines.spark.engine import SparkEngine
    from modelops.pipeline.engines.spark.session import spark_session

    with spark_session(compute.spark) as session:
        yield SparkEngine(session)


def run_on_spark(stage: str, args: argparse.Namespace) -> None:
    """Run `stage` on the Spark engine (this imports pyspark: only when the engine is spark)."""
    from modelops.pipeline.engines.spark.stages import STAGES

    STAGES[stage](args)
