"""The Lambda entry point, invoked with events in the real AWS format (Function URL, v2.0)."""

import json
import os
import subprocess
import sys

import pytest

from modelops.delivery.lambda_runtime import lambda_event
from tests.conftest import FEATURES

pytestmark = pytest.mark.xdist_group("service")


def invoke_all(events):
    """Run the handler in a fresh process (one container) over `events`, in order."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.service.lambda_driver"],
        input="".join(json.dumps(e) + "\n" for e in events),
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def replies(packaged):
    events = [
        lambda_event("POST", "/predict", json.dumps({"instances": [dict.fromkeys(FEATURES, 0.3)]})),
        lambda_event("GET", "/metadata"),
        lambda_event("GET", "/readyz"),
        lambda_event("POST", "/predict", "{oops"),
        lambda_event("GET", "/nope"),
        lambda_event("POST", "/predict", json.dumps({"instances": [{"feature_00": 1.0}]})),
    ]
    return invoke_all(events)


def test_predict_through_a_function_url_event(replies):
    response = replies[0]["response"]
    assert response["statusCode"] == 200
    payload = json.loads(response["body"])
    assert payload["model"] == {"name": "test-classifier", "version": "42"}
    assert len(payload["predictions"]) == 1 and 0 <= payload["predictions"][0]["probability"] <= 1


def test_metadata_readiness_and_errors(replies):
    assert json.loads(replies[1]["response"]["body"])["name"] == "test-classifier"
    assert replies[2]["response"]["statusCode"] == 200
    malformed, unknown = replies[3]["response"], replies[4]["response"]
    assert malformed["statusCode"] == 400 and "Invalid JSON" in malformed["body"], malformed
    assert unknown["statusCode"] == 404 and "Not Found" in unknown["body"], unknown
    missing = replies[5]["response"]
    assert missing["statusCode"] == 400 and "feature_03" in missing["body"]


def test_startup_runs_once_per_container_not_per_request(replies):
    assert [reply["instances"] for reply in replies] == [1] * len(replies)
