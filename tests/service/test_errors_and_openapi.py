"""Client errors: one INFO line without the payload; the OpenAPI document matches the answers."""

import json
import logging

import pytest

from services.client_errors import ClientErrorFilter, bad_request
from services.openapi import document
from tests.service.test_api import GOOD

pytestmark = pytest.mark.xdist_group("service")

PERSONAL = "personal-row-value-1234"  # a client's value that must never reach the log


def test_a_4xx_on_predict_is_one_info_line_without_the_payload(client, caplog):
    caplog.set_level(logging.DEBUG)
    row = GOOD | {"mean texture": PERSONAL}  # a valid row of the binary model, one bad value
    response = client.post("/predict", json={"instances": [row]})
    assert response.status_code == 400 and "mean texture" in response.text

    served = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert [r.levelname for r in served] == ["INFO"], [(r.name, r.levelname) for r in served]
    assert served[0].getMessage() == "client error 400 on /predict: ValidationError, 1 error(s)"
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert PERSONAL not in text and "Traceback" not in text


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [("text/plain", b"{}", 415), ("application/json", b"x" * 30_000, 413)],
)
def test_guard_refusals_are_logged_as_one_info_line(client, caplog, content_type, body, status):
    caplog.set_level(logging.DEBUG)
    response = client.post("/predict", content=body, headers={"content-type": content_type})
    assert response.status_code == status
    served = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in served] == [
        ("INFO", f"client error {status} on /predict")
    ]


def record(error: BaseException) -> logging.LogRecord:
    return logging.LogRecord(
        "bentoml._internal.server.http_app", logging.ERROR, __file__, 1,
        "Exception on %s [%s]", ("/predict", "POST"), (type(error), error, None),
    )  # fmt: skip


def test_server_errors_stay_at_error_with_their_traceback():
    error = RuntimeError("the model crashed")
    kept = record(error)
    assert ClientErrorFilter().filter(kept)
    assert kept.levelno == logging.ERROR and kept.exc_info[1] is error


def test_the_filter_drops_the_traceback_of_a_client_error():
    rewritten = record(bad_request("feature_01 must be a number"))
    assert ClientErrorFilter().filter(rewritten)
    assert rewritten.levelno == logging.INFO and rewritten.exc_info is None
    assert rewritten.getMessage() == "client error 400 on /predict: ValidationError, 1 error(s)"


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/docs.json").json()


def resolve(spec, schema):
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_400_body_has_the_documented_shape(client, spec):
    schema = resolve(spec, spec["paths"]["/predict"]["post"]["responses"]["400"]["content"][
        "application/json"]["schema"])  # fmt: skip
    assert schema["properties"]["detail"]["type"] == "array"
    bodies = [
        client.post("/predict", json={"instances": [{"nope": 1}]}).json(),  # schema error
        client.post("/predict", json={"instances": []}).json(),
    ]
    for body in bodies:
        assert isinstance(body, dict), body  # not BentoML's one-element list
        assert set(schema["required"]) <= set(body)
        assert isinstance(body["error"], str) and isinstance(body["detail"], list)
        for item in body["detail"]:
            assert set(schema["properties"]["detail"]["items"]["required"]) <= set(item)


def test_the_models_input_check_answers_the_same_400_shape():
    error = bad_request("feature_01: expected a number")
    body = {
        "error": error.title,
        "detail": error.errors(include_context=False, include_input=False),
    }
    assert body["detail"][0]["msg"] == "feature_01: expected a number"
    assert (
        body["detail"][0]["loc"] == ("instances",) and body["detail"][0]["type"] == "invalid_input"
    )


def test_openapi_documents_413_415_and_a_required_body(spec, client):
    post = spec["paths"]["/predict"]["post"]
    assert post["requestBody"]["required"] is True
    for status in ("413", "415"):
        schema = post["responses"][status]["content"]["application/json"]["schema"]
        assert schema["required"] == ["error"]
    refused = client.post("/predict", content=b"{}", headers={"content-type": "text/plain"})
    assert set(refused.json()) == {"error"}


def test_operation_ids_are_unique(spec):
    ids = [
        op["operationId"] for item in spec["paths"].values() for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]  # fmt: skip
    assert len(ids) == len(set(ids)), ids
    assert {spec["paths"]["/metadata"][m]["operationId"] for m in ("get", "head")} == {
        "metadata", "metadata_head",
    }  # fmt: skip
    assert spec["paths"]["/metadata"]["get"]["tags"] == spec["paths"]["/predict"]["post"]["tags"]


def test_document_leaves_unknown_paths_alone_and_is_pure():
    spec = {"paths": {"/other": {"get": {"operationId": "x"}}}}
    assert document(spec)["paths"]["/other"] == {"get": {"operationId": "x"}}
    assert set(document(spec)["paths"]) == {"/other", "/metadata"}  # the Starlette route added
    assert "components" not in spec and set(spec["paths"]) == {"/other"}
    assert json.dumps(document(document(spec))) == json.dumps(document(spec))


def test_the_document_describes_the_model_served_not_bentoml(spec, binary):
    info = spec["info"]
    assert (info["title"], info["version"]) == (
        binary["card"]["name"],
        str(binary["card"]["version"]),
    )
    assert "POST /predict" in info["description"] and "/metadata" in info["description"]
    assert "contact" not in info  # BentoML's team is not who a caller should write to
    assert "http" not in json.dumps(info)  # no badge images from the internet (blank offline)


def test_without_info_the_document_keeps_its_own():
    spec = {"info": {"title": "t", "version": "1"}, "paths": {}}
    assert document(spec)["info"] == {"title": "t", "version": "1"}
    assert document(spec, info={"title": "m", "version": "2"})["info"] == {
        "title": "m",
        "version": "2",
    }
