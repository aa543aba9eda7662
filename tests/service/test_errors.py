"""Client errors: one INFO line without the payload, one 400 shape, as documented."""

import json
import logging

import pytest

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


def test_every_400_body_has_one_shape(client):
    bodies = [
        client.post("/predict", json={"instances": [{"nope": 1}]}).json(),  # schema error
        client.post("/predict", json={"instances": []}).json(),
        client.post("/predict", content=b"{oops", headers={"content-type": "application/json"}),
    ]
    bodies[2] = bodies[2].json()
    for body in bodies:
        assert isinstance(body, dict), body  # not BentoML's one-element list
        assert set(body) == {"error", "detail"}
        assert body["error"].endswith("validation error for Input")
        for item in body["detail"]:
            assert {"type", "loc", "msg"} <= set(item)


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/docs.json").json()


def test_the_document_describes_every_answer_of_predict(spec, client):
    post = spec["paths"]["/predict"]["post"]
    assert post["requestBody"]["required"] is True
    schemas = spec["components"]["schemas"]
    bad = post["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    assert schemas[bad.rsplit("/", 1)[1]]["properties"]["detail"]["type"] == "array"
    for status in ("413", "415", "503"):
        ref = post["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert schemas[ref.rsplit("/", 1)[1]]["required"] == ["error"]
    refused = client.post("/predict", content=b"{}", headers={"content-type": "text/plain"})
    assert set(refused.json()) == {"error"}


def test_operation_ids_are_unique_and_the_info_names_the_model(spec, binary):
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), ids
    info = spec["info"]
    assert (info["title"], info["version"]) == (
        binary["card"]["name"],
        str(binary["card"]["version"]),
    )
    assert "http" not in json.dumps(info)  # no badge images from the internet (blank offline)
