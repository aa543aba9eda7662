import os

import boto3
import pytest
from moto import mock_aws

# `make mutation` forks every mutant's test run from one warmed-up process: importing Great
# Expectations there once, instead of in each fork (about 5 s here), is most of its speed.
if os.environ.get("MODELOPS_PRELOAD_IMPORTS"):
    import great_expectations  # noqa: F401
    import sklearn.calibration
    import sklearn.metrics  # noqa: F401


SPARK_REGION = "eu-west-1"


@pytest.fixture
def moto_bucket(monkeypatch):
    """A moto AWS with fake credentials and the bucket `dvc-remote`: a boto3 session on it."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.session.Session(region_name=SPARK_REGION)
        session.client("s3").create_bucket(
            Bucket="dvc-remote", CreateBucketConfiguration={"LocationConstraint": SPARK_REGION}
        )
        yield session
