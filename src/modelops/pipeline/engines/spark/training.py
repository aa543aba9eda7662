"""Training on Spark: XGBoost distributed over the executors (`xgboost.spark`).

Rows are encoded on the executors by the model's own code (`TabularModel.encode_frame` in a
pandas UDF), so the distributed booster sees exactly the matrix a local run builds: numbers as
is, booleans 0/1, categories as codes with XGBoost's native categorical splits, NaN for missing.
The fitted booster is then loaded into the same scikit-learn `XGBClassifier` / `XGBRegressor`
a local run fits, inside the same `TabularModel`, so a Spark-trained winner is packaged, served
and scored exactly like a local one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from modelops.pipeline.contract import Contract
from modelops.pipeline.data import DataError
from modelops.pipeline.engines.spark.tables import executor_errors
from modelops.pipeline.training import FittedCandidate, XGBoostParams
from modelops.serving.model import TabularModel

LABEL = "label"
# The objective is xgboost.spark's own choice, the local engine's too (binary:logistic or
# multi:softprob from the label's classes, reg:squarederror); its classifier refuses to be told.
# candidate kinds with a Spark form; the others are skipped with a reason (see `skip_reason`)
SPARK_KINDS = ("xgboost",)


def skip_reason(kind: str) -> str | None:
    """Why a candidate kind is not trained on Spark (None: it is)."""
    if kind in SPARK_KINDS:
        return None
    return (
        f"{kind} has no Spark form here; on Spark only {', '.join(SPARK_KINDS)} trains "
        "(distributed); use compute.engine: local to train it"
    )


def feature_column_names(contract: Contract) -> list[str]:
    """Names of the encoded feature columns (positional: the booster sees f0, f1, ... locally)."""
    return [f"f{index}" for index in range(len(contract.columns))]


def encode_table(frame: DataFrame, contract: Contract) -> DataFrame:
    """The encoded float features and the label (class index or value) of every labelled row.

    Raises (on the executors, surfacing when the frame is computed):
        DataError: a label that is not one of the contract's classes.

    """
    features = contract.features()
    names = feature_column_names(contract)
    encoder = TabularModel(features, None, "regression")
    wanted = [*contract.feature_names, contract.target]

    def encode(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            matrix = encoder.encode_frame(batch)
            encoded = pd.DataFrame(matrix, columns=names)
            if contract.task == "regression":
                encoded[LABEL] = batch[contract.target].to_numpy(dtype=np.float64)
            else:
                encoded[LABEL] = contract.class_index(batch[contract.target]).astype(np.float64)
            yield encoded

    schema = T.StructType([T.StructField(name, T.DoubleType()) for name in [*names, LABEL]])
    return frame.select(*wanted).mapInPandas(encode, schema)


def fit_xgboost(
    frame: DataFrame,
    contract: Contract,
    params: XGBoostParams,
    seed: int,
    threshold: float = 0.5,
    num_workers: int | None = None,
) -> FittedCandidate:
    """Train XGBoost on the executors; return it as the `TabularModel` a local run would make.

    `num_workers` defaults to the session's default parallelism (the cores of `local[N]`).
    """
    from xgboost import XGBClassifier, XGBRegressor
    from xgboost.spark import SparkXGBClassifier, SparkXGBRegressor

    task = contract.task
    logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)  # booster params per fit
    session = frame.sparkSession
    workers = num_workers or session.sparkContext.defaultParallelism
    hyperparameters = params.model_dump()
    booster_params = {k: v for k, v in hyperparameters.items() if k != "n_jobs"}  # Spark: task cpus
    spark_estimator = (SparkXGBRegressor if task == "regression" else SparkXGBClassifier)(
        features_col=feature_column_names(contract),
        label_col=LABEL,
        num_workers=workers,
        tree_method="hist",
        feature_types=["c" if c.type == "category" else "q" for c in contract.columns],
        max_cat_to_onehot=1,
        random_state=seed,
        missing=float("nan"),
        verbose=False,  # no per-round lines from the executors in the stage log
        **booster_params,
    )
    encoded = encode_table(frame, contract)
    started = time.perf_counter()
    with executor_errors(DataError):
        fitted = spark_estimator.fit(encoded)
    seconds = time.perf_counter() - started
    estimator: Any = XGBRegressor() if task == "regression" else XGBClassifier()
    estimator.load_model(bytearray(fitted.get_booster().save_raw("ubj")))
    if task != "regression" and estimator.n_classes_ != len(contract.classes):
        raise DataError(
            f"{contract.target}: the training rows hold {estimator.n_classes_} of the contract's "
            f"{len(contract.classes)} classes; XGBoost needs every class to train on"
        )
    model = TabularModel(contract.features(), estimator, task, list(contract.classes), threshold)  # type: ignore[arg-type]
    return FittedCandidate(
        name="xgboost", model=model, hyperparameters=hyperparameters, fit_seconds=seconds
    )
