"""The exact words of every validation message, and the bounds it enforces to the row.

A person reads these lines in the terminal and the PR report: each names the column, the rule
with the contract's own bound, and what was observed. Each test breaks one rule of a contract
inferred from a small known table (see test_contract_rules.py for how its bounds come about).
"""

from __future__ import annotations

import pandas as pd
import pytest

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import infer_contract
from modelops.pipeline.validation import validate_dataset

BOUNDS = ValidateParams(min_rows=1, max_rows=10_000)
N = 40


def known() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [float(i % 10) for i in range(N)],  # range -4.5 .. 13.5
            "gappy": [None if i % 10 == 0 else 1.0 + i for i in range(N)],  # nulls: 10%, max 20%
            "colour": [["red", "blue"][i % 2] for i in range(N)],
            "flag": [i % 3 == 0 for i in range(N)],
            "y": [["no", "yes", "no", "no"][i % 4] for i in range(N)],
        }
    )


@pytest.fixture(scope="module")
def contract():
    inferred, _ = infer_contract(known(), DataParams(target="y"), BOUNDS, "t")
    return inferred


def messages(frame, contract):
    return [failure["message"] for failure in validate_dataset(frame, contract).failures]


def test_every_broken_rule_in_its_exact_words(contract):
    frame = known()
    frame.loc[0:8, "gappy"] = None  # 9, and rows 10, 20, 30: 12 of 40
    frame.loc[3, "x"] = 100.0
    frame["colour"] = frame["colour"].astype(object)
    frame.loc[4, "colour"] = "green"
    frame["flag"] = frame["flag"].astype(object)
    frame.loc[5, "flag"] = "maybe"
    frame.loc[12, "y"] = None
    frame.loc[13, "y"] = "perhaps"
    assert messages(frame, contract) == [
        "x: values must be finite and between -4.5 and 13.5; observed 1 bad value(s) (2.5%), "
        "e.g. [100.0]",
        "gappy: at most 20.0% nulls; observed 12 bad value(s) (30.0%), "
        "e.g. [None, None, None, None, None]",
        "colour: values must be in ['blue', 'red']; observed 1 bad value(s) (2.5%), e.g. ['green']",
        "flag: values must be in [True, False]; observed 1 bad value(s) (2.5%), e.g. ['maybe']",
        "y: must have no nulls; observed 1 bad value(s) (2.5%), e.g. [None]",
        "y: values must be in ['no', 'yes']; observed 1 bad value(s) (2.5641%), e.g. ['perhaps']",
    ]


def test_column_set_row_count_and_lost_class_in_exact_words(contract):
    frame = known().head(3).drop(columns=["x"]).assign(extra=1.0, y="no")
    assert messages(frame, contract) == [
        "columns must be exactly ['colour', 'flag', 'gappy', 'x', 'y']; observed unexpected: "
        "['extra']; missing: ['x']",
        "row count must be between 4 and 400; observed 3",
        "gappy: at most 20.0% nulls; observed 1 bad value(s) (33.3333%), e.g. [None]",
        "y: must contain every class ['no', 'yes']; observed missing ['yes']",
    ]


def test_a_number_column_read_as_text(contract):
    assert messages(known().assign(x=known()["x"].astype(str)), contract) == [
        "x: must be numeric; observed str"
    ]


def test_a_regression_target_out_of_range():
    frame = known().assign(y=[float(i) for i in range(N)])  # 0..39: -19.5 .. 58.5
    contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert messages(frame.assign(y=[1000.0] + [1.0] * (N - 1)), contract) == [
        "y: values must be finite and between -19.5 and 58.5; observed 1 bad value(s) (2.5%), "
        "e.g. [1000.0]"
    ]


