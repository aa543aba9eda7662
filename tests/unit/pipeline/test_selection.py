import pytest

from modelops.params import ParamsError, SelectParams
from modelops.pipeline.selection import (
    ChampionScore,
    GateRefused,
    build_model_card,
    decide,
    rank_candidates,
)

SCORES = {
    "linear": {"roc_auc": 0.86, "log_loss": 0.45},
    "random_forest": {"roc_auc": 0.97, "log_loss": 0.24},
    "xgboost": {"roc_auc": 0.97, "log_loss": 0.18},
}


def test_ranking_best_first_ties_keep_listed_order():
    assert rank_candidates(SCORES, "roc_auc") == [
        ("random_forest", 0.97), ("xgboost", 0.97), ("linear", 0.86),
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
    schema = [{"name": "plan", "type": "category", "categories": ["a"], "nullable": True}]
    common = dict(
        model_name="m", version="3", candidate="xgboost", metrics=SCORES["xgboost"],
        hyperparameters={"max_depth": 4}, data_hash="d41d",
        feature_schema=schema, input_example=[{"plan": None}], target="churned",
        decision=decision, task_reason="why",
    )  # fmt: skip
    card = build_model_card(
        **common, task="binary", classes=["no", "yes"], positive_class="yes", threshold=0.6
    )
    for key in ("name", "version", "metrics", "params", "data_hash",
                "feature_schema", "input_example"):  # fmt: skip
        assert card[key], key
    # a DVC output: nothing that changes from run to run (lineage lives in the registry)
    assert not {"git_commit", "trained_at", "mlflow_run_id"} & set(card)
    assert card["selection"]["winner"] == "random_forest"
    assert (card["task"], card["target"], card["classes"]) == ("binary", "churned", ["no", "yes"])
    assert (card["positive_class"], card["threshold"]) == ("yes", 0.6)
    regression = build_model_card(
        **common, task="regression", classes=[], positive_class=None, threshold=0.5
    )
    assert regression["task"] == "regression"
    assert not {"classes", "positive_class", "threshold"} & set(regression)


def test_gate_for_each_task_uses_its_auto_metric():
    regression = {
        "linear": {"rmse": 3.0, "mae": 2.0, "r2": 0.55},
        "xgboost": {"rmse": 2.5, "mae": 1.9, "r2": 0.61},
    }
    decision = decide(regression, SelectParams(min_score=0.5), None, "regression")
    assert (decision.winner, decision.metric) == ("xgboost", "r2")
    with pytest.raises(GateRefused, match=r"r2=0\.610000; the gate needs at least 0\.7"):
        decide(regression, SelectParams(min_score=0.7), None, "regression")
    by_rmse = SelectParams(metric="rmse", min_score=2.8)
    assert decide(regression, by_rmse, None, "regression").winner == "xgboost"
    champion = ChampionScore("1", 2.0, "rescored on this test set")
    with pytest.raises(GateRefused, match="worse than champion version 1"):
        decide(regression, by_rmse, champion, "regression")  # rmse 2.5 vs 2.0: lower is better
    multiclass = {
        "linear": {"f1_macro": 0.8, "accuracy": 0.9},
        "xgboost": {"f1_macro": 0.7, "accuracy": 0.95},
    }
    assert decide(multiclass, SelectParams(min_score=0.5), None, "multiclass").winner == "linear"
    with pytest.raises(ParamsError, match="'roc_auc' does not apply to a multiclass task"):
        decide(multiclass, SelectParams(metric="roc_auc"), None, "multiclass")


# Boundaries of the gate: a retrain that merely equals the champion (the common case of a rerun
# on the same data) must be accepted, and so must a score exactly at min_score. Values are exact
# in binary floating point, so "equal" really is equal.
@pytest.mark.parametrize("metric", ["roc_auc", "log_loss"])
def test_retrain_equal_to_the_champion_passes_with_zero_tolerance(metric):
    best = SCORES["xgboost"][metric] if metric == "log_loss" else SCORES["random_forest"][metric]
    champion = ChampionScore("7", best, "rescored on this test set")
    min_score = 0.5 if metric == "roc_auc" else 1.0
    params = SelectParams(metric=metric, min_score=min_score, max_regression=0.0)
    decision = decide(SCORES, params, champion)
    assert decision.champion_version == "7" and decision.score == best
    assert "regression 0.000000 is within 0.0" in decision.reason


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "outcome"),
    [
        ("roc_auc", 0.5, 0.75, "passes"),  # worse by exactly max_regression
        ("roc_auc", 0.5, 0.875, "refused"),  # worse by more
        ("log_loss", 0.75, 0.5, "passes"),
        ("log_loss", 0.875, 0.5, "refused"),
    ],
)
def test_regression_exactly_at_the_tolerance_passes(metric, candidate, champion, outcome):
    scores = {"only": {metric: candidate}}
    min_score = 0.0 if metric == "roc_auc" else 1.0
    params = SelectParams(metric=metric, min_score=min_score, max_regression=0.25)
    champion_score = ChampionScore("3", champion, "recorded at its registration")
    if outcome == "passes":
        assert decide(scores, params, champion_score).winner == "only"
    else:
        with pytest.raises(GateRefused, match=r"by 0\.375000 > select\.max_regression=0\.25"):
            decide(scores, params, champion_score)


