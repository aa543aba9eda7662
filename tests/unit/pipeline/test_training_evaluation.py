from itertools import pairwise

import numpy as np
import pytest

from modelops.params import METRICS_BY_TASK, DataParams, GenerateParams
from modelops.pipeline import evaluation
from modelops.pipeline.data import generate_dataset
from modelops.pipeline.training import (
    HistGradientBoostingParams,
    LinearParams,
    RandomForestParams,
    XGBoostParams,
    build_estimator,
    scores_of,
)
from modelops.serving.model import Feature
from tests.fitting import fit_table

KINDS = {
    "linear": LinearParams(),
    "random_forest": RandomForestParams(n_estimators=10, n_jobs=1),
    "hist_gradient_boosting": HistGradientBoostingParams(max_iter=20),
    "xgboost": XGBoostParams(n_estimators=10, n_jobs=1),
}
MIXED = GenerateParams(n_rows=300, n_numeric=3, n_categorical=2, n_boolean=1, seed=5)
FLAT = {task: sorted(names) for task, names in METRICS_BY_TASK.items()}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("name", KINDS)
def test_every_kind_fits_every_task_on_mixed_types_deterministically(name, task):
    data = DataParams(task=task)
    frame = generate_dataset(MIXED, data)
    first, contract = fit_table(frame, data, name, KINDS[name], seed=3)
    second, _ = fit_table(frame, data, name, KINDS[name], seed=3)
    matrix = first.encode_frame(frame)
    assert np.isnan(matrix).any()  # nulls reach the estimator, which handles them
    out1, out2 = scores_of(first, matrix), scores_of(second, matrix)
    np.testing.assert_array_equal(out1, out2)
    labels = evaluation.label_indices(first, frame["target"])
    scores = evaluation.task_metrics(task, labels, out1, first.classes)
    assert sorted(k for k in scores if k != "per_class") == FLAT[task]
    headline = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}[task]
    assert scores[headline] > {"binary": 0.7, "multiclass": 0.5, "regression": 0.3}[task]
    # unseen categories and all-null rows are predicted on, not refused
    odd = [{"cat_00": "never seen"}, {}]
    assert len(first.predict_encoded(first.encode_rows(odd))) == 2
    assert contract.task == task


def test_hyperparameters_reach_the_estimator():
    features = [Feature("x"), Feature("c", "category", ("a", "b"))]
    model = build_estimator(
        "xgboost", XGBoostParams(max_depth=2, learning_rate=0.3), 1, "binary", features
    )
    assert model.get_params()["max_depth"] == 2 and model.get_params()["learning_rate"] == 0.3
    assert model.get_params()["feature_types"] == ["q", "c"]
    assert model.get_params()["enable_categorical"] is True
    forest = build_estimator(
        "random_forest", RandomForestParams(n_estimators=7), 1, "regression", features
    )
    assert forest.n_estimators == 7 and forest.random_state == 1
    assert type(forest).__name__ == "RandomForestRegressor"
    ridge = build_estimator("linear", LinearParams(C=0.5), 1, "regression", features)
    assert ridge[-1].alpha == 2.0


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown candidate kind 'svm'"):
        build_estimator("svm", object(), 0, "binary", [])


def test_metrics_of_a_perfect_and_a_useless_model():
    y = np.array([0, 0, 1, 1, 0, 1])
    perfect = evaluation.compute_metrics(y, np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7]))
    assert perfect == {
        "roc_auc": 1.0, "pr_auc": 1.0, "f1": 1.0, "precision": 1.0, "recall": 1.0,
        "accuracy": 1.0, "log_loss": pytest.approx(0.2284, abs=1e-3),
    }  # fmt: skip
    useless = evaluation.compute_metrics(y, np.full(6, 0.5))
    assert useless["roc_auc"] == 0.5 and useless["log_loss"] == pytest.approx(np.log(2), abs=1e-6)


