"""Stage `validate`: infer the data contract when needed, then enforce it; stop on failure.

The contract file (a committed dependency of this stage) is re-inferred from the table when it
is missing, when data.source / data.target / the data.* steering params changed, or on purpose
(`make contract`, which sets MODELOPS_REINFER_CONTRACT=1). Otherwise the table must satisfy it.
"""

import os

from modelops.params import load_params
from modelops.pipeline.contract import (
    infer_contract,
    read_contract,
    reinference_reason,
    source_label,
    write_contract,
)
from modelops.pipeline.data import read_table
from modelops.pipeline.engines import run_on_spark, uses_spark
from modelops.pipeline.stage import StageFailed, log, run_stage, stage_parser
from modelops.pipeline.validation import validate_dataset
from modelops.storage import replaced_directory, write_json

REINFER_ENV = "MODELOPS_REINFER_CONTRACT"


def main(args):
    if uses_spark(args.params):
        return run_on_spark("validate", args)
    data, generate, bounds = load_params(args.params, "data", "generate", "validate")
    frame = read_table(args.input)
    source = source_label(data, generate)
    contract = read_contract(args.contract)
    reason = reinference_reason(contract, data, source)
    if os.environ.get(REINFER_ENV) == "1":
        reason = f"re-inference asked for ({REINFER_ENV}=1)"
    inferred = reason is not None
    if inferred:
        contract, warnings = infer_contract(frame, data, bounds, source)
        for warning in warnings:
            log.warning("%s", warning)
        write_contract(contract, args.contract)
        log.info(
            "contract re-inferred from %s (%s): %d features, written to %s; review and commit it",
            source, reason, len(contract.columns), args.contract,
        )  # fmt: skip
    log.info("task: %s (%s)", contract.task, contract.task_reason)
    log.info("checking %d rows against the contract in %s", len(frame), args.contract)
    # The data docs are not a DVC output (GX stamps its pages with times and random ids, so
    # they could not be reproduced byte for byte): rebuilt whole on every run, never piled up.
    with replaced_directory(args.docs) as docs:
        report = validate_dataset(frame, contract, docs_dir=docs)
    summary = {
        **report.to_dict(),
        "task": contract.task,
        "task_reason": contract.task_reason,
        "contract": {
            "path": args.contract,
            "source": contract.source,
            "re_inferred": inferred,
            "reason": reason,
            "features": len(contract.columns),
            "dropped": contract.dropped,
        },
    }
    write_json(args.summary, summary)
    log.info("data docs: %s/index.html", args.docs)
    if not report.success:
        raise StageFailed(
            f"{len(report.failures)} of {report.evaluated} expectations of {args.contract} "
            f"failed (details in {args.summary}; if the change is deliberate, `make contract` "
            f"re-infers it):\n{report.describe_failures()}"
        )
    if report.target_null_rows:
        log.info("%d rows have no %s: split drops them", report.target_null_rows, data.target)
    log.info("all %d expectations passed", report.evaluated)


if __name__ == "__main__":
    parser = stage_parser("validate", __doc__)
    parser.add_argument("--input", required=True, help="dataset to validate (Parquet)")
    parser.add_argument("--contract", required=True, help="the committed contract (YAML)")
    parser.add_argument("--summary", required=True, help="JSON summary to write")
    parser.add_argument("--docs", required=True, help="folder for GX's HTML data docs")
    run_stage("validate", main, parser)
