"""The train and select stages' outputs are functions of their inputs (issue #26): the same model
gives the same bytes; run ids, times and registry versions stay in MLflow, found by the model id."""

import mlflow
import pytest

from modelops.params import DataParams
from modelops.pipeline.selection import content_version
from modelops.pipeline.tracking import (
    CHAMPION_ALIAS,
    MODEL_UUID_TAG,
    REPRODUCIBLE_TIME_CREATED,
    TrackingError,
    alias_version,
    find_candidate_run,
    log_candidate,
    model_lineage,
    model_uuid,
    promote_version,
    register_candidate,
    save_model_locally,
    saved_model_uuid,
    start_tracking,
)
from modelops.pipeline.training import XGBoostParams
from tests.fitting import fit_table


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "unit")
    experiment_id = start_tracking(tmp_path)
    yield experiment_id
    mlflow.set_tracking_uri(None)


def fit(frame, trees=5):
    model, contract = fit_table(
        frame, DataParams(), "xgboost", XGBoostParams(n_estimators=trees, n_jobs=1)
    )
    return model, frame[contract.feature_names]


def folder_bytes(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_the_same_model_saves_to_the_same_bytes(tiny_frame, tmp_path):
    model, x = fit(tiny_frame)
    again, _ = fit(tiny_frame)  # a second training on the same inputs
    first = save_model_locally(model, x, tmp_path / "a")
    second = save_model_locally(again, x, tmp_path / "b")
    assert first == second == model_uuid(model) == saved_model_uuid(tmp_path / "a")
    assert folder_bytes(tmp_path / "a") == folder_bytes(tmp_path / "b")
    mlmodel = (tmp_path / "a" / "MLmodel").read_text()
    assert f"model_uuid: {first}" in mlmodel
    assert f"utc_time_created: '{REPRODUCIBLE_TIME_CREATED}'" in mlmodel
    other, _ = fit(tiny_frame, trees=6)
    assert model_uuid(other) != first  # another model, another id


def test_a_run_is_found_by_its_model_id_and_reruns_reuse_one_version(store, tiny_frame):
    model, x = fit(tiny_frame)
    identity = model_uuid(model)
    tags = {"git_commit": "abc", "data_hash": "d1", MODEL_UUID_TAG: identity}
    runs = [  # a forced rerun trains the same bytes in a new run
        log_candidate(
            experiment_id=store,
            name="xgboost",
            model=model,
            hyperparameters={},
            metrics={},
            features=x,
            tags=tags,
        )
        for _ in range(2)
    ]
    found = find_candidate_run(store, "xgboost", identity)
    assert found is not None and found.run_id == runs[1].run_id  # the latest
    assert found.model_uri == runs[1].model_uri
    assert find_candidate_run(store, "linear", identity) is None
    assert find_candidate_run(store, "xgboost", "0" * 32) is None

    tags = {"data_hash": "d1", MODEL_UUID_TAG: identity}
    first = register_candidate("clf", runs[0], tags)
    second = register_candidate("clf", runs[1], tags)
    assert first.version == second.version == "1"

    version = content_version(identity)
    lineage = model_lineage("clf", version)
    assert lineage["registry_version"] == "1" and lineage["git_commit"] == "abc"
    assert lineage["mlflow_run_id"] == runs[0].run_id and lineage["trained_at"].endswith("+00:00")
    assert model_lineage("clf", "0" * 12) == {}

    # CD promotes by the card's version (content), checked against the data hash as before
    promoted = promote_version("clf", version, "d1")
    assert alias_version("clf", CHAMPION_ALIAS).version == promoted.version == "1"
    with pytest.raises(TrackingError, match="no version"):
        promote_version("clf", "0" * 12, "d1")
