"""The service over hand-built mixed-type models (one per task), in-process, and Lambda helpers."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from tests import typed_models


class LambdaContext:
    function_name = "modelops-classifier"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:modelops-classifier"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="session")
def typed(tmp_path_factory):
    """Per task: the model, its raw rows and card, packaged as `make run` packages it."""
    from modelops.delivery.packaging import import_model

    built = {}
    for task in typed_models.TASKS:
        model, rows, card = typed_models.build(task)
        best = typed_models.write_best(tmp_path_factory.mktemp(f"best-{task}"), model, card)
        tag, _ = import_model(best)
        built[task] = {"model": model, "rows": rows, "card": card, "tag": tag, "best": best}
    return built


def run_driver(module: str, tag: str, lines: list[dict]) -> list[dict]:
    """Run `python -m <module>` over `lines` (one JSON document each) with the model `tag`."""
    result = subprocess.run(
        [sys.executable, "-m", module],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "MODELOPS_MODEL_TAG": tag},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="session")
def serve(typed):
    """`serve(task, requests)`: the responses of that task's service, in a process of its own."""

    def answer(task: str, requests: list[dict]) -> list[dict]:
        return run_driver("tests.service.asgi_driver", typed[task]["tag"], requests)

    return answer


@pytest.fixture(scope="session")
def service_module(typed):
    """The service module, loaded in this process for the binary model."""
    import services.classifier

    os.environ["MODELOPS_MODEL_TAG"] = typed["binary"]["tag"]
    return importlib.reload(services.classifier)  # the request schema is built at import


@pytest.fixture(scope="session")
def client(service_module):
    """The binary service (string labels, a category, a boolean), in-process."""
    from starlette.testclient import TestClient

    with TestClient(service_module.Classifier.to_asgi(), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def binary(typed):
    return typed["binary"]