@pytest.mark.parametrize(("metric", "score"), [("roc_auc", 0.75), ("log_loss", 0.25)])
def test_score_exactly_at_min_score_passes(metric, score):
    decision = decide({"only": {metric: score}}, SelectParams(metric=metric, min_score=score), None)
    assert decision.winner == "only" and decision.score == score


def test_a_better_candidate_than_the_champion_passes_with_zero_tolerance():
    champion = ChampionScore("5", 0.75, "rescored on this test set")
    params = SelectParams(min_score=0.5, max_regression=0.0)
    decision = decide({"only": {"roc_auc": 0.875}}, params, champion)
    assert "regression 0.000000 is within 0.0" in decision.reason  # better: reported as 0


def test_decision_record_lists_the_ranking_by_candidate_and_score():
    decision = decide(SCORES, SelectParams(min_score=0.5), None)
    payload = decision.to_dict()
    assert payload["ranking"] == [
        {"candidate": "random_forest", "score": 0.97},
        {"candidate": "xgboost", "score": 0.97},
        {"candidate": "linear", "score": 0.86},
    ]
    assert payload["winner"] == "random_forest" and payload["metric"] == "roc_auc"


def test_model_card_records_each_value_it_was_given():
    decision = decide(SCORES, SelectParams(min_score=0.5), None)
    schema = [{"name": "f", "type": "number", "nullable": True}]
    given = dict(
        model_name="m", version="3", candidate="xgboost", task="binary", task_reason="why",
        target="churned", classes=["no", "yes"], positive_class="yes", threshold=0.625,
        metrics=SCORES["xgboost"], hyperparameters={"max_depth": 4},
        data_hash="d41d", feature_schema=schema, input_example=[{"f": None}], decision=decision,
        data={"rows": 10},
    )  # fmt: skip
    card = build_model_card(**given)
    expected = {
        "name": "m", "version": "3", "candidate": "xgboost", "task": "binary",
        "task_reason": "why", "target": "churned", "classes": ["no", "yes"],
        "positive_class": "yes", "threshold": 0.625, "metrics": SCORES["xgboost"],
        "params": {"max_depth": 4}, "data_hash": "d41d",
        "feature_schema": schema, "input_example": [{"f": None}], "data": {"rows": 10},
    }  # fmt: skip
    assert {key: card[key] for key in expected} == expected
    assert card["selection"] == decision.to_dict()


def test_no_candidates_and_several_missing_metrics_are_refused_by_name():
    with pytest.raises(GateRefused, match=r"^no candidate was evaluated$"):
        rank_candidates({}, "roc_auc")
    scores = {"a": {"f1": 0.5}, "b": {"f1": 0.6}, "c": {"roc_auc": 0.7}}
    with pytest.raises(GateRefused, match=r"^metric 'roc_auc' missing for candidate\(s\) a, b$"):
        rank_candidates(scores, "roc_auc")


def test_the_reason_tells_the_whole_decision():
    alone = decide(SCORES, SelectParams(min_score=0.5), None)
    assert alone.reason == (
        "'random_forest' is the best of 3 candidate(s) by roc_auc (0.970000); "
        "no champion registered yet"
    )
    champion = ChampionScore("4", 0.96875, "recorded at its registration")
    params = SelectParams(min_score=0.5, max_regression=0.01)
    against = decide(SCORES, params, champion)
    assert against.reason == (
        "'random_forest' is the best of 3 candidate(s) by roc_auc (0.970000); champion "
        "version 4 has 0.968750 (recorded at its registration), regression 0.000000 is "
        "within 0.01"
    )
    assert (against.metric, against.champion_source) == ("roc_auc", "recorded at its registration")
