from itertools import pairwise

import numpy as np
import pytest

from modelops.params import LogisticRegressionParams, RandomForestParams, XGBoostParams
from modelops.pipeline import evaluation
from modelops.pipeline.training import build_estimator, fit_candidate, positive_probability

KINDS = {
    "logistic_regression": LogisticRegressionParams(),
    "random_forest": RandomForestParams(n_estimators=10, n_jobs=1),
    "xgboost": XGBoostParams(n_estimators=10, n_jobs=1),
}


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_fits_and_is_deterministic(name, tiny_frame):
    x, y = tiny_frame.drop(columns="target"), tiny_frame["target"]
    first = fit_candidate(name, KINDS[name], 3, x, y)
    second = fit_candidate(name, KINDS[name], 3, x, y)
    p1, p2 = positive_probability(first.model, x), positive_probability(second.model, x)
    assert p1.shape == (60,) and ((p1 >= 0) & (p1 <= 1)).all()
    np.testing.assert_array_equal(p1, p2)
    assert evaluation.compute_metrics(y, p1)["roc_auc"] > 0.7  # it learned something
    assert first.hyperparameters == KINDS[name].model_dump()


def test_hyperparameters_reach_the_estimator():
    model = build_estimator("xgboost", XGBoostParams(max_depth=2, learning_rate=0.3), seed=1)
    assert model.get_params()["max_depth"] == 2 and model.get_params()["learning_rate"] == 0.3
    forest = build_estimator("random_forest", RandomForestParams(n_estimators=7), seed=1)
    assert forest.n_estimators == 7 and forest.random_state == 1


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown candidate kind 'svm'"):
        build_estimator("svm", object(), seed=0)


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
    rows = evaluation.confusion_rows(y, p, 0.5).splitlines()
    assert rows[0] == "actual,predicted" and len(rows) == 501
