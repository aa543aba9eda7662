"""Stage `split`: seeded, stratified train/test split."""

from modelops.params import load_params
from modelops.pipeline.data import read_table, split_dataset, write_table
from modelops.pipeline.stage import log, run_stage, stage_parser


def main(args):
    data, split = load_params(args.params, "data", "split")
    train, test = split_dataset(read_table(args.input), data.target, split.test_size, split.seed)
    write_table(train, args.train)
    write_table(test, args.test)
    log.info(
        "train %d rows -> %s, test %d rows -> %s", len(train), args.train, len(test), args.test
    )


if __name__ == "__main__":
    parser = stage_parser("split", __doc__)
    parser.add_argument("--input", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    run_stage("split", main, parser)
