"""Enforce the data contract (`modelops.pipeline.contract`) with a Great Expectations 1.x suite.

The suite checks the column set (a missing or new column), every column's type, nulls, range or
categories, the target's classes or range, and the row count. `validate_dataset` returns a
JSON-ready summary with one plain-language line per failed expectation (with what was observed),
and renders GX's HTML data docs. No progress bars, no tracebacks: a failure is a message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from modelops.pipeline.contract import Contract
from modelops.serving.model import category_key

SUITE_NAME = "dataset_contract"
NUMERIC_TYPES = [
    "float64", "float32", "float16", "Float64", "Float32",
    "int64", "int32", "int16", "int8", "Int64", "Int32", "Int16", "Int8",
    "uint64", "uint32", "uint16", "uint8", "UInt64", "UInt32", "UInt16", "UInt8",
]  # fmt: skip
BOOLEAN_TYPES = ["bool", "boolean", "object"]  # object: True/False with nulls, checked by value


@dataclass
class ValidationReport:
    """Outcome of one validation run."""

    success: bool
    rows: int
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    target_null_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no timestamps, so reruns on the same data are byte-identical)."""
        return {
            "success": self.success,
            "rows": self.rows,
            "target_null_rows": self.target_null_rows,
            "expectations_evaluated": self.evaluated,
            "expectations_failed": len(self.failures),
            "failures": self.failures,
        }

    def describe_failures(self) -> str:
        """One line per failed expectation, for a person reading the terminal."""
        return "\n".join(f"  - {failure['message']}" for failure in self.failures)


def _keys(series: pd.Series) -> pd.Series:
    """A column as category keys (text, None for missing): how the model reads categories."""
    return pd.Series([category_key(v) for v in series.to_numpy(dtype=object)], dtype=object)


def validation_view(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """The frame GX checks: category columns and class labels as the text the model sees.

    Number columns of pandas' nullable types (Int64, Float64: what Parquet gives back for a
    frame written with them) are checked as float64: GX's type check reads a masked column's
    values as numpy `int64` and fails it against its own type list.
    """
    view = frame.copy()
    for column in contract.columns:
        if column.name not in view.columns:
            continue
        series = view[column.name]
        if column.type == "category":
            view[column.name] = _keys(series).to_numpy()
        elif (
            column.type == "number"
            and isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
            and pd.api.types.is_numeric_dtype(series.dtype)
            and not pd.api.types.is_bool_dtype(series.dtype)
        ):
            view[column.name] = series.astype("float64")
    if contract.task != "regression" and contract.target in view.columns:
        view[contract.target] = _keys(view[contract.target]).to_numpy()
    return view


def _mostly(max_null_fraction: float) -> float:
    """GX's `mostly` (the share that must be non-null) for a null bound, exactly at the bound.

    `1 - 0.172` is 0.8280000000000001 in floating point, so a table with exactly 17.2% nulls
    would fail a bound of 17.2%; rounded, it compares equal to the table's own share.
    """
    return round(1.0 - max_null_fraction, 10)


def build_expectations(contract: Contract, frame: pd.DataFrame) -> list[Any]:
    """The expectations of the contract, in the order a reader would check them.

    Per-column checks are added only for contract columns that exist (a missing column is reported
    once, by the column-set check) and range checks only for numeric columns (a wrongly typed
    column is reported by the type check instead of failing inside the range check).
    """
    import great_expectations as gx

    ex = gx.expectations
    known = [*contract.feature_names, contract.target]
    # left-out columns may come and go; every other column must be exactly as inferred
    known += [name for name in contract.dropped if name in frame.columns]
    expectations: list[Any] = [
        ex.ExpectTableColumnsToMatchSet(column_set=known, exact_match=True),
        ex.ExpectTableRowCountToBeBetween(min_value=contract.min_rows, max_value=contract.max_rows),
    ]
    for column in contract.columns:
        if column.name not in frame.columns:
            continue
        name = column.name
        expectations.append(
            ex.ExpectColumnValuesToNotBeNull(column=name, mostly=_mostly(column.max_null_fraction))
            if column.max_null_fraction > 0
            else ex.ExpectColumnValuesToNotBeNull(column=name)
        )
        if column.type == "number":
            expectations.append(
                ex.ExpectColumnValuesToBeInTypeList(column=name, type_list=NUMERIC_TYPES)
            )
            if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(
                frame[name]
            ):
                expectations.append(
                    ex.ExpectColumnValuesToBeBetween(
                        column=name, min_value=column.min, max_value=column.max
                    )
                )
        elif column.type == "boolean":
            expectations.append(
                ex.ExpectColumnValuesToBeInSet(column=name, value_set=[True, False])
            )
        else:
            expectations.append(
                ex.ExpectColumnValuesToBeInSet(column=name, value_set=list(column.categories))
            )
    target = contract.target
    if target in frame.columns:
        expectations.append(
            ex.ExpectColumnValuesToNotBeNull(
                column=target, mostly=_mostly(contract.target_max_null_fraction)
            )
            if contract.target_max_null_fraction > 0
            else ex.ExpectColumnValuesToNotBeNull(column=target)
        )
        if contract.task == "regression":
            expectations.append(
                ex.ExpectColumnValuesToBeInTypeList(column=target, type_list=NUMERIC_TYPES)
            )
            if pd.api.types.is_numeric_dtype(frame[target]):
                expectations.append(
                    ex.ExpectColumnValuesToBeBetween(
                        column=target, min_value=contract.target_min, max_value=contract.target_max
                    )
                )
        else:
            classes = [category_key(c) for c in contract.classes]
            expectations += [
                ex.ExpectColumnValuesToBeInSet(column=target, value_set=classes),
                ex.ExpectColumnDistinctValuesToContainSet(column=target, value_set=classes),
            ]
    return expectations


def run_suite(
    engine: str, expectations: Iterable[Any], view: Any, docs_dir: str | Path | None = None
) -> list[Any]:
    """Run `expectations` on `view` through GX's `engine` datasource ("pandas" or "spark").

    One ephemeral context, suite and checkpoint for both engines; HTML data docs go to `docs_dir`
    when given. Returns GX's per-expectation outcomes.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no phoning home from a pipeline
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # this GX module sets its own logger to INFO at import ("Created temporary directory ...")
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    actions: list[gx.checkpoint.ValidationAction] = []
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="local",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(Path(docs_dir).resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs"))
    sources = context.data_sources
    source = sources.add_spark(engine) if engine == "spark" else sources.add_pandas(engine)
    batch = source.add_dataframe_asset(name="dataset").add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name=SUITE_NAME))
    for expectation in expectations:
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="dataset", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="validate",
            validation_definitions=[definition],
            actions=actions,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": view})
    return [r for run in result.run_results.values() for r in run.results]


def validate_dataset(
    frame: pd.DataFrame, contract: Contract, docs_dir: str | Path | None = None
) -> ValidationReport:
    """Run the contract's suite on `frame`; optionally render HTML data docs into `docs_dir`."""
    outcomes = run_suite(
        "pandas", build_expectations(contract, frame), validation_view(frame, contract), docs_dir
    )
    failures = [_failure(outcome) for outcome in outcomes if not outcome.success]
    target_nulls = int(frame[contract.target].isna().sum()) if contract.target in frame else 0
    return ValidationReport(
        success=not failures,
        rows=len(frame),
        evaluated=len(outcomes),
        failures=failures,
        target_null_rows=target_nulls,
    )


def _plain(value: Any) -> Any:
    """Make GX's observed values (numpy scalars, sets) JSON-ready."""
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        return _plain(value.item())
    if isinstance(value, set | tuple):
        return sorted(map(_plain, value), key=str)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):  # nor is infinity
        return str(value)
    return value


