"""Inferring the data contract from a table, writing it, and deciding when to re-infer it."""

import numpy as np
import pandas as pd
import pytest

from modelops.params import DataParams, GenerateParams, ValidateParams
from modelops.pipeline.contract import (
    ContractError,
    infer_contract,
    infer_task,
    read_contract,
    reinference_reason,
    source_label,
    write_contract,
)
from modelops.pipeline.data import generate_dataset

BOUNDS = ValidateParams(min_rows=10)


def table(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "age": np.where(rng.random(n) < 0.1, np.nan, rng.integers(18, 80, n).astype(float)),
            "plan": rng.choice(["basic", "pro", None], n, p=[0.6, 0.3, 0.1]),
            "vip": rng.random(n) < 0.2,
            "store": rng.integers(1, 4, n),
            "churned": rng.choice(["yes", "no"], n, p=[0.25, 0.75]),
        }
    )


def test_mixed_table_infers_types_categories_ranges_and_drops_the_identifier():
    frame = table()
    contract, warnings = infer_contract(frame, DataParams(target="churned"), BOUNDS, "t.csv")
    assert contract.task == "binary" and contract.classes == ("no", "yes")
    assert contract.positive_class == "yes" and "minority" in contract.task_reason
    columns = {c.name: c for c in contract.columns}
    assert list(columns) == ["age", "plan", "vip", "store"]
    assert columns["age"].type == "number" and columns["age"].null_fraction > 0
    assert columns["age"].min < 18 and columns["age"].max > 79  # margins around the range
    assert columns["plan"].type == "category" and columns["plan"].categories == ("basic", "pro")
    assert columns["vip"].type == "boolean" and columns["vip"].max_null_fraction == 0.0
    assert columns["store"].type == "number"
    assert "identifier" in contract.dropped["customer_id"]
    assert any("customer_id" in w and "identifier" in w for w in warnings)
    assert contract.min_rows == 20 and contract.max_rows == 2000


def test_steering_params_positive_class_categorical_drop_and_features():
    frame = table()
    data = DataParams(target="churned", positive_class="no", categorical=("store",), drop=("vip",))
    contract, _ = infer_contract(frame, data, BOUNDS, "t.csv")
    assert contract.classes == ("yes", "no") and contract.positive_class == "no"
    store = next(c for c in contract.columns if c.name == "store")
    assert store.type == "category" and store.categories == ("1", "2", "3")
    assert contract.dropped["vip"] == "listed in data.drop"
    narrow, _ = infer_contract(frame, DataParams(target="churned", features=("age",)), BOUNDS, "s")
    assert narrow.feature_names == ["age"] and narrow.dropped["plan"] == "not in data.features"
    with pytest.raises(ContractError, match="positive_class 'maybe' is not a class"):
        infer_contract(frame, DataParams(target="churned", positive_class="maybe"), BOUNDS, "s")


@pytest.mark.parametrize(
    ("values", "requested", "task", "why"),
    [
        (["a", "b", "a"], "auto", "binary", "text with 2 distinct values"),
        ([True, False, True], "auto", "binary", "boolean"),
        (["x", "y", "z"], "auto", "multiclass", "text with 3"),
        ([1, 2, 3, 1, 2, 3], "auto", "multiclass", "3 distinct integer values"),
        ([0.5, 1.25, 3.0, 2.2], "auto", "regression", "non-integer"),
        (list(range(100)), "auto", "regression", "100 distinct integer"),
        ([1, 2, 3], "regression", "regression", "set by data.task"),
    ],
)
def test_task_inference_and_its_reason(values, requested, task, why):
    inferred, reason = infer_task(pd.Series(values, name="y"), requested, max_classes=20)
    assert inferred == task and why in reason


def test_a_task_that_does_not_fit_the_target_is_refused():
    with pytest.raises(
        ContractError, match=r"data.task is regression but target 'y' is not numeric"
    ):
        infer_task(pd.Series(["a", "b"], name="y"), "regression", 20)
    with pytest.raises(ContractError, match=r"data.task is binary but target 'y' has 3 classes"):
        infer_task(pd.Series(["a", "b", "c"], name="y"), "binary", 20)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(churned="no"), "has one class only ('no' in 200 rows)"),
        (
            lambda f: f.assign(churned=None),
            "target 'churned' has no values (all 200 rows are null)",
        ),
        (lambda f: f.assign(age=f["age"].replace(30.0, np.inf)), "age: "),
        (lambda f: f.head(5), "the table has 5 rows; validate.min_rows needs at least 10"),
        (lambda f: f[["churned"]], "no feature column left"),
    ],
    ids=["one-class", "target-all-null", "infinity", "too-few-rows", "no-features"],
)
def test_tables_that_cannot_yield_a_contract_say_why(change, message):
    frame = table()
    frame.loc[frame.index[:3], "age"] = 30.0
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)")):
        infer_contract(change(frame), DataParams(target="churned"), BOUNDS, "t.csv")


def test_null_targets_are_allowed_and_counted_in_the_bound():
    frame = table()
    frame.loc[:9, "churned"] = None
    contract, _ = infer_contract(frame, DataParams(target="churned"), BOUNDS, "t.csv")
    assert contract.target_max_null_fraction == pytest.approx(0.05 + BOUNDS.null_margin)


def test_file_round_trip_is_commented_yaml(tmp_path):
    contract, _ = infer_contract(table(), DataParams(target="churned"), BOUNDS, "data/t.csv")
    path = tmp_path / "contract.yaml"
    write_contract(contract, path)
    text = path.read_text()
    assert text.startswith("# The data contract") and "source: data/t.csv" in text
    assert "- basic" in text and "positive_class: 'yes'" in text
    assert read_contract(path) == contract
    path.write_text("")
    assert read_contract(path) is None
    assert read_contract(tmp_path / "absent.yaml") is None
    path.write_text("columns: [1, 2\n")
    with pytest.raises(ContractError, match="not valid YAML"):
        read_contract(path)
    path.write_text("version: 1\n")
    with pytest.raises(ContractError, match="contract is malformed"):
        read_contract(path)


def test_regression_contract_has_a_target_range():
    data = DataParams(task="regression")
    frame = generate_dataset(GenerateParams(n_rows=200), data)
    contract, _ = infer_contract(frame, data, BOUNDS, "s")
    assert contract.task == "regression" and contract.classes == ()
    assert contract.target_min < frame["target"].min() < frame["target"].max() < contract.target_max


def test_when_to_reinfer():
    data = DataParams(target="churned")
    contract, _ = infer_contract(table(), data, BOUNDS, "a.csv")
    assert reinference_reason(contract, data, "a.csv") is None
    assert reinference_reason(None, data, "a.csv") == "no contract yet"
    assert reinference_reason(contract, data, "b.csv") == "data.source changed (a.csv -> b.csv)"
    other = data.model_copy(update={"target": "plan"})
    assert reinference_reason(contract, other, "a.csv") == "data.target changed (churned -> plan)"
    steered = data.model_copy(update={"drop": ("vip",)})
    assert reinference_reason(contract, steered, "a.csv") == "data.drop changed"


def test_synthetic_source_names_the_generator_params():
    data = DataParams()
    first = source_label(data, GenerateParams())
    assert first.startswith("synthetic (generate params ")
    assert source_label(data, GenerateParams(n_rows=10)) != first
    assert source_label(DataParams(source="data/external/x.csv"), GenerateParams()) == (
        "data/external/x.csv"
    )
