"""`make reviewed`: CD deploys what was reviewed, never a retrain on the deploy runner.

CI on main reproduces the pipeline and pushes its outputs to the DVC remote. CD, on a fresh
checkout of that commit, pulls exactly what `dvc.lock` names, refuses to go on unless
`dvc status` is clean for the selected model, and packages it (`dvc repro package`). Without a
DVC remote it says so (a GitHub annotation in Actions) and falls back to the repro check, which
fails if the reproduced outputs differ from what `dvc.lock` names.

Run as `python -m modelops.delivery.reviewed [--repro-check "make repro-check"]`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import IO

NOT_CONFIGURED = 2  # `pipelines.remote check`: no DVC remote (DVC_REMOTE_URL or .dvc/config)
MISSING = (
    "the remote lacks this commit's outputs (CI on main pushes them after its repro: did it "
    "succeed for this commit?)"
)

Runner = Callable[[Sequence[str], IO[str] | None], int]


def run_command(command: Sequence[str], stdout: IO[str] | None = None) -> int:
    """Run a command with its output streaming through; its exit code."""
    return subprocess.run(list(command), stdout=stdout, check=False).returncode


def warning(message: str) -> str:
    """A warning line; in GitHub Actions an annotation on the run (`::warning::`)."""
    prefix = "::warning::" if os.environ.get("GITHUB_ACTIONS") else "warning: "
    return f"{prefix}{message}"


def deliver_reviewed(repro_check: Sequence[str], run: Runner = run_command) -> int:
    """Pull, check and package the reviewed outputs (or fall back to `repro_check`); exit code."""
    remote = [sys.executable, "-m", "pipelines.remote"]
    checked = run([*remote, "check"], None)
    if checked == NOT_CONFIGURED:
        print(
            warning(
                "no DVC remote configured (DVC_REMOTE_URL or .dvc/config): cannot pull the "
                "outputs CI reviewed; FALLBACK: reproducing them from dvc.lock on this runner "
                "(repro-check fails if they differ from what dvc.lock names)"
            ),
            flush=True,
        )
        return run(repro_check, None)
    if checked != 0:
        return checked
    if run([*remote, "pull"], None) != 0:
        print(f"error: cannot pull what dvc.lock names: {MISSING}", file=sys.stderr)
        return 1
    if run(["dvc", "status", "--quiet", "--with-deps", "select"], None) != 0:
        print(
            f"error: dvc status is not clean after pulling what dvc.lock names: {MISSING}",
            file=sys.stderr,
            flush=True,
        )
        run(["dvc", "status", "--with-deps", "select"], sys.stderr)
        return 1
    packaged = run(["dvc", "repro", "package"], None)
    if packaged != 0:
        return packaged
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"reviewed outputs of {head or 'this commit'} pulled and packaged")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.delivery.reviewed [--repro-check COMMAND]`."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.delivery.reviewed", description=__doc__
    )
    parser.add_argument(
        "--repro-check",
        default="make repro-check",
        help="the fallback without a DVC remote (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    return deliver_reviewed(shlex.split(args.repro_check))


if __name__ == "__main__":
    sys.exit(main())
