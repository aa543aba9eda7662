"""An HTTP client for the smoke suite, configured only by environment.

SMOKE_BASE_URL         the service to test (required outside `make test`)
SMOKE_EXPECT_VERSION   the model version the endpoint must report (optional)
SMOKE_AWS_IAM=1        SigV4-sign requests for an AWS_IAM-auth Lambda function URL (botocore;
                       credentials and AWS_REGION from the usual AWS environment)
SMOKE_P95_MS           bound on the p95 latency of 20 predictions (default 1000)
SMOKE_TIMEOUT_S        per-request timeout (default 10)
"""

from __future__ import annotations

import os

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


class SigV4Auth(requests.auth.AuthBase):
    """Sign each request for the `lambda` service, as an AWS_IAM function URL requires."""

    def __init__(self, region: str):
        import botocore.session

        self.region = region
        self.credentials = botocore.session.get_session().get_credentials()
        if self.credentials is None:
            raise RuntimeError("SMOKE_AWS_IAM=1 but no AWS credentials were found")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from botocore.auth import SigV4Auth as BotocoreSigV4
        from botocore.awsrequest import AWSRequest

        aws_request = AWSRequest(
            method=request.method, url=request.url, data=request.body,
            headers={k: v for k, v in request.headers.items() if k.lower() != "connection"},
        )  # fmt: skip
        BotocoreSigV4(self.credentials.get_frozen_credentials(), "lambda", self.region).add_auth(
            aws_request
        )
        request.headers.update(dict(aws_request.headers.items()))
        return request


class SmokeClient:
    """requests.Session with retries on connection errors and 502/503/504 (a cold start)."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.timeout = float(os.environ.get("SMOKE_TIMEOUT_S", "10"))
        retry = Retry(
            total=6,
            backoff_factor=0.5,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD", "POST"}),  # /predict has no side effects
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if os.environ.get("SMOKE_AWS_IAM") == "1":
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise RuntimeError("SMOKE_AWS_IAM=1 needs AWS_REGION")
            self.session.auth = SigV4Auth(region)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=self.timeout)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(self.base_url + path, timeout=self.timeout, **kwargs)
