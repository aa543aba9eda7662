"""Smoke tests: what CD runs against the deployed HTTPS endpoint (`make smoke URL=...`)."""

from __future__ import annotations

import os
import statistics
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]


@pytest.fixture(scope="module")
def card(client) -> dict:
    response = client.get("/metadata")
    assert response.status_code == 200, response.text
    return response.json()


def known_good(card: dict, rows: int = 1) -> dict:
    return {"instances": [{f["name"]: 0.0 for f in card["feature_schema"]}] * rows}


def test_live_and_ready(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_metadata_names_the_expected_model(card, endpoint):
    for key in ("name", "version", "metrics", "git_commit", "data_hash", "feature_schema"):
        assert card.get(key), f"model card has no {key}"
    if endpoint.get("version"):
        assert str(card["version"]) == str(endpoint["version"])


def test_known_good_prediction_has_the_right_shape(client, card):
    response = client.post("/predict", json=known_good(card, rows=3))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["predictions"]) == 3
    for prediction in body["predictions"]:
        assert prediction["label"] in (0, 1)
        assert 0.0 <= prediction["probability"] <= 1.0
    assert body["model"] == {"name": card["name"], "version": str(card["version"])}


def test_a_wrong_type_gets_a_400_naming_the_column(client, card):
    numbers = [f["name"] for f in card["feature_schema"] if f.get("type", "number") == "number"]
    if not numbers:
        pytest.skip("the model has no numeric feature to send a string to")
    bad = known_good(card)
    bad["instances"][0][numbers[0]] = "not a number"
    response = client.post("/predict", json=bad)
    assert response.status_code == 400, response.text
    assert numbers[0] in response.text  # the message names the column


def test_p95_latency_of_20_predictions_is_within_bound(client, card):
    bound_ms = float(os.environ.get("SMOKE_P95_MS", "1000"))
    durations_ms = []
    for _ in range(20):
        started = time.perf_counter()
        response = client.post("/predict", json=known_good(card))
        durations_ms.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    p95_ms = statistics.quantiles(durations_ms, n=20)[-1]
    assert p95_ms <= bound_ms, f"p95 {p95_ms:.1f} ms over SMOKE_P95_MS={bound_ms}"


def test_local_server_serves_metrics_and_stops_cleanly(endpoint, client):
    if "process" not in endpoint:
        pytest.skip("SMOKE_BASE_URL points at a server this suite did not start")
    metrics = client.get("/metrics")
    assert metrics.status_code == 200 and "bentoml_service_request_total" in metrics.text
