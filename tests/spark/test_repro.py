"""`dvc repro` with `compute.engine: spark`: the same dvc.yaml, params, contract and gate.

One run on a generated table given as `data.source` (so the Spark engine reads it), then a broken
copy of the table: validation stops with the local engine's messages and the earlier selected
model stays.
"""

import pandas as pd
import pytest

from modelops.pipeline.contract import read_contract
from modelops.pipeline.validation import validate_dataset
from modelops.serving.inference import Predictor
from tests.project_copy import TINY_PARAMS, copy_repository, merge
from tests.spark.conftest import TIER_CONF, generated

SOURCE = "data/external/customers.parquet"


@pytest.fixture(scope="module")
def project(tmp_path_factory, java):  # skip without Java, as the tier does
    project = copy_repository(tmp_path_factory.mktemp("repo"))
    frame, _, _ = generated("binary", n_rows=800)
    (project.root / SOURCE).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(project.root / SOURCE, index=False)
    project.set_params(
        merge(
            TINY_PARAMS,
            {
                "data": {"source": SOURCE},
                "compute": {
                    "engine": "spark",
                    "spark": {"master": "local[2]", "conf": TIER_CONF},
                },
                "train": {"candidates": {"random_forest": None, "linear": None}},
            },
        )
    )
    project.set_params({"train": {"candidates": {"linear": {"C": 1.0}}}})  # skipped on Spark
    result = project.repro("select")
    project.log = result.stdout + result.stderr
    return project


@pytest.mark.timeout(1500)  # dvc repro: a JVM per stage, on a loaded 2-core machine
def test_the_pipeline_runs_on_spark_and_selects_a_servable_model(project):
    assert "skipping linear: linear has no Spark form" in project.log
    assert "training xgboost (spark engine)" in project.log
    assert (project.root / "data/split/train.parquet").is_dir()  # Parquet folders
    runs = project.json("models/candidates/runs.json")["candidates"]
    assert list(runs) == ["xgboost"]
    card = project.json("models/best/model_card.json")
    assert card["candidate"] == "xgboost" and card["task"] == "binary"
    assert project.json("metrics/selected.json")["metrics"]["roc_auc"] > 0.8
    predictor = Predictor.from_directory(project.root / "models/best")  # what serving loads
    test = pd.read_parquet(project.root / "data/split/test.parquet")
    answers = predictor.predict(test[predictor.features].head(5).to_dict("records"))
    assert all(a["label"] in ("no", "yes") and 0 <= a["probability"] <= 1 for a in answers)


@pytest.mark.timeout(900)
def test_a_broken_table_stops_with_the_local_messages_and_keeps_the_model(project, tmp_path):
    broken = project.copy(tmp_path / "repo")
    best = broken.bytes("models/best/model/model.pkl")
    frame = pd.read_parquet(broken.root / SOURCE).drop(columns=["num_01"])
    frame["cat_00"] = frame["cat_00"].astype(object)
    frame.loc[3, "cat_00"] = "never seen"
    frame.to_parquet(broken.root / SOURCE, index=False)
    result = broken.repro("validate", check=False)
    assert result.returncode != 0
    contract = read_contract(broken.root / "contract.yaml")
    expected = validate_dataset(frame, contract)
    assert len(expected.failures) == 2
    for failure in expected.failures:
        assert failure["message"] in result.stderr
    assert broken.bytes("models/best/model/model.pkl") == best
