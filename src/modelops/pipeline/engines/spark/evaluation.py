"""Test metrics on Spark, computed on the executors: the local engine's metrics, distributed.

The model scores each partition in a pandas UDF (its own encoding, as in serving). What leaves the
executors is sufficient statistics, never the rows: counts of the confusion matrix, sums of losses
and of squared or absolute errors, and for the ranking metrics (ROC AUC, average precision) the
positives and negatives per distinct score, sorted by score across partitions with each partition
adding its share of the area from the counts before it. The formulas are scikit-learn's (the
local engine's `modelops.pipeline.evaluation`): the same clipping, ties, zero-division rules and
rounding, so both engines give the same numbers on the same rows, within float summation order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from modelops.pipeline import evaluation
from modelops.pipeline.engines import UnknownLabels
from modelops.pipeline.training import scores_of
from modelops.serving.model import TabularModel

LABEL, SCORE, PREDICTED, LOSS = "y", "p", "predicted", "loss"
CLIP = 1e-15  # evaluation.compute_metrics / multiclass_metrics clip probabilities to this
EPS = float(np.finfo(np.float64).eps)  # sklearn's log_loss clips to [eps, 1 - eps]


def probability_column(index: int) -> str:
    """The column of class `index`'s (normalised) probability in the scored table."""
    return f"p{index}"


def scored_rows(model: TabularModel, table: DataFrame, target: str) -> DataFrame:
    """Per row, what the metrics need: label index (or value), score(s), prediction, log loss."""
    task = model.task
    fields = [T.StructField(LABEL, T.DoubleType())]
    if task == "regression":
        fields.append(T.StructField(SCORE, T.DoubleType()))
    elif task == "binary":
        fields += [T.StructField(n, T.DoubleType()) for n in (SCORE, PREDICTED, LOSS)]
    else:
        fields += [T.StructField(PREDICTED, T.DoubleType()), T.StructField(LOSS, T.DoubleType())]
        fields += [
            T.StructField(probability_column(k), T.DoubleType()) for k in range(len(model.classes))
        ]
    threshold = model.threshold

    def score(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            labels = evaluation.label_indices(model, batch[target])
            output = scores_of(model, model.encode_frame(batch))
            if task == "regression":
                yield pd.DataFrame({LABEL: labels, SCORE: output})
                continue
            known = labels >= 0
            if task == "binary":
                positive = np.clip(output[:, 1], CLIP, 1 - CLIP)
                true = np.where(labels == 1, positive, 1 - positive)
                yield pd.DataFrame({
                    LABEL: labels, SCORE: positive,
                    PREDICTED: evaluation.binary_predictions(positive, threshold),
                    LOSS: np.where(known, -np.log(np.clip(true, EPS, 1 - EPS)), np.nan),
                })  # fmt: skip
                continue
            probabilities = np.clip(output, CLIP, 1.0)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            true = probabilities[np.arange(len(labels)), np.where(known, labels, 0)]
            frame = pd.DataFrame({
                LABEL: labels, PREDICTED: probabilities.argmax(axis=1),
                LOSS: np.where(known, -np.log(np.clip(true, EPS, 1 - EPS)), np.nan),
            })  # fmt: skip
            for k in range(probabilities.shape[1]):
                frame[probability_column(k)] = probabilities[:, k]
            yield frame

    wanted = [*model.feature_names, target]
    return table.select(*wanted).mapInPandas(score, T.StructType(fields))


def ranking_areas(scored: DataFrame, score: str, positive: Any) -> tuple[float, float]:
    """(ROC AUC, average precision) of `score` for rows where `positive` holds.

    Exact, as scikit-learn computes them (one curve point per distinct score, trapezoids for ROC,
    steps for average precision), without bringing rows to the driver: the table shrinks to
    positives/negatives per distinct score, is sorted by score descending (range-partitioned),
    and each partition adds its area from the cumulative counts of the partitions before it.

    Raises:
        ValueError: only one class is present (no ROC curve), as scikit-learn says.

    """
    counts = (
        scored.groupBy(score)
        .agg(F.sum(F.when(positive, 1).otherwise(0)).alias("tp"), F.count("*").alias("n"))
        .orderBy(F.col(score).desc())
        .select("tp", (F.col("n") - F.col("tp")).alias("fp"))
    )
    ordered = counts.rdd.map(tuple).cache()
    try:

        def totals(index: int, rows: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int, int]]:
            tp = fp = 0
            for row_tp, row_fp in rows:
                tp, fp = tp + row_tp, fp + row_fp
            yield index, tp, fp

        per_partition = sorted(ordered.mapPartitionsWithIndex(totals).collect())
        offsets, tp_total, fp_total = {}, 0, 0
        for index, tp, fp in per_partition:
            offsets[index] = (tp_total, fp_total)
            tp_total, fp_total = tp_total + tp, fp_total + fp
        if tp_total == 0 or fp_total == 0:
            raise ValueError(
                "Only one class is present in the labels: ROC AUC is not defined in that case"
            )

        def areas(index: int, rows: Iterable[tuple[int, int]]) -> Iterator[tuple[float, float]]:
            tp0, fp0 = offsets[index]
            roc = precision = 0.0
            for row_tp, row_fp in rows:
                tp1, fp1 = tp0 + row_tp, fp0 + row_fp
                roc += (fp1 - fp0) * (tp1 + tp0) / 2.0
                precision += (tp1 - tp0) * (tp1 / (tp1 + fp1))
                tp0, fp0 = tp1, fp1
            yield roc, precision

        parts = ordered.mapPartitionsWithIndex(areas).collect()
    finally:
        ordered.unpersist()
    roc_sum = math.fsum(part[0] for part in parts)
    precision_sum = math.fsum(part[1] for part in parts)
    return roc_sum / (tp_total * fp_total), precision_sum / tp_total


