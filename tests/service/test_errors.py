"""Client errors: one INFO line without the payload, one 400 shape."""

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
