"""Drift of a window of captured rows against the stored reference, feature by feature.

Statistics (scipy's, not hand-written):
- numbers: normalized Wasserstein distance — `scipy.stats.wasserstein_distance` between the
  window's values and the reference's mid-quantiles, divided by the reference's standard
  deviation (Evidently's "normed" Wasserstein; 0.1 = a tenth of a standard deviation);
- categories and booleans: Jensen-Shannon distance, `scipy.spatial.distance.jensenshannon` with
  **log base 2**, so it lies in [0, 1] (with base e the same shift reads 1.2x smaller);
- every feature: the change of its null rate; categories: the share of values the contract
  does not list (the model predicts on them as missing);
- predictions: Jensen-Shannon on the predicted-class mix (classifiers) or normalized
  Wasserstein on the values (regression).
No verdict on a window with fewer than `monitor.min_rows` rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from modelops.monitoring.reference import frequencies, key_counts, mid_quantiles
from modelops.monitoring.window import Window
from modelops.params import MonitorParams

JS_BASE = 2


def as_numbers(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, int]:
    """Floats (NaN for missing) and how many cells were not numbers at all (also NaN)."""
    try:
        return np.array(values, dtype=float), 0
    except (TypeError, ValueError):
        numbers, bad = np.full(len(values), np.nan), 0
        for i, value in enumerate(values):
            if isinstance(value, int | float) and not isinstance(value, bool):
                numbers[i] = value
            elif value is not None:
                bad += 1
        return numbers, bad


def normed_wasserstein(reference: Mapping[str, Any], present: np.ndarray) -> float:
    """Wasserstein-1 between the reference's quantiles and `present`, in reference std units."""
    scale = reference.get("std") or 0.0
    distance = wasserstein_distance(reference["quantiles"], present)
    if scale > 0:
        return float(distance / scale)
    return float("inf") if distance > 0 else 0.0  # a constant column that moved at all


def js_distance(reference: Mapping[str, float], window: Mapping[str, float]) -> float:
    """Jensen-Shannon distance (base 2) between two frequency tables over the union of keys."""
    keys = sorted(set(reference) | set(window))
    p = np.array([reference.get(k, 0.0) for k in keys])
    q = np.array([window.get(k, 0.0) for k in keys])
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    return float(jensenshannon(p, q, base=JS_BASE))


def _test(name: str, value: float, threshold: float) -> dict[str, Any]:
    finite = value if np.isfinite(value) else None
    return {"test": name, "value": finite, "threshold": threshold, "drift": bool(value > threshold)}


def numeric_drift(
    reference: Mapping[str, Any], values: Sequence[Any] | np.ndarray, params: MonitorParams
) -> dict[str, Any]:
    """Statistics of one numeric feature."""
    numbers, not_numbers = as_numbers(values)
    present = numbers[~np.isnan(numbers)]
    null_rate = 1 - len(present) / len(numbers) if len(numbers) else 0.0
    tests = [
        _test(
            "null_rate_change",
            abs(null_rate - reference["null_rate"]),
            params.null_rate_threshold,
        )
    ]
    if len(present) and reference.get("quantiles"):
        tests.insert(
            0,
            _test(
                "wasserstein_normed",
                normed_wasserstein(reference, present),
                params.wasserstein_threshold,
            ),
        )
    return {
        "type": "number",
        "null_rate": null_rate,
        "reference_null_rate": reference["null_rate"],
        "mean": float(present.mean()) if len(present) else None,
        "reference_mean": reference.get("mean"),
        "not_numbers": not_numbers,
        "tests": tests,
        "window_quantiles": mid_quantiles(present, 50) if len(present) else [],
    }


def categorical_drift(
    reference: Mapping[str, Any], values: Sequence[Any], params: MonitorParams
) -> dict[str, Any]:
    """Statistics of one category or boolean feature."""
    kind = reference["type"]
    shares, present, missing = frequencies(key_counts(kind, values))
    rows = present + missing
    null_rate = missing / rows if rows else 0.0
    tests = [
        _test(
            "jensen_shannon",
            js_distance(reference["frequencies"], shares),
            params.jensen_shannon_threshold,
        )
    ]
    known = set(reference.get("categories") or ()) if kind == "category" else {"true", "false"}
    unseen = {k: s for k, s in shares.items() if k not in known}
    if kind == "category" or unseen:
        tests.append(_test("unseen_share", sum(unseen.values()), params.unseen_threshold))
    tests.append(
        _test(
            "null_rate_change", abs(null_rate - reference["null_rate"]), params.null_rate_threshold
        )
    )
    return {
        "type": kind,
        "null_rate": null_rate,
        "reference_null_rate": reference["null_rate"],
        "frequencies": shares,
        "reference_frequencies": reference["frequencies"],
        "unseen": sorted(unseen, key=lambda k: -unseen[k])[:20],
        "tests": tests,
    }


def prediction_drift(
    reference: Mapping[str, Any], window: Window, params: MonitorParams
) -> dict[str, Any]:
    """The predictions' shift, and the label-free performance estimates for classifiers."""
    if reference["kind"] == "value":
        result = numeric_drift(reference, np.asarray(window.values, dtype=float), params)
        result["tests"] = [t for t in result["tests"] if t["test"] != "null_rate_change"]
        return result
    shares, _, _ = frequencies(key_counts("category", window.labels))
    confidence = np.asarray(window.confidences, dtype=float)
    confidence = confidence[~np.isnan(confidence)]
    return {
        "type": "label",
        "frequencies": shares,
        "reference_frequencies": reference["frequencies"],
        "tests": [
            _test(
                "jensen_shannon",
                js_distance(reference["frequencies"], shares),
                params.jensen_shannon_threshold,
            )
        ],
        "estimates": {
            "note": "estimates without labels: the model's own confidence and predicted-class "
            "mix, compared with the test split's; not measured accuracy",
            "mean_confidence": float(confidence.mean()) if len(confidence) else None,
            "reference_mean_confidence": reference.get("mean_confidence"),
            "predicted_class_mix": shares,
            "reference_predicted_class_mix": reference["frequencies"],
        },
    }


