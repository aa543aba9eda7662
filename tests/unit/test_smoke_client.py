"""The smoke client's configuration: retries and SigV4 signing for AWS_IAM function URLs."""

import pytest
import requests

from tests.smoke.client import SmokeClient


def test_requests_are_sigv4_signed_for_lambda_when_asked(monkeypatch):
    monkeypatch.setenv("SMOKE_AWS_IAM", "1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    client = SmokeClient("https://abc.lambda-url.eu-west-1.on.aws/")
    request = requests.Request(
        "POST", client.base_url + "/predict", json={"instances": []}
    ).prepare()
    signed = client.session.auth(request)
    authorization = signed.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/lambda/aws4_request" in authorization
    assert "x-amz-date" in {k.lower() for k in signed.headers}


def test_signing_needs_a_region(monkeypatch):
    monkeypatch.setenv("SMOKE_AWS_IAM", "1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(RuntimeError, match="needs AWS_REGION"):
        SmokeClient("https://example.invalid")


def test_unsigned_by_default_with_retries(monkeypatch):
    monkeypatch.delenv("SMOKE_AWS_IAM", raising=False)
    client = SmokeClient("http://127.0.0.1:9/")
    assert client.session.auth is None and client.base_url == "http://127.0.0.1:9"
    retry = client.session.get_adapter("https://x").max_retries
    assert retry.total == 6 and 503 in retry.status_forcelist and "POST" in retry.allowed_methods
