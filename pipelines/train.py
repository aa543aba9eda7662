"""Stage `train`: fit every candidate for the contract's task; one MLflow run each; save each.

Every candidate is a TabularModel: it takes the table's raw columns (numbers, booleans,
categories, nulls) and carries their encoding, so serving and batch scoring need no other code.
"""

import os
from pathlib import Path

from modelops.params import AUTO_METRIC, load_params
from modelops.pipeline.contract import read_contract
from modelops.pipeline.data import DataError, file_md5, read_table
from modelops.pipeline.engines import run_on_spark, uses_spark
from modelops.pipeline.evaluation import task_metrics
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import (
    MODEL_UUID_TAG,
    git_commit,
    log_candidate,
    save_model_locally,
    start_tracking,
)
from modelops.pipeline.training import (
    fit_candidate,
    parse_candidates,
    scores_of,
    training_data,
    training_labels,
)
from modelops.storage import replaced_directory, write_json


def main(args):
    if uses_spark(args.params):
        return run_on_spark("train", args)
    train, evaluate = load_params(args.params, "train", "evaluate")
    candidates = parse_candidates(train.candidates)
    contract = read_contract(args.contract)
    if contract is None:
        raise DataError(f"{args.contract}: no contract; run the validate stage first")
    frame = read_table(args.train)
    features = contract.features()
    matrix = training_data(frame, features)
    labels = training_labels(contract, frame)
    raw = frame[contract.feature_names]
    root = Path.cwd()
    experiment_id = start_tracking(root)
    tags = {"git_commit": git_commit(root), "data_hash": file_md5(args.train)}
    headline = AUTO_METRIC[contract.task]  # the log line shows the default selection metric
    runs = {}
    log.info(
        "task %s, %d features (%s)", contract.task, len(features),
        ", ".join(f"{t}: {sum(f.type == t for f in features)}"
                  for t in ("number", "boolean", "category")),
    )  # fmt: skip
    with replaced_directory(args.models_dir) as staging:
        for index, (name, params) in enumerate(candidates.items(), start=1):
            log.info("[%d/%d] training %s on %d rows", index, len(candidates), name, len(frame))
            fitted = fit_candidate(
                name, params, train.seed,
                features=features, task=contract.task, classes=list(contract.classes),
                matrix=matrix, labels=labels, threshold=evaluate.threshold,
            )  # fmt: skip
            train_metrics = task_metrics(
                contract.task, labels, scores_of(fitted.model, matrix),
                list(contract.classes), evaluate.threshold,
            )  # fmt: skip
            flat = {k: v for k, v in train_metrics.items() if isinstance(v, float | int)}
            identity = save_model_locally(fitted.model, raw, staging / name)
            logged = log_candidate(
                experiment_id=experiment_id,
                name=name,
                model=fitted.model,
                hyperparameters={**fitted.hyperparameters, "seed": train.seed},
                metrics={
                    **{f"train_{k}": v for k, v in flat.items()},
                    "fit_seconds": fitted.fit_seconds,
                },
                features=raw,
                tags={**tags, "task": contract.task, MODEL_UUID_TAG: identity},
            )
            # Only what the inputs determine: run ids, commits and times live in MLflow (the
            # run's tags say which model, MODEL_UUID_TAG), so the same inputs give the same bytes.
            runs[name] = {
                "hyperparameters": fitted.hyperparameters,
                "data_hash": tags["data_hash"],
                MODEL_UUID_TAG: identity,
            }
            log.info(
                "[%d/%d] %s: fit %.1fs, train %s %.4f, run %s",
                index, len(candidates), name, fitted.fit_seconds,
                headline, flat[headline], logged.run_id,
            )  # fmt: skip
        write_json(
            staging / "runs.json",
            {"task": contract.task, "candidates": runs},
        )
    log.info("tracking: %s", os.environ.get("MLFLOW_TRACKING_URI") or "mlflow.db (make mlflow-ui)")


if __name__ == "__main__":
    parser = stage_parser("train", __doc__)
    parser.add_argument("--train", required=True, help="training data (Parquet)")
    parser.add_argument("--contract", required=True, help="the data contract (YAML)")
    parser.add_argument("--models-dir", required=True, help="folder for the candidate models")
    run_stage("train", main, parser)
