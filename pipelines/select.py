"""Stage `select`: best candidate behind the quality gate; register it as `candidate`; publish it.

Nothing is registered and `models/best/` is not touched unless the gate accepts the candidate.
"""

import shutil
from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.data import read_table
from modelops.pipeline.evaluation import compute_metrics
from modelops.pipeline.selection import ChampionScore, GateRefused, build_model_card, decide
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import (
    CHAMPION_ALIAS,
    LoggedCandidate,
    alias_version,
    load_registered_model,
    register_candidate,
    start_tracking,
)
from modelops.pipeline.training import positive_probability
from modelops.storage import read_json, replaced_directory, write_json


def score_champion(model_name, metric, test, target, threshold):
    """Score the registry's champion on this test set; fall back to its recorded score."""
    champion = alias_version(model_name, CHAMPION_ALIAS)
    if champion is None:
        return None
    features = test.drop(columns=[target])
    try:
        model = load_registered_model(model_name, CHAMPION_ALIAS)
        expected = list(getattr(model, "feature_names_in_", features.columns))
        if expected != list(features.columns):
            raise ValueError(f"champion expects features {expected}")
        probability = positive_probability(model, features)
        score = compute_metrics(test[target], probability, threshold)[metric]
        return ChampionScore(champion.version, score, "rescored on this test set")
    except Exception as exc:  # a champion on another schema or format: use its recorded score
        recorded = champion.tags.get(f"metric.{metric}")
        if recorded is None:
            raise GateRefused(
                f"cannot score champion version {champion.version} on this data ({exc}) and it "
                f"has no recorded {metric}; remove its '{CHAMPION_ALIAS}' alias to accept a new "
                "schema deliberately"
            ) from exc
        log.warning("champion not rescored (%s); using its recorded %s", exc, metric)
        return ChampionScore(champion.version, float(recorded), "recorded at its registration")


def main(args):
    data, evaluate, select = load_params(args.params, "data", "evaluate", "select")
    scores = read_json(args.metrics)
    runs = read_json(Path(args.models_dir) / "runs.json")["candidates"]
    test = read_table(args.test)
    start_tracking(Path.cwd())
    champion = score_champion(
        select.model_name, select.metric, test, data.target, evaluate.threshold
    )
    decision = decide(scores, select, champion)
    log.info("gate passed: %s", decision.reason)

    winner = runs[decision.winner]
    tags = {
        "candidate": decision.winner,
        "git_commit": winner["git_commit"],
        "data_hash": winner["data_hash"],
        **{f"metric.{k}": str(v) for k, v in scores[decision.winner].items()},
    }
    logged = LoggedCandidate(decision.winner, winner["run_id"], winner["model_uri"])
    version = register_candidate(select.model_name, logged, tags)
    log.info("registered %s version %s with alias 'candidate'", select.model_name, version.version)

    features = test.drop(columns=[data.target])
    card = build_model_card(
        model_name=select.model_name,
        version=version.version,
        candidate=decision.winner,
        metrics=scores[decision.winner],
        hyperparameters=winner["hyperparameters"],
        git_commit=winner["git_commit"],
        data_hash=winner["data_hash"],
        features=[{"name": c, "dtype": str(features[c].dtype)} for c in features.columns],
        target=data.target,
        threshold=evaluate.threshold,
        trained_at=winner["trained_at"],
        run_id=winner["run_id"],
        decision=decision,
    )
    with replaced_directory(args.best) as staging:
        shutil.copytree(Path(args.models_dir) / decision.winner, staging / "model")
        write_json(staging / "model_card.json", card)
    write_json(args.selected, {**decision.to_dict(), "metrics": scores[decision.winner]})
    log.info("published %s to %s", decision.winner, args.best)


if __name__ == "__main__":
    parser = stage_parser("select", __doc__)
    parser.add_argument("--test", required=True)
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--metrics", required=True, help="candidate metrics from evaluate")
    parser.add_argument("--best", required=True, help="folder to publish the selected model to")
    parser.add_argument("--selected", required=True, help="JSON record of the decision")
    run_stage("select", main, parser)
