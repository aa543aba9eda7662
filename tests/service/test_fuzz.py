"""Schemathesis: requests generated from the service's own OpenAPI document never get a 5xx."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]

EXAMPLES = {GenerationMode.POSITIVE: 300, GenerationMode.NEGATIVE: 300}


@pytest.fixture(scope="module")
def schema(local_server):
    return schemathesis.openapi.from_url(f"{local_server['url']}/docs.json")


def test_generated_requests_never_cause_a_server_error(schema):
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    predict = next(op for op in operations if op.path == "/predict")
    for mode, examples in EXAMPLES.items():

        @settings(
            max_examples=examples, deadline=None, database=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        )  # fmt: skip
        @given(case=predict.as_strategy(generation_mode=mode))
        def call(case):
            response = case.call(timeout=10)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.body!r} -> {response.status_code} {response.text}")

        call()
    for operation in operations:  # every other documented route, once
        if operation is not predict:
            response = operation.as_strategy().example().call(timeout=10)
            statuses[response.status_code] += 1
            assert response.status_code < 500, f"{operation.path}: {response.status_code}"

    assert not failures, "\n".join(failures[:5])
    print(f"schemathesis: {sum(statuses.values())} requests, statuses {dict(statuses)}")
    assert sum(statuses.values()) >= 500, statuses
    assert statuses[200] > 0 and any(400 <= code < 500 for code in statuses), statuses
