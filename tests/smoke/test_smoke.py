"""Smoke tests: what CD runs against the deployed HTTPS endpoint (`make smoke URL=... AUTH=...`).

Only checks of the endpoint, through the product's client (modelops.client): anything that
starts or fuzzes a local server lives in tests/service/.
"""

from __future__ import annotations

import html
import math
import os
import statistics
import time

import pytest

from modelops.client import RequestRejected

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smoke")]

PLACEHOLDER = {"number": 0.0, "boolean": False}


@pytest.fixture(scope="module")
def card(client) -> dict:
    return client.metadata()


def known_good(card: dict, rows: int = 1) -> list[dict]:
    """The card's own input example, else one valid value per feature (typed by the schema)."""
    if card.get("input_example"):
        example = card["input_example"][0]
    else:
        example = {}
        for feature in card["feature_schema"]:
            kind = feature.get("type") or "number"  # schemas before typed features: numbers
            categories = feature.get("categories") or [None]
            example[feature["name"]] = categories[0] if kind == "category" else PLACEHOLDER[kind]
    return [example] * rows


def test_live_and_ready(client):
    assert client.request("GET", "/livez").status_code == 200
    assert client.ready()


def test_metadata_names_the_expected_model(card, endpoint):
    # no git_commit: the card is a reproducible DVC output (the image's labels name the commit)
    for key in ("name", "version", "task", "metrics", "data_hash", "feature_schema",
                "max_instances"):  # fmt: skip
        assert card.get(key), f"model card has no {key}"
    assert int(card.get("max_instances", 1)) >= 1
    if endpoint.get("version"):
        assert str(card["version"]) == str(endpoint["version"])


def test_known_good_prediction_has_the_right_shape(client, card):
    body = client.request("POST", "/predict", json={"instances": known_good(card, 3)}).json()
    assert len(body["predictions"]) == 3
    assert body["model"] == {"name": card["name"], "version": str(card["version"])}
    task = card.get("task") or "binary"
    classes = [str(c) for c in card.get("classes") or [0, 1]]
    for prediction in body["predictions"]:
        if task == "regression":
            assert math.isfinite(prediction["value"])
            continue
        assert str(prediction["label"]) in classes
        if "probability" in prediction:
            assert 0.0 <= prediction["probability"] <= 1.0
        if "probabilities" in prediction:
            assert set(prediction["probabilities"]) == set(classes)
            assert math.isclose(sum(prediction["probabilities"].values()), 1.0, abs_tol=1e-4)


def test_the_client_scores_a_frame(client, card):
    import pandas as pd

    frame = pd.DataFrame(known_good(card, 5), index=[10, 11, 12, 13, 14])
    scored = client.predict(frame)
    assert list(scored.index) == [10, 11, 12, 13, 14]
    assert {"label"} <= set(scored.columns) or "value" in scored.columns


def test_a_wrong_type_gets_a_400_naming_the_column(client, card):
    features = card["feature_schema"]
    number = next((f for f in features if (f.get("type") or "number") == "number"), None)
    column = (number or features[0])["name"]
    bad = known_good(card)[0] | {column: "not a number" if number else {"not": "a value"}}
    with pytest.raises(RequestRejected) as caught:
        client.request("POST", "/predict", json={"instances": [bad]})
    assert caught.value.status == 400, caught.value.message
    assert column in caught.value.message  # the message names the column


def test_the_page_is_served_with_one_input_per_feature(client, card):
    page = client.request("GET", "/")
    assert page.headers["content-type"].startswith("text/html")
    for feature in card["feature_schema"]:
        assert f'name="{html.escape(feature["name"], quote=True)}"' in page.text
    assert client.request("GET", "/web/page.js").status_code == 200


def test_p95_latency_of_20_predictions_is_within_bound(client, card):
    bound_ms = float(os.environ.get("SMOKE_P95_MS", "1000"))
    durations_ms = []
    for _ in range(20):
        started = time.perf_counter()
        client.request("POST", "/predict", json={"instances": known_good(card)})
        durations_ms.append((time.perf_counter() - started) * 1000)
    p95_ms = statistics.quantiles(durations_ms, n=20)[-1]
    assert p95_ms <= bound_ms, f"p95 {p95_ms:.1f} ms over SMOKE_P95_MS={bound_ms}"
