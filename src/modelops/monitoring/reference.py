"""The reference the monitor compares live traffic with, summarised so it travels with the model.

Built by the pipeline's `reference` stage from the training split (features) and the selected
model's predictions on the test split (what the model predicts on rows it did not learn from; on
the training split a forest's confidence is inflated). Per numeric feature: `bins` quantiles at
the mid-probabilities (i + 0.5) / bins — Wasserstein-1 against them equals the distance to the
training column up to the binning — plus a histogram for plots, mean, standard deviation and null
rate; per category or boolean feature: frequencies of each value and the null rate. A few
kilobytes, so `make monitor` never needs the training table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from modelops.serving.capture import contract_hash
from modelops.serving.model import category_key

REFERENCE_VERSION = 1


def value_key(kind: str, value: Any) -> str | None:
    """A category or boolean cell as the text the reference counts it under (None if missing)."""
    if kind == "boolean":
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, str):
            return value.strip().lower()
        return "true" if bool(value) else "false"
    return category_key(value)


def key_counts(kind: str, values: Sequence[Any]) -> Counter[str | None]:
    """How often each key occurs in a column of raw cells.

    Raw values are counted first and only the distinct ones turned into keys: a million cells
    of a few categories cost one C-level count, not a million function calls.
    """
    try:
        raw = Counter(values)
    except TypeError:  # an unhashable cell (a list in a malformed record): count one by one
        return Counter(value_key(kind, v) if _hashable(v) else repr(v) for v in values)
    counts: Counter[str | None] = Counter()
    for value, count in raw.items():
        counts[value_key(kind, value)] += count
    return counts


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def frequencies(
    keys: Iterable[str | None] | Counter[str | None],
) -> tuple[dict[str, float], int, int]:
    """(share of each non-missing key, non-missing count, missing count)."""
    counts = Counter(keys)
    missing = counts.pop(None, 0)
    total = sum(counts.values())
    shares = {str(k): v / total for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))}
    return shares, total, missing


def mid_quantiles(values: np.ndarray, bins: int) -> list[float]:
    """The values' quantiles at probabilities (i + 0.5) / bins."""
    probabilities = (np.arange(bins) + 0.5) / bins
    return [float(q) for q in np.quantile(values, probabilities)]


def numeric_summary(values: np.ndarray, bins: int) -> dict[str, Any]:
    """What the monitor keeps of a numeric column (floats, NaN = missing)."""
    present = values[~np.isnan(values)]
    summary: dict[str, Any] = {
        "type": "number",
        "rows": len(values),
        "null_rate": float(1 - len(present) / len(values)) if len(values) else 0.0,
    }
    if len(present) == 0:
        return {**summary, "mean": None, "std": None, "quantiles": [], "histogram": None}
    counts, edges = np.histogram(present, bins=min(bins, 50))
    return {
        **summary,
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": float(present.min()),
        "max": float(present.max()),
        "quantiles": mid_quantiles(present, bins),
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


def categorical_summary(kind: str, values: Sequence[Any]) -> dict[str, Any]:
    """What the monitor keeps of a category or boolean column."""
    shares, present, missing = frequencies(key_counts(kind, values))
    rows = present + missing
    return {
        "type": kind,
        "rows": rows,
        "null_rate": missing / rows if rows else 0.0,
        "frequencies": shares,
    }


def prediction_summary(
    task: str, predictions: Sequence[Mapping[str, Any]], bins: int
) -> dict[str, Any]:
    """The predictions' distribution: labels and mean confidence, or values."""
    if task == "regression":
        values = np.array([p.get("value") for p in predictions], dtype=float)
        return {"kind": "value", **numeric_summary(values, bins)}
    shares, present, _ = frequencies(category_key(p.get("label")) for p in predictions)
    confidence = np.array(
        [max((p.get("probabilities") or {"": np.nan}).values()) for p in predictions], dtype=float
    )
    confidence = confidence[~np.isnan(confidence)]
    return {
        "kind": "label",
        "rows": present,
        "frequencies": shares,
        "mean_confidence": float(confidence.mean()) if len(confidence) else None,
        "confidence_quantiles": mid_quantiles(confidence, bins) if len(confidence) else [],
    }


def build_reference(
    features: Mapping[str, Sequence[Any]],
    feature_schema: Sequence[Mapping[str, Any]],
    card: Mapping[str, Any],
    test_predictions: Sequence[Mapping[str, Any]],
    bins: int,
    exclude: Sequence[str] = (),
) -> dict[str, Any]:
    """The reference summary of a training split (column -> raw values) and test predictions."""
    summaries: dict[str, Any] = {}
    for entry in feature_schema:
        name, kind = str(entry["name"]), entry.get("type", "number")
        if name in exclude:
            continue
        column = features[name]
        if kind == "number":
            summaries[name] = numeric_summary(np.asarray(column, dtype=float), bins)
        else:
            summary = categorical_summary(kind, column)
            if kind == "category":
                summary["categories"] = [str(c) for c in entry.get("categories") or ()]
            summaries[name] = summary
    task = str(card.get("task", "regression"))
    return {
        "version": REFERENCE_VERSION,
        "model": {"name": str(card.get("name")), "version": str(card.get("version"))},
        "contract": contract_hash(feature_schema),
        "task": task,
        "classes": [str(c) for c in card.get("classes") or []],
        "bins": bins,
        "features": summaries,
        "prediction": prediction_summary(task, test_predictions, bins),
    }


def raw_values(frame: Any, name: str) -> list[Any]:
    """A DataFrame column as raw cells, pandas' missing markers (NaN, NA, NaT) as None."""
    column = frame[name]
    return [
        None if missing else value
        for value, missing in zip(column.to_numpy(dtype=object), column.isna(), strict=True)
    ]


def reference_of_split(
    train: Any, test: Any, predictor: Any, bins: int, exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """The reference of a training split and the selected model's predictions on the test split.

    `train` and `test` are DataFrames with the model's raw feature columns; `predictor` a
    `modelops.serving.inference.Predictor`.
    """
    schema = predictor.card["feature_schema"]
    names = [str(entry["name"]) for entry in schema]
    columns = {name: raw_values(train, name) for name in names if name not in exclude}
    test_columns = {name: raw_values(test, name) for name in names}
    rows = [
        dict(zip(names, values, strict=True)) for values in zip(*test_columns.values(), strict=True)
    ]
    predictions = predictor.predict(rows) if rows else []
    return build_reference(columns, schema, predictor.card, predictions, bins, exclude)
