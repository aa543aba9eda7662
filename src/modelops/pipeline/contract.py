"""The data contract: inferred from a table once, committed as YAML, enforced on every run.

The contract says what the table looks like: its task (inferred from the target column, with the
reason), the target's classes or range, each feature column's type (number, boolean, category),
its allowed categories, its null fraction and range (with margins), the columns left out and why,
and the row-count bounds. It records the source, target and steering params it was inferred
with: when those change, it is re-inferred (and says so); when the same source breaks it,
validation (Great Expectations, `modelops.pipeline.validation`) stops the pipeline.

`features()` turns it into the `modelops.serving.model.Feature`s the trained model encodes with,
so validation, the model, the model card and the service derive from one description.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from modelops.params import DataParams, GenerateParams, ValidateParams
from modelops.pipeline.data import DataError
from modelops.serving.model import Feature, category_key
from modelops.storage import write_text

CONTRACT_VERSION = 1
HEADER = """\
# The data contract, inferred from the table below and enforced by `validate` (Great
# Expectations). Review it like code: the PR report shows its diff. It is re-inferred when
# data.source, data.target or the data.* steering params change; `make contract` re-infers it on
# purpose (e.g. after a deliberate change of the table). Edit bounds by hand if you must: the
# next run enforces what is written here.
"""


class ContractError(DataError):
    """The contract file is unreadable, or a table cannot yield a contract (one class, ...)."""


@dataclass(frozen=True)
class Column:
    """One feature column of the contract."""

    name: str
    type: str  # number | boolean | category
    null_fraction: float
    max_null_fraction: float
    categories: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None

    @property
    def nullable(self) -> bool:
        """Whether nulls are allowed at all (training saw some, or the margin allows them)."""
        return self.max_null_fraction > 0

    def feature(self) -> Feature:
        """The model's view of this column."""
        # `type` is a FeatureType: inference writes only those, and from_dict rejects any other
        return Feature(self.name, self.type, self.categories, nullable=True)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Contract:
    """What a table must look like, and what it was inferred from."""

    source: str
    target: str
    task: str
    task_reason: str
    columns: tuple[Column, ...]
    min_rows: int
    max_rows: int
    target_max_null_fraction: float
    classes: tuple[Any, ...] = ()
    positive_class: Any = None
    target_min: float | None = None
    target_max: float | None = None
    dropped: dict[str, str] = field(default_factory=dict)
    inferred_with: dict[str, Any] = field(default_factory=dict)
    inferred_from_rows: int = 0

    @property
    def feature_names(self) -> list[str]:
        """The feature columns, in table order."""
        return [column.name for column in self.columns]

    def features(self) -> list[Feature]:
        """The `Feature`s the model encodes raw rows with."""
        return [column.feature() for column in self.columns]

    def feature_schema(self) -> list[dict[str, Any]]:
        """The model card's `feature_schema`."""
        return [feature.schema() for feature in self.features()]

    def class_index(self, labels: pd.Series) -> np.ndarray:
        """Original labels to class indices 0..K-1 in the order of `classes`.

        Raises:
            DataError: a label that is not one of the contract's classes.

        """
        keys = {category_key(c): i for i, c in enumerate(self.classes)}
        codes = labels.map(lambda v: keys.get(category_key(v), -1)).to_numpy(dtype=np.int64)
        if (codes < 0).any():
            unknown = sorted({str(v) for v, c in zip(labels, codes, strict=True) if c < 0})[:5]
            raise DataError(f"{self.target}: labels not in the contract's classes: {unknown}")
        return codes

    # --- the committed file ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The file's content (YAML-ready, in the order a reviewer reads it)."""
        target: dict[str, Any] = {"name": self.target, "task": self.task, "why": self.task_reason}
        if self.task == "regression":
            target.update(min=self.target_min, max=self.target_max)
        else:
            target["classes"] = list(self.classes)
            if self.task == "binary":
                target["positive_class"] = self.positive_class
        target["max_null_fraction"] = self.target_max_null_fraction
        columns = []
        for column in self.columns:
            entry: dict[str, Any] = {"name": column.name, "type": column.type}
            if column.type == "category":
                entry["categories"] = list(column.categories)
            if column.type == "number":
                entry.update(min=column.min, max=column.max)
            entry.update(
                null_fraction=column.null_fraction, max_null_fraction=column.max_null_fraction
            )
            columns.append(entry)
        return {
            "version": CONTRACT_VERSION,
            "inferred_from": {
                "source": self.source,
                "rows": self.inferred_from_rows,
                **self.inferred_with,
            },
            "rows": {"min": self.min_rows, "max": self.max_rows},
            "target": target,
            "columns": columns,
            "dropped": dict(self.dropped),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Contract:
        """Parse the file's content.

        Raises:
            ContractError: a key is missing or has the wrong shape.

        """
        try:
            origin = dict(raw["inferred_from"])
            target = raw["target"]
            columns = tuple(
                Column(
                    name=str(c["name"]),
                    type=str(c["type"]),
                    null_fraction=float(c.get("null_fraction", 0.0)),
                    max_null_fraction=float(c.get("max_null_fraction", 0.0)),
                    categories=tuple(str(v) for v in c.get("categories") or ()),
                    min=c.get("min"),
                    max=c.get("max"),
                )
                for c in raw["columns"]
            )
            for column in columns:
                if column.type not in ("number", "boolean", "category"):
                    raise ValueError(f"column {column.name!r} has unknown type {column.type!r}")
            source = str(origin.pop("source"))
            rows = int(origin.pop("rows", 0))
            return cls(
                source=source,
                target=str(target["name"]),
                task=str(target["task"]),
                task_reason=str(target.get("why", "")),
                columns=columns,
                min_rows=int(raw["rows"]["min"]),
                max_rows=int(raw["rows"]["max"]),
                target_max_null_fraction=float(target.get("max_null_fraction", 0.0)),
                classes=tuple(target.get("classes") or ()),
                positive_class=target.get("positive_class"),
                target_min=target.get("min"),
                target_max=target.get("max"),
                dropped={str(k): str(v) for k, v in (raw.get("dropped") or {}).items()},
                inferred_with=origin,
                inferred_from_rows=rows,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"contract is malformed ({type(exc).__name__}: {exc})") from None


def read_contract(path: str | Path) -> Contract | None:
    """The committed contract, or None when the file does not exist yet.

    Raises:
        ContractError: the file is not YAML or not a contract.

    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not valid YAML ({exc}); fix it or `make contract`") from None
    if raw is None:  # an empty file: not inferred yet
        return None
    if not isinstance(raw, dict):
        raise ContractError(f"{path}: not a contract; empty it or run `make contract`")
    try:
        return Contract.from_dict(raw)
    except ContractError as exc:
        raise ContractError(f"{path}: {exc}; fix it or run `make contract`") from None


def write_contract(contract: Contract, path: str | Path) -> None:
    """Write the contract as commented YAML, atomically."""
    body = yaml.safe_dump(contract.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    write_text(path, HEADER + body)


# --- where the contract came from ---------------------------------------------------------


def source_label(data: DataParams, generate: GenerateParams) -> str:
    """The source a contract is inferred from: the file, or the generator and its params."""
    if data.source:
        return str(data.source)
    payload = json.dumps(generate.model_dump(), sort_keys=True).encode()
    digest = hashlib.md5(payload, usedforsecurity=False).hexdigest()[:8]
    return f"synthetic (generate params {digest})"


def steering(data: DataParams) -> dict[str, Any]:
    """The data.* params that shape the contract besides the source."""
    return {
        "task": data.task,
        "positive_class": data.positive_class,
        "features": list(data.features) if data.features is not None else None,
        "drop": list(data.drop),
        "categorical": list(data.categorical),
    }


def reinference_reason(contract: Contract | None, data: DataParams, source: str) -> str | None:
    """Why the committed contract no longer describes the configured table (None: it does)."""
    if contract is None:
        return "no contract yet"
    if contract.source != source:
        return f"data.source changed ({contract.source} -> {source})"
    if contract.target != data.target:
        return f"data.target changed ({contract.target} -> {data.target})"
    wanted = steering(data)
    changed = [
        f"data.{key}" for key, value in wanted.items() if contract.inferred_with.get(key) != value
    ]
    if changed:
        return f"{', '.join(changed)} changed"
    return None


# --- inference ----------------------------------------------------------------------------


def _is_boolean(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if series.dtype != object:
        return False
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, bool | np.bool_) for v in values)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not _is_boolean(series)


def _sorted_labels(values: list[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def infer_task(target: pd.Series, requested: str, max_classes: int) -> tuple[str, str]:
    """The task for a target column, and why (in words for the log and the card).

    Raises:
        ContractError: the requested task does not fit the column.

    """
    values = target.dropna()
    distinct = values.nunique()
    numeric = _is_numeric(values)
    with np.errstate(invalid="ignore"):  # an infinity is not integral (and is refused later)
        integral = numeric and bool(np.all(np.mod(values.to_numpy(dtype=np.float64), 1) == 0))
    if requested == "regression":
        if not numeric:
            raise ContractError(
                f"data.task is regression but target {target.name!r} is not numeric "
                f"(e.g. {values.iloc[0]!r})"
            )
        return "regression", "set by data.task"
    if requested in ("binary", "multiclass"):
        if requested == "binary" and distinct != 2:
            raise ContractError(
                f"data.task is binary but target {target.name!r} has {distinct} classes"
            )
        return requested, "set by data.task"
    if not numeric:
        numbers, texts = _numbers_and_texts(values)
        if numbers and texts:
            raise ContractError(
                f"target {target.name!r} mixes text and numbers "
                f"(e.g. {', '.join(map(repr, [*texts[:2], *numbers[:2]]))}): {distinct} classes "
                "as written; fix the labels, or set data.task if they are meant as they are"
            )
        kind = "boolean" if _is_boolean(values) else "text"
        why = f"target is {kind} with {distinct} distinct values"
    elif integral and distinct <= max_classes:
        why = f"target has {distinct} distinct integer values (<= validate.max_classes)"
    else:
        what = "integer" if integral else "non-integer"
        return "regression", f"target is numeric with {distinct} distinct {what} values"
    return ("binary" if distinct == 2 else "multiclass"), why


def _numbers_and_texts(values: pd.Series) -> tuple[list[Any], list[Any]]:
    """The distinct values of a text column that read as numbers, and those that do not.

    Booleans read as text ("True"), so a boolean column has no numbers.
    """
    distinct = pd.Series(values.unique(), dtype=object)
    is_number = pd.to_numeric(distinct.map(str), errors="coerce").notna()
    return list(distinct[is_number]), list(distinct[~is_number])


def _margin(low: float, high: float, fraction: float) -> tuple[float, float]:
    span = high - low
    pad = fraction * span if span > 0 else fraction * max(abs(low), 1.0)
    return float(low - pad), float(high + pad)


def _range(numbers: np.ndarray, fraction: float) -> tuple[float, float]:
    """The observed range widened by `fraction` of its span, rounded for the file."""
    low, high = _margin(float(numbers.min()), float(numbers.max()), fraction)
    return round(low, 6), round(high, 6)


def _null_bound(nulls: float, margin: float) -> float:
    """The most nulls allowed: none if training saw none, else the share seen plus the margin."""
    return min(1.0, round(nulls + margin, 4)) if nulls > 0 else 0.0


def _row_bounds(rows: int, bounds: ValidateParams) -> tuple[int, int]:
    """Rows / ratio .. rows * ratio, within the hard limits (and never excluding `rows`)."""
    low = max(bounds.min_rows, min(rows, math.floor(rows / bounds.row_ratio)))
    high = min(bounds.max_rows, max(rows, math.ceil(rows * bounds.row_ratio)))
    return low, high


@dataclass(frozen=True)
class _Target:
    """What the contract says about the target column."""

    task: str
    reason: str
    classes: tuple[Any, ...] = ()
    positive: Any = None
    min: float | None = None
    max: float | None = None


def _infer_target(
    labels: pd.Series, data: DataParams, bounds: ValidateParams, problems: list[str]
) -> _Target:
    """The task, the classes (positive class last) or the range of the target.

    Raises:
        ContractError: the target is missing from nothing but nulls, has one class, or the
            requested task or positive class does not fit it.

    """
    name = data.target
    present = labels.dropna()
    if present.empty:
        raise ContractError(f"target {name!r} has no values (all {len(labels)} rows are null)")
    task, reason = infer_task(labels, data.task, bounds.max_classes)
    if task == "regression":
        numbers = present.to_numpy(dtype=np.float64)
        if np.isinf(numbers).any():
            problems.append(f"{name}: target has infinite values")
            return _Target(task, reason)
        low, high = _range(numbers, bounds.range_margin)
        return _Target(task, reason, min=low, max=high)
    counts = present.map(_plain).value_counts()
    if len(counts) < 2:
        raise ContractError(
            f"target {name!r} has one class only ({counts.index[0]!r} in "
            f"{int(counts.iloc[0])} rows): a classifier needs at least two"
        )
    classes = tuple(_sorted_labels([_plain(v) for v in counts.index]))
    if task != "binary":
        return _Target(task, reason, classes)
    positive, why = _positive_class(classes, counts, data.positive_class, name)
    negative = next(c for c in classes if c != positive)
    return _Target(task, f"{reason}; {why}", (negative, positive), positive)


def _positive_class(
    classes: tuple[Any, ...], counts: pd.Series, requested: Any, target: str
) -> tuple[Any, str]:
    """The positive class of a binary target, and why it is the one.

    Raises:
        ContractError: `data.positive_class` is not one of the classes.

    """
    if requested is None:
        # the minority class; on a tie, the later one in sorted order (1, True, "yes")
        positive = min(reversed(classes), key=lambda c: counts[c])
        return positive, f"positive class {positive!r} is the minority class"
    wanted = category_key(requested)
    matches = [c for c in classes if category_key(c) == wanted]
    if not matches:
        raise ContractError(
            f"data.positive_class {requested!r} is not a class of {target!r} "
            f"(classes: {list(classes)})"
        )
    return matches[0], f"positive class {matches[0]!r} set by data.positive_class"


def _left_out(frame: pd.DataFrame, data: DataParams, problems: list[str]) -> dict[str, str]:
    """Columns the params leave out (data.drop, not in data.features), and why."""
    dropped = {name: "listed in data.drop" for name in data.drop}
    if data.features is not None:
        absent = [name for name in data.features if name not in frame.columns]
        if absent:
            problems.append(f"data.features lists columns not in the table: {', '.join(absent)}")
        for name in frame.columns:
            if name != data.target and name not in data.features and name not in dropped:
                dropped[str(name)] = "not in data.features"
    absent_categorical = [c for c in data.categorical if c not in frame.columns]
    if absent_categorical:
        problems.append(
            f"data.categorical lists columns not in the table: {', '.join(absent_categorical)}"
        )
    return dropped


@dataclass(frozen=True)
class _Verdict:
    """One candidate feature column: its contract entry, or why it is left out, or a problem."""

    column: Column | None = None
    dropped: str | None = None
    warning: str | None = None
    problem: str | None = None


def _infer_column(
    name: str, series: pd.Series, data: DataParams, bounds: ValidateParams
) -> _Verdict:
    """A feature column's type and bounds (category, boolean or number), or why it is left out."""
    nulls = float(series.isna().mean())
    if nulls == 1.0:
        return _Verdict(
            dropped="every value is null", warning=f"column {name!r} left out: every value is null"
        )
    share, most = round(nulls, 4), _null_bound(nulls, bounds.null_margin)
    if name in data.categorical or not (_is_numeric(series) or _is_boolean(series)):
        return _category_column(name, series, share, most, data, bounds)
    if _is_boolean(series):
        return _Verdict(Column(name, "boolean", share, most))
    numbers = series.dropna().to_numpy(dtype=np.float64)
    infinite = int(np.isinf(numbers).sum())
    if infinite:
        return _Verdict(problem=f"{name}: {infinite} infinite value(s); a number must be finite")
    low, high = _range(numbers, bounds.range_margin)
    return _Verdict(Column(name, "number", share, most, min=low, max=high))


def _category_column(
    name: str,
    series: pd.Series,
    nulls: float,
    max_nulls: float,
    data: DataParams,
    bounds: ValidateParams,
) -> _Verdict:
    """A category column with its levels; or left out as an identifier or for too many levels.

    A column of numbers with a few text cells (a new source's typo, "see note") would be left
    out for its many levels: that is a problem to fix, not a column to drop without a word.
    """
    values = series.dropna()
    keys = sorted({key for v in values if (key := category_key(v)) is not None})
    unique_share = len(keys) / len(values)
    is_text = not _is_numeric(series)
    identifier = is_text and len(values) >= 20 and unique_share >= bounds.identifier_fraction
    too_many = len(keys) > bounds.max_categories
    if name not in data.categorical and (identifier or too_many):
        numbers, texts = _numbers_and_texts(values)
        if len(numbers) > len(texts):
            return _Verdict(
                problem=f"{name}: a number column with text in it ({len(texts)} text value(s), "
                f"e.g. {', '.join(map(repr, texts[:3]))}, among {len(numbers)} distinct "
                "numbers); fix those cells, or list the column in data.drop or data.categorical"
            )
    if identifier:
        return _Verdict(
            dropped=f"identifier ({unique_share:.0%} of values are unique)",
            warning=f"column {name!r} left out: looks like an identifier "
            f"({len(keys)} unique values in {len(values)} rows)",
        )
    if too_many:
        return _Verdict(
            dropped=f"{len(keys)} categories > validate.max_categories",
            warning=f"column {name!r} left out: {len(keys)} distinct values is more than "
            f"validate.max_categories={bounds.max_categories}; list it in data.drop "
            "or raise the limit",
        )
    return _Verdict(Column(name, "category", nulls, max_nulls, categories=tuple(keys)))


def infer_contract(
    frame: pd.DataFrame,
    data: DataParams,
    bounds: ValidateParams,
    source: str,
) -> tuple[Contract, list[str]]:
    """Infer the contract of a table; return it with warnings for the log (columns dropped ...).

    In four steps: the target (task, classes or range), the columns the params leave out, each
    remaining column (its type and bounds, or why it is left out), and the row bounds. Problems
    that can be reported together are; the first that makes the rest meaningless stops at once.

    Raises:
        ContractError: the table cannot be learned from (target missing or empty, one class,
            an infinity, a declared feature that is absent, no feature left); one line per problem.

    """
    if data.target not in frame.columns:
        raise ContractError(
            f"no target column {data.target!r} (columns: {', '.join(frame.columns)})"
        )
    labels = frame[data.target]
    problems: list[str] = []
    warnings: list[str] = []
    target = _infer_target(labels, data, bounds, problems)
    dropped = _left_out(frame, data, problems)
    columns = []
    for name in data.features if data.features is not None else frame.columns:
        name = str(name)
        if name == data.target or name in dropped or name not in frame.columns:
            continue
        verdict = _infer_column(name, frame[name], data, bounds)
        if verdict.problem:
            problems.append(verdict.problem)
        elif verdict.column is not None:
            columns.append(verdict.column)
        else:
            dropped[name] = str(verdict.dropped)
            warnings.append(str(verdict.warning))
    if not columns and not problems:
        problems.append("no feature column left to learn from")
    if problems:
        raise ContractError("; ".join(problems))
    rows = len(frame)
    if rows < bounds.min_rows:
        raise ContractError(
            f"the table has {rows} rows; validate.min_rows needs at least {bounds.min_rows}"
        )
    min_rows, max_rows = _row_bounds(rows, bounds)
    contract = Contract(
        source=source,
        target=data.target,
        task=target.task,
        task_reason=target.reason,
        columns=tuple(columns),
        min_rows=min_rows,
        max_rows=max_rows,
        target_max_null_fraction=_null_bound(float(labels.isna().mean()), bounds.null_margin),
        classes=target.classes,
        positive_class=target.positive,
        target_min=target.min,
        target_max=target.max,
        dropped=dropped,
        inferred_with=steering(data),
        inferred_from_rows=rows,
    )
    return contract, warnings


def describe(contract: Contract) -> dict[str, Any]:
    """A short JSON-ready summary of the contract (validation summary, model card)."""
    payload = asdict(contract)
    return {
        "source": payload["source"],
        "task": contract.task,
        "task_reason": contract.task_reason,
        "features": len(contract.columns),
        "dropped": dict(contract.dropped),
    }
