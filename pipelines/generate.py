"""Stage `generate`: make the seeded synthetic dataset, or load `data.source`."""

from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.data import generate_dataset, load_dataset, write_table
from modelops.pipeline.engines import run_on_spark, uses_spark
from modelops.pipeline.stage import log, run_stage, stage_parser


def main(args):
    if uses_spark(args.params):
        return run_on_spark("generate", args)
    data, generate = load_params(args.params, "data", "generate")
    if data.source:
        log.info("loading %s", data.source)
        frame = load_dataset(Path(data.source), data.target)
    else:
        log.info(
            "generating %d synthetic %s rows: %d numeric, %d categorical, %d boolean columns, "
            "%.0f%% missing cells",
            generate.n_rows, "binary" if data.task == "auto" else data.task, generate.n_numeric,
            generate.n_categorical, generate.n_boolean, 100 * generate.missing_fraction,
        )  # fmt: skip
        frame = generate_dataset(generate, data)
    write_table(frame, args.output)
    log.info("wrote %d rows x %d columns to %s", len(frame), frame.shape[1], args.output)


if __name__ == "__main__":
    parser = stage_parser("generate", __doc__)
    parser.add_argument("--output", required=True, help="Parquet file to write")
    run_stage("generate", main, parser)
