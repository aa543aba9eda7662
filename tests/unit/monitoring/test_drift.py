"""Drift statistics against the stored reference: scipy's, with the verdicts they should give."""

from datetime import timedelta

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from modelops.monitoring.drift import compare, contract_check, fingerprint, js_distance
from modelops.monitoring.reference import mid_quantiles
from modelops.monitoring.window import collect
from modelops.params import MonitorParams
from modelops.pipeline.contract import Column, Contract

from .conftest import NOW, capture_records, table

PARAMS = MonitorParams(min_rows=500)


def window_of(rows):
    return collect(capture_records(rows), NOW - timedelta(days=1), PARAMS.max_rows)


def test_the_reference_summarises_each_column(reference):
    income = reference["features"]["income"]
    assert len(income["quantiles"]) == 100 and income["quantiles"] == sorted(income["quantiles"])
    assert income["mean"] == pytest.approx(50, abs=1) and income["std"] == pytest.approx(
        10, rel=0.1
    )
    assert income["null_rate"] == pytest.approx(0.05, abs=0.015)
    plan = reference["features"]["plan"]
    assert set(plan["frequencies"]) == {"basic", "plus", "pro"}
    assert sum(plan["frequencies"].values()) == pytest.approx(1)
    assert reference["features"]["active"]["frequencies"]["true"] == pytest.approx(0.7, abs=0.03)
    assert reference["prediction"]["kind"] == "label"
    assert 0.5 < reference["prediction"]["mean_confidence"] < 1


def test_wasserstein_against_stored_quantiles_matches_the_raw_columns():
    """The binned reference gives nearly the figure scipy gives on the training column itself."""
    rng = np.random.default_rng(7)
    train, live = rng.lognormal(3, 0.6, 50_000), rng.lognormal(3.1, 0.6, 20_000)
    exact = wasserstein_distance(train, live)
    binned = wasserstein_distance(mid_quantiles(train, 100), live)
    # off by a small fraction of the 0.1 threshold, in the reference's standard deviations
    assert abs(binned - exact) / train.std() < 0.01


