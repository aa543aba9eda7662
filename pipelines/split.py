"""Stage `split`: drop rows without a target; seeded train/test split (stratified by class)."""

from modelops.params import load_params
from modelops.pipeline.contract import read_contract
from modelops.pipeline.data import DataError, read_table, split_dataset, write_table
from modelops.pipeline.engines import run_on_spark, uses_spark
from modelops.pipeline.stage import log, run_stage, stage_parser


def main(args):
    if uses_spark(args.params):
        return run_on_spark("split", args)
    data, split = load_params(args.params, "data", "split")
    contract = read_contract(args.contract)
    if contract is None:
        raise DataError(f"{args.contract}: no contract; run the validate stage first")
    frame = read_table(args.input)
    labelled = frame[frame[data.target].notna()]
    if len(labelled) < len(frame):
        log.info("dropped %d rows without a %s", len(frame) - len(labelled), data.target)
    train, test = split_dataset(
        labelled, data.target, split.test_size, split.seed,
        stratify=contract.task != "regression",
    )  # fmt: skip
    write_table(train, args.train)
    write_table(test, args.test)
    log.info(
        "train %d rows -> %s, test %d rows -> %s", len(train), args.train, len(test), args.test
    )


if __name__ == "__main__":
    parser = stage_parser("split", __doc__)
    parser.add_argument("--input", required=True)
    parser.add_argument("--contract", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    run_stage("split", main, parser)
