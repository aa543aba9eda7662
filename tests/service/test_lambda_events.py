"""The Lambda handler answers an event it cannot read with a 400, not an exception."""

import base64
import json

import pytest

from modelops.delivery.lambda_runtime import lambda_event
from tests.service.conftest import run_driver
from tests.service.test_api import GOOD

pytestmark = pytest.mark.xdist_group("service")

BODY = json.dumps({"instances": [GOOD]})  # a valid row of the hand-built binary model


def without_request_context():
    event = lambda_event("POST", "/predict", BODY)
    event.pop("requestContext")
    return event


def bad_base64():
    event = lambda_event("POST", "/predict", "not base64 !!")
    event["isBase64Encoded"] = True
    return event


def good_base64():
    event = lambda_event("POST", "/predict", base64.b64encode(BODY.encode()).decode())
    event["isBase64Encoded"] = True
    return event


@pytest.fixture(scope="module")
def replies(binary):
    return run_driver(
        "tests.service.lambda_driver",
        binary["tag"],
        [without_request_context(), bad_base64(), ["not", "an", "event"], good_base64()],
    )


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (0, "requestContext.http is missing"),
        (1, "not valid base64"),
        (2, "not a JSON object"),
    ],
)
def test_an_unreadable_event_gets_a_400_that_says_why(replies, index, reason):
    response = replies[index]["response"]
    assert response["statusCode"] == 400
    assert reason in json.loads(response["body"])["error"]


def test_a_base64_body_is_still_served(replies):
    assert replies[3]["response"]["statusCode"] == 200
