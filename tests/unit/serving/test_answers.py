"""The framework-free answers (what the Lambda serves): routes, errors and bounded metrics."""

import json

import pytest

from modelops.serving.answers import Service
from modelops.serving.formats import write_serving_model
from modelops.serving.inference import MODEL_CARD
from tests import typed_models

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    model, _, card = typed_models.build("binary")
    folder = tmp_path_factory.mktemp("served")
    write_serving_model(model, folder)
    (folder / MODEL_CARD).write_text(json.dumps(card))
    return Service(folder, max_instances=5, max_body_bytes=2_000), model


def test_a_good_row_is_predicted_and_a_bad_one_names_its_column(service):
    service, model = service
    row = typed_models.example_row(model)
    good = service.answer("POST", "/predict", JSON, json.dumps({"instances": [row]}).encode())
    assert good.status == 200 and json.loads(good.body)["predictions"][0]["label"] in model.classes
    bad = service.answer(
        "POST", "/predict", JSON, json.dumps({"instances": [row | {"flag": "maybe"}]}).encode()
    )
    assert bad.status == 400 and "flag" in bad.body.decode()


def test_unknown_paths_share_one_metrics_label(service):
    service, _ = service
    for i in range(40):
        assert service.answer("GET", f"/probe-{i}", {}, b"").status == 404
    metrics = service.answer("GET", "/metrics", {}, b"").body.decode()
    assert "probe-" not in metrics
    assert 'route="other",method="other",status="404"} 40' in metrics


def test_a_missing_model_is_not_ready_and_says_why(tmp_path):
    service = Service(tmp_path, max_instances=5, max_body_bytes=2_000)
    assert service.answer("GET", "/readyz", {}, b"").status == 503
    answer = service.answer("GET", "/metadata", {}, b"")
    assert answer.status == 503 and "model card not found" in json.loads(answer.body)["error"]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_requests_predicted_together_get_what_each_would_alone(task, tmp_path):
    model, rows, card = typed_models.build(task)
    write_serving_model(model, tmp_path)
    (tmp_path / MODEL_CARD).write_text(json.dumps(card))
    service = Service(tmp_path, max_instances=50, max_body_bytes=200_000)
    requests = [rows[:1], rows[1:4], rows[4:5]]
    requests = [[typed_models.features_only(row) for row in part] for part in requests]
    matrices = [service.encode(part) for part in requests]
    together = service.outputs(matrices)
    alone = [service.outputs([matrix])[0] for matrix in matrices]
    assert [o.records() for o in together] == [o.records() for o in alone]
    assert [len(o) for o in together] == [1, 3, 1]
