"""Every bad table the issue lists stops the pipeline with a clear message, no traceback, and
leaves what earlier runs produced (the model, its card, the contract) exactly as it was."""

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

SOURCE = "data/external/data.csv"


def snapshot(project):
    return {
        name: project.bytes(name)
        for name in ("models/best/model_card.json", "models/best/model/model.pkl", "contract.yaml")
    }


def fails(project, before, *messages, stage="validate"):
    result = project.repro(check=False)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "Calculating Metrics" not in result.stderr
    for message in messages:
        assert message in result.stderr, result.stderr
    assert f"Running stage '{stage}'" in result.stdout
    assert "Running stage 'split'" not in result.stdout
    assert snapshot(project) == before
    return result


@pytest.fixture(scope="module")
def sourced(reproduced, tmp_path_factory):
    """The reproduced project switched to a CSV source whose contract has been inferred."""
    project = reproduced.copy(tmp_path_factory.mktemp("sourced") / "repo")
    frame = pd.read_parquet(project.root / "data/raw/dataset.parquet")
    frame.to_csv(project.root / SOURCE, index=False)
    project.set_params({"data": {"source": SOURCE}})
    result = project.repro("validate")
    assert "contract re-inferred from data/external/data.csv (data.source changed" in result.stderr
    return project


@pytest.fixture
def same_source(sourced, tmp_path):
    return sourced.copy(tmp_path / "repo")


def table(project):
    return pd.read_csv(project.root / SOURCE)


def write(project, frame):
    frame.to_csv(project.root / SOURCE, index=False)


# --- the same source breaks its contract ---------------------------------------------------


def test_a_contract_break_lists_one_line_per_broken_expectation(same_source):
    before = snapshot(same_source)
    frame = table(same_source)
    frame.loc[3, "cat_00"] = "level_z"  # a category never seen
    frame.loc[:300, "num_01"] = None  # far more nulls than inferred
    frame.loc[5, "num_02"] = 1e12  # far out of range
    write(same_source, frame)
    result = fails(
        same_source, before,
        "error: validate: 3 of",
        "cat_00: values must be in ['level_a'",
        "num_01: at most",
        "num_02: values must be finite and between",
        "make contract",
    )  # fmt: skip
    assert result.stderr.count("\n  - ") == 3


def test_a_column_that_disappears_fails_with_features_null(same_source):
    before = snapshot(same_source)
    write(same_source, table(same_source).drop(columns=["num_02"]))
    fails(same_source, before, "columns must be exactly", "missing: ['num_02']")


def test_a_new_column_fails(same_source):
    before = snapshot(same_source)
    write(same_source, table(same_source).assign(surprise=1.0))
    fails(same_source, before, "unexpected: ['surprise']")


def test_a_column_that_changes_type(same_source):
    before = snapshot(same_source)
    frame = table(same_source)
    frame["num_00"] = frame["num_00"].astype(object)
    frame.loc[4, "num_00"] = "forty-two"
    write(same_source, frame)
    fails(same_source, before, "num_00: must be numeric")


def test_an_infinity_in_a_cell(same_source):
    before = snapshot(same_source)
    frame = table(same_source)
    frame.loc[7, "num_01"] = np.inf
    write(same_source, frame)
    fails(same_source, before, "num_01: values must be finite", "inf")


def test_make_contract_accepts_a_deliberate_change(same_source):
    frame = table(same_source).drop(columns=["num_02"])
    write(same_source, frame)
    assert same_source.repro(check=False).returncode != 0
    env = {**same_source.env(), "MODELOPS_REINFER_CONTRACT": "1"}
    import subprocess

    subprocess.run(
        ["dvc", "repro", "--force", "--single-item", "validate"],
        cwd=same_source.root, env=env, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    assert "num_02" not in (same_source.root / "contract.yaml").read_text()
    result = same_source.repro()
    card = same_source.json("models/best/model_card.json")
    assert "num_02" not in [f["name"] for f in card["feature_schema"]]
    assert "Running stage 'select'" in result.stdout


# --- a new source that cannot yield a contract ---------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(target="yes"),
            "target 'target' has one class only ('yes' in 600 rows)",
        ),
        (lambda f: f.assign(target=None), "target 'target' has no values (all 600 rows are null)"),
        (lambda f: f.assign(num_00=f["num_00"].fillna(np.inf)), "num_00: "),
    ],
    ids=["one-class", "target-all-null", "infinity"],
)
def test_a_new_source_that_cannot_be_learned_from(fresh_copy, change, message):
    before = snapshot(fresh_copy)
    frame = change(pd.read_parquet(fresh_copy.root / "data/raw/dataset.parquet"))
    frame.to_csv(fresh_copy.root / "data/external/new.csv", index=False)
    fresh_copy.set_params({"data": {"source": "data/external/new.csv"}})
    fails(fresh_copy, before, f"error: validate: {message}")


def test_rows_without_a_target_are_dropped_and_counted(fresh_copy):
    frame = pd.read_parquet(fresh_copy.root / "data/raw/dataset.parquet")
    frame.loc[:24, "target"] = None
    frame.to_csv(fresh_copy.root / "data/external/gaps.csv", index=False)
    fresh_copy.set_params({"data": {"source": "data/external/gaps.csv"}})
    result = fresh_copy.repro()
    assert "dropped 25 rows without a target" in result.stderr
    assert fresh_copy.json("reports/validation/summary.json")["target_null_rows"] == 25
    assert fresh_copy.json("models/best/model_card.json")["data"]["target_null_rows_dropped"] == 25


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data.source: file not found: data/external/data.csv"),
        ("", "data.source: data/external/data.csv is empty"),
        (
            "a,b,label\n1,2,0\n3,4,1\n",
            "data.source: data/external/data.csv has no target column 'target' "
            "(columns: a, b, label)",
        ),
    ],
    ids=["missing-file", "empty-file", "no-target-column"],
)
def test_unusable_source_fails_in_generate(fresh_copy, content, message):
    before = snapshot(fresh_copy)
    if content is not None:
        (fresh_copy.root / "data/external/data.csv").write_text(content)
    fresh_copy.set_params({"data": {"source": "data/external/data.csv"}})
    fails(fresh_copy, before, f"error: generate: {message}", stage="generate")
