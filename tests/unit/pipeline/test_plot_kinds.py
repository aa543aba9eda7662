"""Which plots each task gets (the evaluate stage writes them, dvc.yaml's `plots:` draws them)."""

from types import SimpleNamespace

import numpy as np
import pytest

from modelops.pipeline.evaluation import plot_data


def model(task, classes=("no", "yes"), threshold=0.5):
    return SimpleNamespace(task=task, classes=list(classes), threshold=threshold)


def test_binary_gets_curves_calibration_and_a_confusion_matrix_at_the_threshold():
    labels = np.array([0, 1, 1, 0])
    scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    plots = plot_data(model("binary", threshold=0.5), labels, scores, 11, 2)
    assert list(plots) == ["roc", "precision_recall", "calibration", "confusion"]
    rows = plots["confusion"].splitlines()
    assert rows[0] == "actual,predicted"
    assert rows[1:] == ["no,no", "yes,yes", "yes,no", "no,yes"]  # 0.4 < 0.5 <= 0.8
    lower = plot_data(model("binary", threshold=0.3), labels, scores, 11, 2)["confusion"]
    assert lower.splitlines()[3] == "yes,yes"  # the card's threshold decides the label


def test_multiclass_gets_the_confusion_of_the_most_probable_class():
    scores = np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])
    plots = plot_data(model("multiclass", classes="abc"), np.array([2, 1]), scores, 11, 2)
    assert list(plots) == ["confusion"]
    assert plots["confusion"].splitlines()[1:] == ["c,c", "b,a"]


@pytest.mark.parametrize("points", [11, 20])
def test_regression_gets_predicted_vs_actual_and_residuals(points):
    actual = np.linspace(0, 1, 500)
    plots = plot_data(model("regression"), actual, actual + 0.1, points, 2)
    assert list(plots) == ["predicted_vs_actual", "residuals"]
    assert len(plots["residuals"]) == min(500, points * 5)
