"""The stages on Spark: what `pipelines/<stage>.py` runs when `compute.engine: spark`.

Each takes the stage's parsed arguments (the paths of dvc.yaml), opens one SparkSession for the
stage and stops it at the end. Outputs are the local engine's, in the same places: tables as
Parquet folders (one file per partition; pandas and DVC read folders too), the contract, the
validation summary and data docs, candidate models as MLflow model folders with runs.json. The
evaluate, select and package stages read those as they are.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

from modelops.params import AUTO_METRIC, load_params
from modelops.pipeline.contract import (
    infer_contract,
    read_contract,
    reinference_reason,
    source_label,
    write_contract,
)
from modelops.pipeline.data import DataError, generate_dataset
from modelops.pipeline.data import write_table as write_local_table
from modelops.pipeline.engines import compute_params
from modelops.pipeline.engines.spark.session import spark_session
from modelops.pipeline.engines.spark.split import split_table
from modelops.pipeline.engines.spark.tables import folder_md5, read_table, write_table
from modelops.pipeline.engines.spark.training import fit_xgboost, skip_reason
from modelops.pipeline.engines.spark.validation import validate_table
from modelops.pipeline.evaluation import task_metrics
from modelops.pipeline.stage import StageFailed, log
from modelops.pipeline.tracking import (
    MODEL_UUID_TAG,
    git_commit,
    log_candidate,
    save_model_locally,
    start_tracking,
)
from modelops.pipeline.training import parse_candidates, scores_of, training_data
from modelops.storage import replaced_directory, write_json

REINFER_ENV = "MODELOPS_REINFER_CONTRACT"  # as the local validate stage reads it
METRIC_SAMPLE_ROWS = 200_000  # training metrics on at most this many rows (to the driver)


def generate(args: argparse.Namespace) -> None:
    """Read `data.source` (a path or an s3:// URI) on Spark into a Parquet folder at --output.

    Synthetic data (no data.source) is made by the local generator, in one process, as always.
    """
    data, params = load_params(args.params, "data", "generate")
    if not data.source:
        log.info("generating %d synthetic rows (in one process; Spark reads them)", params.n_rows)
        write_local_table(generate_dataset(params, data), args.output)
        return
    with spark_session(compute_params(args.params).spark) as session:
        frame = read_table(session, data.source, "data.source", target=data.target)
        write_table(frame, args.output)
        written = read_table(session, args.output)
        log.info(
            "wrote %d rows x %d columns from %s to %s",
            written.count(), len(written.columns), data.source, args.output,
        )  # fmt: skip


def validate(args: argparse.Namespace) -> None:
    """Enforce contract.yaml on the table with Great Expectations' Spark datasource.

    Raises:
        StageFailed: expectations failed; every failure is one line, as on the local engine.

    """
    data, generate_params, bounds = load_params(args.params, "data", "generate", "validate")
    with spark_session(compute_params(args.params).spark) as session:
        frame = read_table(session, args.input, "--input")
        source = source_label(data, generate_params)
        contract = read_contract(args.contract)
        reason = reinference_reason(contract, data, source)
        if os.environ.get(REINFER_ENV) == "1":
            reason = f"re-inference asked for ({REINFER_ENV}=1)"
        inferred = reason is not None
        if inferred:
            log.info("inferring the contract reads the whole table into the driver (pandas)")
            contract, warnings = infer_contract(frame.toPandas(), data, bounds, source)
            for warning in warnings:
                log.warning("%s", warning)
            write_contract(contract, args.contract)
            log.info(
                "contract re-inferred from %s (%s): %d features, written to %s; review and "
                "commit it", source, reason, len(contract.columns), args.contract,
            )  # fmt: skip
        assert contract is not None
        log.info("task: %s (%s)", contract.task, contract.task_reason)
        log.info("checking the table against the contract in %s on Spark", args.contract)
        report = validate_table(frame, contract, docs_dir=args.docs)
    summary = {
        **report.to_dict(),
        "task": contract.task,
        "task_reason": contract.task_reason,
        "contract": {
            "path": args.contract,
            "source": contract.source,
            "re_inferred": inferred,
            "reason": reason,
            "features": len(contract.columns),
            "dropped": contract.dropped,
        },
    }
    write_json(args.summary, summary)
    log.info("data docs: %s/index.html", args.docs)
    if not report.success:
        raise StageFailed(
            f"{len(report.failures)} of {report.evaluated} expectations of {args.contract} "
            f"failed (details in {args.summary}; if the change is deliberate, `make contract` "
            f"re-infers it):\n{report.describe_failures()}"
        )
    if report.target_null_rows:
        log.info("%d rows have no %s: split drops them", report.target_null_rows, data.target)
    log.info("all %d expectations passed on %d rows", report.evaluated, report.rows)


def split(args: argparse.Namespace) -> None:
    """Drop rows without a target; split the rest by a seeded hash of each row."""
    data, params = load_params(args.params, "data", "split")
    if read_contract(args.contract) is None:
        raise DataError(f"{args.contract}: no contract; run the validate stage first")
    with spark_session(compute_params(args.params).spark) as session:
        frame = read_table(session, args.input, "--input")
        train, test = split_table(frame, data.target, params.test_size, params.seed)
        write_table(train, args.train)
        write_table(test, args.test)
        rows = {
            path: read_table(session, path).count() for path in (args.train, args.test)
        }  # fmt: skip
    log.info(
        "train %d rows -> %s, test %d rows -> %s (split by row hash, seed %d)",
        rows[args.train], args.train, rows[args.test], args.test, params.seed,
    )  # fmt: skip


def train(args: argparse.Namespace) -> None:
    """Train the candidates with a Spark form on the executors; save and log them as locally.

    Raises:
        DataError: no listed candidate kind has a Spark form.

    """
    data, params, evaluate = load_params(args.params, "data", "train", "evaluate")
    contract = read_contract(args.contract)
    if contract is None:
        raise DataError(f"{args.contract}: no contract; run the validate stage first")
    candidates = parse_candidates(params.candidates)
    trainable = {name: p for name, p in candidates.items() if skip_reason(name) is None}
    for name in candidates.keys() - trainable.keys():
        log.warning("skipping %s: %s", name, skip_reason(name))
    if not trainable:
        raise DataError(
            "compute.engine is spark but no candidate in train.candidates has a Spark form "
            "(list xgboost)"
        )
    root = Path.cwd()
    experiment_id = start_tracking(root)
    tags = {"git_commit": git_commit(root), "data_hash": folder_md5(args.train)}
    headline = AUTO_METRIC[contract.task]  # the log line shows the default selection metric
    runs = {}
    with spark_session(compute_params(args.params).spark) as session:
        frame = read_table(session, args.train, "--train")
        # the MLflow signature's example and the training metrics: a bounded sample on the driver
        sample = frame.limit(METRIC_SAMPLE_ROWS).toPandas()
        matrix = training_data(sample, contract.features())
        if contract.task == "regression":
            labels = sample[data.target].to_numpy(dtype=np.float64)
        else:
            labels = contract.class_index(sample[data.target])
        raw = sample[contract.feature_names]
        with replaced_directory(args.models_dir) as staging:
            for index, (name, candidate) in enumerate(trainable.items(), start=1):
                log.info("[%d/%d] training %s on Spark", index, len(trainable), name)
                fitted = fit_xgboost(frame, contract, candidate, params.seed, evaluate.threshold)
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
                    hyperparameters={**fitted.hyperparameters, "seed": params.seed},
                    metrics={
                        **{f"train_{k}": v for k, v in flat.items()},
                        "fit_seconds": fitted.fit_seconds,
                    },
                    features=raw,
                    tags={
                        **tags, "task": contract.task, "engine": "spark", MODEL_UUID_TAG: identity,
                    },
                )  # fmt: skip
                # Only what the inputs determine (as the local engine's train stage writes).
                runs[name] = {
                    "hyperparameters": fitted.hyperparameters,
                    "data_hash": tags["data_hash"],
                    MODEL_UUID_TAG: identity,
                }
                log.info(
                    "[%d/%d] %s: fit %.1fs on Spark, train %s %.4f (on %d rows), run %s",
                    index, len(trainable), name, fitted.fit_seconds, headline, flat[headline],
                    len(sample), logged.run_id,
                )  # fmt: skip
            write_json(
                staging / "runs.json",
                {"task": contract.task, "candidates": runs},
            )


def score(args: argparse.Namespace) -> None:
    """Batch-score a CSV/Parquet table (file, folder or URI) with the packaged model on Spark."""
    from modelops.pipeline.engines.spark.scoring import score_table, write_scores
    from modelops.serving.inference import Predictor

    predictor = Predictor.from_directory(args.model)
    with spark_session(compute_params(args.params).spark) as session:
        frame = read_table(session, args.input, "INPUT")
        write_scores(score_table(predictor, frame, f"INPUT {args.input}"), args.output)
        rows = read_table(session, args.output, "OUTPUT").count()
    model = predictor.model_info
    log.info(
        "scored %d rows with %s v%s on Spark -> %s (Parquet, one file per partition)",
        rows, model["name"], model["version"], args.output,
    )  # fmt: skip


STAGES = {
    "generate": generate,
    "validate": validate,
    "split": split,
    "train": train,
    "score": score,
}
