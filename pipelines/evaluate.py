"""Stage `evaluate`: test-set metrics for every candidate, and the data of its task's plots."""

from modelops.pipeline import orchestration
from modelops.pipeline.engines import open_engine
from modelops.pipeline.stage import run_stage, stage_parser


def main(args):
    with open_engine(args.params) as engine:
        orchestration.evaluate(engine, args)


if __name__ == "__main__":
    parser = stage_parser("evaluate", __doc__)
    parser.add_argument("--test", required=True)
    parser.add_argument("--models-dir", required=True)
    parser.add_argument("--metrics", required=True, help="JSON metrics per candidate")
    parser.add_argument("--plots-dir", required=True)
    run_stage("evaluate", main, parser)
