"""Selection decisions pinned exactly: tie order, the card's fixed fields, the card's raw rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from modelops.params import SelectParams
from modelops.pipeline.selection import (
    build_model_card,
    content_version,
    decide,
    rank_candidates,
    raw_rows,
)


@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_a_tie_keeps_the_listed_order_not_the_alphabetical_one(metric):
    scores = {"zeta": {metric: 0.5}, "alpha": {metric: 0.5}, "mid": {metric: 0.5}}
    assert [name for name, _ in rank_candidates(scores, metric)] == ["zeta", "alpha", "mid"]
    assert decide(scores, SelectParams(metric=metric, min_score=0.5), None).winner == "zeta"


def test_a_tie_behind_the_winner_keeps_the_listed_order_too():
    scores = {"b": {"mae": 2.0}, "c": {"mae": 1.0}, "a": {"mae": 2.0}}
    assert rank_candidates(scores, "mae") == [("c", 1.0), ("b", 2.0), ("a", 2.0)]
    scores = {"b": {"r2": 0.1}, "c": {"r2": 0.9}, "a": {"r2": 0.1}}
    assert rank_candidates(scores, "r2") == [("c", 0.9), ("b", 0.1), ("a", 0.1)]


def test_negative_scores_rank_by_value():
    scores = {"a": {"r2": -0.5}, "b": {"r2": -0.1}, "c": {"r2": -2.0}}
    assert [n for n, _ in rank_candidates(scores, "r2")] == ["b", "a", "c"]


def test_raw_rows_are_json_ready_first_rows_of_the_chosen_columns():
    frame = pd.DataFrame(
        {
            "x": [1.5, np.nan, np.inf, -np.inf, 4.0, 5.0, 6.0],
            "n": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
            "c": ["a", None, "b", pd.NA, "c", "d", "e"],
            "f": pd.array([True, None, False, True, True, False, True], dtype="boolean"),
            "t": pd.to_datetime(["2024-01-01", None] + ["2024-01-02"] * 5),
            "skip": list(range(7)),
        }
    )
    rows = raw_rows(frame, ["x", "n", "c", "f"])
    assert rows == [
        {"x": 1.5, "n": 1, "c": "a", "f": True},
        {"x": None, "n": None, "c": None, "f": None},
        {"x": None, "n": 3, "c": "b", "f": False},
        {"x": None, "n": 4, "c": None, "f": True},
        {"x": 4.0, "n": 5, "c": "c", "f": True},
    ]
    assert type(rows[0]["n"]) is int and type(rows[0]["f"]) is bool
    assert type(rows[0]["x"]) is float
    assert raw_rows(frame, ["x"], limit=2) == [{"x": 1.5}, {"x": None}]
    assert raw_rows(frame, ["t"], limit=2)[1] == {"t": None}
    assert raw_rows(frame.head(0), ["x"]) == []
    assert all(not (isinstance(v, float) and math.isnan(v)) for r in rows for v in r.values())


def test_the_card_says_where_and_in_which_format_the_model_is():
    # what serving loads the model with (serving/ reads model_format and model_path)
    decision = decide(
        {"m": {"r2": 0.9}}, SelectParams(metric="r2", min_score=0.0), None, "regression"
    )
    card = build_model_card(
        model_name="m", version="1", candidate="m", task="regression", task_reason="why",
        target="y", classes=[], positive_class=None, threshold=0.5, metrics={"r2": 0.9},
        hyperparameters={}, data_hash="d", feature_schema=[], input_example=[],
        decision=decision,
    )  # fmt: skip
    assert (card["model_format"], card["model_path"]) == (
        "mlflow-sklearn-cloudpickle", "model/model.pkl"
    )  # fmt: skip
    assert "classes" not in card and "threshold" not in card and "positive_class" not in card
    assert card["data"] == {}


def test_the_content_version_is_the_first_twelve_hex_digits_of_the_model_id():
    model_id = "0123456789ab" + "cdef" * 5  # a content id: 32 hex digits
    assert content_version(model_id) == "0123456789ab"
