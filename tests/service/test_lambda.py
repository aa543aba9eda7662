"""The Lambda entry point, invoked with events in the real AWS format (Function URL, v2.0)."""

import json
import os
import subprocess
import sys

import pytest

from modelops.delivery.lambda_runtime import FakeLambdaRuntime, lambda_event
from tests.conftest import REPO
from tests.service.conftest import run_driver
from tests.typed_models import TASKS, features_only, same

pytestmark = pytest.mark.xdist_group("service")


def raw_rows(entry):
    rows = [features_only(row) for row in entry["rows"][:5]]
    return [*rows, {**rows[0], "size": "unheard-of"}]


@pytest.fixture(scope="module", params=TASKS)
def replies(request, typed):
    """One Lambda container per task: the events sent and the handler's responses."""
    entry = typed[request.param]
    numeric = entry["card"]["feature_schema"][0]["name"]
    events = [
        lambda_event("POST", "/predict", json.dumps({"instances": raw_rows(entry)})),
        lambda_event("GET", "/metadata"),
        lambda_event("GET", "/readyz"),
        lambda_event("POST", "/predict", "{oops"),
        lambda_event("GET", "/nope"),
        lambda_event("POST", "/predict", json.dumps({"instances": [{numeric: 1.0}]})),
        lambda_event(
            "POST", "/predict", json.dumps({"instances": [{**raw_rows(entry)[0], numeric: "x"}]})
        ),
    ]
    return {"task": request.param, "entry": entry, "numeric": numeric,
            "replies": run_driver("tests.service.lambda_driver", entry["tag"], events)}  # fmt: skip


def test_predict_through_a_function_url_event_equals_in_process(replies):
    response = replies["replies"][0]["response"]
    assert response["statusCode"] == 200, response["body"]
    payload = json.loads(response["body"])
    assert payload["model"] == {"name": f"typed-{replies['task']}", "version": "3"}
    model = replies["entry"]["model"]
    rows = raw_rows(replies["entry"])
    expected = model.predict_encoded(model.encode_rows(rows))
    assert all(same(a, b) for a, b in zip(payload["predictions"], expected, strict=True))


def test_metadata_readiness_and_errors(replies):
    answers = [reply["response"] for reply in replies["replies"]]
    assert json.loads(answers[1]["body"])["task"] == replies["task"]
    assert answers[2]["statusCode"] == 200
    malformed, unknown = answers[3], answers[4]
    assert malformed["statusCode"] == 400 and "Invalid JSON" in malformed["body"], malformed
    assert unknown["statusCode"] == 404 and "Not Found" in unknown["body"], unknown
    missing = answers[5]
    assert missing["statusCode"] == 400 and "flag" in missing["body"]  # a missing key is named
    wrong_type = answers[6]
    assert wrong_type["statusCode"] == 400 and replies["numeric"] in wrong_type["body"]


def test_startup_runs_once_per_container_not_per_request(replies):
    assert [reply["instances"] for reply in replies["replies"]] == [1] * len(replies["replies"])


def test_the_runtime_interface_client_answers_through_the_runtime_api(typed):
    """What the image runs on Lambda: awslambdaric polls the Runtime API, posts each answer.

    The answers equal the handler's own. (The fake Runtime API once sent the event without a
    Content-Type, as Lambda never does; awslambdaric's native client then crashed on its
    first event, which only polling was checked for.)
    """
    entry = typed["binary"]
    events = [
        lambda_event("POST", "/predict", json.dumps({"instances": raw_rows(entry)})),
        lambda_event("GET", "/nope"),
    ]
    with FakeLambdaRuntime() as runtime:
        child = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", "services.lambda_handler.handler"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "MODELOPS_MODEL_TAG": entry["tag"],
                 "AWS_LAMBDA_RUNTIME_API": runtime.address},
        )  # fmt: skip
        try:
            answers = [runtime.invoke(event, timeout=120) for event in events]
        finally:
            child.kill()
            child.wait()
    direct = run_driver("tests.service.lambda_driver", entry["tag"], events)
    assert answers == [reply["response"] for reply in direct]
    assert answers[0]["statusCode"] == 200 and answers[1]["statusCode"] == 404
