"""The evaluate stage's remaining rules pinned exactly: the PR envelope on its grid, confusion CSV
quoting, target values to class indices, the plot set per task, the multiclass clipping.

Hand-checked cases (the same six rows as test_plot_data.py): each figure below can be derived
on paper, and a changed bound, digit or index shows as a different number.
"""

from __future__ import annotations

import csv as csv_module
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn import metrics as sk

from modelops.pipeline import evaluation
from tests.unit.pipeline.test_plot_data import LABELS, SCORES  # positives at 0.3, 0.8, 0.9


def test_precision_recall_points_follow_the_interpolated_envelope_on_the_recall_grid():
    # ranked: 0.9 P, 0.8 P, 0.7 N, 0.3 P: precision 1 up to recall 2/3 (included: the grid's
    # 4/6 is recall 2/3 exactly), then 3/4 once 0.3 is counted
    assert evaluation.precision_recall_points(LABELS, SCORES, 7) == [
        {"recall": 0.0, "precision": 1.0},
        {"recall": 0.1667, "precision": 1.0},
        {"recall": 0.3333, "precision": 1.0},
        {"recall": 0.5, "precision": 1.0},
        {"recall": 0.6667, "precision": 1.0},
        {"recall": 0.8333, "precision": 0.75},
        {"recall": 1.0, "precision": 0.75},
    ]


def test_precision_recall_envelope_takes_the_best_precision_at_any_higher_recall():
    # ranked: 0.9 N, 0.8 P, 0.7 N, 0.6 P: at recall 1/2 the precision is 1/2, at recall 1 it is
    # 1/2 too; nothing reaches more than 1/2 beyond recall 0
    labels, scores = [0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6]
    assert evaluation.precision_recall_points(labels, scores, 3) == [
        {"recall": 0.0, "precision": 1.0},
        {"recall": 0.5, "precision": 0.5},
        {"recall": 1.0, "precision": 0.5},
    ]


def test_confusion_rows_quote_labels_holding_a_comma_or_a_quote():
    csv = evaluation.confusion_rows([0, 1, 2], [2, 1, 0], ["a,b", 'say "x"', "plain"])
    assert csv == 'actual,predicted\n"a,b",plain\n"say ""x""","say ""x"""\nplain,"a,b"\n'
    assert evaluation.confusion_rows([], []) == "actual,predicted\n\n"
    # what a CSV reader gets back is the labels themselves
    rows = list(csv_module.reader(io.StringIO(csv)))
    assert rows[2] == ['say "x"', 'say "x"']


def test_label_indices_match_values_to_classes_by_category_key():
    model = SimpleNamespace(task="binary", classes=[1, "yes"])
    indices = evaluation.label_indices(model, [1.0, "1", "yes", "no", None])
    assert indices.tolist() == [0, 0, 1, -1, -1]
    assert indices.dtype == np.int64
    values = evaluation.label_indices(SimpleNamespace(task="regression"), [1, 2])
    assert values.dtype == np.float64
    assert values.tolist() == [1.0, 2.0]


def test_binary_plot_data_has_every_curve_and_the_confusion_at_the_models_threshold():
    model = SimpleNamespace(task="binary", classes=["no", "yes"], threshold=0.75)
    scores = np.column_stack([1 - np.array(SCORES), SCORES])
    plots = evaluation.plot_data(model, LABELS, scores, 7, 3)
    assert list(plots) == ["roc", "precision_recall", "calibration", "confusion"]
    assert plots["roc"] == evaluation.roc_points(LABELS, SCORES, 7)
    assert plots["precision_recall"] == evaluation.precision_recall_points(LABELS, SCORES, 7)
    assert plots["calibration"] == evaluation.calibration_points(LABELS, SCORES, 3)
    # at 0.75 only 0.8 and 0.9 are positive
    assert plots["confusion"] == (
        "actual,predicted\nno,no\nno,no\nno,no\nyes,no\nyes,yes\nyes,yes\n"
    )


def test_multiclass_plot_data_is_the_confusion_of_the_most_probable_class():
    model = SimpleNamespace(task="multiclass", classes=["a", "b", "c"], threshold=0.5)
    scores = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    assert evaluation.plot_data(model, [1, 0], scores, 7, 3) == {
        "confusion": "actual,predicted\nb,b\na,c\n"
    }


def test_regression_plot_data_samples_five_times_the_curve_points():
    model = SimpleNamespace(task="regression")
    actual = np.arange(40, dtype=float)
    plots = evaluation.plot_data(model, actual, actual + 0.5, 2, 3)
    assert list(plots) == ["predicted_vs_actual", "residuals"]
    assert len(plots["predicted_vs_actual"]) == 10
    assert len(plots["residuals"]) == 10
    assert plots["residuals"][0] == {"predicted": 0.5, "residual": -0.5}


