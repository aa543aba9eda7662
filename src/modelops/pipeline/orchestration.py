"""The logic of the validate, train and evaluate stages, written once for every compute engine.

`pipelines/<stage>.py` parses its arguments, opens the engine `compute.engine` chooses
(`modelops.pipeline.engines.open_engine`) and calls the function here; the engine reads the table,
validates it, fits a candidate and measures a model. What a stage writes (the contract, the
validation summary, the candidate models with runs.json, the metrics and plots) and what it logs
to MLflow is the same code whichever engine ran it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from modelops.params import AUTO_METRIC, load_params
from modelops.pipeline.contract import (
    Contract,
    infer_contract,
    read_contract,
    reinference_reason,
    source_label,
    write_contract,
)
from modelops.pipeline.data import DataError
from modelops.pipeline.engines import Engine, FitRequest
from modelops.pipeline.evaluation import task_metrics
from modelops.pipeline.stage import StageFailed, log
from modelops.pipeline.tracking import (
    MODEL_UUID_TAG,
    find_candidate_run,
    git_commit,
    load_local_model,
    log_candidate,
    log_test_metrics,
    save_model_locally,
    start_tracking,
)
from modelops.pipeline.training import parse_candidates, scores_of, training_data, training_labels
from modelops.storage import read_json, replaced_directory, write_json, write_text

REINFER_ENV = "MODELOPS_REINFER_CONTRACT"


def committed_contract(path: str | Path) -> Contract:
    """The contract the validate stage wrote.

    Raises:
        DataError: there is none yet.

    """
    contract = read_contract(path)
    if contract is None:
        raise DataError(f"{path}: no contract; run the validate stage first")
    return contract


def validate(engine: Engine, args: argparse.Namespace) -> None:
    """Infer the contract when needed (see pipelines/validate.py), then enforce it on the table.

    Raises:
        StageFailed: expectations failed; every failure is one line, whichever engine ran them.

    """
    data, generate, bounds = load_params(args.params, "data", "generate", "validate")
    table = engine.read(args.input, "--input")
    source = source_label(data, generate)
    contract = read_contract(args.contract)
    reason = reinference_reason(contract, data, source)
    if os.environ.get(REINFER_ENV) == "1":
        reason = f"re-inference asked for ({REINFER_ENV}=1)"
    inferred = reason is not None
    if inferred or contract is None:
        if engine.driver_rows is not None:
            log.info("inferring the contract reads the whole table into this process (pandas)")
        contract, warnings = infer_contract(engine.to_pandas(table), data, bounds, source)
        for warning in warnings:
            log.warning("%s", warning)
        write_contract(contract, args.contract)
        log.info(
            "contract re-inferred from %s (%s): %d features, written to %s; review and commit it",
            source, reason, len(contract.columns), args.contract,
        )  # fmt: skip
    log.info("task: %s (%s)", contract.task, contract.task_reason)
    log.info("checking the table against %s (%s engine)", args.contract, engine.name)
    # The data docs are not a DVC output (GX stamps its pages with times and random ids, so
    # they could not be reproduced byte for byte): rebuilt whole on every run, never piled up.
    with replaced_directory(args.docs) as docs:
        report = engine.validate(table, contract, docs)
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


def train(engine: Engine, args: argparse.Namespace) -> None:
    """Fit every candidate the engine can train; one MLflow run each; save each with runs.json.

    Raises:
        DataError: no contract, or no listed candidate kind trains on this engine.

    """
    train_params, evaluate = load_params(args.params, "train", "evaluate")
    candidates = parse_candidates(train_params.candidates)
    contract = committed_contract(args.contract)
    trainable = {}
    for name, params in candidates.items():
        reason = engine.skip_reason(name)
        if reason is None:
            trainable[name] = params
        else:
            log.warning("skipping %s: %s", name, reason)
    if not trainable:
        raise DataError(
            f"compute.engine is {engine.name} but no candidate in train.candidates trains on it"
        )
    table = engine.read(args.train, "--train")
    # training metrics and the MLflow signature's example: the driver's rows (all, locally)
    rows = engine.to_pandas(table, engine.driver_rows)
    features = contract.features()
    matrix = training_data(rows, features)
    labels = training_labels(contract, rows)
    raw = rows[contract.feature_names]
    root = Path.cwd()
    experiment_id = start_tracking(root)
    tags = {"git_commit": git_commit(root), "data_hash": engine.data_hash(args.train)}
    headline = AUTO_METRIC[contract.task]  # the log line shows the default selection metric
    runs = {}
    log.info(
        "task %s, %d features (%s)", contract.task, len(features),
        ", ".join(f"{t}: {sum(f.type == t for f in features)}"
                  for t in ("number", "boolean", "category")),
    )  # fmt: skip
    with replaced_directory(args.models_dir) as staging:
        for index, (name, params) in enumerate(trainable.items(), start=1):
            log.info("[%d/%d] training %s (%s engine)", index, len(trainable), name, engine.name)
            request = FitRequest(
                name, params, train_params.seed, contract, evaluate.threshold, matrix, labels
            )
            fitted = engine.fit(table, request)
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
                hyperparameters={**fitted.hyperparameters, "seed": train_params.seed},
                metrics={
                    **{f"train_{k}": v for k, v in flat.items()},
                    "fit_seconds": fitted.fit_seconds,
                },
                features=raw,
                tags={
                    **tags, "task": contract.task, "engine": engine.name, MODEL_UUID_TAG: identity,
                },
            )  # fmt: skip
            # Only what the inputs determine: run ids, commits and times live in MLflow (the
            # run's tags say which model, MODEL_UUID_TAG), so the same inputs give the same bytes.
            runs[name] = {
                "hyperparameters": fitted.hyperparameters,
                "data_hash": tags["data_hash"],
                MODEL_UUID_TAG: identity,
            }
            log.info(
                "[%d/%d] %s: fit %.1fs, train %s %.4f (on %d rows), run %s",
                index, len(trainable), name, fitted.fit_seconds,
                headline, flat[headline], len(rows), logged.run_id,
            )  # fmt: skip
        write_json(staging / "runs.json", {"task": contract.task, "candidates": runs})
    log.info("tracking: %s", os.environ.get("MLFLOW_TRACKING_URI") or "mlflow.db (make mlflow-ui)")


def write_plots(plots: Path, name: str, data: dict[str, Any]) -> None:
    """One candidate's plot files: `<plots>/<kind>/<name>.json`, or `.csv` for the confusion."""
    for kind, payload in data.items():
        if isinstance(payload, str):
            write_text(plots / kind / f"{name}.csv", payload)
        else:
            write_json(plots / kind / f"{name}.json", payload)


