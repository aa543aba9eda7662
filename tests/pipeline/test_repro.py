"""`dvc repro` end to end in a copy of the repository, and every bad input the issue lists."""

import pandas as pd
import pytest

from modelops.params import METRICS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

CANDIDATES = ["logistic_regression", "random_forest", "xgboost"]


def test_repro_builds_everything(reproduced):
    root = reproduced.root
    for output in (
        "data/raw/dataset.parquet", "data/split/train.parquet", "data/split/test.parquet",
        "reports/validation/summary.json", "reports/validation/data_docs/index.html",
        "models/candidates/runs.json", "models/best/model/model.pkl",
        "models/best/model/MLmodel", "models/best/model_card.json",
    ):  # fmt: skip
        assert (root / output).is_file(), output
    assert len(pd.read_parquet(root / "data/raw/dataset.parquet")) == 600
    bento = reproduced.json("models/bento.json")
    assert bento["model_version"] == "1"
    name, version = bento["bento_tag"].split(":")
    assert (root / "bentoml_home/bentos" / name / version / "bento.yaml").is_file()
    assert reproduced.json("reports/validation/summary.json")["success"] is True

    scores = reproduced.json("metrics/candidates.json")
    assert sorted(scores) == CANDIDATES
    for values in scores.values():
        assert sorted(values) == sorted(METRICS)
        assert 0.5 < values["roc_auc"] <= 1.0
    for kind in ("roc", "precision_recall", "calibration"):
        assert sorted(p.stem for p in (root / "plots" / kind).iterdir()) == CANDIDATES
    assert sorted(p.name for p in (root / "plots/confusion").iterdir()) == [
        f"{c}.csv" for c in CANDIDATES
    ]

    selected = reproduced.json("metrics/selected.json")
    best = max(CANDIDATES, key=lambda c: scores[c]["roc_auc"])
    assert selected["winner"] == best and selected["score"] == scores[best]["roc_auc"]


def test_model_card_and_registry_agree(reproduced):
    card = reproduced.json("models/best/model_card.json")
    head = reproduced.run("git", "rev-parse", "HEAD").stdout.strip()
    assert card["name"] == "modelops-classifier" and card["version"] == "1"
    assert card["git_commit"] == head
    assert [f["name"] for f in card["feature_schema"]] == [f"feature_{i:02d}" for i in range(5)]
    assert card["metrics"] == reproduced.json("metrics/candidates.json")[card["candidate"]]
    assert card["trained_at"] and len(card["data_hash"]) == 32

    client = reproduced.registry()
    version = client.get_model_version_by_alias("modelops-classifier", "candidate")
    assert str(version.version) == "1" and version.run_id == card["mlflow_run_id"]
    assert version.tags["data_hash"] == card["data_hash"] and version.tags["git_commit"] == head

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


def write_source(project, frame, name="data.csv"):
    path = project.root / "data/external" / name
    frame.to_csv(path, index=False)
    project.set_params({"data": {"source": f"data/external/{name}"}})
    return path


def assert_models_untouched(project, before):
    assert project.bytes("models/best/model_card.json") == before
    assert (project.root / "models/best/model/model.pkl").is_file()


def test_bad_csv_fails_validation_listing_each_problem(fresh_copy):
    card = fresh_copy.bytes("models/best/model_card.json")
    frame = pd.read_parquet(fresh_copy.root / "data/raw/dataset.parquet")
    frame["feature_00"] = frame["feature_00"].astype(object)
    frame.loc[3, "feature_00"] = "abc"
    frame.loc[4, "feature_01"] = None
    frame.loc[5, "feature_02"] = 5e9
    write_source(fresh_copy, frame)

    result = fresh_copy.repro(check=False)
    assert result.returncode != 0
    assert "error: validate: 3 of" in result.stderr
    assert "feature_00: must be numeric" in result.stderr
    assert "feature_01: must have no nulls; observed 1 bad value(s)" in result.stderr
    assert "feature_02: values must be between" in result.stderr and "5000000000.0" in result.stderr
    assert "Running stage 'split'" not in result.stdout
    assert_models_untouched(fresh_copy, card)
    assert fresh_copy.json("reports/validation/summary.json")["expectations_failed"] == 3


def test_single_class_target_fails_validation(fresh_copy):
    card = fresh_copy.bytes("models/best/model_card.json")
    frame = pd.read_parquet(fresh_copy.root / "data/raw/dataset.parquet").assign(target=1)
    write_source(fresh_copy, frame)
    result = fresh_copy.repro(check=False)
    assert result.returncode != 0
    assert "target: must contain both classes [0, 1]" in result.stderr
    assert_models_untouched(fresh_copy, card)


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
    card = fresh_copy.bytes("models/best/model_card.json")
    if content is not None:
        (fresh_copy.root / "data/external/data.csv").write_text(content)
    fresh_copy.set_params({"data": {"source": "data/external/data.csv"}})
    result = fresh_copy.repro(check=False)
    assert result.returncode != 0
    assert f"error: generate: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert_models_untouched(fresh_copy, card)


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"train": {"candidates": {"svm": {"C": 1}}}},
            "error: train: train.candidates: unknown candidate 'svm'; "
            "known: logistic_regression, random_forest, xgboost",
        ),
        ({"split": {"test_sise": 0.2}}, "error: split: split.test_sise: unknown key"),
        ({"select": {"metric": "auc"}}, "error: select: select.metric: Input should be"),
    ],
    ids=["unknown-candidate", "misspelled-key", "bad-metric"],
)
def test_bad_params_fail_naming_the_key(fresh_copy, updates, message):
    card = fresh_copy.bytes("models/best/model_card.json")
    fresh_copy.set_params(updates)
    result = fresh_copy.repro(check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert_models_untouched(fresh_copy, card)