def contract_check(contract: Any, window: Window) -> dict[str, Any]:
    """The window against contract.yaml: columns, types, ranges, categories, null fractions.

    The same bounds the pipeline's Great Expectations suite enforces on a training table, checked
    here with vectorised NumPy on up to millions of captured rows (the window has no target and
    no row-count bounds, so the training suite itself does not apply).
    """
    failures: list[str] = []
    captured = set(window.columns)
    for column in contract.columns:
        if column.name not in captured:
            continue  # excluded from capture (monitor.exclude): nothing to check
        values = window.columns[column.name]
        rows = len(values)
        if column.type == "number":
            numbers, bad = as_numbers(values)
            if bad:
                failures.append(f"{column.name}: {bad} values are not numbers")
            present = numbers[~np.isnan(numbers)]
            outside = (
                int(((present < column.min) | (present > column.max)).sum())
                if len(present) and column.min is not None
                else 0
            )
            if outside:
                failures.append(
                    f"{column.name}: {outside} of {rows} values outside "
                    f"[{column.min:g}, {column.max:g}]"
                )
            nulls = rows - len(present)
        else:
            counts = key_counts(column.type, values)
            nulls = counts.get(None, 0)
            allowed = set(column.categories) if column.type == "category" else {"true", "false"}
            others = sorted(str(k) for k in counts if k is not None and k not in allowed)
            if others:
                shown = ", ".join(map(repr, others[:5])) + (" ..." if len(others) > 5 else "")
                failures.append(f"{column.name}: values not in the contract: {shown}")
        if rows and nulls / rows > column.max_null_fraction:
            failures.append(
                f"{column.name}: null fraction {nulls / rows:.3f} above "
                f"{column.max_null_fraction:.3f}"
            )
    missing = sorted(set(contract.feature_names) - captured)
    return {"success": not failures, "failures": failures, "not_captured": missing}


def compare(
    reference: Mapping[str, Any],
    window: Window,
    params: MonitorParams,
    contract: Any | None = None,
    contract_hash: str | None = None,
) -> dict[str, Any]:
    """The drift report of a window (JSON-ready): verdict, per-feature statistics, checks."""
    features: dict[str, Any] = {}
    for name, ref in reference["features"].items():
        if name in params.exclude or name not in window.columns:
            continue
        if ref["type"] == "number":
            features[name] = numeric_drift(ref, window.columns[name], params)
        else:
            features[name] = categorical_drift(ref, window.columns[name], params)
        features[name]["drift"] = any(t["drift"] for t in features[name]["tests"])
    prediction = prediction_drift(reference["prediction"], window, params)
    prediction["drift"] = any(t["drift"] for t in prediction["tests"])
    enough = window.rows >= params.min_rows
    if not enough:  # the statistics stay, for a person to read; the verdicts are withheld
        for entry in [*features.values(), prediction]:
            entry["drift"] = None
    drifted = sorted(name for name, f in features.items() if f["drift"])
    share = len(drifted) / len(features) if features else 0.0
    drift: bool | None = None
    if enough:
        drift = bool(drifted and share > params.share_of_features) or prediction["drift"]
    reasons = []
    if not enough:
        reasons.append(f"{window.rows} rows < monitor.min_rows {params.min_rows}: no verdict")
    other_contracts = sorted(set(window.contracts) - {contract_hash or reference["contract"]})
    if other_contracts:
        reasons.append(
            f"rows captured under another contract: {', '.join(other_contracts)} "
            f"({sum(window.contracts[c] for c in other_contracts)} rows)"
        )
    return {
        "drift": drift,
        "rows": window.rows,
        "min_rows": params.min_rows,
        "window": {
            "first": window.first,
            "last": window.last,
            "records": window.records,
            "unreadable": window.unreadable,
            "models": window.models,
            "contracts": window.contracts,
        },
        "reference": {"model": reference["model"], "contract": reference["contract"]},
        "drifted_features": drifted,
        "features": features,
        "prediction": prediction,
        "contract_check": contract_check(contract, window) if contract is not None else None,
        "notes": reasons,
        "statistics": {
            "number": "normalized Wasserstein (scipy.stats.wasserstein_distance / reference std)",
            "category": "Jensen-Shannon distance, log base 2 (scipy.spatial.distance)",
        },
    }


def fingerprint(report: Mapping[str, Any]) -> str:
    """What a drift is, for silencing: the drifted features and tests, and unseen categories.

    Statistic values move with every window; the set of what drifted only changes when the
    drift itself changes.
    """
    import hashlib

    parts = []
    for name in report["drifted_features"]:
        feature = report["features"][name]
        tests = sorted(t["test"] for t in feature["tests"] if t["drift"])
        unseen = feature.get("unseen") if "unseen_share" in tests else []
        parts.append(f"{name}:{','.join(tests)}:{','.join(sorted(unseen or []))}")
    if report["prediction"]["drift"]:
        parts.append("prediction")
    if not parts:
        return ""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
