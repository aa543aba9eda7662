"""The endpoint under test, configured only by environment (what `make smoke` sets).

SMOKE_BASE_URL        the service to test; unset (under `make test`), a local server is started
SMOKE_AUTH            none (default) or aws_iam: SigV4-sign for an AWS_IAM function URL
                      (usual AWS credentials; the region from the URL, else AWS_REGION)
SMOKE_EXPECT_VERSION  the model version the endpoint must report (optional)
SMOKE_P95_MS          bound on the p95 latency of 20 predictions (default 1000)
SMOKE_TIMEOUT_S       per-request timeout (default 10)
"""

from __future__ import annotations

import os

import pytest

from modelops.client import Client

AUTH_MODES = ("none", "aws_iam")


def smoke_auth() -> str:
    """SMOKE_AUTH, checked: a typo must not silently send unsigned requests."""
    if os.environ.get("SMOKE_AWS_IAM", "0") not in ("", "0"):
        raise pytest.UsageError("SMOKE_AWS_IAM is replaced by SMOKE_AUTH=aws_iam")
    auth = os.environ.get("SMOKE_AUTH") or "none"
    if auth not in AUTH_MODES:
        raise pytest.UsageError(f"SMOKE_AUTH={auth!r}: use one of {', '.join(AUTH_MODES)}")
    return auth


@pytest.fixture(scope="session")
def endpoint(request) -> dict:
    """Where the smoke suite points: SMOKE_BASE_URL if set, else the local server."""
    auth = smoke_auth()
    if os.environ.get("SMOKE_BASE_URL"):
        return {
            "url": os.environ["SMOKE_BASE_URL"],
            "version": os.environ.get("SMOKE_EXPECT_VERSION"),
            "auth": auth,
        }
    return request.getfixturevalue("local_server") | {"auth": auth}


@pytest.fixture(scope="session")
def client(endpoint) -> Client:
    """The product's own client: retries a cold start (502/503/504), signs for aws_iam."""
    return Client(
        endpoint["url"],
        auth=endpoint["auth"],
        timeout=float(os.environ.get("SMOKE_TIMEOUT_S", "10")),
        retries=6,
    )