def test_jensen_shannon_is_base_two_so_disjoint_mixes_are_one():
    assert js_distance({"a": 1.0}, {"b": 1.0}) == pytest.approx(1.0)
    assert js_distance({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0.0
    # base e reads sqrt(ln 2) = 0.83 times lower for the same shift: verdicts at 0.1 differ
    base_e = jensenshannon([0.7, 0.3], [0.3, 0.7])
    assert js_distance({"a": 0.7, "b": 0.3}, {"a": 0.3, "b": 0.7}) == pytest.approx(
        base_e / np.sqrt(np.log(2))
    )


def test_the_same_distribution_does_not_drift(reference):
    report = compare(reference, window_of(table(2000, seed=3)), PARAMS)
    assert report["drift"] is False and report["drifted_features"] == []
    assert report["rows"] == 2000 and report["notes"] == []
    assert fingerprint(report) == ""


def test_shifted_rows_drift_on_exactly_the_shifted_features(reference):
    rows = table(2000, seed=3, shift=2.0, plan="enterprise", flip=True)
    report = compare(reference, window_of(rows), PARAMS)
    assert report["drift"] is True
    assert report["drifted_features"] == ["active", "income", "plan"]
    tests = {t["test"]: t for t in report["features"]["income"]["tests"]}
    assert tests["wasserstein_normed"]["value"] == pytest.approx(2.0, abs=0.2)
    plan = report["features"]["plan"]
    assert plan["unseen"] == ["enterprise"]
    unseen = next(t for t in plan["tests"] if t["test"] == "unseen_share")
    assert unseen["value"] == pytest.approx(0.5, abs=0.05) and unseen["drift"]


def test_one_feature_shifted_names_only_that_one(reference):
    report = compare(reference, window_of(table(2000, seed=4, flip=True)), PARAMS)
    assert report["drifted_features"] == ["active"]


def test_a_rising_null_rate_drifts(reference):
    report = compare(reference, window_of(table(2000, seed=5, null_rate=0.3)), PARAMS)
    assert set(report["drifted_features"]) == {"active", "income", "plan"}
    for feature in report["features"].values():
        failed = [t["test"] for t in feature["tests"] if t["drift"]]
        assert "null_rate_change" in failed


def test_no_verdict_under_the_minimum_row_count(reference):
    report = compare(reference, window_of(table(100, seed=6, shift=3)), PARAMS)
    assert report["drift"] is None
    assert "100 rows < monitor.min_rows 500" in report["notes"][0]
    # the statistics are there to read, but nothing is called drifted on so few rows
    assert report["drifted_features"] == [] and fingerprint(report) == ""
    income = report["features"]["income"]
    assert income["drift"] is None and income["tests"][0]["value"] > 2
    from modelops.monitoring.report import summary

    assert "not judged (too few rows): income, plan, active" in summary(report)
    assert "predictions: not judged" in summary(report)


def test_the_share_of_features_rule_and_exclude(reference):
    rows = table(2000, seed=3, flip=True)
    lenient = PARAMS.model_copy(update={"share_of_features": 0.5})
    assert compare(reference, window_of(rows), lenient)["drift"] is False  # 1 of 3 drifted
    excluded = PARAMS.model_copy(update={"exclude": ("active",)})
    report = compare(reference, window_of(rows), excluded)
    assert "active" not in report["features"] and report["drift"] is False


def test_prediction_drift_and_the_label_free_estimates(reference):
    report = compare(reference, window_of(table(2000, seed=3, shift=-1.5)), PARAMS)
    prediction = report["prediction"]
    assert prediction["drift"] is True
    estimates = prediction["estimates"]
    assert "estimates without labels" in estimates["note"]
    assert (
        estimates["predicted_class_mix"]["yes"] > estimates["reference_predicted_class_mix"]["yes"]
    )


def test_the_fingerprint_follows_what_drifted_not_the_figures(reference):
    a = compare(reference, window_of(table(2000, seed=3, shift=2.0)), PARAMS)
    b = compare(reference, window_of(table(2000, seed=9, shift=2.5)), PARAMS)
    c = compare(reference, window_of(table(2000, seed=3, shift=2.0, flip=True)), PARAMS)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)


def test_the_contract_recheck_names_each_breach(reference):
    contract = Contract(
        source="s",
        target="churn",
        task="binary",
        task_reason="",
        min_rows=1,
        max_rows=10,
        target_max_null_fraction=0.0,
        classes=("no", "yes"),
        columns=(
            Column("income", "number", 0.05, 0.15, min=0.0, max=80.0),
            Column("plan", "category", 0.05, 0.15, categories=("basic", "plus", "pro")),
            Column("active", "boolean", 0.05, 0.15),
        ),
    )
    clean = contract_check(contract, window_of(table(1000, seed=3)))
    outside = [f for f in clean["failures"] if f.startswith("income")]
    assert outside and "outside [0, 80]" in outside[0]  # N(50, 10) reaches beyond 80 in 1000 rows
    report = contract_check(contract, window_of(table(1000, seed=3, plan="gold", null_rate=0.3)))
    text = " | ".join(report["failures"])
    assert report["success"] is False
    assert "plan: values not in the contract: 'gold'" in text
    assert "active: null fraction 0.3" in text


def test_regression_predictions_and_a_constant_column():
    from modelops.monitoring.reference import build_reference

    schema = [{"name": "x", "type": "number"}, {"name": "k", "type": "number"}]
    card = {"name": "r", "version": "1", "task": "regression", "feature_schema": schema}
    rng = np.random.default_rng(0)
    train = {"x": rng.normal(0, 1, 2000).tolist(), "k": [1.0] * 2000}
    reference = build_reference(
        train, schema, card, [{"value": v} for v in rng.normal(10, 2, 500)], 50
    )
    assert reference["prediction"]["kind"] == "value"

    def window(shift, constant):
        from modelops.monitoring.window import Window

        w = Window()
        w.add(
            {
                "time": "2026-12-02T00:00:00.000+00:00",
                "model": {"name": "r", "version": "1"},
                "contract": reference["contract"],
                "columns": ["x", "k"],
                "rows": [[float(v), constant] for v in rng.normal(0, 1, 2000)],
                "predictions": [{"value": float(v)} for v in rng.normal(10 + shift, 2, 2000)],
            }
        )
        return w

    steady = compare(reference, window(0, 1.0), PARAMS)
    assert steady["drift"] is False
    moved = compare(reference, window(2, 1.5), PARAMS)
    assert moved["prediction"]["drift"] is True
    assert moved["drifted_features"] == ["k"]
    k = next(t for t in moved["features"]["k"]["tests"] if t["test"] == "wasserstein_normed")
    assert k["value"] is None and k["drift"] is True  # infinite: JSON-safe, still a drift


def test_an_empty_window_gives_no_verdict_and_a_valid_report(reference, tmp_path):
    from modelops.monitoring.report import render_html, summary
    from modelops.monitoring.window import Window
    from modelops.storage import write_json

    report = compare(reference, Window(), PARAMS)
    assert report["drift"] is None and report["rows"] == 0
    write_json(tmp_path / "drift.json", report)  # no NaN or infinity in it
    assert "NO VERDICT" in summary(report)
    assert "Nothing drifted" in render_html(report, reference, Window())
