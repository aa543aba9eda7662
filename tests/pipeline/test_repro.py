"""`dvc repro` end to end in a copy of the repository: the default mixed-type table, the gate,
the model card, and bad params."""

import json
import pickle

import pandas as pd
import pytest
import yaml

from modelops.params import METRICS_BY_TASK
from modelops.pipeline.tracking import saved_model_uuid
from modelops.pipeline.training import KINDS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

CANDIDATES = ["linear", "random_forest", "xgboost"]
FEATURES = ["num_00", "num_01", "num_02", "cat_00", "flag_00"]


def test_repro_builds_everything(reproduced):
    root = reproduced.root
    for output in (
        "data/raw/dataset.parquet", "data/split/train.parquet", "data/split/test.parquet",
        "reports/validation/summary.json", "reports/validation/data_docs/index.html",
        "models/candidates/runs.json", "models/best/model/model.pkl",
        "models/best/model/MLmodel", "models/best/model_card.json",
    ):  # fmt: skip
        assert (root / output).is_file(), output
    raw = pd.read_parquet(root / "data/raw/dataset.parquet")
    assert len(raw) == 600 and list(raw.columns) == [*FEATURES, "target"]
    assert raw[FEATURES].isna().any().all()  # every feature column has nulls
    bento = reproduced.json("models/bento.json")
    card = reproduced.json("models/best/model_card.json")
    assert bento["model_version"] == card["version"] and len(card["version"]) == 12
    name, version = bento["model_tag"].split(":")
    # the winner in its serving format (the file serving.json names) next to its card: exactly
    # what the image copies; the local BentoML store entry holds the same files (and model.yaml)
    serving = root / "models/serving"
    spec = json.loads((serving / "serving.json").read_text())
    assert spec["format"] == bento["serving_format"]
    assert sorted(p.name for p in serving.iterdir()) == sorted(
        ["serving.json", spec["file"], "model_card.json"]
    )
    entry = root / "bentoml_home/models" / name / version
    for packaged in serving.iterdir():
        assert (entry / packaged.name).read_bytes() == packaged.read_bytes(), packaged.name
    assert not list(root.glob("bentoml_home/bentos/*/*/bento.yaml"))  # no Bento: nothing uses one

    summary = reproduced.json("reports/validation/summary.json")
    assert summary["success"] is True and summary["task"] == "binary"
    # the tiny generator params are another source than the committed contract's: re-inferred
    assert summary["contract"]["re_inferred"] is True
    assert "data.source changed" in summary["contract"]["reason"]

    scores = reproduced.json("metrics/candidates.json")
    assert sorted(scores) == CANDIDATES
    for values in scores.values():
        assert sorted(values) == sorted(METRICS_BY_TASK["binary"])
        assert 0.5 < values["roc_auc"] <= 1.0
    for kind in ("roc", "precision_recall", "calibration"):
        assert sorted(p.stem for p in (root / "plots" / kind).iterdir()) == CANDIDATES
    confusion = (root / "plots/confusion/xgboost.csv").read_text().splitlines()
    assert confusion[0] == "actual,predicted" and {r.split(",")[0] for r in confusion[1:]} == {
        "no", "yes",
    }  # fmt: skip
    pr = reproduced.json("plots/precision_recall/xgboost.json")
    assert pr[-1]["precision"] < 0.9  # at full recall, not the flat 1.0 of the old envelope

    selected = reproduced.json("metrics/selected.json")
    best = max(CANDIDATES, key=lambda c: scores[c]["roc_auc"])
    assert selected["winner"] == best and selected["score"] == scores[best]["roc_auc"]
    assert selected["metric"] == "roc_auc"  # select.metric: auto on a binary task


def test_contract_file_is_readable_and_describes_the_table(reproduced):
    text = (reproduced.root / "contract.yaml").read_text()
    assert text.startswith("# The data contract")
    contract = yaml.safe_load(text)
    assert contract["target"]["classes"] == ["no", "yes"]
    assert contract["target"]["positive_class"] == "yes"
    assert [c["name"] for c in contract["columns"]] == FEATURES
    assert {c["name"]: c["type"] for c in contract["columns"]}["cat_00"] == "category"


