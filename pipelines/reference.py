"""Stage `reference`: the summary `make monitor` compares live traffic with.

Features from the training split (what the model learned from), predictions of the selected model
on the test split (what it predicts on rows it has not seen). See modelops.monitoring.reference.
"""

from modelops.monitoring.reference import reference_of_split
from modelops.params import load_params
from modelops.pipeline.data import read_table
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.serving.inference import Predictor
from modelops.storage import write_json


def main(args):
    (monitor,) = load_params(args.params, "monitor")
    train, test = read_table(args.train), read_table(args.test)
    predictor = Predictor.from_directory(args.best)
    reference = reference_of_split(train, test, predictor, monitor.bins, monitor.exclude)
    write_json(args.output, reference)
    log.info(
        "reference of %d features (%d training rows, %d test predictions) -> %s",
        len(reference["features"]),
        len(train),
        len(test),
        args.output,
    )


if __name__ == "__main__":
    parser = stage_parser("reference", __doc__)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--best", required=True)
    parser.add_argument("--output", required=True)
    run_stage("reference", main, parser)
