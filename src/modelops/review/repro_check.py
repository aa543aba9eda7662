"""`make repro-check`: reproduce the pipeline and fail if anything committed was stale.

Two checks, both needed because a fresh CI clone has no DVC cache:

1. After `dvc repro`, `dvc status` must be clean (every stage up to date with its lock entry).
2. The committed `dvc.lock` must already describe the committed sources: the code files, external
   data and params each stage depends on. A PR that changes `params.yaml` or a stage's code but
   not `dvc.lock` (someone forgot `make run`) fails here, with the stage and the dependency named.

Dependencies that are outputs of an earlier stage (models, data splits) are not compared: they
are rebuilt from the sources above, and model files are not byte-identical between runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from modelops.review.collect import dvc_executable


class StaleError(RuntimeError):
    """The committed pipeline state does not match what the sources produce."""


def source_fingerprint(lock: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """{(stage, dependency or param): hash or value} of what people edit, not what DVC builds."""
    stages = lock.get("stages", {})
    built = {out["path"] for stage in stages.values() for out in stage.get("outs", [])}
    found: dict[tuple[str, str], Any] = {}
    for name, stage in stages.items():
        for dep in stage.get("deps", []):
            if dep["path"] not in built:
                found[(name, dep["path"])] = dep.get("md5")
        for file, values in stage.get("params", {}).items():
            for key, value in values.items():
                found[(name, f"{file}:{key}")] = value
    return found


def compare_locks(committed: dict[str, Any], reproduced: dict[str, Any]) -> list[str]:
    """One line per source dependency or param whose committed lock entry is out of date."""
    old, new = source_fingerprint(committed), source_fingerprint(reproduced)
    lines = []
    for stage, dep in sorted(set(old) | set(new)):
        before, after = old.get((stage, dep)), new.get((stage, dep))
        if before != after:
            if before is None:
                lines.append(f"stage {stage!r}: {dep} is not in the committed dvc.lock")
            elif after is None:
                lines.append(f"stage {stage!r}: {dep} is in dvc.lock but no longer a dependency")
            else:
                lines.append(f"stage {stage!r}: {dep} changed since dvc.lock was committed")
    return lines


def committed_lock(repo: Path) -> dict[str, Any]:
    """`dvc.lock` as committed at HEAD ({} when there is none yet)."""
    shown = subprocess.run(
        ["git", "show", "HEAD:dvc.lock"], cwd=repo, capture_output=True, text=True, check=False
    )
    return (yaml.safe_load(shown.stdout) or {}) if shown.returncode == 0 else {}


def check(repo: Path) -> None:
    """Run `dvc repro` in `repo`, then both checks; raise StaleError naming what is stale."""
    before = committed_lock(repo)
    dvc = dvc_executable()
    repro = subprocess.run([dvc, "repro"], cwd=repo, check=False)
    if repro.returncode != 0:
        raise StaleError("dvc repro failed (its error is above)")
    status = subprocess.run(
        [dvc, "status", "--json"], cwd=repo, capture_output=True, text=True, check=False
    )
    if status.returncode != 0 or json.loads(status.stdout or "{}"):
        raise StaleError(f"dvc status is not clean after dvc repro:\n{status.stdout.strip()}")
    after = yaml.safe_load((repo / "dvc.lock").read_text()) or {}
    stale = compare_locks(before, after)
    if stale:
        raise StaleError(
            "the committed dvc.lock is stale (run `make run` and commit dvc.lock and metrics/):\n"
            + "\n".join(f"  - {line}" for line in stale)
        )


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.review.repro_check [--repo DIR]`."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.review.repro_check", description=__doc__
    )
    parser.add_argument("--repo", default=".", help="repository root (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        check(Path(args.repo).resolve())
    except StaleError as exc:
        print(f"error: repro-check: {exc}", file=sys.stderr)
        return 1
    print("repro-check: dvc status clean and dvc.lock matches the committed sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
