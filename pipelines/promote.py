"""Point the registry's `champion` alias at the released model version (or at `candidate`).

Not a DVC stage: CD runs it after production's smoke tests with `--version N --data-hash H`,
the registry version and data hash of the model the released image serves, and the version is
promoted only if the registry's tags show it is that model. `make promote` without them points
`champion` at the `candidate` alias (local use). From then on `select` compares new candidates
with it.
"""

import os
from pathlib import Path

from modelops.params import load_params
from modelops.pipeline.stage import log, run_stage, stage_parser
from modelops.pipeline.tracking import (
    CANDIDATE_ALIAS,
    CHAMPION_ALIAS,
    TrackingError,
    ci_without_registry,
    promote,
    promote_version,
    start_tracking,
)


def main(args):
    if skipped := ci_without_registry(os.environ, args.version):
        print(skipped)
        return
    (select,) = load_params(args.params, "select")
    start_tracking(Path.cwd())
    if args.version:
        try:
            version = promote_version(select.model_name, args.version, args.data_hash)
        except TrackingError as exc:
            if not args.if_registered:
                raise
            # The registry of record for a deploy is the reviewed model card (DVC outputs): the
            # image serves that model whether or not this tracking server registered it.
            prefix = "::warning::" if os.environ.get("GITHUB_ACTIONS") else "warning: "
            print(f"{prefix}champion not moved: {exc}", flush=True)
            return
        log.info("%s version %s is now '%s'", select.model_name, version.version, CHAMPION_ALIAS)
        return
    version = promote(select.model_name, args.source_alias)
    log.info(
        "%s version %s is now '%s' (was '%s')",
        select.model_name, version.version, CHAMPION_ALIAS, args.source_alias,
    )  # fmt: skip


if __name__ == "__main__":
    parser = stage_parser("promote", __doc__)
    parser.add_argument("--source-alias", default=CANDIDATE_ALIAS)
    parser.add_argument("--version", help="the released registry version (CD)")
    parser.add_argument("--data-hash", default="", help="its model card's data_hash (CD)")
    parser.add_argument(
        "--if-registered",
        action="store_true",
        help="CD: a tracking server that never registered the released model is a warning, "
        "not a failure (the deploy already succeeded)",
    )
    run_stage("promote", main, parser)
