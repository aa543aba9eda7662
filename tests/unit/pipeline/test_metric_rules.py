"""Metric values against scikit-learn on imbalanced labels, and the direction of every metric.

scikit-learn is the reference: each of our metrics must equal the scikit-learn call a reader
would write for it (multiclass F1 is the *macro* average, one-vs-rest AUC the macro average over
classes), on labels imbalanced enough that every other average gives a different number. The
selection tests pin that lower-is-better metrics pick the smallest score, in the ranking, the
gate's minimum and the champion comparison.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from modelops.params import ALL_METRICS, LOWER_IS_BETTER, METRICS_BY_TASK, SelectParams
from modelops.pipeline.evaluation import (
    binary_predictions,
    compute_metrics,
    is_better,
    multiclass_metrics,
    regression,
    regression_metrics,
    task_metrics,
)
from modelops.pipeline.selection import ChampionScore, GateRefused, decide, rank_candidates


def imbalanced_multiclass(seed: int = 3):
    """70/20/10 labels; probabilities right most of the time, and often wrong on the rare class."""
    rng = np.random.default_rng(seed)
    labels = np.array([0] * 70 + [1] * 20 + [2] * 10)
    raw = rng.random((100, 3))
    raw[np.arange(100), labels] += rng.choice([0.0, 0.6], 100, p=[0.3, 0.7])
    return labels, raw / raw.sum(axis=1, keepdims=True)


def test_multiclass_metrics_equal_scikit_learn_with_the_macro_average():
    labels, probabilities = imbalanced_multiclass()
    predicted = probabilities.argmax(axis=1)
    got = multiclass_metrics(labels, probabilities, ["a", "b", "c"])
    macro = sk.f1_score(labels, predicted, average="macro")
    assert got["f1_macro"] == round(macro, 6)
    # the averages differ on these labels, so the wrong one would not pass
    for other in ("micro", "weighted"):
        assert abs(sk.f1_score(labels, predicted, average=other) - macro) > 0.02
    assert got["accuracy"] == round(sk.accuracy_score(labels, predicted), 6)
    assert got["log_loss"] == round(sk.log_loss(labels, probabilities), 6)
    auc = sk.roc_auc_score(labels, probabilities, multi_class="ovr", average="macro")
    assert got["roc_auc_ovr"] == round(auc, 6)
    assert abs(sk.roc_auc_score(labels, probabilities, multi_class="ovr", average="weighted") - auc)
    precision, recall, f1, support = sk.precision_recall_fscore_support(labels, predicted)
    assert got["per_class"] == {
        name: {
            "precision": round(precision[k], 6),
            "recall": round(recall[k], 6),
            "f1": round(f1[k], 6),
            "support": int(support[k]),
        }
        for k, name in enumerate(["a", "b", "c"])
    }
    assert [got["per_class"][n]["support"] for n in "abc"] == [70, 20, 10]


def test_multiclass_probabilities_are_renormalised_before_the_log_loss():
    labels = np.array([0, 1, 2, 0])
    # rows summing to 0.8 or 1.2 (float32 rounding, a model's raw scores); a zero is clipped
    unnormalised = np.array([[0.6, 0.3, 0.3], [0.0, 0.6, 0.2], [0.2, 0.2, 0.4], [0.5, 0.3, 0.0]])
    normalised = np.clip(unnormalised, 1e-15, 1.0)
    normalised = normalised / normalised.sum(axis=1, keepdims=True)
    got = multiclass_metrics(labels, unnormalised, [0, 1, 2])
    assert got["log_loss"] == round(sk.log_loss(labels, normalised), 6)
    assert got["accuracy"] == 1.0


def test_a_class_missing_from_the_test_set_averages_auc_over_the_present_ones():
    labels, probabilities = imbalanced_multiclass()
    present = labels < 2  # class 2 absent
    labels, probabilities = labels[present], probabilities[present]
    got = multiclass_metrics(labels, probabilities, ["a", "b", "c"])
    expected = np.mean([sk.roc_auc_score(labels == k, probabilities[:, k]) for k in (0, 1)])
    assert got["roc_auc_ovr"] == round(expected, 6)
    assert got["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    predicted = probabilities.argmax(axis=1)
    expected_f1 = sk.f1_score(labels, predicted, average="macro", labels=[0, 1, 2], zero_division=0)
    assert got["f1_macro"] == round(expected_f1, 6)
    single = multiclass_metrics([0, 0], [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1]], ["a", "b", "c"])
    assert np.isnan(single["roc_auc_ovr"])


def test_binary_metrics_equal_scikit_learn_on_imbalanced_labels():
    rng = np.random.default_rng(5)
    labels = (rng.random(200) < 0.15).astype(int)
    probability = np.clip(0.3 * labels + rng.random(200) * 0.7, 0, 1)
    for threshold in (0.3, 0.5, 0.62):
        got = compute_metrics(labels, probability, threshold)
        predicted = (probability >= threshold).astype(int)
        assert got == {
            "roc_auc": round(sk.roc_auc_score(labels, probability), 6),
            "pr_auc": round(sk.average_precision_score(labels, probability), 6),
            "f1": round(sk.f1_score(labels, predicted), 6),
            "precision": round(sk.precision_score(labels, predicted), 6),
            "recall": round(sk.recall_score(labels, predicted), 6),
            "accuracy": round(sk.accuracy_score(labels, predicted), 6),
            "log_loss": round(sk.log_loss(labels, probability), 6),
        }


def test_binary_task_metrics_use_the_positive_column_and_the_threshold():
    labels = np.array([0, 0, 0, 1])
    positive = np.array([0.2, 0.4, 0.6, 0.8])
    columns = np.column_stack([1 - positive, positive])
    assert task_metrics("binary", labels, columns, [0, 1], 0.7) == compute_metrics(
        labels, positive, 0.7
    )
    assert task_metrics("binary", labels, columns, [0, 1], 0.7)["accuracy"] == 1.0
    assert binary_predictions(positive, 0.6).tolist() == [0, 0, 1, 1]  # >= the threshold


def test_regression_metrics_equal_scikit_learn():
    actual = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    predicted = np.array([1.5, 2.0, 3.0, 9.0, 12.0])
    got = task_metrics("regression", actual, predicted, [])
    assert (
        got
        == regression_metrics(actual, predicted)
        == {
            "rmse": round(float(np.sqrt(sk.mean_squared_error(actual, predicted))), 6),
            "mae": round(sk.mean_absolute_error(actual, predicted), 6),
            "r2": round(sk.r2_score(actual, predicted), 6),
        }
    )
    assert got["rmse"] == 1.910497 and got["mae"] == 1.3


def test_multiclass_task_metrics_pass_the_classes_through():
    labels, probabilities = imbalanced_multiclass()
    assert task_metrics("multiclass", labels, probabilities, ["a", "b", "c"]) == (
        multiclass_metrics(labels, probabilities, ["a", "b", "c"])
    )


# --- direction ------------------------------------------------------------------------


def test_exactly_the_error_metrics_are_lower_is_better():
    assert {"log_loss", "rmse", "mae"} == LOWER_IS_BETTER
    for metric in ALL_METRICS:
        lower = metric in LOWER_IS_BETTER
        assert is_better(metric, 0.1, 0.2) is lower
        assert is_better(metric, 0.2, 0.1) is not lower
        assert is_better(metric, 0.2, 0.2) is False  # equal is not better
        # how much worse the candidate (first) is than the champion (second)
        assert regression(metric, 0.1, 0.3) == pytest.approx(-0.2 if lower else 0.2)


@pytest.mark.parametrize(
    ("task", "metric"), [(t, m) for t, ms in METRICS_BY_TASK.items() for m in ms]
)
def test_select_metric_picks_the_best_candidate_in_its_direction(task, metric):
    scores = {"first": {metric: 0.5}, "low": {metric: 0.2}, "high": {metric: 0.8}}
    lower = metric in LOWER_IS_BETTER
    best = "low" if lower else "high"
    gate = SelectParams(metric=metric, min_score=0.5)  # the middle score on either side
    decision = decide(scores, gate, None, task=task)
    assert decision.winner == best and decision.metric == metric
    assert [name for name, _ in decision.ranking] == (
        ["low", "first", "high"] if lower else ["high", "first", "low"]
    )
    assert rank_candidates(scores, metric)[0][0] == best


@pytest.mark.parametrize("metric", ["log_loss", "rmse", "mae"])
def test_the_gate_minimum_of_a_lower_is_better_metric_is_a_maximum(metric):
    task = "regression" if metric != "log_loss" else "binary"
    scores = {"only": {metric: 0.3}}
    assert decide(scores, SelectParams(metric=metric, min_score=0.3), None, task).winner == "only"
    with pytest.raises(GateRefused) as refused:
        decide(scores, SelectParams(metric=metric, min_score=0.29), None, task)
    assert str(refused.value) == (
        f"best candidate 'only' has {metric}=0.300000; the gate needs at most 0.29 "
        "(select.min_score)"
    )


def test_the_gate_minimum_of_a_higher_is_better_metric_holds_at_equality():
    scores = {"only": {"r2": 0.3}}
    assert decide(scores, SelectParams(metric="r2", min_score=0.3), None, "regression").winner
    with pytest.raises(GateRefused, match=r"r2=0.300000; the gate needs at least 0.31 "):
        decide(scores, SelectParams(metric="r2", min_score=0.31), None, "regression")


@pytest.mark.parametrize(
    ("metric", "champion", "kept"),
    [
        ("mae", 0.25, False),  # candidate 0.3 is 0.05 worse: within 0.05
        ("mae", 0.24, True),  # 0.06 worse
        ("mae", 0.5, False),  # better
        ("r2", 0.35, False),  # 0.05 worse
        ("r2", 0.36, True),
    ],
)
def test_the_champion_rule_measures_regression_in_the_metrics_direction(metric, champion, kept):
    scores = {"new": {metric: 0.3}}
    gate = SelectParams(metric=metric, min_score=-10 if metric == "r2" else 10, max_regression=0.05)
    rival = ChampionScore("4", champion, "rescored on this test set")
    if kept:
        with pytest.raises(GateRefused, match=r"champion kept$"):
            decide(scores, gate, rival, "regression")
    else:
        decision = decide(scores, gate, rival, "regression")
        assert decision.winner == "new" and decision.champion_score == champion
        worse = 0.3 - champion if metric == "mae" else champion - 0.3
        assert f"regression {max(worse, 0.0):.6f} is within 0.05" in decision.reason
