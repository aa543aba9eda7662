"""Stage `validate`: infer the data contract when needed, then enforce it; stop on failure.

The contract file (a committed dependency of this stage) is re-inferred from the table when it
is missing, when data.source / data.target / the data.* steering params changed, or on purpose
(`make contract`, which sets MODELOPS_REINFER_CONTRACT=1). Otherwise the table must satisfy it.
"""

from modelops.pipeline import orchestration
from modelops.pipeline.engines import open_engine
from modelops.pipeline.stage import run_stage, stage_parser


def main(args):
    with open_engine(args.params) as engine:
        orchestration.validate(engine, args)


if __name__ == "__main__":
    parser = stage_parser("validate", __doc__)
    parser.add_argument("--input", required=True, help="dataset to validate (Parquet)")
    parser.add_argument("--contract", required=True, help="the committed contract (YAML)")
    parser.add_argument("--summary", required=True, help="JSON summary to write")
    parser.add_argument("--docs", required=True, help="folder for GX's HTML data docs")
    run_stage("validate", main, parser)
