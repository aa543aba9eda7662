"""Every task through the service (its ASGI app, one process per model): binary, multiclass,
regression. The served prediction equals the in-process one for the same raw rows."""

import pytest

from modelops.serving.inference import service_metadata
from tests.typed_models import TASKS, features_only, same

pytestmark = pytest.mark.xdist_group("service")

SHAPES = {
    "binary": {"label", "probabilities", "probability"},
    "multiclass": {"label", "probabilities"},
    "regression": {"value"},
}


def raw_rows(entry):
    rows = [features_only(row) for row in entry["rows"][:30]]
    unseen = {**rows[1], "size": "gigantic"}
    every_null = dict.fromkeys(rows[0])
    return [*rows, unseen, every_null]


@pytest.fixture(scope="module", params=TASKS)
def task(request, typed, serve):
    """A task, the requests sent to its service, and the answers."""
    entry = typed[request.param]
    numeric = next(f["name"] for f in entry["card"]["feature_schema"] if f["type"] == "number")
    requests = [
        {"method": "POST", "path": "/predict", "json": {"instances": raw_rows(entry)}},
        {"method": "GET", "path": "/metadata"},
        {"method": "GET", "path": "/docs.json"},
        {"method": "POST", "path": "/predict",
         "json": {"instances": [{**raw_rows(entry)[0], numeric: "twelve"}]}},
    ]  # fmt: skip
    return {"name": request.param, "entry": entry, "numeric": numeric,
            "answers": serve(request.param, requests)}  # fmt: skip


def test_served_predictions_equal_the_in_process_ones(task):
    model, rows = task["entry"]["model"], raw_rows(task["entry"])
    answer = task["answers"][0]
    assert answer["status"] == 200, answer["body"]
    served = answer["body"]["predictions"]
    expected = model.predict_encoded(model.encode_rows(rows))
    assert len(served) == len(rows)
    assert all(same(a, b) for a, b in zip(served, expected, strict=True)), (served, expected)
    assert {frozenset(p) for p in served} == {frozenset(SHAPES[task["name"]])}
    if task["name"] != "regression":
        assert {p["label"] for p in served} <= set(model.classes)  # the original labels
        for prediction in served:
            assert set(prediction["probabilities"]) == {str(c) for c in model.classes}
            assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_metadata_names_task_target_classes_and_types(task):
    answer = task["answers"][1]
    assert answer["status"] == 200
    card = answer["body"]
    assert card == service_metadata(task["entry"]["card"], 50)
    assert card["task"] == task["name"] and card["target"] == "target"
    assert ("classes" in card) is (task["name"] != "regression")
    assert [f["type"] for f in card["feature_schema"]] == [
        "number", "number", "number", "category", "boolean",
    ]  # fmt: skip


def test_openapi_response_model_matches_the_task(task):
    schemas = task["answers"][2]["body"]["components"]["schemas"]
    prediction = schemas["Prediction"]
    assert set(prediction["required"]) == SHAPES[task["name"]]
    if task["name"] == "regression":
        assert prediction["properties"]["value"]["type"] == "number"
    else:
        classes = task["entry"]["card"]["classes"]
        assert prediction["properties"]["label"]["enum"] == classes
    assert task["numeric"] in schemas["Instance"]["properties"]


def test_a_string_in_a_numeric_column_is_a_400_naming_it(task):
    answer = task["answers"][3]
    assert answer["status"] == 400
    assert task["numeric"] in str(answer["body"])
