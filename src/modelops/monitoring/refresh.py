"""Refresh the labelled data a retrain needs, in the monitor's checkout, and rerun the pipeline.

A labelled source is "configured" when `data.source` (params.yaml) is the output of a DVC import
(`dvc import-url s3://bucket/labels.csv data/external/labels.csv`, or `dvc import <repo> <path>`):
its `.dvc` file records where the data comes from and the hash of the version the pipeline last
used, and `dvc update` fetches the source's current version and records its new hash (DVC: "import
stages are considered always frozen ... `dvc update` is the only command that can update them").
A plain file under `data/external/` has no origin to refresh from, so it is not one.

`prepare` is what the retrain pull request commits: after `dvc update`, `dvc repro` (as a person
runs `make run` before committing a data change), then every tracked file that changed (the
import's `.dvc` file, `dvc.lock`, `metrics/`, a re-inferred `contract.yaml`). When the update
brings nothing new, there is nothing to retrain on yet and it returns None.

`fetch_recorded` (`make labelled-data`, CI before `make repro-check`) brings the version the
commit records when `make pull` left it missing. DVC pulls a `dvc import-url` output from the DVC
remote only (it reads the source itself only for `--version-aware` imports), and only CI on main
pushes, so the new labels of a retrain pull request are in its source, not in the remote yet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml


class RefreshError(RuntimeError):
    """The labelled source cannot be found or refreshed; the message says which and why."""


@dataclass(frozen=True)
class LabelledSource:
    """`data.source` and the DVC import file that refreshes it (paths relative to the root)."""

    data_source: str
    dvc_file: str
    origin: str


@dataclass(frozen=True)
class Prepared:
    """What the retrain commit carries: {path: text, or None for a deleted file}."""

    files: dict[str, str | None]
    pipeline_error: str | None  # the tail of `dvc repro`'s error (a gate refusal), or None


def run(command: Sequence[str], root: Path) -> subprocess.CompletedProcess[str]:
    """Run a command in `root`, capturing its output (never raises on a non-zero exit)."""
    return subprocess.run(list(command), cwd=root, capture_output=True, text=True, check=False)


def tail(text: str, lines: int = 5) -> str:
    """The last non-empty lines of a command's output: where its error is."""
    return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def read_yaml(path: Path) -> Any:
    """A YAML file's content, or a RefreshError naming it."""
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RefreshError(f"{path}: {exc}") from None


def data_source(params_path: Path) -> str | None:
    """`data.source` from params.yaml, normalised to a POSIX path relative to its folder."""
    document = read_yaml(params_path) or {}
    source = (document.get("data") or {}).get("source")
    return str(PurePosixPath(source)) if source else None


def import_origin(stage: Any) -> str | None:
    """Where a `.dvc` file's import comes from (a URL or `repo:path`), None when not an import."""
    deps = stage.get("deps") if isinstance(stage, dict) else None
    if not deps:
        return None
    dep = deps[0]
    repo = dep.get("repo") or {}
    return f"{repo['url']}:{dep['path']}" if repo.get("url") else str(dep.get("path"))


def find_labelled_source(root: Path, params_path: Path) -> LabelledSource | None:
    """The committed DVC import whose output is `data.source` (or a folder holding it), or None."""
    source = data_source(params_path)
    if source is None:
        return None
    listed = run(["git", "ls-files", "-z", "--", "*.dvc"], root)
    if listed.returncode != 0:
        raise RefreshError(f"git ls-files in {root}: {tail(listed.stderr)}")
    for name in filter(None, listed.stdout.split("\0")):
        stage = read_yaml(root / name)
        origin = import_origin(stage)
        if origin is None:
            continue
        folder = PurePosixPath(name).parent
        for out in stage.get("outs") or []:
            output = PurePosixPath(*_normalised(folder / out["path"]))
            if PurePosixPath(source) == output or output in PurePosixPath(source).parents:
                return LabelledSource(source, name, origin)
    return None


