"""Properties of contract inference that hold for every table (hypothesis).

The one that matters most: a contract inferred from a table accepts that same table, whatever
its numbers, categories, booleans, nulls and class balance (a bound rounded the wrong way, a
null fraction at its limit, a category key read differently by validation all break it).
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops.params import DataParams, ValidateParams
from modelops.pipeline.contract import ContractError, infer_contract
from modelops.pipeline.validation import validate_dataset

BOUNDS = ValidateParams(min_rows=1)
numbers = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, width=64)
maybe = lambda values: st.one_of(st.none(), values)  # noqa: E731


@st.composite
def tables(draw):
    n = draw(st.integers(min_value=4, max_value=60))
    column = lambda values: draw(st.lists(values, min_size=n, max_size=n))  # noqa: E731
    labels = column(maybe(st.sampled_from(["no", "yes"])))
    labels[0], labels[1] = "no", "yes"  # at least two classes
    return pd.DataFrame(
        {
            "amount": column(maybe(numbers)),
            "count": pd.array(column(maybe(st.integers(-(10**9), 10**9))), dtype="Int64"),
            "plan": column(maybe(st.sampled_from(["basic", "pro", "pro plus", "ünï", "1", "2.5"]))),
            "note": column(maybe(st.text(min_size=1, max_size=5))),
            "flag": pd.array(column(maybe(st.booleans())), dtype="boolean"),
            "y": labels,
        }
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=tables())
def test_the_inferred_contract_accepts_the_table_it_was_inferred_from(frame):
    try:
        contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    except ContractError as refused:  # only a table with nothing to learn from is refused
        assert str(refused) == "no feature column left to learn from", refused
        return
    report = validate_dataset(frame, contract)
    assert report.success, report.describe_failures()


@st.composite
def regression_tables(draw):
    n = draw(st.integers(min_value=4, max_value=40))
    target = draw(st.lists(maybe(numbers), min_size=n, max_size=n))
    target[0], target[1] = 0.5, 1.5  # a non-integer value: regression
    features = draw(st.lists(maybe(numbers), min_size=n, max_size=n))
    return pd.DataFrame({"x": features, "y": target})


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=regression_tables())
def test_a_regression_contract_accepts_its_table(frame):
    try:
        contract, _ = infer_contract(frame, DataParams(target="y"), BOUNDS, "t")
    except ContractError as refused:
        assert str(refused) == "no feature column left to learn from", refused
        return
    assert contract.task == "regression"
    report = validate_dataset(frame, contract)
    assert report.success, report.describe_failures()
