"""Every decision of contract inference pinned to its exact outcome on a table built for it.

Each test builds the smallest table whose answer is known by hand: the bounds (range margins,
null margins, row counts), the tie-breaks, the boundaries of each threshold, and one
re-inference case per steering parameter. A rule that changed by one step (`<` for `<=`, a
margin five times tighter, the other class on a tie) fails here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import (
    Contract,
    ContractError,
    describe,
    infer_contract,
    infer_task,
    reinference_reason,
    steering,
)
from modelops.pipeline.data import DataError

# no floor on rows, so the row bounds come from the ratio alone
BOUNDS = ValidateParams(min_rows=1, max_rows=10_000, row_ratio=10.0, range_margin=0.5)


def known(n: int = 40) -> pd.DataFrame:
    """A table whose every inferred bound is known by hand (n must be a multiple of 10)."""
    return pd.DataFrame(
        {
            "x": [float(i % 10) for i in range(n)],  # 0..9: span 9
            "const": [5.0] * n,  # span 0: margin from the value itself
            "small": [0.2] * n,  # span 0, |value| < 1: margin from 1
            "gappy": [None if i % 10 == 0 else 1.0 + i for i in range(n)],  # 10% null
            "colour": [["red", "blue"][i % 2] for i in range(n)],
            "flag": [i % 3 == 0 for i in range(n)],
            "y": [["no", "yes", "no", "no"][i % 4] for i in range(n)],  # yes is the minority
        }
    )


def infer(frame, bounds=BOUNDS, **data):
    contract, warnings = infer_contract(frame, DataParams(**{"target": "y", **data}), bounds, "t")
    return contract, warnings


def columns(contract: Contract) -> dict:
    return {column.name: column for column in contract.columns}


# --- exact bounds -----------------------------------------------------------------------


def test_numeric_ranges_are_widened_by_exactly_the_range_margin():
    contract, _ = infer(known())
    got = columns(contract)
    assert (got["x"].min, got["x"].max) == (-4.5, 13.5)  # 0..9 +- 0.5 * 9
    assert (got["const"].min, got["const"].max) == (2.5, 7.5)  # 5 +- 0.5 * |5|
    assert (got["small"].min, got["small"].max) == (-0.3, 0.7)  # 0.2 +- 0.5 * 1
    narrow, _ = infer(known(), bounds=BOUNDS.model_copy(update={"range_margin": 0.1}))
    assert (columns(narrow)["x"].min, columns(narrow)["x"].max) == (-0.9, 9.9)
    exact, _ = infer(known(), bounds=BOUNDS.model_copy(update={"range_margin": 0.0}))
    assert (columns(exact)["x"].min, columns(exact)["x"].max) == (0.0, 9.0)
    assert (columns(exact)["const"].min, columns(exact)["const"].max) == (5.0, 5.0)


def test_negative_constant_column_gets_a_margin_from_its_magnitude():
    frame = known().assign(const=-4.0)
    got = columns(infer(frame)[0])["const"]
    assert (got.min, got.max) == (-6.0, -2.0)


def test_ranges_are_rounded_to_six_decimals():
    frame = known().assign(x=[1 / 3 if i % 2 else 2 / 3 for i in range(40)])
    got = columns(infer(frame, bounds=BOUNDS.model_copy(update={"range_margin": 0.0}))[0])["x"]
    assert (got.min, got.max) == (0.333333, 0.666667)


def test_null_fractions_and_their_bounds_are_exact():
    contract, _ = infer(known())
    got = columns(contract)
    assert (got["gappy"].null_fraction, got["gappy"].max_null_fraction) == (0.1, 0.2)
    assert got["gappy"].nullable
    assert (got["x"].null_fraction, got["x"].max_null_fraction) == (0.0, 0.0)
    assert not got["x"].nullable
    wide, _ = infer(known(), bounds=BOUNDS.model_copy(update={"null_margin": 0.25}))
    assert columns(wide)["gappy"].max_null_fraction == 0.35


def test_the_null_bound_never_exceeds_one_and_is_rounded():
    frame = known(40)
    frame["mostly_null"] = [7.0 if i == 0 else None for i in range(40)]  # 39/40 null
    frame["third"] = [None if i % 3 == 0 else 1.0 for i in range(40)]  # 14/40 null
    got = columns(infer(frame)[0])
    assert (got["mostly_null"].null_fraction, got["mostly_null"].max_null_fraction) == (0.975, 1.0)
    assert (got["third"].null_fraction, got["third"].max_null_fraction) == (0.35, 0.45)
    got = columns(infer(frame.head(39))[0])  # 13 of 39: rounded to four decimals
    assert (got["third"].null_fraction, got["third"].max_null_fraction) == (0.3333, 0.4333)


def test_row_bounds_are_the_ratio_around_the_rows_floored_and_ceiled():
    frame = pd.concat([known(190), known(10).head(9)], ignore_index=True)  # 199 rows
    contract, _ = infer(frame, bounds=BOUNDS.model_copy(update={"row_ratio": 2.5}))
    assert (contract.min_rows, contract.max_rows) == (79, 498)  # floor(79.6), ceil(497.5)
    assert contract.inferred_from_rows == 199
    contract, _ = infer(known(40))
    assert (contract.min_rows, contract.max_rows) == (4, 400)


def test_row_bounds_are_clamped_by_the_hard_limits_but_keep_the_table():
    clamped = BOUNDS.model_copy(update={"min_rows": 30, "max_rows": 100})
    contract, _ = infer(known(40), bounds=clamped)
    assert (contract.min_rows, contract.max_rows) == (30, 100)
    # the hard limits never exclude the table the contract was inferred from
    tight = BOUNDS.model_copy(update={"min_rows": 1, "max_rows": 40, "row_ratio": 1.0})
    contract, _ = infer(known(40), bounds=tight)
    assert (contract.min_rows, contract.max_rows) == (40, 40)


def test_too_few_rows_is_refused_exactly_below_min_rows():
    frame = known(40)
    infer(frame, bounds=BOUNDS.model_copy(update={"min_rows": 40}))  # exactly enough
    with pytest.raises(ContractError, match=r"^the table has 40 rows; validate.min_rows needs "):
        infer(frame, bounds=BOUNDS.model_copy(update={"min_rows": 41}))


def test_target_null_bound_and_regression_target_range_are_exact():
    frame = known().assign(y=[float(i % 10) for i in range(40)])
    frame.loc[:3, "y"] = None  # 4 of 40
    contract, _ = infer(frame, task="regression")
    assert contract.target_max_null_fraction == 0.2  # 0.1 + null_margin 0.1
    assert (contract.target_min, contract.target_max) == (-4.5, 13.5)  # 0..9 +- 0.5 * 9
    full, _ = infer(known())
    assert full.target_max_null_fraction == 0.0
    all_but_one = known().assign(y=["no", "yes"] + [None] * 38)
    assert infer(all_but_one)[0].target_max_null_fraction == 1.0


def test_category_levels_are_the_sorted_text_keys_and_nulls_are_not_a_level():
    frame = known().assign(colour=[["red", None, "blue", "green"][i % 4] for i in range(40)])
    got = columns(infer(frame)[0])["colour"]
    assert got.type == "category" and got.categories == ("blue", "green", "red")
    assert got.null_fraction == 0.25 and got.max_null_fraction == 0.35


def test_each_column_gets_its_type():
    got = columns(infer(known())[0])
    assert {name: c.type for name, c in got.items()} == {
        "x": "number", "const": "number", "small": "number", "gappy": "number",
        "colour": "category", "flag": "boolean",
    }  # fmt: skip
    boolean_with_nulls = known().assign(flag=pd.array([True, None, False, True] * 10, "boolean"))
    assert columns(infer(boolean_with_nulls)[0])["flag"].type == "boolean"
    objects_with_nulls = known().assign(flag=[True, None, False, np.True_] * 10)
    assert columns(infer(objects_with_nulls)[0])["flag"].type == "boolean"
    assert columns(infer(known().assign(flag=[None] * 39 + [True]))[0])["flag"].type == "boolean"


# --- tie-breaks: which class is positive ----------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "classes"),
    [
        ([0, 1], (0, 1)),
        ([1, 0], (0, 1)),
        (["no", "yes"], ("no", "yes")),
        (["yes", "no"], ("no", "yes")),
        ([False, True], (False, True)),
        ([2.0, 7.0], (2, 7)),
    ],
)
def test_an_exactly_balanced_target_makes_the_later_sorted_class_positive(labels, classes):
    frame = known().assign(y=[labels[i % 2] for i in range(40)])
    contract, _ = infer(frame)
    assert contract.task == "binary"
    assert contract.classes == classes and contract.positive_class == classes[1]
    assert f"positive class {classes[1]!r} is the minority class" in contract.task_reason
    # class index 1 is the positive class: the served probability, ROC and threshold refer to it
    codes = contract.class_index(frame["y"])
    assert (codes == np.array([c == classes[1] for c in frame["y"]])).all()


def test_the_minority_class_is_positive_whatever_its_sort_order():
    frame = known().assign(y=[["yes", "no", "yes", "yes"][i % 4] for i in range(40)])
    contract, _ = infer(frame)
    assert contract.classes == ("yes", "no") and contract.positive_class == "no"
    assert contract.class_index(pd.Series(["no", "yes"])).tolist() == [1, 0]
    assert contract.task_reason == (
        "target is text with 2 distinct values; positive class 'no' is the minority class"
    )


def test_positive_class_from_params_matches_by_text_and_is_kept_in_its_own_type():
    frame = known().assign(y=[i % 4 == 0 for i in range(40)])  # True is the minority
    contract, _ = infer(frame, positive_class="False")
    assert contract.classes == (True, False) and contract.positive_class is False
    assert contract.task_reason.endswith("; positive class False set by data.positive_class")
    numbers = known().assign(y=[i % 4 == 0 for i in range(40)]).astype({"y": int})
    contract, _ = infer(numbers, positive_class=0)
    assert contract.classes == (1, 0) and contract.positive_class == 0


def test_multiclass_classes_are_sorted_and_have_no_positive_class():
    frame = known().assign(y=[["b", "c", "a", "c"][i % 4] for i in range(40)])
    contract, _ = infer(frame)
    assert contract.task == "multiclass" and contract.classes == ("a", "b", "c")
    assert contract.positive_class is None
    assert contract.class_index(pd.Series(["c", "a", "b"])).tolist() == [2, 0, 1]
    mixed = known().assign(y=[[1, "b", 3][i % 3] for i in range(40)])
    contract, _ = infer(mixed, task="multiclass")
    assert contract.classes == (1, 3, "b")  # not sortable together: sorted as text


def test_a_label_outside_the_classes_is_named():
    contract, _ = infer(known())
    with pytest.raises(DataError, match=r"y: labels not in the contract's classes: \['maybe'\]"):
        contract.class_index(pd.Series(["no", "maybe", "yes"]))


# --- boundaries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distinct", "task"),
    [(2, "binary"), (19, "multiclass"), (20, "multiclass"), (21, "regression")],
)
def test_an_integer_target_is_classes_up_to_exactly_max_classes(distinct, task):
    values = pd.Series([i % distinct for i in range(60)], name="y")
    inferred, reason = infer_task(values, "auto", max_classes=20)
    assert inferred == task
    if task == "regression":
        assert reason == f"target is numeric with {distinct} distinct integer values"
    else:
        assert reason == (
            f"target has {distinct} distinct integer values (<= validate.max_classes)"
        )


def test_integral_floats_are_integers_and_a_fraction_is_not():
    assert infer_task(pd.Series([1.0, 2.0, 3.0, None]), "auto", 20)[0] == "multiclass"
    inferred, reason = infer_task(pd.Series([1.0, 2.0, 3.5]), "auto", 20)
    assert (inferred, reason) == (
        "regression",
        "target is numeric with 3 distinct non-integer values",
    )


def test_task_reasons_are_exact():
    assert infer_task(pd.Series(["a", "b", None]), "auto", 20) == (
        "binary", "target is text with 2 distinct values"
    )  # fmt: skip
    assert infer_task(pd.Series([True, False]), "auto", 20) == (
        "binary", "target is boolean with 2 distinct values"
    )  # fmt: skip
    assert infer_task(pd.Series([1, 2, 3]), "multiclass", 2) == ("multiclass", "set by data.task")
    assert infer_task(pd.Series(["a", "b"]), "binary", 20) == ("binary", "set by data.task")
    assert infer_task(pd.Series([1, 2]), "regression", 20) == ("regression", "set by data.task")


def test_data_task_multiclass_accepts_two_classes():
    assert infer_task(pd.Series(["a", "b"]), "multiclass", 20) == ("multiclass", "set by data.task")
    contract, _ = infer(known(), task="multiclass")
    assert contract.task == "multiclass" and contract.positive_class is None


def text_ids(n: int, distinct: int) -> list[str]:
    return [f"id-{i % distinct:04d}" for i in range(n)]


@pytest.mark.parametrize(
    ("fraction", "distinct", "dropped"),
    [(1.0, 40, True), (1.0, 39, False), (0.9, 36, True), (0.9, 35, False)],
)
def test_identifier_fraction_boundary(fraction, distinct, dropped):
    frame = known(40).assign(ref=text_ids(40, distinct))
    bounds = BOUNDS.model_copy(update={"identifier_fraction": fraction})
    contract, warnings = infer(frame, bounds=bounds)
    if dropped:
        assert contract.dropped["ref"] == f"identifier ({distinct / 40:.0%} of values are unique)"
        assert warnings == [
            f"column 'ref' left out: looks like an identifier ({distinct} unique values in 40 rows)"
        ]
    else:
        assert "ref" not in contract.dropped and columns(contract)["ref"].type == "category"
        assert warnings == []


def test_identifiers_need_twenty_values_and_text():
    assert "ref" not in infer(known(40).head(19).assign(ref=text_ids(19, 19)))[0].dropped
    assert "ref" in infer(known(40).head(20).assign(ref=text_ids(20, 20)))[0].dropped
    with_nulls = known(40).assign(ref=text_ids(19, 19) + [None] * 21)
    assert "ref" not in infer(with_nulls)[0].dropped  # 19 values, not 40 rows, count
    # a numeric column declared categorical is never an identifier
    numbers = known(40).assign(ref=list(range(40)))
    got = infer(numbers, categorical=("ref",))[0]
    assert columns(got)["ref"].type == "category" and len(columns(got)["ref"].categories) == 40


@pytest.mark.parametrize(("distinct", "dropped"), [(5, False), (6, True)])
def test_max_categories_boundary(distinct, dropped):
    frame = known(40).assign(level=[f"l{i % distinct}" for i in range(40)])
    bounds = BOUNDS.model_copy(update={"max_categories": 5})
    contract, warnings = infer(frame, bounds=bounds)
    if dropped:
        assert contract.dropped["level"] == "6 categories > validate.max_categories"
        assert warnings == [
            "column 'level' left out: 6 distinct values is more than "
            "validate.max_categories=5; list it in data.drop or raise the limit"
        ]
    else:
        assert len(columns(contract)["level"].categories) == 5 and warnings == []


def test_an_all_null_column_is_left_out_with_a_warning():
    contract, warnings = infer(known().assign(empty=None))
    assert contract.dropped == {"empty": "every value is null"}
    assert warnings == ["column 'empty' left out: every value is null"]


# --- steering parameters: each one changes the contract, and re-infers it -------------------


def test_data_categorical_makes_a_number_column_a_category():
    contract, _ = infer(known(), categorical=("x",))
    assert columns(contract)["x"].type == "category"
    assert columns(contract)["x"].categories == tuple(f"{i}" for i in range(10))
    assert contract.inferred_with["categorical"] == ["x"]


def test_data_drop_and_data_features_leave_columns_out():
    contract, _ = infer(known(), drop=("x", "flag"))
    assert "x" not in columns(contract) and contract.dropped["x"] == "listed in data.drop"
    assert contract.dropped["flag"] == "listed in data.drop"
    contract, _ = infer(known(), features=("flag", "x"))
    assert contract.feature_names == ["flag", "x"]  # the declared order
    assert contract.dropped == {
        name: "not in data.features" for name in ("const", "small", "gappy", "colour")
    }


def test_steering_records_every_param():
    data = DataParams(
        target="y", task="binary", positive_class="yes", features=("x",), drop=("colour",),
        categorical=("x",),
    )  # fmt: skip
    assert steering(data) == {
        "task": "binary", "positive_class": "yes", "features": ["x"], "drop": ["colour"],
        "categorical": ["x"],
    }  # fmt: skip
    assert steering(DataParams())["features"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"task": "multiclass"},
        {"positive_class": "no"},
        {"features": ("x", "colour")},
        {"drop": ("flag",)},
        {"categorical": ("x",)},
    ],
)
def test_every_steering_param_triggers_re_inference_naming_it(change):
    data = DataParams(target="y")
    contract, _ = infer(known())
    assert reinference_reason(contract, data, "t") is None
    changed = data.model_copy(update=change)
    assert reinference_reason(contract, changed, "t") == f"data.{next(iter(change))} changed"
    # and the contract re-inferred with it no longer asks for re-inference
    again, _ = infer_contract(known(), changed, BOUNDS, "t")
    assert reinference_reason(again, changed, "t") is None


def test_several_changed_params_are_all_named():
    contract, _ = infer(known())
    both = DataParams(target="y", drop=("flag",), categorical=("x",))
    assert reinference_reason(contract, both, "t") == "data.drop, data.categorical changed"


# --- what is refused, in its exact words ---------------------------------------------------


def test_refusals_say_exactly_what_is_wrong():
    frame = known()
    with pytest.raises(ContractError) as missing:
        infer(frame, features=("x", "nope", "gone"), categorical=("absent",))
    assert str(missing.value) == (
        "data.features lists columns not in the table: nope, gone; "
        "data.categorical lists columns not in the table: absent"
    )
    with pytest.raises(ContractError) as infinite:
        infer(frame.assign(x=[np.inf, -np.inf] + [1.0] * 38))
    assert str(infinite.value) == "x: 2 infinite value(s); a number must be finite"
    with pytest.raises(ContractError) as target:
        infer(frame.assign(y=[np.inf] + [1.5] * 39), task="regression")
    assert str(target.value) == "y: target has infinite values"
    with pytest.raises(ContractError) as no_target:
        infer(frame, target="z")
    assert str(no_target.value).startswith("no target column 'z' (columns: x, const, small")
    with pytest.raises(ContractError) as positive:
        infer(frame, positive_class="maybe")
    assert str(positive.value) == (
        "data.positive_class 'maybe' is not a class of 'y' (classes: ['no', 'yes'])"
    )
    with pytest.raises(ContractError) as one:
        infer(frame.assign(y=[None] + ["no"] * 39))
    assert str(one.value) == (
        "target 'y' has one class only ('no' in 39 rows): a classifier needs at least two"
    )
    with pytest.raises(ContractError) as nothing:
        infer(frame[["y"]].assign(only=None))
    assert str(nothing.value) == "no feature column left to learn from"


def test_describe_summarises_the_contract():
    contract, _ = infer(known().assign(empty=None), drop=("flag",))
    assert describe(contract) == {
        "source": "t",
        "task": "binary",
        "task_reason": contract.task_reason,
        "features": 5,
        "dropped": {"flag": "listed in data.drop", "empty": "every value is null"},
    }


# --- pinned from the mutation run's survivors (3 December) -------------------------------


def test_a_span_under_one_is_widened_by_the_margin_of_its_span_not_of_its_size():
    frame = known().assign(x=[[0.2, 0.7][i % 2] for i in range(40)])  # span 0.5
    got = columns(infer(frame)[0])["x"]
    assert (got.min, got.max) == (-0.05, 0.95)  # 0.5 x 0.5 each side, not 0.5 x max(|0.2|, 1)


def test_labels_outside_the_classes_are_a_data_error_naming_them():
    contract, _ = infer(known())
    assert contract.class_index(pd.Series(["yes", "no", "yes"])).tolist() == [1, 0, 1]
    with pytest.raises(DataError, match=r"y: labels not in the contract's classes: \['maybe'\]"):
        contract.class_index(pd.Series(["no", "maybe"]))


def test_the_synthetic_source_label_is_stable_for_the_same_generate_params():
    from modelops.params import GenerateParams
    from modelops.pipeline.contract import source_label

    # the digest of the params with sorted keys: a committed contract.yaml keeps its label
    assert source_label(DataParams(target="y"), GenerateParams()) == (
        "synthetic (generate params b63e8f42)"
    )
    other = source_label(DataParams(target="y"), GenerateParams(n_rows=6000))
    assert other.startswith("synthetic (generate params ") and "b63e8f42" not in other
    assert source_label(DataParams(target="y", source="t.csv"), GenerateParams()) == "t.csv"


def test_an_object_column_of_text_and_numbers_is_a_category_not_a_boolean():
    frame = known().assign(mixed=pd.Series(["a", 1, "b", 2] * 10, dtype=object))
    got = columns(infer(frame)[0])["mixed"]
    assert got.type == "category"
    assert sorted(got.categories) == ["1", "2", "a", "b"]


def test_numpy_integer_labels_in_an_object_column_are_plain_classes():
    frame = known().assign(y=pd.Series([np.int64(i % 2) for i in range(40)], dtype=object))
    contract, _ = infer(frame)
    assert contract.classes == (0, 1)


def test_target_messages_quote_the_first_values_exactly():
    with pytest.raises(ContractError, match=r"is not numeric \(e\.g\. 'low'\)$"):
        infer_task(pd.Series(["low", "high", "low"] * 5, name="y"), "regression", 20)
    mixed = pd.Series(["a", 1, "b", 2, "c", 3] * 5, name="y", dtype=object)
    with pytest.raises(ContractError, match=r"\(e\.g\. 'a', 'b', 1, 2\): 6 classes as written"):
        infer_task(mixed, "auto", 20)


def test_categorical_names_missing_from_the_table_are_listed_in_one_message():
    expected = r"data\.categorical lists columns not in the table: p, q"
    with pytest.raises(ContractError, match=expected):
        infer(known(), categorical=["p", "q"])


def test_a_multiclass_contract_says_why_it_is_multiclass():
    frame = known().assign(y=[["a", "b", "c", "d"][i % 4] for i in range(40)])
    contract, _ = infer(frame)
    assert (contract.task, contract.task_reason) == (
        "multiclass",
        "target is text with 4 distinct values",
    )
