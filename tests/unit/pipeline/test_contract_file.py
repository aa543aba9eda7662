"""The committed contract file: every key written and read back, the defaults of a hand edit."""

from __future__ import annotations

import re

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
