"""`dvc repro` per task on real mixed-type tables and on the generator: set data.source and
data.target, get a validated, gated model whose card and artifact speak the table's labels."""

import pickle

import pandas as pd
import pytest

from benchmarks import tables
from modelops.params import METRICS_BY_TASK

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


def use_table(project, frame, target, name, **data):
    frame.to_csv(project.root / "data/external" / f"{name}.csv", index=False)
    project.set_params({"data": {"source": f"data/external/{name}.csv", "target": target, **data}})


def load_best(project):
    with open(project.root / "models/best/model/model.pkl", "rb") as handle:
        return pickle.load(handle)


def flat_metrics(scores):
    return sorted(k for k in scores if k != "per_class")


def check_common(project, task, target):
    """What every task's run must leave: card, contract, metrics, and a model on raw rows."""
    summary = project.json("reports/validation/summary.json")
    assert summary["success"] and summary["task"] == task
    assert (
        summary["contract"]["re_inferred"]
        and "data.source changed" in summary["contract"]["reason"]
    )
    card = project.json("models/best/model_card.json")
    assert card["task"] == task and card["target"] == target and len(card["version"]) == 12
    scores = project.json("metrics/candidates.json")
    for values in scores.values():
        assert flat_metrics(values) == sorted(METRICS_BY_TASK[task])
    model = load_best(project)
    assert model.task == task and model.feature_names == [f["name"] for f in card["feature_schema"]]
    odd = [{**card["input_example"][0], **{f["name"]: None for f in card["feature_schema"][:2]}}]
    for feature in card["feature_schema"]:
        if feature["type"] == "category":
            odd[0][feature["name"]] = "a category never seen"
    assert len(model.predict_encoded(model.encode_rows([*odd, {}]))) == 2
    return card, scores, model


def test_wine_multiclass_with_text_labels(fresh_copy):
    use_table(fresh_copy, tables.wine(), "cultivar", "wine")
    fresh_copy.repro()
    card, scores, model = check_common(fresh_copy, "multiclass", "cultivar")
    assert card["classes"] == ["barbera", "barolo", "grignolino"]
    assert "positive_class" not in card and "threshold" not in card
    assert fresh_copy.json("metrics/selected.json")["metric"] == "f1_macro"
    assert set(scores["xgboost"]["per_class"]) == set(card["classes"])
    schema = {f["name"]: f for f in card["feature_schema"]}
    assert schema["alcohol"]["categories"] == ["light", "medium", "strong"]
    confusion = (fresh_copy.root / "plots/confusion/xgboost.csv").read_text().splitlines()[1:]
    assert {row.split(",")[0] for row in confusion} == set(card["classes"])
    assert not (fresh_copy.root / "plots/roc").exists()  # no binary plots for a multiclass task
    labels = model.predict(pd.DataFrame(card["input_example"]))
    assert set(labels) <= set(card["classes"])


def test_diabetes_regression(fresh_copy):
    fresh_copy.set_params({"select": {"min_score": 0.1}})
    use_table(fresh_copy, tables.diabetes(), "progression", "diabetes")
    fresh_copy.repro()
    card, scores, model = check_common(fresh_copy, "regression", "progression")
    assert "classes" not in card and "numeric with" in card["task_reason"]
    assert fresh_copy.json("metrics/selected.json")["metric"] == "r2"
    assert all(values["rmse"] > 0 for values in scores.values())
    for plot in ("predicted_vs_actual", "residuals"):
        points = fresh_copy.json(f"plots/{plot}/xgboost.json")
        assert len(points) > 50
    assert {"actual", "predicted"} == set(
        fresh_copy.json("plots/predicted_vs_actual/linear.json")[0]
    )
    assert not (fresh_copy.root / "plots/confusion").exists()
    assert isinstance(model.predict_encoded(model.encode_rows([{}]))[0]["value"], float)
    fresh_copy.run("dvc", "plots", "show", "-o", "dvc_plots")
    html = (fresh_copy.root / "dvc_plots/index.html").read_text()
    assert "Predicted vs actual" in html and "Residuals" in html


def test_breast_cancer_binary_with_an_id_column_and_a_chosen_positive_class(fresh_copy):
    use_table(fresh_copy, tables.breast_cancer(), "diagnosis", "cancer", positive_class="malignant")
    result = fresh_copy.repro()
    assert "column 'patient_id' left out: looks like an identifier" in result.stderr
    card, _, model = check_common(fresh_copy, "binary", "diagnosis")
    assert card["classes"] == ["benign", "malignant"] and card["positive_class"] == "malignant"
    assert "patient_id" not in model.feature_names
    assert "identifier" in card["data"]["dropped_columns"]["patient_id"]
    prediction = model.predict_encoded(model.encode_rows(card["input_example"][:1]))[0]
    assert prediction["probability"] == prediction["probabilities"]["malignant"]


@pytest.mark.parametrize(("task", "metric"), [("multiclass", "f1_macro"), ("regression", "r2")])
def test_generator_per_task(fresh_copy, task, metric):
    fresh_copy.set_params({"data": {"task": task}, "select": {"min_score": 0.3}})
    result = fresh_copy.repro()
    assert "data.task changed" in result.stderr  # the contract follows the steering params
    card = fresh_copy.json("models/best/model_card.json")
    assert card["task"] == task and fresh_copy.json("metrics/selected.json")["metric"] == metric
    if task == "multiclass":
        assert card["classes"] == ["class_a", "class_b", "class_c"]
