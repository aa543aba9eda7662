"""The rules of validation one by one, without running a suite: fast, exact, on values built here.

`test_validation_messages.py` runs Great Expectations end to end (about half a second a run);
these pin what it is given and how its answers are worded: the expectations built from a
contract (each bound exactly), the view it checks, and the observed values turned into text.
They are what `make mutation` runs first against `pipeline/validation.py`.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from great_expectations.core import ExpectationValidationResult
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from modelops.pipeline.contract import Column, Contract
from modelops.pipeline.validation import (
    NUMERIC_TYPES,
    ValidationReport,
    _expected,
    _failure,
    _mostly,
    _plain,
    _render,
    build_expectations,
    validation_view,
)

CLASSIFIER = Contract(
    source="t",
    target="y",
    task="binary",
    task_reason="two classes",
    columns=(
        Column("x", "number", 0.0, 0.0, min=-4.5, max=13.5),
        Column("gappy", "number", 0.1, 0.2, min=1.0, max=50.0),
        Column("colour", "category", 0.0, 0.05, categories=("blue", "red")),
        Column("flag", "boolean", 0.0, 0.0),
    ),
    min_rows=4,
    max_rows=400,
    target_max_null_fraction=0.0,
    classes=("no", "yes"),
    positive_class="yes",
    dropped={"row_id": "identifier", "gone": "constant"},
)
REGRESSOR = Contract(
    source="t",
    target="y",
    task="regression",
    task_reason="numbers",
    columns=(Column("x", "number", 0.0, 0.0, min=0.0, max=1.0),),
    min_rows=1,
    max_rows=10,
    target_max_null_fraction=0.25,
    target_min=-19.5,
    target_max=58.5,
)


def frame(**columns):
    base = {
        "x": [1.0, 2.0],
        "gappy": [None, 3.0],
        "colour": ["red", "blue"],
        "flag": [True, False],
        "y": ["no", "yes"],
    }
    return pd.DataFrame(base | columns)


def described(expectations):
    """Each expectation as GX configures it: its kind and the arguments not left at the default."""
    return [(e.configuration.type, dict(e.configuration.kwargs)) for e in expectations]


def test_a_classifiers_expectations_with_every_bound_exactly():
    expectations = build_expectations(CLASSIFIER, frame(row_id=[1, 2]))
    assert expectations[0].exact_match is True  # GX's default, asked for all the same
    assert described(expectations) == [
        (
            "expect_table_columns_to_match_set",
            {"column_set": ["x", "gappy", "colour", "flag", "y", "row_id"]},
        ),
        ("expect_table_row_count_to_be_between", {"min_value": 4, "max_value": 400}),
        ("expect_column_values_to_not_be_null", {"column": "x"}),
        ("expect_column_values_to_be_in_type_list", {"column": "x", "type_list": NUMERIC_TYPES}),
        (
            "expect_column_values_to_be_between",
            {"column": "x", "min_value": -4.5, "max_value": 13.5},
        ),
        ("expect_column_values_to_not_be_null", {"column": "gappy", "mostly": 0.8}),
        (
            "expect_column_values_to_be_in_type_list",
            {"column": "gappy", "type_list": NUMERIC_TYPES},
        ),
        (
            "expect_column_values_to_be_between",
            {"column": "gappy", "min_value": 1.0, "max_value": 50.0},
        ),
        ("expect_column_values_to_not_be_null", {"column": "colour", "mostly": 0.95}),
        ("expect_column_values_to_be_in_set", {"column": "colour", "value_set": ["blue", "red"]}),
        ("expect_column_values_to_not_be_null", {"column": "flag"}),
        ("expect_column_values_to_be_in_set", {"column": "flag", "value_set": [True, False]}),
        ("expect_column_values_to_not_be_null", {"column": "y"}),
        ("expect_column_values_to_be_in_set", {"column": "y", "value_set": ["no", "yes"]}),
        (
            "expect_column_distinct_values_to_contain_set",
            {"column": "y", "value_set": ["no", "yes"]},
        ),
    ]


def test_a_missing_column_is_left_to_the_column_set_and_a_text_number_to_the_type_check():
    kinds = described(build_expectations(CLASSIFIER, frame(x=["1", "2"]).drop(columns="gappy")))
    columns = [args.get("column") for _, args in kinds]
    assert "gappy" not in columns  # reported once, by the column set
    assert (
        columns.count("colour") == 2 and columns.count("flag") == 2
    )  # later columns still checked
    x_kinds = [kind for kind, args in kinds if args.get("column") == "x"]
    assert x_kinds == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_type_list",
    ]
    assert kinds[0][1]["column_set"] == [
        "x",
        "gappy",
        "colour",
        "flag",
        "y",
    ]  # a dropped column absent
    bools = described(build_expectations(CLASSIFIER, frame(x=[True, False])))
    assert [kind for kind, args in bools if args.get("column") == "x"] == x_kinds  # bool: no range
    no_target = described(build_expectations(CLASSIFIER, frame().drop(columns="y")))
    assert [args.get("column") for _, args in no_target].count("y") == 0
    assert no_target[0][1]["column_set"][-1] == "y"  # still expected in the column set


def test_a_regressors_target_is_typed_bounded_and_its_null_bound_kept():
    kinds = described(build_expectations(REGRESSOR, pd.DataFrame({"x": [0.5], "y": [3.0]})))
    assert kinds[-3:] == [
        ("expect_column_values_to_not_be_null", {"column": "y", "mostly": 0.75}),
        ("expect_column_values_to_be_in_type_list", {"column": "y", "type_list": NUMERIC_TYPES}),
        (
            "expect_column_values_to_be_between",
            {"column": "y", "min_value": -19.5, "max_value": 58.5},
        ),
    ]
    text = described(build_expectations(REGRESSOR, pd.DataFrame({"x": [0.5], "y": ["3"]})))
    assert [kind for kind, args in text if args.get("column") == "y"] == [
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_type_list",
    ]


@pytest.mark.parametrize(
    ("bound", "mostly"), [(0.0, 1.0), (0.2, 0.8), (0.172, 0.828), (1.0, 0.0), (1 / 3, 0.6666666667)]
)
def test_mostly_is_one_minus_the_bound_rounded_to_ten_places(bound, mostly):
    assert _mostly(bound) == mostly


def test_the_view_checks_categories_and_classes_as_the_model_reads_them():
    raw = frame(
        colour=pd.Series([2.0, None], dtype=object),
        gappy=pd.array([None, 3], dtype="Int64"),
        flag=pd.array([True, None], dtype="boolean"),
        y=[1, 0],
    )
    view = validation_view(raw, CLASSIFIER)
    assert view["colour"][0] == "2" and pd.isna(view["colour"][1])
    assert view["gappy"].dtype == np.float64 and math.isnan(view["gappy"][0])
    assert view["flag"].dtype == "boolean"  # a boolean column is not a number
    assert view["x"].dtype == np.float64 and view["x"].tolist() == [1.0, 2.0]
    assert view["y"].tolist() == ["1", "0"]
    assert raw["colour"].tolist()[0] == 2.0  # the caller's frame is untouched
    regression = validation_view(pd.DataFrame({"x": [0.5], "y": [3.0]}), REGRESSOR)
    assert regression["y"].tolist() == [3.0]
    missing = validation_view(frame().drop(columns=["colour", "y"]), CLASSIFIER)
    assert list(missing.columns) == ["x", "gappy", "flag"]
    after_a_missing_one = validation_view(frame(colour=[2.0, 1.0]).drop(columns="x"), CLASSIFIER)
    assert after_a_missing_one["colour"].tolist() == ["2", "1"]


def test_the_view_leaves_what_is_not_a_nullable_number_to_the_type_and_set_checks():
    raw = frame(
        x=pd.array(["1.5", "2"], dtype="string"),  # a number column read as text stays text
        gappy=pd.array([True, False], dtype="boolean"),  # and one of booleans stays booleans
        flag=pd.Series([True, "maybe"], dtype=object),
    )
    view = validation_view(raw, CLASSIFIER)
    assert view["x"].tolist() == ["1.5", "2"] and view["x"].dtype == "string"
    assert view["gappy"].dtype == "boolean"
    assert view["flag"].tolist() == [True, "maybe"]
    plain_ints = validation_view(frame(x=[1, 2], flag=pd.array([1, 0], dtype="Int64")), CLASSIFIER)
    assert plain_ints["x"].dtype == np.int64  # only pandas' nullable numbers are cast
    assert plain_ints["flag"].dtype == "Int64"  # a boolean column is not cast to numbers


def test_observed_values_become_plain_json():
    assert _plain(np.int64(3)) == 3 and type(_plain(np.int64(3))) is int
    assert _plain(np.float64("nan")) is None and _plain(math.nan) is None
    assert _plain(np.float64("inf")) == "inf" and _plain(-math.inf) == "-inf"
    assert _plain(1.5) == 1.5 and _plain(5) == 5 and _plain(None) is None and _plain("a") == "a"
    assert _plain({2, 1, "a"}) == [1, 2, "a"]  # sorted as text: mixed types do not compare
    assert _plain((np.int64(2), np.int64(1))) == [1, 2]
    assert _plain([np.int64(1), math.nan, "b"]) == [1, None, "b"]
    assert _plain({1: np.float64(2.0), "k": [np.int64(3)]}) == {"1": 2.0, "k": [3]}
    json.dumps(_plain({"v": {np.float64("inf"), 1.0}}), allow_nan=False)


@pytest.mark.parametrize(
    ("observed", "text"),
    [
        ({"mismatched": {"unexpected": ["extra"], "missing": []}}, "unexpected: ['extra']"),
        (
            {"mismatched": {"unexpected": ["e"], "missing": ["m"]}, "observed_value": ["a"]},
            "unexpected: ['e']; missing: ['m']",
        ),
        ({"mismatched": {"missing": []}, "observed_value": ["a", "b"]}, "['a', 'b']"),
        ({"missing": ["yes"], "observed_value": 1}, "missing ['yes']"),
        (
            {"unexpected_count": 2, "unexpected_percent": 5.0, "examples": [1, 2], "error": "x"},
            "2 bad value(s) (5.0%), e.g. [1, 2]",
        ),
        ({"observed_value": "str", "error": "ignored"}, "str"),
        ({"observed_value": 0}, "0"),
        ({"error": "boom"}, "boom"),
        ({}, "no details"),
    ],
)
def test_what_was_observed_in_words(observed, text):
    assert _render(observed) == text


@pytest.mark.parametrize(
    ("kind", "kwargs", "text"),
    [
        (
            "expect_table_columns_to_match_set",
            {"column_set": ["b", "a"]},
            "columns must be exactly ['a', 'b']",
        ),
        (
            "expect_table_row_count_to_be_between",
            {"min_value": 4, "max_value": 400},
            "row count must be between 4 and 400",
        ),
        (
            "expect_column_values_to_not_be_null",
            {"column": "c", "mostly": 0.8},
            "c: at most 20.0% nulls",
        ),
        (
            "expect_column_values_to_not_be_null",
            {"column": "c", "mostly": 0.999},
            "c: at most 0.1% nulls",
        ),
        (
            "expect_column_values_to_not_be_null",
            {"column": "c", "mostly": 1.0},
            "c: must have no nulls",
        ),
        ("expect_column_values_to_not_be_null", {"column": "c"}, "c: must have no nulls"),
        (
            "expect_column_values_to_be_in_type_list",
            {"column": "c", "type_list": ["int64"]},
            "c: must be numeric",
        ),
        (
            "expect_column_values_to_be_between",
            {"column": "c", "min_value": -1.5, "max_value": 2},
            "c: values must be finite and between -1.5 and 2",
        ),
        (
            "expect_column_values_to_be_in_set",
            {"column": "c", "value_set": ["b", "a"]},
            "c: values must be in ['b', 'a']",
        ),
        (
            "expect_column_distinct_values_to_contain_set",
            {"column": "c", "value_set": ["a"]},
            "c: must contain every class ['a']",
        ),
        ("expect_something_else", {"column": "c"}, "expect_something_else(c)"),
        ("expect_something_else", {}, "expect_something_else()"),
    ],
)
def test_what_each_expectation_asks_in_words(kind, kwargs, text):
    assert _expected(kind, kwargs) == text


def outcome(kind, kwargs, result=None, error=None):
    return ExpectationValidationResult(
        success=False,
        expectation_config=ExpectationConfiguration(type=kind, kwargs={**kwargs, "batch_id": "b"}),
        result=result,
        exception_info={"exception_message": error, "raised_exception": error is not None},
    )


def test_a_failed_outcome_keeps_what_was_observed_as_plain_json():
    failure = _failure(
        outcome(
            "expect_column_values_to_be_in_set",
            {"column": "c", "value_set": ["a"]},
            {
                "observed_value": None,
                "unexpected_count": np.int64(7),
                "unexpected_percent": 12.345678,
                "partial_unexpected_list": ["z", "y", "x", "w", "v", "u"],
            },
        )
    )
    assert failure == {
        "expectation": "expect_column_values_to_be_in_set",
        "column": "c",
        "observed": {
            "unexpected_count": 7,
            "unexpected_percent": 12.3457,
            "examples": ["z", "y", "x", "w", "v"],
        },
        "message": "c: values must be in ['a']; observed 7 bad value(s) (12.3457%), "
        "e.g. ['z', 'y', 'x', 'w', 'v']",
    }
    assert type(failure["observed"]["unexpected_count"]) is int
    terse = _failure(
        outcome(
            "expect_column_values_to_be_in_set",
            {"column": "c", "value_set": [1]},
            {"unexpected_count": 3},
        )
    )
    assert terse["observed"] == {"unexpected_count": 3, "unexpected_percent": 0.0, "examples": []}


def test_a_failed_outcome_with_a_mismatch_an_observed_value_or_an_error():
    columns = _failure(
        outcome(
            "expect_table_columns_to_match_set",
            {"column_set": ["a", "b"], "exact_match": True},
            {
                "observed_value": ["a", "c"],
                "details": {"mismatched": {"unexpected": ["c"], "missing": ["b"]}},
            },
        )
    )
    assert columns["column"] is None
    assert columns["observed"] == {
        "observed_value": ["a", "c"],
        "mismatched": {"unexpected": ["c"], "missing": ["b"]},
    }
    assert (
        columns["message"]
        == "columns must be exactly ['a', 'b']; observed unexpected: ['c']; missing: ['b']"
    )
    rows = _failure(
        outcome(
            "expect_table_row_count_to_be_between",
            {"min_value": 4, "max_value": 9},
            {"observed_value": np.int64(3)},
        )
    )
    assert rows["observed"] == {"observed_value": 3}
    assert rows["message"] == "row count must be between 4 and 9; observed 3"
    zero = _failure(
        outcome(
            "expect_table_row_count_to_be_between",
            {"min_value": 4, "max_value": 9},
            {"observed_value": 0, "unexpected_count": 0},
        )
    )
    assert zero["observed"] == {"observed_value": 0} and zero["message"].endswith("; observed 0")
    broken = _failure(
        outcome(
            "expect_column_values_to_be_between",
            {"column": "c", "min_value": 0, "max_value": 1},
            error="bad type",
        )
    )
    assert broken["observed"] == {"error": "bad type"}
    assert broken["message"] == "c: values must be finite and between 0 and 1; observed bad type"
    nothing = _failure(outcome("expect_column_values_to_be_in_type_list", {"column": "c"}, {}))
    assert (
        nothing["observed"] == {}
        and nothing["message"] == "c: must be numeric; observed no details"
    )


def test_a_lost_class_names_the_missing_classes_or_else_what_was_there():
    kind, args = (
        "expect_column_distinct_values_to_contain_set",
        {"column": "y", "value_set": ["no", "yes"]},
    )
    lost = _failure(outcome(kind, args, {"observed_value": None, "partial_missing_list": ["yes"]}))
    assert lost["observed"] == {"missing": ["yes"]}
    assert lost["message"] == "y: must contain every class ['no', 'yes']; observed missing ['yes']"
    older = _failure(outcome(kind, args, {"details": {"value_counts": {"no": np.int64(3)}}}))
    assert older["observed"] == {"observed_value": {"no": 3}}
    seen = _failure(outcome(kind, args, {"observed_value": ["no"], "partial_missing_list": []}))
    assert seen["observed"] == {"observed_value": ["no"]}
    bare = _failure(outcome(kind, args, {}))
    assert bare["observed"] == {"observed_value": None}
    assert bare["message"] == "y: must contain every class ['no', 'yes']; observed None"
    other = _failure(
        outcome("expect_column_values_to_be_in_set", args, {"details": {"value_counts": {"no": 3}}})
    )
    assert other["observed"] == {}


def test_the_report_as_json_and_as_lines():
    failures = [{"message": "a: one"}, {"message": "b: two"}]
    report = ValidationReport(False, rows=9, evaluated=12, failures=failures, target_null_rows=2)
    assert report.to_dict() == {
        "success": False,
        "rows": 9,
        "target_null_rows": 2,
        "expectations_evaluated": 12,
        "expectations_failed": 2,
        "failures": failures,
    }
    assert report.describe_failures() == "  - a: one\n  - b: two"
    assert ValidationReport(True, rows=1, evaluated=1).describe_failures() == ""
