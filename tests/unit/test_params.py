from pathlib import Path

import pytest
import yaml

from modelops.params import (
    SECTIONS,
    ParamsError,
    TrainParams,
    XGBoostParams,
    load_params,
    parse_section,
)

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def write(tmp_path, payload):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def repo_params():
    return yaml.safe_load(REPO_PARAMS.read_text())


def test_repo_params_file_is_valid_for_every_section():
    sections = load_params(REPO_PARAMS, *SECTIONS)
    assert [type(s) for s in sections] == list(SECTIONS.values())


def test_candidates_are_typed_and_keep_declaration_order():
    train = parse_section(
        {"train": {"candidates": {"xgboost": {"max_depth": 3}, "random_forest": None}}}, "train"
    )
    listed = train.candidates.listed()
    assert list(listed) == ["random_forest", "xgboost"]  # declaration order of the kinds
    assert isinstance(listed["xgboost"], XGBoostParams)
    assert listed["xgboost"].max_depth == 3
    assert listed["random_forest"].n_estimators == 200  # `random_forest:` alone means defaults


def test_unknown_candidate_names_it_and_lists_known_kinds():
    with pytest.raises(ParamsError) as err:
        parse_section({"train": {"candidates": {"svm": {}, "xgboost": {}}}}, "train")
    message = str(err.value)
    assert "train.candidates" in message
    assert "'svm'" in message
    assert "logistic_regression, random_forest, xgboost" in message


def test_misspelled_hyperparameter_gives_dotted_path(tmp_path):
    raw = repo_params()
    raw["train"]["candidates"]["xgboost"]["max_dept"] = 3
    with pytest.raises(ParamsError, match=r"train\.candidates\.xgboost\.max_dept: unknown key"):
        load_params(write(tmp_path, raw), "train")


def test_misspelled_section_key(tmp_path):
    raw = repo_params()
    raw["split"]["test_sise"] = raw["split"].pop("test_size")
    with pytest.raises(ParamsError, match=r"split\.test_sise: unknown key"):
        load_params(write(tmp_path, raw), "split")


def test_out_of_range_value_names_key_and_reason(tmp_path):
    raw = repo_params()
    raw["split"]["test_size"] = 1.5
    with pytest.raises(ParamsError, match=r"split\.test_size: Input should be less than 1"):
        load_params(write(tmp_path, raw), "split")


def test_wrong_type_names_key(tmp_path):
    raw = repo_params()
    raw["generate"]["n_rows"] = "many"
    with pytest.raises(ParamsError, match=r"generate\.n_rows: Input should be a valid integer"):
        load_params(write(tmp_path, raw), "generate")


def test_missing_section(tmp_path):
    raw = repo_params()
    del raw["select"]
    with pytest.raises(ParamsError, match="select: required section is missing"):
        load_params(write(tmp_path, raw), "select")


def test_cross_field_rule(tmp_path):
    raw = repo_params()
    raw["generate"].update(n_features=3, n_informative=5)
    with pytest.raises(ParamsError, match=r"n_informative \(5\) must not exceed n_features \(3\)"):
        load_params(write(tmp_path, raw), "generate")


def test_no_candidates_listed():
    with pytest.raises(ParamsError, match="at least one candidate"):
        parse_section({"train": {"candidates": {}}}, "train")


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ParamsError, match="params file not found"):
        load_params(tmp_path / "nope.yaml", "data")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(bad, "data")


def test_sections_are_frozen():
    train = TrainParams.model_validate({"candidates": {"xgboost": {}}})
    with pytest.raises(Exception, match="frozen"):
        train.seed = 3