def test_sample_takes_every_row_of_a_short_table_and_none_of_an_empty_one():
    assert evaluation.predicted_vs_actual_points([], [], 5) == []
    assert [p["actual"] for p in evaluation.predicted_vs_actual_points([3, 1, 2], [0] * 3, 5)] == [
        1.0,
        2.0,
        3.0,
    ]


def test_multiclass_probabilities_are_clipped_at_1e_15_before_the_log_loss():
    # a certain wrong answer costs -ln(1e-15), renormalised: not infinity
    labels = [0, 1, 2]
    probabilities = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    clipped = np.clip(probabilities, 1e-15, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    expected = sk.log_loss(labels, clipped, labels=[0, 1, 2])
    scores = evaluation.multiclass_metrics(labels, probabilities, ["a", "b", "c"])
    assert scores["log_loss"] == round(expected, 6)
    assert math.isfinite(scores["log_loss"])
    assert scores["per_class"]["a"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_class"]["b"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": 0.666667,
        "support": 1,
    }
    assert type(scores["per_class"]["c"]["support"]) is int


def test_a_test_set_of_one_class_has_no_multiclass_auc():
    probabilities = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1]])
    scores = evaluation.multiclass_metrics([0, 0], probabilities, ["a", "b", "c"])
    assert math.isnan(scores["roc_auc_ovr"])
    assert scores["accuracy"] == 1.0


def test_binary_probabilities_are_clipped_at_1e_15_from_either_end():
    # a certain right answer costs -ln(1 - 1e-15), not 0 and not numpy's floor
    scores = evaluation.compute_metrics([1, 0], [1.0, 0.0])
    assert scores["log_loss"] == round(sk.log_loss([1, 0], [1 - 1e-15, 1e-15]), 6)
    assert scores["roc_auc"] == 1.0


def test_predicted_vs_actual_rounds_both_values_to_six_digits():
    points = evaluation.predicted_vs_actual_points([1.23456789, 0.5], [2.00000049, 1.0], 5)
    assert points == [
        {"actual": 0.5, "predicted": 1.0},
        {"actual": 1.234568, "predicted": 2.0},
    ]
    assert type(points[0]["actual"]) is float


def test_a_model_that_predicts_no_positive_has_precision_zero_not_one():
    # no probability reaches 0.5: precision is 0/0, which the gate must read as 0
    scores = evaluation.compute_metrics([0, 1, 1], [0.1, 0.2, 0.3])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)


def test_macro_f1_counts_a_class_neither_present_nor_predicted_as_zero():
    # classes a, b right every time, c never seen: the macro average is over all three
    probabilities = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    scores = evaluation.multiclass_metrics([0, 1], probabilities, ["a", "b", "c"])
    assert scores["f1_macro"] == round(2 / 3, 6)
    assert scores["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_binary_task_metrics_threshold_defaults_to_one_half():
    scores = np.array([[0.5, 0.5], [0.6, 0.4], [0.2, 0.8]])
    metrics = evaluation.task_metrics("binary", [1, 0, 1], scores, ["n", "y"])
    assert metrics == evaluation.compute_metrics([1, 0, 1], [0.5, 0.4, 0.8], 0.5)
    assert metrics["recall"] == 1.0


def test_label_indices_of_no_values_are_still_integers():
    model = SimpleNamespace(task="binary", classes=["a", "b"])
    assert evaluation.label_indices(model, []).dtype == np.int64


def test_full_recall_reached_only_at_the_lowest_score_keeps_its_own_precision():
    # the one positive scores lowest: full recall comes at precision 1/2 (then 1/3), not at
    # the precision of a lower recall
    assert evaluation.precision_recall_points([0, 1], [0.9, 0.1], 2) == [
        {"recall": 0.0, "precision": 1.0},
        {"recall": 1.0, "precision": 0.5},
    ]
    assert evaluation.precision_recall_points([0, 0, 1], [0.9, 0.5, 0.1], 2)[1] == {
        "recall": 1.0,
        "precision": 0.333333,
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_a_test_set_of_positives_only_still_has_a_log_loss_over_both_classes():
    scores = evaluation.compute_metrics([1, 1], [0.8, 0.9])
    assert math.isnan(scores["roc_auc"])
    assert scores["log_loss"] == round(sk.log_loss([1, 1], [0.8, 0.9], labels=[0, 1]), 6)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_test_set_without_positives_scores_zero_on_the_positive_class_metrics():
    scores = evaluation.compute_metrics([0, 0], [0.1, 0.2])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.0, 0.0, 0.0)
    assert scores["accuracy"] == 1.0
