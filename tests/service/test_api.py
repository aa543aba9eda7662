"""The HTTP contract, in-process (Starlette TestClient over `Classifier.to_asgi()`).

Over the hand-built binary model: string labels, three number columns (with spaces in their
names), a category and a boolean column, nulls anywhere. Every task: see test_tasks.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.serving.inference import service_metadata
from tests.typed_models import example_row, features_only, same

pytestmark = pytest.mark.xdist_group("service")


def raw_rows(binary, n):
    """The first n training rows (nulls included) plus one with an unseen category."""
    rows = [features_only(row) for row in binary["rows"][:n]]
    return [*rows, {**rows[0], "size": "enormous", "flag": None}]


def test_predict_returns_original_labels_and_the_in_process_prediction(client, binary):
    rows = raw_rows(binary, 12)
    assert any(None in row.values() for row in rows)  # nulls are predicted on, not refused
    response = client.post("/predict", json={"instances": rows})
    assert response.status_code == 200, response.text
    body = response.json()
    model = binary["model"]
    expected = model.predict_encoded(model.encode_rows(rows))
    assert all(same(a, b) for a, b in zip(body["predictions"], expected, strict=True))
    first = body["predictions"][0]
    assert set(first) == {"label", "probabilities", "probability"}
    assert first["label"] in ("malignant", "benign")
    assert set(first["probabilities"]) == {"malignant", "benign"}
    assert first["probability"] == first["probabilities"]["benign"]  # the positive class
    labels = {p["label"] for p in body["predictions"]}
    assert labels == {"malignant", "benign"}  # the threshold (0.4) decides, both occur here
    assert body["model"] == {"name": "typed-binary", "version": "3"}


def test_the_unseen_category_is_predicted_as_missing(client, binary):
    row = example_row(binary["model"])
    unseen = client.post("/predict", json={"instances": [{**row, "size": "enormous"}]})
    missing = client.post("/predict", json={"instances": [{**row, "size": None}]})
    assert unseen.status_code == missing.status_code == 200
    assert unseen.json()["predictions"] == missing.json()["predictions"]


def test_metadata_is_the_card_with_what_a_caller_needs(client, binary):
    response = client.get("/metadata")
    assert response.status_code == 200
    body = response.json()
    assert body == service_metadata(binary["card"], 50)
    assert body["task"] == "binary" and body["target"] == "target"
    assert body["classes"] == ["malignant", "benign"] and body["positive_class"] == "benign"
    assert body["max_instances"] == 50  # MODELOPS_MAX_INSTANCES of the tests
    types = {f["name"]: (f["type"], f.get("categories")) for f in body["feature_schema"]}
    assert types["size"] == ("category", ["small", "medium", "large"])
    assert types["flag"] == ("boolean", None) and types["mean radius"] == ("number", None)
    assert client.head("/metadata").status_code == 200


def test_openapi_types_each_column_and_the_prediction(client):
    schemas = client.get("/docs.json").json()["components"]["schemas"]
    instance = schemas["Instance"]["properties"]
    assert instance["mean radius"]["anyOf"] == [{"type": "number"}, {"type": "null"}]
    assert instance["flag"]["anyOf"] == [{"type": "boolean"}, {"type": "null"}]
    assert instance["size"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert instance["size"]["x-known-categories"] == ["small", "medium", "large"]
    assert "enum" not in json.dumps(instance["size"])  # unseen categories are accepted
    assert "small, medium, large" in instance["size"]["description"]
    prediction = schemas["Prediction"]
    assert prediction["properties"]["label"]["enum"] == ["malignant", "benign"]
    assert set(prediction["required"]) == {"label", "probabilities", "probability"}
    assert set(schemas["Probabilities"]["properties"]) == {"malignant", "benign"}


def test_health_metrics_and_docs(client, binary):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    client.post("/predict", json={"instances": [example_row(binary["model"])]})
    metrics = client.get("/metrics")  # one process, no `bentoml serve`: still Prometheus
    assert metrics.status_code == 200
    assert 'modelops_requests_total{method="POST",route="/predict",status="200"}' in metrics.text
    assert "swagger-ui" in client.get("/docs").text  # Swagger UI (the page is at /)
    spec = client.get("/docs.json").json()
    assert {"/predict", "/metadata", "/livez", "/readyz"} <= set(spec["paths"])
    assert "mean perimeter" in json.dumps(spec)  # the request schema names the real features


def post(client, body, content_type="application/json"):
    return client.post("/predict", content=body, headers={"content-type": content_type})


GOOD = {"mean radius": 14.0, "mean texture": 19.0, "mean perimeter": 90.0, "size": "small",
        "flag": True}  # fmt: skip
NON_FINITE = json.dumps({"instances": [GOOD | {"mean radius": 123456789}]}).replace(
    "123456789", "VALUE"
)


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "Invalid JSON"),
        (json.dumps({"instances": [GOOD | {"mean texture": "high"}]}), 400, "mean texture"),
        (json.dumps({"instances": [GOOD | {"mean texture": "19.0"}]}), 400, "mean texture"),
        (json.dumps({"instances": [GOOD | {"mean texture": True}]}), 400, "mean texture"),
        (json.dumps({"instances": [GOOD | {"size": 3}]}), 400, "size"),
        (json.dumps({"instances": [GOOD | {"flag": "yes"}]}), 400, "flag"),
        (json.dumps({"instances": [GOOD | {"flag": 1}]}), 400, "flag"),
        (NON_FINITE.replace("VALUE", "NaN"), 400, "finite"),
        (NON_FINITE.replace("VALUE", "Infinity"), 400, "finite"),
        (json.dumps({"instances": [{k: v for k, v in GOOD.items() if k != "flag"}]}), 400,
         "flag"),
        (json.dumps({"instances": [GOOD | {"colour": 1.0}]}), 400, "colour"),
        (json.dumps({"instances": []}), 400, "at least 1"),
        (json.dumps({"instances": [GOOD] * 51}), 400, "at most 50"),
        (json.dumps({"rows": [GOOD]}), 400, "instances"),
        (b"null", 400, "should be an object"),
        (json.dumps({"instances": [1, 2]}), 400, "should be an object"),
    ],
    ids=["malformed-json", "text-in-number", "numeric-string-in-number", "bool-in-number",
         "number-in-category",
         "text-in-boolean", "int-in-boolean", "nan", "infinity", "missing-feature",
         "unknown-feature", "empty", "too-many-rows", "wrong-key", "null", "not-objects"],
)  # fmt: skip
def test_bad_requests_get_a_4xx_that_says_why(client, body, status, needle):
    response = post(client, body)
    assert response.status_code == status, response.text
    assert needle in response.text


def test_every_value_may_be_null(client):
    response = client.post("/predict", json={"instances": [dict.fromkeys(GOOD)]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["label"] in ("malignant", "benign")


def test_wrong_content_type_is_415(client):
    response = post(client, json.dumps({"instances": [GOOD]}), content_type="text/plain")
    assert response.status_code == 415 and "application/json" in response.json()["error"]


def test_oversized_body_is_413(client):
    body = json.dumps({"instances": [GOOD] * 400}).encode()  # > 20 kB limit set for tests
    response = post(client, body)
    assert response.status_code == 413
    assert response.json()["error"] == "body over 20000 bytes"
    chunks = iter([body[:1000], body[1000:]])  # no content-length: the streamed size counts
    response = client.post("/predict", content=chunks, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"] == "body over 20000 bytes"


def test_unknown_path_and_wrong_method(client):
    for response, status, says in [
        (client.get("/nope"), 404, "Not Found"),
        (client.get("/predict"), 405, "Method Not Allowed"),
        (client.post("/metadata"), 405, "Method Not Allowed"),
    ]:
        assert response.status_code == status and says in response.text, response.text


def test_serving_process_imports_no_pipeline_library(binary):
    code = (
        "import sys, services.classifier as s; s.Classifier.inner(); "
        "print(sorted(m for m in ('mlflow', 'great_expectations', 'dvc') if m in sys.modules))"
    )
    env = {**os.environ, "MODELOPS_MODEL_TAG": binary["tag"]}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_corrupt_model_is_not_ready_and_predict_says_why(binary):
    """The card loads but the model file does not: 503 with the reason, never a prediction."""
    import bentoml

    from modelops.serving.formats import SERVING_FILE
    from modelops.serving.inference import MODEL_CARD
    from tests.service.conftest import run_driver

    packaged = Path(bentoml.models.get(binary["tag"]).path)
    with bentoml.models.create("typed-corrupt") as m:
        for name in (MODEL_CARD, SERVING_FILE):
            Path(m.path, name).write_bytes(Path(packaged, name).read_bytes())
        model_file = json.loads(Path(m.path, SERVING_FILE).read_text())["file"]
        Path(m.path, model_file).write_bytes(b"\x80\x04 this is not a model")
    row = example_row(binary["model"])
    ready, predict = run_driver(
        "tests.service.asgi_driver",
        str(m.tag),
        [{"method": "GET", "path": "/readyz"},
         {"method": "POST", "path": "/predict", "json": {"instances": [row]}}],
    )  # fmt: skip
    assert ready["status"] == 503
    assert predict["status"] == 503, predict
    assert "cannot load model" in predict["body"]["error"]
