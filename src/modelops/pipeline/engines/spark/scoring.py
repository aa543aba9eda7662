"""Batch scoring on Spark: the packaged model in a pandas UDF, to partitioned Parquet.

Each executor unpickles the same `Predictor` that `make score` and the service use and runs its
code on Arrow batches: the same encoding (`encode_frame`), the same prediction columns
(`prediction_columns`), so labels equal the single-machine scoring of the same rows. Input
columns pass through; the output is a folder of Parquet files, one per partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from modelops.pipeline.engines.spark.tables import executor_errors, is_uri, write_table
from modelops.serving.inference import InputError, Predictor
from modelops.serving.model import EncodingError


def label_type(classes: list[Any]) -> T.DataType:
    """The Spark type of the `label` column for these classes."""
    if all(isinstance(c, bool) for c in classes):
        return T.BooleanType()
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return T.LongType()
    return T.StringType()


def prediction_schema(predictor: Predictor) -> list[T.StructField]:
    """The fields scoring appends, in the order `Predictor.prediction_columns` makes them."""
    if predictor.task == "regression":
        return [T.StructField("value", T.DoubleType())]
    fields = [T.StructField("label", label_type(predictor.classes))]
    if predictor.task == "binary":
        fields.append(T.StructField("probability", T.DoubleType()))
    fields += [T.StructField(f"proba_{label}", T.DoubleType()) for label in predictor.classes]
    return fields


def score_table(predictor: Predictor, frame: DataFrame, source: str = "INPUT") -> DataFrame:
    """`frame` with the prediction columns of `predictor`'s task appended (lazily, on Spark).

    Raises:
        InputError: a feature column is missing (at once); a value that cannot stand in its
            column (text in a number column, an infinity) fails the job, naming the column.

    """
    missing = [name for name in predictor.features if name not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing features: {', '.join(missing)}")
    added = prediction_schema(predictor)
    clashes = [field.name for field in added if field.name in frame.columns]
    if clashes:
        raise InputError(f"{source}: already has prediction columns: {', '.join(clashes)}")
    schema = T.StructType([*frame.schema.fields, *added])

    def score(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            if batch.empty:
                continue
            try:
                matrix = predictor.encode_frame(batch)
            except EncodingError as exc:
                raise InputError(f"{source}: {exc}") from None
            yield batch.assign(**predictor.prediction_columns(matrix))

    return frame.mapInPandas(score, schema)


def write_scores(scored: DataFrame, destination: str | Path) -> None:
    """Write scored rows as Parquet files in a folder: atomically for a local path.

    Raises:
        InputError: a row could not be scored (the executor's message); nothing is written.

    """
    with executor_errors(InputError):
        if is_uri(destination):
            scored.write.mode("errorifexists").parquet(str(destination))
        else:
            write_table(scored, destination)
