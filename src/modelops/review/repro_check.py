"""`make repro-check`: reproduce the pipeline and fail unless it gives what dvc.lock records.

Three checks, all needed because a fresh CI clone has no DVC cache:

1. After `dvc repro`, `dvc status` must be clean (every stage up to date with its lock entry).
2. The committed `dvc.lock` must already describe the committed sources: the code files, external
   data and params each stage depends on. A PR that changes `params.yaml` or a stage's code but
   not `dvc.lock` (someone forgot `make run`) fails here, with the stage and the dependency named.
3. Every output must be the same bytes as the committed `dvc.lock` says (its md5): the pipeline
   is deterministic, so a clean clone reproduces the data, models and metrics byte for byte. A
   difference names the output, the file inside a directory output, and the first field that
   differs in a JSON/YAML file, whenever DVC's cache (or git, for metrics) still has the
   committed version to compare with.
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


def output_hashes(lock: dict[str, Any]) -> dict[str, str]:
    """{output path: md5} of every stage's outputs in a dvc.lock."""
    return {
        out["path"]: str(out.get("md5"))
        for stage in lock.get("stages", {}).values()
        for out in stage.get("outs", [])
    }


def first_difference(old: Any, new: Any, where: str = "") -> str | None:
    """The first path (`a.b[2]`) at which two parsed JSON/YAML documents differ, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            here = f"{where}.{key}" if where else str(key)
            if key not in old or key not in new:
                return f"{here} ({'added' if key not in old else 'removed'})"
            found = first_difference(old[key], new[key], here)
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list):
        for index, (a, b) in enumerate(zip(old, new, strict=False)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None if len(old) == len(new) else f"{where} (length {len(old)} -> {len(new)})"
    return None if old == new else f"{where or 'value'}: {old!r} -> {new!r}"


def describe_file_change(path: str, old: bytes | None, new: bytes | None) -> str:
    """`path`, and what differs in it when both versions can be read."""
    if old is None or new is None:
        return f"{path} (the committed version is not in DVC's cache or git to compare)"
    if old == new:
        return f"{path}: the same bytes"
    if path.endswith((".json", ".yaml", ".yml", "MLmodel")):
        try:
            found = first_difference(yaml.safe_load(old), yaml.safe_load(new))
        except yaml.YAMLError:
            found = None
        return f"{path}: first difference at {found or '(none: the same values, other bytes)'}"
    return f"{path}: binary content differs ({len(old)} -> {len(new)} bytes)"


class _Versions:
    """The committed (HEAD) and reproduced (working tree) versions of the pipeline's files."""

    def __init__(self, repo: Path):
        from dvc.api import DVCFileSystem

        self.repo = repo
        self.committed = DVCFileSystem(str(repo), rev="HEAD")
        self.reproduced = DVCFileSystem(str(repo))

    def files(self, fs: Any, path: str) -> dict[str, str] | None:
        """{file: md5} under a directory output, or None when its listing is not cached."""
        try:
            found = fs.find(path, detail=True)
        except Exception:  # dvc-data raises its own errors for a listing not in the cache
            return None
        return {
            name: str((info.get("dvc_info") or {}).get("md5") or info.get("md5"))
            for name, info in found.items()
        }

    def read(self, fs: Any, path: str, committed: bool) -> bytes | None:
        """A file's bytes: from DVC (cache), else git (metrics with cache: false)."""
        try:
            data: bytes = fs.read_bytes(path)
            return data
        except Exception:  # not in the cache (a fresh clone) or not tracked by DVC
            pass
        if committed:
            shown = subprocess.run(
                ["git", "show", f"HEAD:{path}"], cwd=self.repo, capture_output=True, check=False
            )
            return shown.stdout if shown.returncode == 0 else None
        target = self.repo / path
        return target.read_bytes() if target.is_file() else None

    def changes(self, path: str) -> list[str]:
        """What differs in one output: the file (or files of a directory) and the first field."""
        if not (self.repo / path).is_dir():
            return [
                describe_file_change(
                    path,
                    self.read(self.committed, path, committed=True),
                    self.read(self.reproduced, path, committed=False),
                )
            ]
        old, new = self.files(self.committed, path), self.files(self.reproduced, path)
        if old is None or new is None:
            return [f"{path}/ (its committed file list is not in DVC's cache: `dvc pull` it)"]
        return [
            describe_file_change(
                name,
                self.read(self.committed, name, committed=True) if name in old else None,
                self.read(self.reproduced, name, committed=False) if name in new else None,
            )
            if name in old and name in new
            else f"{name} ({'not in the committed output' if name in new else 'no longer written'})"
            for name in sorted(set(old) | set(new))
            if old.get(name) != new.get(name)
        ]


def compare_outputs(
    committed: dict[str, Any], reproduced: dict[str, Any], explain: Any = None
) -> list[str]:
    """One line per output whose reproduced md5 differs from the committed dvc.lock's.

    `explain(path)` may add lines naming the files and fields that differ.
    """
    old, new = output_hashes(committed), output_hashes(reproduced)
    lines = []
    for path in sorted(set(old) & set(new)):
        if old[path] != new[path]:
            lines.append(f"{path}: md5 {new[path]}, the committed dvc.lock has {old[path]}")
            lines += [f"    {detail}" for detail in (explain(path) if explain else [])]
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
    versions = _Versions(repo)
    differ = compare_outputs(before, after, versions.changes)
    if differ:
        raise StaleError(
            "the reproduced outputs are not the bytes the committed dvc.lock records (a "
            "non-deterministic step, or a different platform/library version):\n"
            + "\n".join(f"  - {line}" if not line.startswith(" ") else line for line in differ)
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
    print(
        "repro-check: dvc status clean; dvc.lock matches the committed sources and every output "
        "is the same bytes (md5) as the committed dvc.lock records"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
