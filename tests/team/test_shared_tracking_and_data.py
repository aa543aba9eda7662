"""The pipeline against a real MLflow server (PostgreSQL + moto S3) and a DVC remote in S3."""

import json
import subprocess

import mlflow
import psycopg
import pytest

from tests.team.conftest import (
    ARTIFACTS_BUCKET,
    DVC_BUCKET,
    MODEL_NAME,
    dead_port_url,
    file_hashes,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("team")]

CANDIDATES = ["linear", "random_forest", "xgboost"]
# What DVC caches (and so pushes and pulls); models/bento.json is `cache: false` by design.
# reports/validation/data_docs is rebuilt by `validate`, not a DVC output (it holds GX timestamps)
DVC_OUTPUTS = ("data", "models", "reports/validation/summary.json")


def test_runs_metrics_and_candidate_alias_are_on_the_server(team_project, team_servers):
    client = mlflow.MlflowClient(tracking_uri=team_servers.mlflow_url)
    card = team_project.json("models/best/model_card.json")

    experiment = client.get_experiment_by_name("modelops")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.tags["candidate"] for run in runs) == CANDIDATES
    for run in runs:
        assert {"train_roc_auc", "test_roc_auc", "fit_seconds"} <= set(run.data.metrics)
        assert run.data.tags["data_hash"] == card["data_hash"]
        # proxied artifacts: clients upload through the server, never straight to S3
        assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    version = client.get_model_version_by_alias(MODEL_NAME, "candidate")
    # the card names its model by content (the start of the model_uuid tag), the registry by number
    assert version.tags["model_uuid"].startswith(card["version"])
    assert version.run_id in {run.info.run_id for run in runs}
    assert version.tags["candidate"] == card["candidate"]

    # The server's store is the PostgreSQL database, not a file next to it.
    with psycopg.connect(team_servers.postgres_url) as db:
        stored = db.execute(
            "SELECT count(*) FROM runs WHERE experiment_id = %s", (int(experiment.experiment_id),)
        ).fetchone()[0]
        aliased = db.execute(
            "SELECT version FROM registered_model_aliases WHERE name = %s AND alias = 'candidate'",
            (MODEL_NAME,),
        ).fetchone()[0]
    assert stored == len(CANDIDATES) and str(aliased) == str(version.version)


def test_model_artifacts_land_in_the_s3_bucket(team_project, team_servers):
    s3 = team_servers.s3()
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=ARTIFACTS_BUCKET, Prefix="mlflow/"
        )
        for item in page.get("Contents", [])
    ]
    models = [key for key in keys if key.endswith("/MLmodel")]
    assert len(models) >= len(CANDIDATES), keys

    # The registered version's files are downloadable from the bucket, byte for byte what the
    # server hands out through its artifact proxy.
    client = mlflow.MlflowClient(tracking_uri=team_servers.mlflow_url)
    version = client.get_model_version_by_alias(MODEL_NAME, "candidate")
    # DVC's outputs name no run: the winner's run carries its logged model's URI as a tag
    logged_uri = client.get_run(version.run_id).data.tags["model_uri"]
    assert version.source == logged_uri  # models:/<logged model id>
    model_id = version.source.removeprefix("models:/")
    ours = [key for key in models if f"/{model_id}/" in key]
    assert len(ours) == 1, (model_id, models)
    in_bucket = s3.get_object(Bucket=ARTIFACTS_BUCKET, Key=ours[0])["Body"].read()
    mlflow.set_tracking_uri(team_servers.mlflow_url)
    try:
        served = mlflow.artifacts.load_text(f"models:/{MODEL_NAME}/{version.version}/MLmodel")
    finally:
        mlflow.set_tracking_uri(None)
    assert served.encode() == in_bucket


def test_push_then_pull_into_a_fresh_clone_restores_outputs_bit_for_bit(
    team_project, team_servers, tmp_path
):
    remote = team_project.with_env(**team_servers.remote_env("dvc"))
    pushed = remote.run("python", "-m", "pipelines.remote", "push")
    assert f"s3://{DVC_BUCKET}/dvc at {team_servers.s3_endpoint}" in pushed.stdout
    stored = team_servers.s3().list_objects_v2(Bucket=DVC_BUCKET, Prefix="dvc/files/md5/")
    assert stored["KeyCount"] > 0
    # The remote lives in the git-ignored config.local; nothing about it is committed.
    assert "team-dvc-remote" in (team_project.root / ".dvc/config.local").read_text()
    assert team_project.run("git", "status", "--porcelain", ".dvc").stdout == ""

    clone_root = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(team_project.root), str(clone_root)],
        check=True, capture_output=True,
    )  # fmt: skip
    clone = type(team_project)(clone_root, team_servers.remote_env("dvc"))
    assert not (clone_root / "data/raw").exists() and not (clone_root / "models").exists()
    clone.run("python", "-m", "pipelines.remote", "pull")

    original = file_hashes(team_project.root, *DVC_OUTPUTS)
    original.pop("models/bento.json")  # Bento tags: built by `package`, not cached by DVC
    assert original and file_hashes(clone_root, *DVC_OUTPUTS) == original
    # DVC sees every pulled stage as up to date; only `package` (Bento store is local) is not.
    assert set(json.loads(clone.run("dvc", "status", "--json").stdout)) == {"package"}


def test_serving_needs_only_the_packaged_model(team_project):
    """The Bento serves with the tracking server and S3 unreachable, importing no mlflow."""
    bento = team_project.json("models/bento.json")
    script = """
import json, sys
from starlette.testclient import TestClient
from modelops.serving.inference import example_instance
from services.classifier import Classifier
with TestClient(Classifier.to_asgi()) as client:
    row = example_instance(client.get("/metadata").json())  # a valid raw row of the model
    response = client.post("/predict", json={"instances": [row]})
print(json.dumps({"status": response.status_code, "body": response.json(),
    "heavy": sorted(m for m in ("mlflow", "dvc", "great_expectations") if m in sys.modules)}))
"""
    offline = team_project.with_env(
        MLFLOW_TRACKING_URI=dead_port_url(),
        AWS_ENDPOINT_URL=dead_port_url(),
        BENTOML_HOME=str(team_project.root / "bentoml_home"),
        MODELOPS_MODEL_TAG=bento["model_tag"],
    )
    result = json.loads(offline.run("python", "-c", script).stdout.strip().splitlines()[-1])
    assert result["status"] == 200, result
    assert result["body"]["model"] == {"name": MODEL_NAME, "version": bento["model_version"]}
    assert 0.0 <= result["body"]["predictions"][0]["probability"] <= 1.0
    assert result["heavy"] == []
