"""Test-set metrics and the data behind the ROC, precision-recall and calibration plots."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops.params import LOWER_IS_BETTER


def compute_metrics(labels: Any, probability: Any, threshold: float = 0.5) -> dict[str, float]:
    """Threshold-free (roc_auc, pr_auc, log_loss) and thresholded metrics, rounded for diffs."""
    from sklearn import metrics

    labels = np.asarray(labels)
    probability = np.clip(np.asarray(probability, dtype=np.float64), 1e-15, 1 - 1e-15)
    predicted = (probability >= threshold).astype(int)
    scores = {
        "roc_auc": metrics.roc_auc_score(labels, probability),
        "pr_auc": metrics.average_precision_score(labels, probability),
        "f1": metrics.f1_score(labels, predicted, zero_division=0),
        "precision": metrics.precision_score(labels, predicted, zero_division=0),
        "recall": metrics.recall_score(labels, predicted, zero_division=0),
        "accuracy": metrics.accuracy_score(labels, predicted),
        "log_loss": metrics.log_loss(labels, probability, labels=[0, 1]),
    }
    return {name: round(float(value), 6) for name, value in scores.items()}


def is_better(metric: str, score: float, other: float) -> bool:
    """Whether `score` beats `other` on `metric` (log_loss: lower is better)."""
    return score < other if metric in LOWER_IS_BETTER else score > other


def regression(metric: str, candidate: float, champion: float) -> float:
    """How much worse the candidate is than the champion (negative when it is better)."""
    return candidate - champion if metric in LOWER_IS_BETTER else champion - candidate


def roc_points(labels: Any, probability: Any, points: int) -> list[dict[str, float]]:
    """ROC curve on a fixed false-positive-rate grid, so file size does not grow with data."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(labels, probability)
    grid = np.linspace(0.0, 1.0, points)
    sampled = np.interp(grid, fpr, tpr)
    sampled[0] = 0.0
    return [
        {"fpr": round(float(x), 4), "tpr": round(float(y), 6)}
        for x, y in zip(grid, sampled, strict=True)
    ]


def precision_recall_points(labels: Any, probability: Any, points: int) -> list[dict[str, float]]:
    """Precision-recall curve sampled on a fixed recall grid (interpolated precision envelope)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(labels, probability)
    # Interpolated precision: the best precision at any recall >= r (the usual PR envelope).
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    order = np.argsort(recall)
    grid = np.linspace(0.0, 1.0, points)
    sampled = np.interp(grid, recall[order], envelope[order])
    return [
        {"recall": round(float(r), 4), "precision": round(float(p), 6)}
        for r, p in zip(grid, sampled, strict=True)
    ]


def calibration_points(labels: Any, probability: Any, bins: int) -> list[dict[str, float]]:
    """Reliability diagram: mean predicted probability vs observed positive rate per bin."""
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(labels, probability, n_bins=bins, strategy="uniform")
    return [
        {"mean_predicted": round(float(p), 6), "fraction_positive": round(float(o), 6)}
        for p, o in zip(predicted, observed, strict=True)
    ]


def confusion_rows(labels: Any, probability: Any, threshold: float) -> str:
    """CSV of (actual, predicted) per test row, the input DVC's `confusion` template counts."""
    predicted = (np.asarray(probability) >= threshold).astype(int)
    body = "\n".join(f"{a},{p}" for a, p in zip(np.asarray(labels), predicted, strict=True))
    return f"actual,predicted\n{body}\n"
