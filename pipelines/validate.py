"""Stage `validate`: enforce the data contract with Great Expectations; stop on failure."""

from modelops.params import load_params
from modelops.pipeline.data import feature_columns, read_table, synthetic_feature_names
from modelops.pipeline.stage import StageFailed, log, run_stage, stage_parser
from modelops.pipeline.validation import Contract, validate_dataset
from modelops.storage import write_json


def main(args):
    data, generate, bounds = load_params(args.params, "data", "generate", "validate")
    frame = read_table(args.input)
    if data.features is None and data.source is None:
        features = synthetic_feature_names(generate.n_features)
    else:
        features = feature_columns(frame, data)
    contract = Contract(features=tuple(features), target=data.target, bounds=bounds)
    log.info("checking %d rows against %d-feature contract", len(frame), len(features))
    report = validate_dataset(frame, contract, docs_dir=args.docs)
    write_json(args.summary, report.to_dict())
    log.info("data docs: %s/index.html", args.docs)
    if not report.success:
        raise StageFailed(
            f"{len(report.failures)} of {report.evaluated} expectations failed "
            f"(details in {args.summary}):\n{report.describe_failures()}"
        )
    log.info("all %d expectations passed", report.evaluated)


if __name__ == "__main__":
    parser = stage_parser("validate", __doc__)
    parser.add_argument("--input", required=True, help="dataset to validate (Parquet)")
    parser.add_argument("--summary", required=True, help="JSON summary to write")
    parser.add_argument("--docs", required=True, help="folder for GX's HTML data docs")
    run_stage("validate", main, parser)
