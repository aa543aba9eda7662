"""Stage `train`: fit every candidate in params; one MLflow run each; save each model locally."""

import os
from datetime import UTC, datetime
from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.data import file_md5, read_table
from modelops.pipeline.evaluation import compute_metrics
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import git_commit, log_candidate, save_model_locally, start_tracking
from modelops.pipeline.training import fit_candidate, positive_probability
from modelops.storage import replaced_directory, write_json


def main(args):
    data, train = load_params(args.params, "data", "train")
    frame = read_table(args.train)
    features, labels = frame.drop(columns=[data.target]), frame[data.target]
    root = Path.cwd()
    experiment_id = start_tracking(root)
    tags = {"git_commit": git_commit(root), "data_hash": file_md5(args.train)}
    candidates = train.candidates.listed()
    runs = {}
    with replaced_directory(args.models_dir) as staging:
        for index, (name, params) in enumerate(candidates.items(), start=1):
            log.info("[%d/%d] training %s on %d rows", index, len(candidates), name, len(frame))
            fitted = fit_candidate(name, params, train.seed, features, labels)
            train_metrics = compute_metrics(labels, positive_probability(fitted.model, features))
            save_model_locally(fitted.model, features, staging / name)
            logged = log_candidate(
                experiment_id=experiment_id,
                name=name,
                model=fitted.model,
                hyperparameters={**fitted.hyperparameters, "seed": train.seed},
                metrics={
                    **{f"train_{k}": v for k, v in train_metrics.items()},
                    "fit_seconds": fitted.fit_seconds,
                },
                features=features,
                tags=tags,
            )
            runs[name] = {
                **logged.to_dict(),
                "hyperparameters": fitted.hyperparameters,
                "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **tags,
            }
            log.info(
                "[%d/%d] %s: fit %.1fs, train roc_auc %.4f, run %s",
                index, len(candidates), name, fitted.fit_seconds,
                train_metrics["roc_auc"], logged.run_id,
            )  # fmt: skip
        write_json(staging / "runs.json", {"experiment_id": experiment_id, "candidates": runs})
    log.info("tracking: %s", os.environ.get("MLFLOW_TRACKING_URI") or "mlflow.db (make mlflow-ui)")


if __name__ == "__main__":
    parser = stage_parser("train", __doc__)
    parser.add_argument("--train", required=True, help="training data (Parquet)")
    parser.add_argument("--models-dir", required=True, help="folder for the candidate models")
    run_stage("train", main, parser)
