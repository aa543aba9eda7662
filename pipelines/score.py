"""Batch scoring: `make score INPUT=in.csv OUTPUT=out.parquet` with the selected model.

Uses the same inference code as the service, in chunks, with a progress bar. The input holds the
table's raw columns (empty cells for missing values); the output is the input plus `label`,
`probability` (binary) and `proba_<class>` columns for classification or `value` for regression,
written only when every row was scored.
"""

import argparse
from pathlib import Path

from tqdm import tqdm

from modelops.pipeline.engines import run_on_spark
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.serving.inference import Predictor
from modelops.serving.scoring import count_rows, file_format, score_file


def main(args):
    if args.engine == "spark":
        return run_on_spark("score", args)
    args.input, args.output = Path(args.input), Path(args.output)
    predictor = Predictor.from_directory(args.model)
    kind = file_format(args.input, "INPUT")
    total = count_rows(args.input, kind) if kind == "parquet" and args.input.is_file() else None
    with tqdm(total=total, unit="rows", desc="scoring", unit_scale=True) as bar:
        rows = score_file(predictor, args.input, args.output, args.chunk_rows, bar.update)
    model = predictor.model_info
    log.info("scored %d rows with %s v%s -> %s", rows, model["name"], model["version"], args.output)


def file_argument(value: str) -> str:
    """A path or URI (s3://...) on the command line; `make score` without INPUT/OUTPUT passes ''."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "empty; usage: make score INPUT=<csv|parquet> OUTPUT=<csv|parquet> [ENGINE=spark]"
        )
    return value


if __name__ == "__main__":
    parser = stage_parser("score", __doc__)
    parser.add_argument(
        "--input", type=file_argument, required=True, help="CSV or Parquet to score"
    )
    parser.add_argument(
        "--output", type=file_argument, required=True, help="CSV or Parquet to write"
    )
    parser.add_argument("--model", default="models/best", help="selected model folder")
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument(
        "--engine", choices=("local", "spark"), default="local",
        help="spark: score on Spark (compute.spark of --params), writing a Parquet folder",
    )  # fmt: skip
    run_stage("score", main, parser)
