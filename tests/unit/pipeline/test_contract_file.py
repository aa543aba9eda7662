"""The committed contract file: every key written and read back, the defaults of a hand edit."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from modelops.params import DataParams, GenerateParams, ValidateParams
from modelops.pipeline.contract import (
    Column,
    Contract,
    ContractError,
    infer_contract,
    read_contract,
    source_label,
    write_contract,
)
from tests.unit.pipeline.test_contract_rules import known


def test_a_regression_contract_round_trips_with_its_target_range(tmp_path):
    frame = known().assign(y=[float(i % 10) + 0.5 for i in range(40)])
    frame.loc[0, "y"] = None
    contract, _ = infer_contract(frame, DataParams(target="y"), ValidateParams(min_rows=1), "s")
    path = tmp_path / "contract.yaml"
    write_contract(contract, path)
    raw = yaml.safe_load(path.read_text())
    assert raw["version"] == 1
    assert raw["target"] == {
        "name": "y",
        "task": "regression",
        "why": "target is numeric with 10 distinct non-integer values",
        "min": -4.0,
        "max": 14.0,
        "max_null_fraction": 0.125,
    }
    assert raw["inferred_from"]["rows"] == 40
    assert read_contract(path) == contract


MINIMAL = {
    "inferred_from": {"source": "s"},
    "rows": {"min": 1, "max": 9},
    "target": {"name": "y", "task": "binary", "classes": ["a", "b"], "positive_class": "b"},
    "columns": [{"name": "x", "type": "number"}],
}


def test_keys_a_person_left_out_take_their_defaults():
    contract = Contract.from_dict(MINIMAL)
    assert contract.columns == (Column("x", "number", 0.0, 0.0),)
    assert contract.task_reason == ""
    assert contract.target_max_null_fraction == 0.0
    assert contract.inferred_from_rows == 0
    assert (contract.target_min, contract.target_max) == (None, None)
    regression = {**MINIMAL, "target": {"name": "y", "task": "regression", "min": 1, "max": 2}}
    assert (
        Contract.from_dict(regression).target_min,
        Contract.from_dict(regression).target_max,
    ) == (
        1,
        2,
    )


def test_a_malformed_contract_names_the_problem():
    bad = {**MINIMAL, "columns": [{"name": "x", "type": "text"}]}
    with pytest.raises(ContractError) as caught:
        Contract.from_dict(bad)
    assert str(caught.value) == (
        "contract is malformed (ValueError: column 'x' has unknown type 'text')"
    )
    with pytest.raises(ContractError) as caught:
        Contract.from_dict({**MINIMAL, "rows": {}})
    assert str(caught.value) == "contract is malformed (KeyError: 'min')"


def test_a_synthetic_source_is_named_by_an_eight_digit_digest_of_all_generate_params():
    label = source_label(DataParams(), GenerateParams())
    assert re.fullmatch(r"synthetic \(generate params [0-9a-f]{8}\)", label)
    assert source_label(DataParams(), GenerateParams(seed=1)) != label


def test_features_carry_type_categories_and_are_nullable():
    from modelops.serving.model import Feature

    contract, _ = infer_contract(known(), DataParams(target="y"), ValidateParams(min_rows=1), "s")
    features = {f.name: f for f in contract.features()}
    assert features["colour"] == Feature("colour", "category", ("blue", "red"), nullable=True)
    assert features["x"] == Feature("x", "number", (), nullable=True)  # nulls go to the model


def test_class_index_names_at_most_five_unknown_labels_sorted():
    from modelops.pipeline.data import DataError

    contract, _ = infer_contract(known(), DataParams(target="y"), ValidateParams(min_rows=1), "s")
    codes = contract.class_index(pd.Series(["no", "yes", "yes"]))
    assert codes.dtype == "int64" and codes.tolist() == [0, 1, 1]
    with pytest.raises(DataError) as caught:
        contract.class_index(pd.Series(["g", "f", "e", "d", "c", "b", "a", "no"]))
    assert str(caught.value) == "y: labels not in the contract's classes: ['a', 'b', 'c', 'd', 'e']"


def test_a_file_that_is_not_a_mapping_is_not_a_contract(tmp_path):
    path = tmp_path / "contract.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ContractError) as caught:
        read_contract(path)
    assert str(caught.value) == f"{path}: not a contract; empty it or run `make contract`"


def test_the_file_keeps_the_readers_order_and_writes_unicode_as_is(tmp_path):
    frame = known().assign(colour=[["rød", "blå"][i % 2] for i in range(40)])
    contract, _ = infer_contract(frame, DataParams(target="y"), ValidateParams(min_rows=1), "s")
    path = tmp_path / "contract.yaml"
    write_contract(contract, path)
    text = path.read_text(encoding="utf-8")
    assert "- rød" in text and "\\x" not in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == ["version", "inferred_from", "rows", "target", "columns", "dropped"]


def test_integer_classes_sort_as_numbers():
    frame = known().assign(y=[[10, 2, 3][i % 3] for i in range(40)])
    contract, _ = infer_contract(frame, DataParams(target="y"), ValidateParams(min_rows=1), "s")
    assert contract.classes == (2, 3, 10)
