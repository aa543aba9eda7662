"""The stages whose Spark form is its own code: generate (read a source), split and score.

Each takes the stage's parsed arguments (the paths of dvc.yaml), opens one SparkSession for the
stage and stops it at the end. Tables are written as Parquet folders (one file per partition;
pandas and DVC read folders too). The validate, train, evaluate and select stages are one piece
of logic for both engines (`modelops.pipeline.orchestration`, through `SparkEngine`).
"""

from __future__ import annotations

import argparse

from modelops.params import load_params
from modelops.pipeline.contract import (
    read_contract,
)
from modelops.pipeline.data import DataError, generate_dataset
from modelops.pipeline.data import write_table as write_local_table
from modelops.pipeline.engines import compute_params
from modelops.pipeline.engines.spark.session import spark_session
from modelops.pipeline.engines.spark.split import split_table
from modelops.pipeline.engines.spark.tables import read_table, write_table
from modelops.pipeline.stage import log

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
    "split": split,
    "score": score,
}
