"""The service over the packaged test model, in-process, and Lambda event helpers."""

from __future__ import annotations

import importlib

import pytest


class LambdaContext:
    function_name = "modelops-classifier"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:modelops-classifier"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="session")
def service_module(packaged):
    import services.classifier

    return importlib.reload(services.classifier)  # resolve the model tag set by `packaged`


@pytest.fixture(scope="session")
def client(service_module):
    from starlette.testclient import TestClient

    with TestClient(service_module.Classifier.to_asgi(), follow_redirects=False) as test_client:
        yield test_client
