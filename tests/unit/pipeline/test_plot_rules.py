"""The data behind the regression plots, pinned exactly: sampling, order on ties, rounding."""

from __future__ import annotations

import numpy as np

from modelops.pipeline.evaluation import predicted_vs_actual_points, residual_points


def test_predicted_vs_actual_sorted_by_actual_ties_in_input_order_rounded_to_six():
    actual = [3, 1, 2, 1, 2, 1]  # integers: read as floats
    predicted = [0.1234567, 1.0, 2.0, 1.5, 2.5, 0.5]
    assert predicted_vs_actual_points(actual, predicted, points=10) == [
        {"actual": 1.0, "predicted": 1.0},
        {"actual": 1.0, "predicted": 1.5},
        {"actual": 1.0, "predicted": 0.5},
        {"actual": 2.0, "predicted": 2.0},
        {"actual": 2.0, "predicted": 2.5},
        {"actual": 3.0, "predicted": 0.123457},
    ]


def test_residuals_sorted_by_prediction_ties_in_input_order_rounded_to_six():
    actual = np.array([1.0, 2.0, 3.0, 4.0, 5.1234567])
    predicted = [2, 1, 2, 1, 3.3333333]
    assert residual_points(actual, predicted, points=10) == [
        {"predicted": 1.0, "residual": 1.0},
        {"predicted": 1.0, "residual": 3.0},
        {"predicted": 2.0, "residual": -1.0},
        {"predicted": 2.0, "residual": 1.0},
        {"predicted": 3.333333, "residual": 1.790123},
    ]


def test_points_are_evenly_sampled_with_the_first_and_last():
    actual = np.arange(101, dtype=float)
    points = predicted_vs_actual_points(actual, actual * 2, points=5)
    assert [p["actual"] for p in points] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert [p["predicted"] for p in residual_points(actual, actual, points=3)] == [0.0, 50.0, 100.0]
    assert predicted_vs_actual_points([], [], points=5) == []
    assert residual_points([], [], points=5) == []
    assert len(predicted_vs_actual_points([1.0, 2.0], [1.0, 2.0], points=50)) == 2


def test_long_runs_of_ties_keep_the_input_order():
    # numpy's default sort is not stable beyond 16 elements: these 60 would come out mixed
    actual = np.array([i % 3 for i in range(60)], dtype=float)
    order = np.arange(60, dtype=float)
    by_actual = predicted_vs_actual_points(actual, order, points=60)
    assert [p["predicted"] for p in by_actual] == [i + k for k in range(3) for i in range(0, 60, 3)]
    by_prediction = residual_points(order, actual, points=60)
    assert [p["residual"] + p["predicted"] for p in by_prediction] == [
        i + k for k in range(3) for i in range(0, 60, 3)
    ]