def confusion(scored: DataFrame, classes: int) -> np.ndarray:
    """The classes x classes counts (actual rows, predicted columns), counted on the executors."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    for row in scored.groupBy(LABEL, PREDICTED).count().collect():
        matrix[int(row[LABEL]), int(row[PREDICTED])] = row["count"]
    return matrix


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0  # scikit-learn's zero_division=0


def binary_metrics(scored: DataFrame) -> dict[str, float]:
    """evaluation.compute_metrics on the executors' counts and sums."""
    sums = scored.agg(
        F.count("*").alias("n"),
        F.sum(F.col(LABEL) * F.col(PREDICTED)).alias("tp"),
        F.sum(F.col(PREDICTED)).alias("predicted"),
        F.sum(F.col(LABEL)).alias("actual"),
        F.sum(LOSS).alias("loss"),
    ).first()
    assert sums is not None
    n, tp = sums["n"], sums["tp"]
    precision = _ratio(tp, sums["predicted"])
    recall = _ratio(tp, sums["actual"])
    roc_auc, pr_auc = ranking_areas(scored, SCORE, F.col(LABEL) == 1)
    correct = n - sums["predicted"] - sums["actual"] + 2 * tp
    scores = {
        "roc_auc": roc_auc,
        "pr_auc": pr_auc,
        "f1": _ratio(2 * tp, sums["predicted"] + sums["actual"]),
        "precision": precision,
        "recall": recall,
        "accuracy": correct / n,
        "log_loss": sums["loss"] / n,
    }
    return {name: round(float(value), 6) for name, value in scores.items()}


def multiclass_metrics(scored: DataFrame, classes: list[Any]) -> dict[str, Any]:
    """evaluation.multiclass_metrics from the confusion counts, loss sums and per-class areas."""
    matrix = confusion(scored, len(classes))
    n = int(matrix.sum())
    true_positive = np.diag(matrix).astype(np.float64)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    precision = [_ratio(t, p) for t, p in zip(true_positive, predicted, strict=True)]
    recall = [_ratio(t, s) for t, s in zip(true_positive, support, strict=True)]
    f1 = [_ratio(2 * t, p + s) for t, p, s in zip(true_positive, predicted, support, strict=True)]
    present = [k for k in range(len(classes)) if support[k]]
    if len(present) > 1:
        auc = float(np.mean([
            ranking_areas(scored, probability_column(k), F.col(LABEL) == k)[0] for k in present
        ]))  # fmt: skip
    else:
        auc = float("nan")
    loss = scored.agg(F.sum(LOSS)).first()
    assert loss is not None
    scores: dict[str, Any] = {
        "accuracy": true_positive.sum() / n,
        "f1_macro": float(np.mean(f1)),
        "log_loss": loss[0] / n,
        "roc_auc_ovr": auc,
    }
    scores = {name: round(float(value), 6) for name, value in scores.items()}
    scores["per_class"] = evaluation.per_class(classes, precision, recall, f1, support)
    return scores


def regression_metrics(scored: DataFrame) -> dict[str, float]:
    """evaluation.regression_metrics from sums of errors (two passes: the mean, then R²'s SST)."""
    error = F.col(LABEL) - F.col(SCORE)
    sums = scored.agg(
        F.count("*").alias("n"),
        F.sum(F.col(LABEL)).alias("total"),
        F.sum(error * error).alias("sse"),
        F.sum(F.abs(error)).alias("sae"),
    ).first()
    assert sums is not None
    n = sums["n"]
    mean = sums["total"] / n
    spread = scored.agg(F.sum((F.col(LABEL) - mean) ** 2)).first()
    assert spread is not None
    sse, sst = sums["sse"], spread[0]
    r2 = (1.0 if sse == 0 else 0.0) if sst == 0 else 1 - sse / sst  # sklearn's force_finite
    scores = {"rmse": math.sqrt(sse / n), "mae": sums["sae"] / n, "r2": r2}
    return {name: round(float(value), 6) for name, value in scores.items()}


def model_metrics(model: TabularModel, table: DataFrame, target: str) -> dict[str, Any]:
    """The model's task metrics (evaluation.task_metrics) on every row of `table`, distributed.

    Raises:
        UnknownLabels: a target value is not one of the model's classes.

    """
    scored = scored_rows(model, table, target).persist()
    try:
        if model.task == "regression":
            return regression_metrics(scored)
        unknown = scored.filter(F.col(LABEL) < 0).count()
        if unknown:
            raise UnknownLabels(
                f"{target} holds values that are not classes of the model ({unknown} rows)"
            )
        if model.task == "binary":
            return binary_metrics(scored)
        return multiclass_metrics(scored, list(model.classes))
    finally:
        scored.unpersist()


def evaluate_model(
    model: TabularModel, table: DataFrame, target: str, curve_points: int, bins: int, rows: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Distributed metrics on the whole table; plot data from its first `rows` rows (the driver).

    A plot's points are bounded (curve_points, bins) but their inputs are rows, so they come from
    a bounded sample; the metrics the gate compares never do.
    """
    sample = table.select(*model.feature_names, target).limit(rows).toPandas()
    labels = evaluation.label_indices(model, sample[target])
    output = scores_of(model, model.encode_frame(sample))
    plots = evaluation.plot_data(model, labels, output, curve_points, bins)
    return model_metrics(model, table, target), plots
