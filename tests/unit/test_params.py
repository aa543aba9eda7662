from pathlib import Path

import pytest
import yaml

from modelops.params import (
    SECTIONS,
    ParamsError,
    SelectParams,
    TrainParams,
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
    raw["generate"].update(n_numeric=2, n_categorical=1, n_boolean=0, n_informative=5)
    with pytest.raises(
        ParamsError,
        match=r"n_informative \(5\) must not exceed the number of feature columns \(3\)",
    ):
        load_params(write(tmp_path, raw), "generate")


def test_data_steering_keys_are_checked(tmp_path):
    raw = repo_params()
    raw["data"].update(drop=["target"])
    with pytest.raises(ParamsError, match="data: drop must not include the target column"):
        load_params(write(tmp_path, raw), "data")
    raw["data"].update(drop=[], task="ranking")
    with pytest.raises(ParamsError, match=r"data.task: Input should be 'auto', 'binary'"):
        load_params(write(tmp_path, raw), "data")


@pytest.mark.parametrize(
    ("metric", "task", "resolved"),
    [("auto", "binary", "roc_auc"), ("auto", "multiclass", "f1_macro"),
     ("auto", "regression", "r2"), ("log_loss", "multiclass", "log_loss"),
     ("rmse", "regression", "rmse")],
)  # fmt: skip
def test_select_metric_resolves_per_task(metric, task, resolved):
    assert SelectParams(metric=metric).metric_for(task) == resolved


def test_a_metric_that_does_not_fit_the_task_is_a_clear_error():
    with pytest.raises(
        ParamsError, match=r"select.metric: 'roc_auc' does not apply to a regression"
    ):
        SelectParams(metric="roc_auc").metric_for("regression")
    with pytest.raises(
        ParamsError, match="'rmse' does not apply to a binary task; use auto or one"
    ):
        SelectParams(metric="rmse").metric_for("binary")


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


def test_compute_defaults_to_the_local_engine_and_names_bad_values():
    from modelops.params import ComputeParams

    assert parse_section({"compute": None}, "compute") == ComputeParams()
    assert ComputeParams().engine == "local"
    with pytest.raises(ParamsError, match=r"compute\.engine: Input should be 'local' or 'spark'"):
        parse_section({"compute": {"engine": "dask"}}, "compute")
    with pytest.raises(ParamsError, match=r"compute\.spark: master 'laptop' is not a Spark master"):
        parse_section({"compute": {"spark": {"master": "laptop"}}}, "compute")
    with pytest.raises(ParamsError, match=r"conf keys must start with 'spark\.': shuffle"):
        parse_section({"compute": {"spark": {"conf": {"shuffle": 8}}}}, "compute")
    with pytest.raises(ParamsError, match=r"compute\.spark\.mastr: unknown key"):
        parse_section({"compute": {"spark": {"mastr": "yarn"}}}, "compute")
    spark = parse_section(
        {"compute": {"engine": "spark", "spark": {"master": "local[*]", "conf": {"spark.x": 1}}}},
        "compute",
    ).spark
    assert (spark.master, dict(spark.conf)) == ("local[*]", {"spark.x": 1})


def test_a_params_file_without_compute_runs_the_local_engine(tmp_path):
    from modelops.pipeline.engines import compute_params, uses_spark

    raw = repo_params()
    raw.pop("compute")
    assert compute_params(write(tmp_path, raw)).engine == "local"
    assert not uses_spark(tmp_path / "params.yaml")
    raw["compute"] = {"engine": "spark"}
    assert uses_spark(write(tmp_path, raw))