def test_model_card_follows_the_shared_interface(reproduced):
    card = reproduced.json("models/best/model_card.json")
    head = reproduced.run("git", "rev-parse", "HEAD").stdout.strip()
    winner = reproduced.root / "models/candidates" / card["candidate"]
    identity = reproduced.json("models/candidates/runs.json")["candidates"][card["candidate"]]
    assert identity["model_uuid"] == saved_model_uuid(winner)
    assert card["name"] == "modelops-classifier" and card["version"] == identity["model_uuid"][:12]
    assert card["task"] == "binary" and card["target"] == "target"
    assert card["classes"] == ["no", "yes"] and card["positive_class"] == "yes"
    assert card["threshold"] == 0.5 and "minority" in card["task_reason"]
    # lineage (commit, run, time) is in the registry, not in this DVC output
    assert not {"git_commit", "trained_at", "mlflow_run_id"} & set(card)
    schema = {f["name"]: f for f in card["feature_schema"]}
    assert list(schema) == FEATURES
    assert schema["cat_00"]["type"] == "category" and schema["cat_00"]["categories"]
    assert schema["flag_00"]["type"] == "boolean" and schema["num_00"]["type"] == "number"
    assert all(f["nullable"] for f in card["feature_schema"])
    assert len(card["input_example"]) == 5 and set(card["input_example"][0]) == set(FEATURES)
    assert card["metrics"] == reproduced.json("metrics/candidates.json")[card["candidate"]]
    assert len(card["data_hash"]) == 32
    assert card["data"]["target_null_rows_dropped"] == 0

    with open(reproduced.root / "models/best/model/model.pkl", "rb") as handle:
        model = pickle.load(handle)
    assert model.threshold == card["threshold"] and model.classes == card["classes"]
    prediction = model.predict_encoded(model.encode_rows(card["input_example"] + [{}]))
    assert len(prediction) == 6 and prediction[-1]["label"] in ("no", "yes")

    client = reproduced.registry()
    version = client.get_model_version_by_alias("modelops-classifier", "candidate")
    assert str(version.version) == "1"
    assert version.tags["model_uuid"] == identity["model_uuid"]
    assert client.get_run(version.run_id).data.tags["candidate"] == card["candidate"]
    assert version.tags["data_hash"] == card["data_hash"] and version.tags["git_commit"] == head
    assert version.tags["task"] == "binary"

    experiment = client.get_experiment_by_name("modelops")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.data.tags["candidate"] for r in runs) == CANDIDATES
    for run in runs:
        assert run.data.tags["data_hash"] == card["data_hash"]
        assert {"train_roc_auc", "test_roc_auc", "fit_seconds"} <= set(run.data.metrics)


def test_second_repro_reruns_nothing_and_dvc_reads_metrics_and_plots(reproduced):
    again = reproduced.repro()
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in again.stdout
    assert "up to date" in reproduced.run("dvc", "status").stdout
    shown = reproduced.run("dvc", "metrics", "show", "--json").stdout
    assert "roc_auc" in shown and "xgboost" in shown
    reproduced.run("dvc", "plots", "show", "-o", "dvc_plots")
    html = (reproduced.root / "dvc_plots/index.html").read_text()
    for title in ("ROC curve", "Precision-recall", "Calibration", "Confusion matrix"):
        assert title in html


def output_hashes(project):
    lock = yaml.safe_load((project.root / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for stage in lock["stages"].values() for o in stage["outs"]}


def test_a_forced_rerun_gives_the_same_bytes_and_registers_no_new_version(fresh_copy):
    """Issue #26: every output is a function of its inputs; lineage stays in the registry."""
    before = output_hashes(fresh_copy)
    summary = fresh_copy.json("reports/validation/summary.json")
    fresh_copy.repro("--force")
    after = output_hashes(fresh_copy)
    # The first run re-inferred the tiny table's contract (and says so); this one checks it.
    summary_again = fresh_copy.json("reports/validation/summary.json")
    assert summary["contract"]["re_inferred"] and not summary_again["contract"]["re_inferred"]
    for record in (summary, summary_again):
        record["contract"].update(re_inferred=None, reason=None)
    assert summary_again == summary
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {"reports/validation/summary.json"}
    client = fresh_copy.registry()
    assert len(client.search_model_versions("name='modelops-classifier'")) == 1
    runs = client.search_runs([client.get_experiment_by_name("modelops").experiment_id])
    assert len(runs) == 2 * len(CANDIDATES)  # each training is still a run of its own


def test_gate_refuses_a_worse_candidate_and_keeps_the_champion(fresh_copy):
    fresh_copy.run("python", "-m", "pipelines.promote")
    card_before = fresh_copy.bytes("models/best/model_card.json")
    selected_before = fresh_copy.bytes("metrics/selected.json")
    champion_score = fresh_copy.json("metrics/selected.json")["score"]

    # A one-stump XGBoost is far worse than the champion on the same test set.
    stump = {"xgboost": {"n_estimators": 1, "max_depth": 1, "n_jobs": 1}}
    fresh_copy.set_params({"train": {"candidates": None}, "select": {"min_score": 0.5}})
    fresh_copy.set_params({"train": {"candidates": stump}})
    result = fresh_copy.repro(check=False)

    assert result.returncode != 0
    assert "worse than champion version 1" in result.stderr
    assert f"roc_auc={champion_score:.6f}" in result.stderr  # rescored on the same test set
    assert "champion kept" in result.stderr
    assert fresh_copy.bytes("models/best/model_card.json") == card_before
    assert fresh_copy.bytes("metrics/selected.json") == selected_before
    client = fresh_copy.registry()
    assert str(client.get_model_version_by_alias("modelops-classifier", "champion").version) == "1"
    assert str(client.get_model_version_by_alias("modelops-classifier", "candidate").version) == "1"
    assert len(client.search_model_versions("name='modelops-classifier'")) == 1


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"train": {"candidates": {"svm": {"C": 1}}}},
            f"error: train: train.candidates: unknown candidate 'svm'; known: {', '.join(KINDS)}",
        ),
        ({"split": {"test_sise": 0.2}}, "error: split: split.test_sise: unknown key"),
        ({"select": {"metric": "auc"}}, "error: select: select.metric: Input should be"),
        (
            {"select": {"metric": "rmse"}},
            "error: select: select.metric: 'rmse' does not apply to a binary task",
        ),
    ],
    ids=["unknown-candidate", "misspelled-key", "bad-metric", "metric-of-another-task"],
)
def test_bad_params_fail_naming_the_key(fresh_copy, updates, message):
    card = fresh_copy.bytes("models/best/model_card.json")
    fresh_copy.set_params(updates)
    result = fresh_copy.repro(check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert fresh_copy.bytes("models/best/model_card.json") == card
