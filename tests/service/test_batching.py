"""Adaptive batching: concurrent small requests share one predict, each gets its own answers."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from modelops.serving.inference import Predictor

pytestmark = pytest.mark.xdist_group("service")


def test_concurrent_requests_are_merged_and_answered_separately(client, packaged, monkeypatch):
    batch_sizes = []
    original = Predictor.predict_matrix

    def recording(self, features):
        batch_sizes.append(len(features))
        return original(self, features)

    monkeypatch.setattr(Predictor, "predict_matrix", recording)
    rows = packaged["rows"].head(48)
    expected = packaged["model"].predict_proba(rows)[:, 1]
    records = rows.to_dict(orient="records")

    def ask(index):
        response = client.post("/predict", json={"instances": [records[index]]})
        assert response.status_code == 200, response.text
        return response.json()["predictions"][0]["probability"]

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(ask, range(48)))

    assert answers == [round(float(p), 6) for p in expected]  # nobody got another row's answer
    assert sum(batch_sizes) == 48
    assert max(batch_sizes) > 1  # at least one predict served several requests


def test_large_requests_skip_the_queue(client, packaged, monkeypatch):
    batch_sizes = []
    original = Predictor.predict_matrix
    monkeypatch.setattr(
        Predictor, "predict_matrix", lambda self, f: batch_sizes.append(len(f)) or original(self, f)
    )
    rows = packaged["rows"].head(40).to_dict(orient="records")
    assert client.post("/predict", json={"instances": rows}).status_code == 200
    assert batch_sizes == [40]
