"""Stage `select`: best candidate behind the quality gate; register it as `candidate`; publish it.

Nothing is registered and `models/best/` is not touched unless the gate accepts the candidate.
"""

import shutil
from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.champion import score_champion
from modelops.pipeline.engines import open_engine
from modelops.pipeline.orchestration import committed_contract
from modelops.pipeline.selection import build_model_card, content_version, decide, raw_rows
from modelops.pipeline.stage import StageFailed, log, run_stage, stage_parser
from modelops.pipeline.tracking import (
    MODEL_UUID_TAG,
    find_candidate_run,
    git_commit,
    register_candidate,
    start_tracking,
)
from modelops.storage import read_json, replaced_directory, write_json


def main(args):
    evaluate, select = load_params(args.params, "evaluate", "select")
    contract = committed_contract(args.contract)
    scores = read_json(args.metrics)
    runs = read_json(Path(args.models_dir) / "runs.json")["candidates"]
    validation = read_json(args.validation)
    metric = select.metric_for(contract.task)
    experiment_id = start_tracking(Path.cwd())
    with open_engine(args.params) as engine:  # the champion is rescored where the test set is
        test = engine.read(args.test, "--test")
        champion = score_champion(select.model_name, metric, test, contract, engine)
        example = raw_rows(engine.to_pandas(test, 5), contract.feature_names)
    decision = decide(scores, select, champion, contract.task)
    log.info("gate passed: %s", decision.reason)

    winner = runs[decision.winner]
    identity = winner[MODEL_UUID_TAG]
    logged = find_candidate_run(experiment_id, decision.winner, identity)
    if logged is None:
        raise StageFailed(
            f"no MLflow run of candidate {decision.winner!r} (model {identity}) in this tracking "
            "store, so it cannot be registered: train it here (dvc repro --force train)"
        )
    flat = {k: v for k, v in scores[decision.winner].items() if isinstance(v, float | int)}
    tags = {
        "candidate": decision.winner,
        "task": contract.task,
        "git_commit": git_commit(Path.cwd()),
        "data_hash": winner["data_hash"],
        MODEL_UUID_TAG: identity,
        **{f"metric.{k}": str(v) for k, v in flat.items()},
    }
    version = register_candidate(select.model_name, logged, tags)
    log.info(
        "registered %s version %s (run %s) with alias 'candidate'",
        select.model_name, version.version, logged.run_id,
    )  # fmt: skip

    # The card is a DVC output: it names the model by its content (the same bytes, the same
    # version on every machine), not by the registry's counter, a run id, a commit or a time.
    card = build_model_card(
        model_name=select.model_name,
        version=content_version(identity),
        candidate=decision.winner,
        task=contract.task,
        task_reason=contract.task_reason,
        target=contract.target,
        classes=list(contract.classes),
        positive_class=contract.positive_class,
        threshold=evaluate.threshold,
        metrics=scores[decision.winner],
        hyperparameters=winner["hyperparameters"],
        data_hash=winner["data_hash"],
        feature_schema=contract.feature_schema(),
        input_example=example,
        decision=decision,
        data={
            "source": contract.source,
            "rows": validation.get("rows"),
            "target_null_rows_dropped": validation.get("target_null_rows", 0),
            "dropped_columns": contract.dropped,
        },
    )
    with replaced_directory(args.best) as staging:
        shutil.copytree(Path(args.models_dir) / decision.winner, staging / "model")
        write_json(staging / "model_card.json", card)
    write_json(args.selected, {**decision.to_dict(), "task": contract.task, "metrics": flat})
    log.info("published %s to %s", decision.winner, args.best)


if __name__ == "__main__":
    parser = stage_parser("select", __doc__)
    parser.add_argument("--test", required=True)
    parser.add_argument("--contract", required=True, help="the data contract (YAML)")
    parser.add_argument("--validation", required=True, help="validation summary (JSON)")
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--metrics", required=True, help="candidate metrics from evaluate")
    parser.add_argument("--best", required=True, help="folder to publish the selected model to")
    parser.add_argument("--selected", required=True, help="JSON record of the decision")
    run_stage("select", main, parser)
