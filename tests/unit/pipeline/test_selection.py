import pytest

from modelops.params import SelectParams
from modelops.pipeline.selection import (
    ChampionScore,
    GateRefused,
    build_model_card,
    decide,
    rank_candidates,
)

SCORES = {
    "logistic_regression": {"roc_auc": 0.86, "log_loss": 0.45},
    "random_forest": {"roc_auc": 0.97, "log_loss": 0.24},
    "xgboost": {"roc_auc": 0.97, "log_loss": 0.18},
}


def test_ranking_best_first_ties_keep_listed_order():
    assert rank_candidates(SCORES, "roc_auc") == [
        ("random_forest", 0.97), ("xgboost", 0.97), ("logistic_regression", 0.86),
    ]  # fmt: skip
    assert rank_candidates(SCORES, "log_loss")[0] == ("xgboost", 0.18)


def test_missing_metric_is_refused():
    with pytest.raises(GateRefused, match="metric 'f1' missing"):
        rank_candidates(SCORES, "f1")


def test_gate_without_champion_accepts_best():
    decision = decide(SCORES, SelectParams(min_score=0.9), None)
    assert decision.winner == "random_forest" and decision.champion_version is None
    assert "no champion registered yet" in decision.reason


def test_min_score_refuses_with_both_numbers():
    with pytest.raises(GateRefused, match=r"roc_auc=0.970000; the gate needs at least 0.99"):
        decide(SCORES, SelectParams(min_score=0.99), None)
    with pytest.raises(GateRefused, match=r"log_loss=0.180000; the gate needs at most 0.1"):
        decide(SCORES, SelectParams(metric="log_loss", min_score=0.1), None)


def test_champion_regression_beyond_tolerance_is_refused():
    champion = ChampionScore("4", 0.99, "rescored on this test set")
    with pytest.raises(GateRefused) as err:
        decide(SCORES, SelectParams(min_score=0.5, max_regression=0.01), champion)
    message = str(err.value)
    assert "roc_auc=0.970000" in message and "version 4 (roc_auc=0.990000" in message
    assert "champion kept" in message


def test_champion_regression_within_tolerance_passes():
    champion = ChampionScore("4", 0.975, "rescored on this test set")
    decision = decide(SCORES, SelectParams(min_score=0.5, max_regression=0.01), champion)
    assert decision.champion_version == "4" and decision.champion_score == 0.975
    assert "regression 0.005000 is within 0.01" in decision.reason


def test_lower_is_better_champion_rule():
    champion = ChampionScore("2", 0.10, "recorded at its registration")
    with pytest.raises(GateRefused, match=r"by 0\.080000"):
        decide(
            SCORES, SelectParams(metric="log_loss", min_score=1.0, max_regression=0.05), champion
        )


def test_model_card_has_what_a_reviewer_asks():
    decision = decide(SCORES, SelectParams(min_score=0.5), None)
    card = build_model_card(
        model_name="m", version="3", candidate="xgboost", metrics=SCORES["xgboost"],
        hyperparameters={"max_depth": 4}, git_commit="abc", data_hash="d41d",
        features=[{"name": "f", "dtype": "float64"}], target="target", threshold=0.5,
        trained_at="2026-01-01T00:00:00+00:00", run_id="r1", decision=decision,
    )  # fmt: skip
    for key in ("name", "version", "metrics", "params", "git_commit", "data_hash",
                "feature_schema", "trained_at"):  # fmt: skip
        assert card[key], key
    assert card["selection"]["winner"] == "random_forest"
