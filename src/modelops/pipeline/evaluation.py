"""Test-set metrics per task and the data behind each task's plots.

Binary: ROC, precision-recall, calibration, confusion; multiclass: N x N confusion with the
original labels and per-class scores; regression: predicted-vs-actual and residuals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelops.params import LOWER_IS_BETTER
from modelops.serving.model import category_key


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
    # scikit-learn lists recall in decreasing order; sorted ascending, "recall >= r" is every
    # later index, so the running maximum runs from the end (from the top recall down).
    order = np.argsort(recall, kind="stable")
    recall, precision = recall[order], precision[order]
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    grid = np.linspace(0.0, 1.0, points)
    sampled = envelope[np.minimum(np.searchsorted(recall, grid - 1e-12), len(recall) - 1)]
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


def confusion_rows(labels: Any, predicted: Any, classes: Any = None) -> str:
    """CSV of (actual, predicted) per test row, the input DVC's `confusion` template counts.

    With `classes`, labels and predictions are class indices shown as the original labels.
    """

    def name(value: Any) -> str:
        text = str(classes[int(value)]) if classes is not None else str(value)
        # CSV quoting: a label with a comma or a quote is quoted, its quotes doubled
        return '"' + text.replace('"', '""') + '"' if "," in text or '"' in text else text

    body = "\n".join(
        f"{name(a)},{name(p)}"
        for a, p in zip(np.asarray(labels), np.asarray(predicted), strict=True)
    )
    return f"actual,predicted\n{body}\n"


def binary_predictions(probability: Any, threshold: float) -> np.ndarray:
    """Class index 1 where the positive probability reaches the threshold, else 0."""
    return (np.asarray(probability) >= threshold).astype(int)


def multiclass_metrics(labels: Any, probabilities: Any, classes: list[Any]) -> dict[str, Any]:
    """Accuracy, macro-F1, log loss, one-vs-rest ROC AUC, and per-class precision/recall/F1.

    `labels` are class indices, `probabilities` has one column per class in `classes` order.
    """
    from sklearn import metrics

    labels = np.asarray(labels)
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-15, 1.0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    predicted = probabilities.argmax(axis=1)
    indices = list(range(len(classes)))
    present = np.unique(labels)
    if len(present) == len(classes):
        auc = metrics.roc_auc_score(labels, probabilities, multi_class="ovr", labels=indices)
    else:  # a class absent from the test set has no ROC curve: average over the present ones
        auc = (
            np.mean([metrics.roc_auc_score(labels == k, probabilities[:, k]) for k in present])
            if len(present) > 1
            else float("nan")
        )
    scores: dict[str, Any] = {
        "accuracy": metrics.accuracy_score(labels, predicted),
        "f1_macro": metrics.f1_score(
            labels, predicted, average="macro", labels=indices, zero_division=0
        ),
        "log_loss": metrics.log_loss(labels, probabilities, labels=indices),
        "roc_auc_ovr": auc,
    }
    scores = {name: round(float(value), 6) for name, value in scores.items()}
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        labels, predicted, labels=indices, zero_division=0
    )
    scores["per_class"] = per_class(classes, precision, recall, f1, support)
    return scores


def per_class(
    classes: list[Any], precision: Any, recall: Any, f1: Any, support: Any
) -> dict[str, dict[str, float | int]]:
    """Precision, recall, F1 (rounded) and support of each class, by the class's label."""
    return {
        str(label): {
            "precision": round(float(precision[k]), 6),
            "recall": round(float(recall[k]), 6),
            "f1": round(float(f1[k]), 6),
            "support": int(support[k]),
        }
        for k, label in enumerate(classes)
    }


def regression_metrics(actual: Any, predicted: Any) -> dict[str, float]:
    """RMSE, MAE and R² of predicted values."""
    from sklearn import metrics

    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    scores = {
        "rmse": float(np.sqrt(metrics.mean_squared_error(actual, predicted))),
        "mae": metrics.mean_absolute_error(actual, predicted),
        "r2": metrics.r2_score(actual, predicted),
    }
    return {name: round(float(value), 6) for name, value in scores.items()}


def task_metrics(
    task: str, labels: Any, scores: Any, classes: list[Any], threshold: float = 0.5
) -> dict[str, Any]:
    """The metrics of a task.

    `labels` are class indices (classification) or values; `scores` are the model's class
    probabilities, or its predicted values for regression.
    """
    if task == "regression":
        return regression_metrics(labels, scores)
    if task == "binary":
        return compute_metrics(labels, np.asarray(scores)[:, 1], threshold)
    return multiclass_metrics(labels, scores, classes)


def _sample(n: int, points: int) -> np.ndarray:
    """Evenly spaced row indices, so plot files do not grow with the test set."""
    return (
        np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int))
        if n
        else np.array([], dtype=int)
    )


def predicted_vs_actual_points(actual: Any, predicted: Any, points: int) -> list[dict[str, float]]:
    """(actual, predicted) pairs, sorted by actual value, at most `points` of them."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    order = np.argsort(actual, kind="stable")[_sample(len(actual), points)]
    return [
        {"actual": round(float(actual[i]), 6), "predicted": round(float(predicted[i]), 6)}
        for i in order
    ]


def residual_points(actual: Any, predicted: Any, points: int) -> list[dict[str, float]]:
    """(predicted, residual = actual - predicted), sorted by prediction, at most `points`."""
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    order = np.argsort(predicted, kind="stable")[_sample(len(actual), points)]
    return [
        {
            "predicted": round(float(predicted[i]), 6),
            "residual": round(float(actual[i] - predicted[i]), 6),
        }
        for i in order
    ]


def label_indices(model: Any, values: Any) -> np.ndarray:
    """Target values as a model's class indices (-1: not a class of it), or floats (regression)."""
    if model.task == "regression":
        return np.asarray(values, dtype=np.float64)
    index = {category_key(c): i for i, c in enumerate(model.classes)}
    return np.array([index.get(category_key(v), -1) for v in values], dtype=np.int64)


def plot_data(
    model: Any, labels: Any, scores: Any, curve_points: int, calibration_bins: int
) -> dict[str, Any]:
    """Each of the task's plots for one candidate, by plot kind (see `plots:` in dvc.yaml).

    Point lists are written as JSON; the confusion matrix (a str) as CSV rows.
    """
    if model.task == "regression":
        return {
            "predicted_vs_actual": predicted_vs_actual_points(labels, scores, curve_points * 5),
            "residuals": residual_points(labels, scores, curve_points * 5),
        }
    plots: dict[str, Any] = {}
    if model.task == "binary":
        positive = scores[:, 1]
        plots["roc"] = roc_points(labels, positive, curve_points)
        plots["precision_recall"] = precision_recall_points(labels, positive, curve_points)
        plots["calibration"] = calibration_points(labels, positive, calibration_bins)
        predicted = binary_predictions(positive, model.threshold)
    else:
        predicted = scores.argmax(axis=1)
    plots["confusion"] = confusion_rows(labels, predicted, model.classes)
    return plots
