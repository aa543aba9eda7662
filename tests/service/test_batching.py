"""Adaptive batching: concurrent small requests share one predict, each gets its own answers."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelops.serving.inference import Predictor
from tests.typed_models import features_only, same

pytestmark = pytest.mark.xdist_group("service")


def test_concurrent_requests_are_merged_and_answered_separately(client, binary, monkeypatch):
    batch_sizes = []
    original = Predictor.predict_encoded

    def recording(self, features):
        batch_sizes.append(len(features))
        return original(self, features)

    monkeypatch.setattr(Predictor, "predict_encoded", recording)
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


def test_large_requests_skip_the_queue(client, binary, monkeypatch):
    batch_sizes = []
    original = Predictor.predict_encoded
    monkeypatch.setattr(
        Predictor, "predict_encoded", lambda s, m: batch_sizes.append(len(m)) or original(s, m)
    )
    rows = [features_only(row) for row in binary["rows"][:40]]
    assert client.post("/predict", json={"instances": rows}).status_code == 200
    assert batch_sizes == [40]
