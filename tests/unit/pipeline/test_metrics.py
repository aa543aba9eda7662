"""Test-set metrics on a case checked by hand."""

import pytest

from modelops.pipeline.evaluation import compute_metrics

LABELS = [0, 0, 0, 1, 1, 1]
# negatives at 0.1, 0.5, 0.7; positives at 0.3, 0.5, 0.9; the two at 0.5 sit on the threshold
SCORES = [0.1, 0.5, 0.7, 0.3, 0.5, 0.9]


def test_every_metric_on_a_hand_checked_case():
    # at 0.5: TP 2 (0.5, 0.9), FP 2 (0.5, 0.7), FN 1 (0.3), TN 1 (0.1)
    assert compute_metrics(LABELS, SCORES, threshold=0.5) == {
        "roc_auc": 0.611111,  # (1 + 1.5 + 3) / 9 ordered pairs, the tie counting half
        "pr_auc": 0.7,  # (1 + 0.5 + 0.6) / 3
        "f1": 0.571429,
        "precision": 0.5,
        "recall": 0.666667,
        "accuracy": 0.5,
        "log_loss": 0.667494,  # -(2 ln 0.9 + 2 ln 0.5 + 2 ln 0.3) / 6
    }


def test_the_threshold_moves_only_the_thresholded_metrics():
    at_half, strict = compute_metrics(LABELS, SCORES, 0.5), compute_metrics(LABELS, SCORES, 0.6)
    assert (strict["precision"], strict["recall"], strict["accuracy"]) == (0.5, 0.333333, 0.5)
    for name in ("roc_auc", "pr_auc", "log_loss"):
        assert strict[name] == at_half[name]


def test_certain_wrong_answers_give_a_finite_log_loss():
    # probabilities 0 and 1 are clipped to 1e-15 from either end, so one wrong certainty is
    # about -ln(1e-15) = 34.54, not infinity (nor numpy's 2.2e-16 floor, 36.04)
    assert compute_metrics([1, 0], [0.0, 1.0])["log_loss"] == pytest.approx(34.539176, abs=1e-6)
