"""The Lambda handler and the container service give the same answers to the same requests.

One list of requests (good, bad, every route) goes to the container service's app (BentoML, in a
process of its own) and, as Function URL events, to the Lambda handler (the core without a web
framework). Status, content type, `allow` and body must be equal (the OpenAPI document
included: the core writes it for both); /metrics is each adapter's own (prometheus_client summed
over BentoML's workers, the core's counters on Lambda): for it, status and media type.
"""

import base64
import json

import pytest

from modelops.delivery.lambda_runtime import lambda_event
from tests.service.conftest import run_driver
from tests.typed_models import example_row

pytestmark = pytest.mark.xdist_group("service")
JSON_HEADERS = {"content-type": "application/json"}


def requests_for(entry):
    good = example_row(entry["model"])
    numeric = entry["card"]["feature_schema"][0]["name"]
    body = lambda data: json.dumps(data)  # noqa: E731
    return [
        ("POST", "/predict", body({"instances": [good, {**good, "size": "unheard-of"}]}), {}),
        ("POST", "/predict", body({"instances": [{**good, numeric: "text"}]}), {}),
        ("POST", "/predict", body({"instances": [{**good, "flag": "maybe"}]}), {}),
        ("POST", "/predict", body({"instances": [{numeric: 1.0}]}), {}),
        ("POST", "/predict", body({"instances": [{**good, "extra": 1}]}), {}),
        ("POST", "/predict", body({"instances": []}), {}),
        ("POST", "/predict", body({"instances": [good] * 51}), {}),
        ("POST", "/predict", body({"rows": [good]}), {}),
        ("POST", "/predict", body([good]), {}),
        ("POST", "/predict", "{oops", {}),
        ("POST", "/predict", '{"instances": [{"x": NaN}]}', {}),
        ("POST", "/predict", body({"instances": [good]}), {"content-type": "text/plain"}),
        ("POST", "/predict", "x" * 20_001, {}),
        ("GET", "/predict", None, {}),
        ("GET", "/metadata", None, {}),
        ("POST", "/metadata", "{}", {}),
        ("GET", "/", None, {}),
        ("GET", "/docs", None, {}),
        ("GET", "/web/page.js", None, {}),
        ("GET", "/web/missing.js", None, {}),
        ("GET", "/livez", None, {}),
        ("GET", "/readyz", None, {}),
        ("GET", "/nope", None, {}),
        ("GET", "/metrics", None, {}),
        ("GET", "/docs.json", None, {}),
    ]


def container_answers(entry, requests):
    lines = [
        {"method": m, "path": p, "body": b or "", "headers": JSON_HEADERS | h}
        for m, p, b, h in requests
    ]
    return run_driver("tests.service.asgi_driver", entry["tag"], lines)


def lambda_answers(entry, requests):
    events = [lambda_event(m, p, b, h) for m, p, b, h in requests]
    replies = run_driver("tests.service.lambda_driver", entry["tag"], events)
    answers = []
    for reply in replies:
        response = reply["response"]
        text = response["body"]
        if response.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        headers = {k: response["headers"].get(k) for k in ("content-type", "allow")}
        answers.append({"status": response["statusCode"], "body": body, "headers": headers})
    return answers


def allowed(answer):
    return set((answer["headers"].get("allow") or "").split(", ")) - {""}


def media(content_type):
    return (content_type or "").split(";")[0]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_both_adapters_answer_every_request_alike(typed, task):
    entry = typed[task]
    requests = requests_for(entry)
    container, function = container_answers(entry, requests), lambda_answers(entry, requests)
    for (method, path, *_), mine, theirs in zip(requests, function, container, strict=True):
        where = f"{method} {path}"
        assert mine["status"] == theirs["status"], (where, mine, theirs)
        assert media(mine["headers"]["content-type"]) == media(theirs["headers"]["content-type"])
        assert allowed(mine) == allowed(theirs), where  # Starlette lists a set: any order
        if path != "/metrics":
            assert mine["body"] == theirs["body"], where
    statuses = [answer["status"] for answer in function]
    assert statuses[:13] == [200, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 415, 413]


ODD_EVENTS = {
    "headers null": lambda e: e | {"headers": None},
    "headers a list": lambda e: e | {"headers": [["content-type", "application/json"]]},
    "body a dict": lambda e: e | {"body": {"instances": []}},
    "no rawQueryString": lambda e: {k: v for k, v in e.items() if k != "rawQueryString"},
    "version 1.0": lambda e: e | {"version": "1.0"},
    "no rawPath": lambda e: {k: v for k, v in e.items() if k != "rawPath"},
    "requestContext a string": lambda e: e | {"requestContext": "x"},
    "http without method": lambda e: e | {"requestContext": {"http": {}}},
    "not an object": lambda e: [e],
    "null": lambda e: None,
}


def test_every_odd_event_gets_an_http_answer_never_an_exception(typed):
    entry = typed["binary"]
    base = lambda_event(
        "POST", "/predict", json.dumps({"instances": [example_row(entry["model"])]})
    )
    events = [make(json.loads(json.dumps(base))) for make in ODD_EVENTS.values()]
    replies = run_driver("tests.service.lambda_driver", entry["tag"], events)
    statuses = dict(zip(ODD_EVENTS, (r["response"]["statusCode"] for r in replies), strict=True))
    # headers null: no content type, so 415; a missing rawPath falls back to http.path
    assert statuses == {
        "headers null": 415, "headers a list": 400, "body a dict": 400,
        "no rawQueryString": 200, "version 1.0": 400, "no rawPath": 200,
        "requestContext a string": 400, "http without method": 400, "not an object": 400,
        "null": 400,
    }  # fmt: skip
    assert "version '1.0'" in json.loads(replies[4]["response"]["body"])["error"]


def test_the_lambda_path_imports_no_web_framework_and_no_bentoml(typed):
    code = (
        "import sys, services.lambda_handler; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'bentoml', 'starlette', 'fastapi', 'mangum', 'uvicorn', 'mlflow', 'dvc'}))"
    )
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={**os.environ, "MODELOPS_MODEL_TAG": typed["binary"]["tag"]},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
