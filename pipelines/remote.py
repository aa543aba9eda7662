"""`make push` / `make pull`: dvc push/pull to the team's S3 remote, with clear errors first.

The remote comes from `DVC_REMOTE_URL` (+ `AWS_ENDPOINT_URL`) when set, else from DVC's config.
A refused or unreachable remote is reported before DVC starts; the local cache is never touched
by a failed push.
"""

import argparse
import subprocess
import sys
from pathlib import Path

from modelops.delivery.remote import (
    RemoteError,
    RemoteNotConfigured,
    check_s3_remote,
    configure_from_environment,
    default_remote,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.remote", description=__doc__)
    parser.add_argument("action", choices=["push", "pull", "check"])
    parser.add_argument("targets", nargs="*", help="dvc.yaml stages or outputs (default: all)")
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="pull: outputs the remote lacks are not an error (CI on main: dvc repro builds them "
        "and CI pushes them; the first push meets an empty remote)",
    )
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        configure_from_environment(root)
        remote = default_remote(root)
        check_s3_remote(remote)
    except RemoteError as exc:
        print(f"error: {args.action}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, RemoteNotConfigured) else 1
    print(f"DVC remote {remote.name!r}: {remote.where}", flush=True)
    if args.action == "check":
        return 0
    extra = ["--allow-missing"] if args.allow_missing and args.action == "pull" else []
    returncode = subprocess.run(["dvc", args.action, *extra, *args.targets], cwd=root).returncode
    if returncode != 0:
        outcome = (
            "the local cache (.dvc/cache) is untouched"
            if args.action == "push"
            else "outputs not restored; rerun `make pull` or `dvc repro` to rebuild them"
        )
        print(
            f"error: dvc {args.action} with remote {remote.where} failed (exit {returncode}); "
            f"{outcome}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
