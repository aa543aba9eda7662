"""Stage `train`: fit every candidate for the contract's task; one MLflow run each; save each.

Every candidate is a TabularModel: it takes the table's raw columns (numbers, booleans,
categories, nulls) and carries their encoding, so serving and batch scoring need no other code.
"""

from modelops.pipeline import orchestration
from modelops.pipeline.engines import open_engine
from modelops.pipeline.stage import run_stage, stage_parser


def main(args):
    with open_engine(args.params) as engine:
        orchestration.train(engine, args)


if __name__ == "__main__":
    parser = stage_parser("train", __doc__)
    parser.add_argument("--train", required=True, help="training data (Parquet)")
    parser.add_argument("--contract", required=True, help="the data contract (YAML)")
    parser.add_argument("--models-dir", required=True, help="folder for the candidate models")
    run_stage("train", main, parser)
