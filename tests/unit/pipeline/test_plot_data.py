"""Plot data the evaluate stage writes for DVC's templates: exact values on hand-checked cases.

Six rows, three of each class, so every figure can be checked by hand; fractions like 1/3 show
the rounding (4 digits for the grid, 6 for the measured values).
"""

from modelops.pipeline import evaluation

LABELS = [0, 0, 0, 1, 1, 1]
# positives at 0.3, 0.8, 0.9; negatives at 0.1, 0.2, 0.7
SCORES = [0.1, 0.2, 0.7, 0.3, 0.8, 0.9]


def test_roc_points_on_a_fixed_false_positive_rate_grid():
    # ROC corners: (0, 2/3) above the negative at 0.7, (1/3, 1) once 0.3 is counted
    assert evaluation.roc_points(LABELS, SCORES, 7) == [
        {"fpr": 0.0, "tpr": 0.0},
        {"fpr": 0.1667, "tpr": 0.666667},
        {"fpr": 0.3333, "tpr": 1.0},
        {"fpr": 0.5, "tpr": 1.0},
        {"fpr": 0.6667, "tpr": 1.0},
        {"fpr": 0.8333, "tpr": 1.0},
        {"fpr": 1.0, "tpr": 1.0},
    ]


def test_calibration_points_per_uniform_bin():
    # bins [0, 1/3), [1/3, 2/3), [2/3, 1]: the middle one is empty and left out
    scores = [0.1, 0.2, 0.7, 0.25, 0.8, 0.9]
    assert evaluation.calibration_points(LABELS, scores, 3) == [
        {"mean_predicted": 0.183333, "fraction_positive": 0.333333},
        {"mean_predicted": 0.8, "fraction_positive": 0.666667},
    ]


def test_confusion_rows_count_a_probability_at_the_threshold_as_positive():
    scores = [0.1, 0.5, 0.7, 0.3, 0.5, 0.9]
    predicted = evaluation.binary_predictions(scores, 0.5)
    assert evaluation.confusion_rows(LABELS, predicted) == (
        "actual,predicted\n0,0\n0,1\n0,1\n1,0\n1,1\n1,1\n"
    )
    # with the classes, the rows carry the original labels
    assert evaluation.confusion_rows(LABELS, predicted, ["no", "yes"]).splitlines()[1:3] == [
        "no,no",
        "no,yes",
    ]
