"""The HTTP contract, in-process (Starlette TestClient over `Classifier.to_asgi()`)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import FEATURES

pytestmark = pytest.mark.xdist_group("service")


def rows(packaged, n):
    return packaged["rows"].head(n).to_dict(orient="records")


def test_predict_returns_label_probability_and_model(client, packaged):
    response = client.post("/predict", json={"instances": rows(packaged, 3)})
    assert response.status_code == 200
    body = response.json()
    expected = packaged["model"].predict_proba(packaged["rows"].head(3))[:, 1]
    assert [p["probability"] for p in body["predictions"]] == [round(float(p), 6) for p in expected]
    assert [p["label"] for p in body["predictions"]] == [int(p >= 0.5) for p in expected]
    assert body["model"] == {"name": "test-classifier", "version": "42"}


def test_metadata_is_the_model_card(client, packaged):
    response = client.get("/metadata")
    assert response.status_code == 200
    assert response.json() == packaged["card"] | {"max_instances": 50}  # conftest's limit
    assert client.head("/metadata").status_code == 200


def test_health_metrics_and_docs(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    client.post("/predict", json={"instances": [GOOD]})
    metrics = client.get("/metrics")  # one process, no `bentoml serve`: still Prometheus
    assert metrics.status_code == 200
    assert 'request_total{endpoint="/predict",http_response_code="200"' in metrics.text
    assert "swagger-ui" in client.get("/docs").text  # Swagger UI (the page is at /)
    spec = client.get("/docs.json").json()
    assert {"/predict", "/metadata", "/livez", "/readyz"} <= set(spec["paths"])
    assert "feature_02" in json.dumps(spec)  # the request schema names the real features


def post(client, body, content_type="application/json"):
    return client.post("/predict", content=body, headers={"content-type": content_type})


GOOD = {name: 0.5 for name in FEATURES}
NON_FINITE = (
    b'{"instances": [{"feature_00": VALUE, "feature_01": 1, "feature_02": 1, "feature_03": 1}]}'
)


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "Invalid JSON"),
        (json.dumps({"instances": [GOOD | {"feature_01": "high"}]}), 400, "feature_01"),
        (NON_FINITE.replace(b"VALUE", b"NaN"), 400, "finite"),
        (NON_FINITE.replace(b"VALUE", b"Infinity"), 400, "finite"),
        (json.dumps({"instances": [{k: v for k, v in GOOD.items() if k != "feature_03"}]}), 400,
         "feature_03"),
        (json.dumps({"instances": [GOOD | {"colour": 1.0}]}), 400, "colour"),
        (json.dumps({"instances": []}), 400, "at least 1"),
        (json.dumps({"instances": [GOOD] * 51}), 400, "at most 50"),
        (json.dumps({"rows": [GOOD]}), 400, "instances"),
        (b"null", 400, "should be an object"),
        (json.dumps({"instances": [1, 2]}), 400, "should be an object"),
    ],
    ids=["malformed-json", "wrong-type", "nan", "infinity", "missing-feature", "unknown-feature",
         "empty", "too-many-rows", "wrong-key", "null", "not-objects"],
)  # fmt: skip
def test_bad_requests_get_a_4xx_that_says_why(client, body, status, needle):
    response = post(client, body)
    assert response.status_code == status, response.text
    assert needle in response.text


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


def test_serving_process_imports_no_pipeline_library(packaged):
    code = (
        "import sys, services.classifier as s; s.Classifier.inner(); "
        "print(sorted(m for m in ('mlflow', 'great_expectations', 'dvc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