def _normalised(path: PurePosixPath) -> list[str]:
    """`a/b/../c` as ["a", "c"] (a .dvc file's outs are relative to its folder)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return parts


def refresh(root: Path, source: LabelledSource) -> bool:
    """`dvc update` the import; True when it recorded a new version of the data."""
    before = (root / source.dvc_file).read_text()
    done = run([sys.executable, "-m", "dvc", "update", source.dvc_file], root)
    if done.returncode != 0:
        raise RefreshError(
            f"dvc update {source.dvc_file} (from {source.origin}) failed; the monitor's role "
            f"must be able to read it:\n{tail(done.stderr or done.stdout)}"
        )
    return (root / source.dvc_file).read_text() != before


def changed_files(root: Path) -> dict[str, str | None]:
    """Tracked files that differ from the commit checked out: {path: text, None when deleted}."""
    status = run(["git", "status", "--porcelain=v1", "-z", "--untracked-files=no"], root)
    if status.returncode != 0:
        raise RefreshError(f"git status in {root}: {tail(status.stderr)}")
    files: dict[str, str | None] = {}
    for entry in filter(None, status.stdout.split("\0")):
        code, path = entry[:2], entry[3:]
        try:
            files[path] = None if "D" in code else (root / path).read_text()
        except UnicodeDecodeError:
            raise RefreshError(f"{path} changed but is not text: track it with DVC") from None
    return files


def prepare(root: Path, source: LabelledSource) -> Prepared | None:
    """Refresh the data and rerun the pipeline; None when the source has nothing new."""
    if not refresh(root, source):
        return None
    repro = run([sys.executable, "-m", "dvc", "repro"], root)
    error = tail(repro.stderr or repro.stdout) if repro.returncode != 0 else None
    return Prepared(changed_files(root), error)


def fetch_recorded(root: Path, source: LabelledSource) -> bool:
    """Bring the imported data at the version its `.dvc` file records; False if already here.

    `dvc update` downloads the source's current version: when it is the recorded one, the `.dvc`
    file is unchanged and the data is now in the workspace and the cache. When the source moved
    on since the commit, the download is not what the commit reviewed: the `.dvc` file is put
    back, the download removed, and a RefreshError says so (the next monitor run rebuilds the
    retrain pull request on the newer labels).
    """
    if (root / source.data_source).exists():
        return False
    record = root / source.dvc_file
    before = record.read_text()
    done = run([sys.executable, "-m", "dvc", "update", source.dvc_file], root)
    if done.returncode != 0:
        raise RefreshError(
            f"cannot read the labelled source {source.origin} ({source.dvc_file}): this run needs "
            "read access to it (CI: the pull-request role, AWS_PULL_REQUEST_ROLE_ARN; a pull "
            f"request from a fork gets no AWS role):\n{tail(done.stderr or done.stdout)}"
        )
    if record.read_text() != before:
        record.write_text(before)
        for out in (yaml.safe_load(before) or {}).get("outs") or []:
            path = record.parent / out["path"]
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        raise RefreshError(
            f"the labelled source {source.origin} changed since this commit recorded it in "
            f"{source.dvc_file}: it no longer holds the data this commit was built on (the next "
            "monitor run refreshes the retrain pull request to the newer labels)"
        )
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """`make labelled-data`: the labelled data this commit records, fetched if it is missing."""
    parser = argparse.ArgumentParser(
        prog="python -m modelops.monitoring.refresh", description=fetch_recorded.__doc__
    )
    parser.add_argument("--params", default="params.yaml")
    args = parser.parse_args(argv)
    params = Path(args.params)
    try:
        source = find_labelled_source(params.resolve().parent, params)
        if source is None:
            print("labelled-data: data.source is not a DVC import: nothing to fetch")
            return 0
        fetched = fetch_recorded(params.resolve().parent, source)
    except RefreshError as exc:
        print(f"error: labelled-data: {exc}", file=sys.stderr)
        return 1
    what = "fetched from" if fetched else "already here; not fetched from"
    print(f"labelled-data: {source.data_source} {what} {source.origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