def test_null_bounds_hold_exactly_at_the_limit_and_fail_one_row_over():
    # 10% nulls inferred, null_margin 0.1 -> at most 20%: 8 of 40 pass, 9 of 40 fail
    contract, _ = infer_contract(known(), DataParams(target="y"), BOUNDS, "t")
    at_limit = known()
    at_limit.loc[[1, 2, 3, 4], "gappy"] = None  # 4 + 4 = 8 of 40
    assert messages(at_limit, contract) == []
    over = at_limit.copy()
    over.loc[5, "gappy"] = None
    assert messages(over, contract) == [
        "gappy: at most 20.0% nulls; observed 9 bad value(s) (22.5%), "
        "e.g. [None, None, None, None, None]"
    ]


@pytest.mark.parametrize("nulls", [172, 59, 186])
def test_a_null_bound_that_floating_point_cannot_represent_still_holds_at_the_limit(nulls):
    # 1 - 0.172 is 0.8280000000000001: without rounding, exactly 17.2% nulls failed "at most
    # 17.2%"
    frame = pd.DataFrame(
        {"v": [None if i < nulls else 1.0 for i in range(1000)], "y": ["a", "b"] * 500}
    )
    inferred, _ = infer_contract(frame, DataParams(target="y"), BOUNDS.model_copy(
        update={"null_margin": 0.0}), "t")  # fmt: skip
    assert inferred.columns[0].max_null_fraction == nulls / 1000
    assert messages(frame, inferred) == []


def test_a_contract_inferred_from_a_table_with_null_targets_accepts_that_table():
    frame = known()
    frame.loc[[1, 2], "y"] = None  # 5% of the target
    contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert contract.target_max_null_fraction == 0.15
    report = validate_dataset(frame, contract)
    assert report.success, report.describe_failures()
    assert report.target_null_rows == 2
    more = frame.copy()
    more.loc[[3, 4, 5, 6], "y"] = None  # 6 of 40 = 15%: still within
    assert messages(more, contract) == []
    more.loc[7, "y"] = None  # 7 of 40 = 17.5%
    assert messages(more, contract) == [
        "y: at most 15.0% nulls; observed 7 bad value(s) (17.5%), "
        "e.g. [None, None, None, None, None]"
    ]


def test_nullable_integer_and_float_columns_pass_their_own_contract():
    # what read_parquet gives back for a frame written with pandas' nullable types
    frame = known().assign(
        x=pd.array([1, None, 3, 4] * 10, dtype="Int64"),
        gappy=pd.array([0.5, None, 1.5, 2.5] * 10, dtype="Float64"),
    )
    contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    assert [c.type for c in contract.columns[:2]] == ["number", "number"]
    assert validate_dataset(frame, contract).success
    broken = frame.assign(x=pd.array([100, None, 3, 4] * 10, dtype="Int64"))
    assert messages(broken, contract) == [
        "x: values must be finite and between -0.5 and 5.5; observed 10 bad value(s) (33.3333%), "
        "e.g. [100.0, 100.0, 100.0, 100.0, 100.0]"
    ]


def test_the_summary_has_every_key_and_observed_values_are_plain_json():
    import numpy as np

    from modelops.pipeline.validation import ValidationReport, _plain

    report = ValidationReport(success=False, rows=7, evaluated=3, failures=[{"m": 1}],
                              target_null_rows=2)  # fmt: skip
    assert report.to_dict() == {
        "success": False, "rows": 7, "target_null_rows": 2, "expectations_evaluated": 3,
        "expectations_failed": 1, "failures": [{"m": 1}],
    }  # fmt: skip
    assert _plain(np.int64(3)) == 3 and type(_plain(np.int64(3))) is int
    assert _plain(np.float64("nan")) is None and _plain(np.float64("inf")) == "inf"
    assert _plain({3, 1, 20}) == [1, 20, 3]  # sorted as text: mixed types never fail to sort
    assert _plain({"b", 2}) == [2, "b"]
    assert _plain((np.int64(2), "a")) == [2, "a"]
    assert _plain({np.str_("k"): [np.int64(1), {"x": np.bool_(True)}]}) == {"k": [1, {"x": True}]}
    assert _plain("text") == "text" and _plain([1, "a"]) == [1, "a"]
