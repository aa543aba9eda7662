"""Point the registry's `champion` alias at the version `candidate` points at.

Not a DVC stage: CD runs it after the candidate's endpoint passed its smoke tests (and `make
promote` does the same locally). From then on `select` compares new candidates with it.
"""

from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import CANDIDATE_ALIAS, CHAMPION_ALIAS, promote, start_tracking


def main(args):
    (select,) = load_params(args.params, "select")
    start_tracking(Path.cwd())
    version = promote(select.model_name, args.source_alias)
    log.info(
        "%s version %s is now '%s' (was '%s')",
        select.model_name, version.version, CHAMPION_ALIAS, args.source_alias,
    )  # fmt: skip


if __name__ == "__main__":
    parser = stage_parser("promote", __doc__)
    parser.add_argument("--source-alias", default=CANDIDATE_ALIAS)
    run_stage("promote", main, parser)