def _expected(kind: str, kwargs: dict[str, Any]) -> str:
    column = kwargs.get("column")
    mostly = kwargs.get("mostly")
    texts = {
        "expect_table_columns_to_match_set": lambda: (
            f"columns must be exactly {sorted(kwargs['column_set'])}"
        ),
        "expect_table_row_count_to_be_between": lambda: (
            f"row count must be between {kwargs['min_value']} and {kwargs['max_value']}"
        ),
        "expect_column_values_to_not_be_null": lambda: (
            f"{column}: at most {1 - mostly:.1%} nulls"
            if mostly is not None and mostly < 1
            else f"{column}: must have no nulls"
        ),
        "expect_column_values_to_be_in_type_list": lambda: f"{column}: must be numeric",
        "expect_column_values_to_be_between": lambda: (
            f"{column}: values must be finite and between {kwargs['min_value']} and "
            f"{kwargs['max_value']}"
        ),
        "expect_column_values_to_be_in_set": lambda: (
            f"{column}: values must be in {kwargs['value_set']}"
        ),
        "expect_column_distinct_values_to_contain_set": lambda: (
            f"{column}: must contain every class {kwargs['value_set']}"
        ),
    }
    return texts[kind]() if kind in texts else f"{kind}({column or ''})"


def _failure(outcome: Any) -> dict[str, Any]:
    config = outcome.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id",)}
    result = outcome.result or {}
    expected = _expected(config.type, kwargs)
    observed: dict[str, Any] = {}
    if "observed_value" in result and result["observed_value"] is not None:
        observed["observed_value"] = _plain(result["observed_value"])
    if result.get("details", {}).get("mismatched"):
        observed["mismatched"] = _plain(result["details"]["mismatched"])
    if result.get("unexpected_count"):
        observed["unexpected_count"] = int(result["unexpected_count"])
        observed["unexpected_percent"] = round(float(result.get("unexpected_percent") or 0), 4)
        observed["examples"] = _plain(result.get("partial_unexpected_list", [])[:5])
    if config.type == "expect_column_distinct_values_to_contain_set":
        # GX 1.x reports the classes that are missing (observed_value is None), older ones the
        # values present
        if result.get("partial_missing_list"):
            observed["missing"] = _plain(result["partial_missing_list"])
        elif "observed_value" not in observed:
            observed["observed_value"] = _plain(result.get("details", {}).get("value_counts"))
    exception = (outcome.exception_info or {}).get("exception_message")
    if exception:
        observed["error"] = str(exception)
    return {
        "expectation": config.type,
        "column": kwargs.get("column"),
        "observed": observed,
        "message": f"{expected}; observed {_render(observed)}",
    }


def _render(observed: dict[str, Any]) -> str:
    if "mismatched" in observed:
        parts = [f"{k}: {v}" for k, v in observed["mismatched"].items() if v]
        return "; ".join(parts) or str(observed.get("observed_value"))
    if "missing" in observed:
        return f"missing {observed['missing']}"
    if "unexpected_count" in observed:
        return (
            f"{observed['unexpected_count']} bad value(s) ({observed['unexpected_percent']}%), "
            f"e.g. {observed['examples']}"
        )
    if "observed_value" in observed:
        return str(observed["observed_value"])
    return str(observed.get("error", "no details"))