def test_threshold_moves_precision_and_recall():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.2, 0.6, 0.55, 0.9])
    assert evaluation.compute_metrics(y, p, 0.5)["recall"] == 1.0
    assert evaluation.compute_metrics(y, p, 0.58)["recall"] == 0.5


def test_direction_of_better_and_regression():
    assert evaluation.is_better("rmse", 1.0, 2.0) and evaluation.is_better("r2", 0.6, 0.5)
    assert evaluation.is_better("roc_auc", 0.9, 0.8)
    assert evaluation.is_better("log_loss", 0.2, 0.3)
    assert evaluation.regression("roc_auc", 0.8, 0.9) == pytest.approx(0.1)
    assert evaluation.regression("log_loss", 0.4, 0.3) == pytest.approx(0.1)
    assert evaluation.regression("roc_auc", 0.95, 0.9) < 0


def test_curves_have_fixed_size_and_sane_shape(rng):
    y = rng.integers(0, 2, 500)
    p = np.clip(y * 0.6 + rng.random(500) * 0.5, 0, 1)
    roc = evaluation.roc_points(y, p, 21)
    assert len(roc) == 21 and roc[0] == {"fpr": 0.0, "tpr": 0.0} and roc[-1]["tpr"] == 1.0
    assert all(a["tpr"] <= b["tpr"] for a, b in pairwise(roc))
    pr = evaluation.precision_recall_points(y, p, 21)
    assert len(pr) == 21 and all(0 <= point["precision"] <= 1 for point in pr)
    calibration = evaluation.calibration_points(y, p, 5)
    assert 1 <= len(calibration) <= 5
    rows = evaluation.confusion_rows(y, evaluation.binary_predictions(p, 0.5)).splitlines()
    assert rows[0] == "actual,predicted" and len(rows) == 501


def test_precision_recall_envelope_is_not_flat():
    """At full recall the precision is the share of positives, not 1.0 (the old envelope bug)."""
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    points = evaluation.precision_recall_points(y, p, 11)
    by_recall = {point["recall"]: point["precision"] for point in points}
    assert by_recall[1.0] == pytest.approx(3 / 6)  # every positive found by the 6th row
    assert by_recall[0.0] == 1.0
    assert all(a["precision"] >= b["precision"] for a, b in pairwise(points))  # an envelope
    assert len({point["precision"] for point in points}) > 2


def test_multiclass_metrics_and_named_confusion():
    classes = ["cat", "dog", "owl"]
    y = np.array([0, 1, 2, 2, 1, 0])
    probabilities = np.eye(3)[[0, 1, 2, 1, 1, 0]] * 0.8 + 0.2 / 3
    scores = evaluation.multiclass_metrics(y, probabilities, classes)
    assert scores["accuracy"] == pytest.approx(5 / 6)
    assert scores["per_class"]["owl"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3, abs=1e-6),
        "support": 2,
    }
    assert 0 < scores["log_loss"] < 1 and scores["roc_auc_ovr"] > 0.8
    rows = evaluation.confusion_rows(y, probabilities.argmax(axis=1), classes).splitlines()
    assert rows[1:] == ["cat,cat", "dog,dog", "owl,owl", "owl,dog", "dog,dog", "cat,cat"]


def test_regression_metrics_and_plots():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([1.5, 2.0, 2.5, 4.0])
    scores = evaluation.regression_metrics(actual, predicted)
    assert scores["mae"] == 0.25 and scores["rmse"] == pytest.approx(np.sqrt(0.125), abs=1e-6)
    assert scores["r2"] == pytest.approx(1 - 0.5 / 5.0)
    residuals = evaluation.residual_points(actual, predicted, 10)
    assert {"predicted": 2.5, "residual": 0.5} in residuals and len(residuals) == 4
    assert (
        len(evaluation.predicted_vs_actual_points(np.arange(1000.0), np.arange(1000.0), 50)) == 50
    )