def evaluate(engine: Engine, args: argparse.Namespace) -> None:
    """Test-set metrics of every candidate (on the whole table) and the data of its plots."""
    data, params = load_params(args.params, "data", "evaluate")
    test = engine.read(args.test, "--test")
    runs = read_json(Path(args.models_dir) / "runs.json")["candidates"]
    experiment_id = start_tracking(Path.cwd())
    plots = Path(args.plots_dir)
    plots.mkdir(parents=True, exist_ok=True)
    scores = {}
    for name, run in runs.items():
        model = load_local_model(Path(args.models_dir) / name)
        scores[name], plot_data = engine.evaluate(
            model, test, data.target, params.curve_points, params.calibration_bins
        )
        write_plots(plots, name, plot_data)
        flat = {k: v for k, v in scores[name].items() if isinstance(v, float | int)}
        logged = find_candidate_run(experiment_id, name, run[MODEL_UUID_TAG])
        if logged is None or not log_test_metrics(logged.run_id, flat):
            log.warning(
                "no run of %s (model %s) in this MLflow store; test metrics not logged",
                name, run[MODEL_UUID_TAG],
            )  # fmt: skip
        log.info("%s: %s", name, ", ".join(f"{k}={v:.4f}" for k, v in flat.items()))
    write_json(args.metrics, scores)
