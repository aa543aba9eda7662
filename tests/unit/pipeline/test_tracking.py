import mlflow
import pytest

from modelops.params import DataParams
from modelops.pipeline.tracking import (
    CANDIDATE_ALIAS,
    CHAMPION_ALIAS,
    TrackingError,
    alias_version,
    load_local_model,
    load_registered_model,
    log_candidate,
    log_test_metrics,
    promote,
    promote_version,
    register_candidate,
    save_model_locally,
    start_tracking,
    tracking_uri,
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


@pytest.fixture
def fitted(tiny_frame):
    model, contract = fit_table(
        tiny_frame, DataParams(), "xgboost", XGBoostParams(n_estimators=5, n_jobs=1)
    )
    return model, tiny_frame[contract.feature_names]


def test_default_store_is_a_sqlite_file_in_the_project(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking_uri(tmp_path) == "http://tracking.example:5000"


def test_run_registration_aliases_and_promotion(store, fitted, tmp_path):
    candidate, x = fitted
    logged = log_candidate(
        experiment_id=store, name="xgboost", model=candidate,
        hyperparameters={"max_depth": 4}, metrics={"train_roc_auc": 0.9}, features=x,
        tags={"git_commit": "abc123", "data_hash": "d41d8"},
    )  # fmt: skip
    run = mlflow.get_run(logged.run_id)
    assert run.data.tags["git_commit"] == "abc123" and run.data.tags["data_hash"] == "d41d8"
    assert run.data.params["max_depth"] == "4" and run.data.metrics["train_roc_auc"] == 0.9
    model_info = mlflow.models.get_model_info(logged.model_uri)
    assert model_info.signature is not None and model_info.saved_input_example_info is not None

    assert log_test_metrics(logged.run_id, {"roc_auc": 0.8})
    assert mlflow.get_run(logged.run_id).data.metrics["test_roc_auc"] == 0.8
    assert not log_test_metrics("0" * 32, {"roc_auc": 0.8})

    assert alias_version("clf", CANDIDATE_ALIAS) is None  # no model registered yet
    first = register_candidate("clf", logged, {"metric.roc_auc": "0.8"})
    assert alias_version("clf", CANDIDATE_ALIAS).version == first.version == "1"
    again = register_candidate("clf", logged, {"metric.roc_auc": "0.8"})
    assert again.version == "1"  # same run: no duplicate version

    assert alias_version("clf", CHAMPION_ALIAS) is None
    promoted = promote("clf")
    assert alias_version("clf", CHAMPION_ALIAS).version == promoted.version == "1"
    assert alias_version("clf", CHAMPION_ALIAS).tags["metric.roc_auc"] == "0.8"
    model = load_registered_model("clf", CHAMPION_ALIAS)
    assert (model.predict_proba(x) == candidate.predict_proba(x)).all()
    assert model.classes == ["no", "yes"]


def test_promote_without_candidate_is_a_clear_error(store):
    with pytest.raises(TrackingError, match="has no 'candidate' alias"):
        promote("never-registered")


def test_local_model_round_trip_without_registry(fitted, tmp_path):
    model, x = fitted
    save_model_locally(model, x, tmp_path / "m")
    assert (tmp_path / "m" / "model.pkl").is_file() and (tmp_path / "m" / "MLmodel").is_file()
    loaded = load_local_model(tmp_path / "m")
    assert (loaded.predict_proba(x) == model.predict_proba(x)).all()


def test_mlflow_loads_the_tabular_model_back_and_it_takes_raw_rows(fitted, tmp_path):
    """The pyfunc flavor (what `mlflow models serve` uses) predicts raw rows with nulls."""
    import pandas as pd

    model, x = fitted
    save_model_locally(model, x, tmp_path / "m")
    example = pd.read_json(tmp_path / "m" / "input_example.json", orient="split")
    assert set(example.columns) == set(x.columns)
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    rows = pd.DataFrame([{**x.iloc[0].to_dict(), "num_00": None, "cat_00": "never seen"}])
    rows = rows.astype(object).where(rows.notna(), None)
    assert list(pyfunc.predict(rows)) == list(model.predict(rows))
    assert set(pyfunc.predict(x.head(20))) <= {"no", "yes"}


def test_unreachable_tracking_store_names_the_uri(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/a-file/mlflow.db")
    with pytest.raises(TrackingError, match=r"MLflow tracking store sqlite:///.*/a-file/mlflow.db"):
        start_tracking(tmp_path)
    mlflow.set_tracking_uri(None)


def test_cd_promotes_the_released_version_only_when_its_data_hash_matches(store, fitted):
    """CD moves `champion` to the version the released image serves, never to an unrelated one."""
    candidate, x = fitted
    versions = []
    for data_hash in ("hash-reviewed", "hash-other"):
        logged = log_candidate(
            experiment_id=store, name="xgboost", model=candidate,
            hyperparameters={"max_depth": 4}, metrics={}, features=x,
            tags={"git_commit": "abc123", "data_hash": data_hash},
        )  # fmt: skip
        versions.append(register_candidate("clf", logged, {"data_hash": data_hash}).version)
    # `candidate` now points at the second (unrelated) version; the image serves the first
    with pytest.raises(TrackingError, match=r"trained on data hash-other.*not the same model"):
        promote_version("clf", versions[1], "hash-reviewed")
    assert alias_version("clf", CHAMPION_ALIAS) is None
    promoted = promote_version("clf", versions[0], "hash-reviewed")
    assert alias_version("clf", CHAMPION_ALIAS).version == promoted.version == versions[0]
    with pytest.raises(TrackingError, match="no version 99"):
        promote_version("clf", "99", "hash-reviewed")
