"""The data contract on Spark: the local engine's Great Expectations suite, on a Spark DataFrame.

The expectations are `modelops.pipeline.validation.build_expectations` itself, built against an
empty pandas view of the Spark schema (the dtypes pandas would read), so both engines check the
same things; only the numeric type check names Spark's types (every `NumericType`), as GX's
Spark engine compares Spark type classes. Failures go through the local engine's message code,
with a type break reported by the dtype pandas would see, so a contract break reads the same on
both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from modelops.pipeline.contract import Contract
from modelops.pipeline.validation import (
    ValidationReport,
    _failure,  # the local engine's one-line message for a failed expectation
    build_expectations,
    run_suite,
)

SPARK_NUMERIC_TYPES = ["NumericType"]  # pyspark.types: Byte/Short/Integer/Long/Float/Double/Decimal
TYPE_CHECK = "expect_column_values_to_be_in_type_list"


def pandas_schema(frame: DataFrame) -> pd.DataFrame:
    """An empty pandas frame with the columns and dtypes pandas would read `frame` as.

    Text columns get the dtype pandas gives text read from Parquet (`str` in pandas 3, `object`
    before), which an empty Spark result does not carry.
    """
    schema = frame.limit(0).toPandas()
    for field in frame.schema.fields:
        if isinstance(field.dataType, T.StringType):
            schema[field.name] = schema[field.name].astype("str")
    return schema


def category_key(column: Column, dtype: T.DataType) -> Column:
    """A column's values as category keys, as `modelops.serving.model.category_key` makes them.

    Missing (null, NaN) is null; True/False read "True"/"False"; an integral float reads as the
    integer ("3", not "3.0"); text stays as it is.
    """
    if isinstance(dtype, T.StringType):
        return column
    if isinstance(dtype, T.BooleanType):
        return F.when(column.isNull(), F.lit(None)).when(column, "True").otherwise("False")
    if isinstance(dtype, T.FloatType | T.DoubleType):
        return (
            F.when(column.isNull() | F.isnan(column), F.lit(None))
            .when(column == F.floor(column), column.cast("long").cast("string"))
            .otherwise(column.cast("string"))
        )
    return column.cast("string")


def validation_view(frame: DataFrame, contract: Contract) -> DataFrame:
    """The DataFrame GX checks: category columns and class labels as the text the model sees."""
    types = {field.name: field.dataType for field in frame.schema.fields}
    keyed = [c.name for c in contract.columns if c.type == "category" and c.name in types]
    if contract.task != "regression" and contract.target in types:
        keyed.append(contract.target)
    if not keyed:
        return frame
    return frame.withColumns({name: category_key(F.col(name), types[name]) for name in keyed})


def spark_expectations(contract: Contract, schema: pd.DataFrame) -> list[Any]:
    """The local engine's expectations, with the numeric type check in Spark's type names."""
    import great_expectations as gx

    expectations = []
    for expectation in build_expectations(contract, schema):
        if expectation.expectation_type == TYPE_CHECK:
            expectation = gx.expectations.ExpectColumnValuesToBeInTypeList(
                column=expectation.column, type_list=SPARK_NUMERIC_TYPES
            )
        expectations.append(expectation)
    return expectations


def null_count(frame: DataFrame, name: str) -> int:
    """Rows where `name` is missing (null, or NaN in a floating-point column)."""
    dtype = frame.schema[name].dataType
    missing = F.col(name).isNull()
    if isinstance(dtype, T.FloatType | T.DoubleType):
        missing = missing | F.isnan(F.col(name))
    return frame.filter(missing).count()


def validate_table(
    frame: DataFrame, contract: Contract, docs_dir: str | Path | None = None
) -> ValidationReport:
    """Run the contract's suite on a Spark DataFrame; optionally render HTML data docs."""
    schema = pandas_schema(frame)
    view = validation_view(frame, contract)
    outcomes = run_suite("spark", spark_expectations(contract, schema), view, docs_dir)
    failures = []
    for outcome in outcomes:
        if outcome.success:
            continue
        config = outcome.expectation_config
        if config.type == TYPE_CHECK and outcome.result:
            # report the dtype pandas would read, as the local engine does ("StringType" -> str)
            outcome.result["observed_value"] = str(schema[config.kwargs["column"]].dtype)
        failures.append(_failure(outcome))
    target_nulls = null_count(frame, contract.target) if contract.target in frame.columns else 0
    return ValidationReport(
        success=not failures,
        rows=frame.count(),
        evaluated=len(outcomes),
        failures=failures,
        target_null_rows=target_nulls,
    )
