"""Concurrent requests share one predict (classifier.Batcher); each gets its own answers."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelops.serving.inference import Predictor
from tests.typed_models import features_only, same

pytestmark = pytest.mark.xdist_group("service")


def test_concurrent_requests_are_merged_and_answered_separately(client, binary, monkeypatch):
    batch_sizes = []
    original = Predictor.outputs

    def recording(self, features):
        batch_sizes.append(len(features))
        return original(self, features)

    monkeypatch.setattr(Predictor, "outputs", recording)
    records = [features_only(row) for row in binary["rows"][:48]]  # nulls among them
    model = binary["model"]
    expected = model.predict_encoded(model.encode_rows(records))

    def ask(index):
        response = client.post("/predict", json={"instances": [records[index]]})
        assert response.status_code == 200, response.text
        return response.json()["predictions"][0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(48)))

    assert all(same(a, b) for a, b in zip(answers, expected, strict=True))  # nobody got another's
    assert sum(batch_sizes) == 48
    assert max(batch_sizes) > 1  # at least one predict served several requests


def test_a_refused_row_fails_only_its_own_request(client, binary):
    records = [features_only(row) for row in binary["rows"][:16]]
    bad = {**records[0], "mean texture": "high"}

    def ask(index):
        rows = [bad] if index == 5 else [records[index]]
        return client.post("/predict", json={"instances": rows}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(ask, range(16)))
    assert statuses == [200] * 5 + [400] + [200] * 10
