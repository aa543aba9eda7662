"""A throw-away copy of the repository, to run the real `dvc repro` in.

The benchmarks time `dvc repro` in such copies; the pipeline tests (tests/project_copy.py) run it
there with tiny params.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def merge(base: dict, updates: dict) -> dict:
    """Deep-merge `updates` into a copy of `base`; a None value deletes the key."""
    out = dict(base)
    for key, value in updates.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class Project:
    """A repository copy with helpers to run commands in it and read what they wrote."""

    def __init__(self, root: Path):
        self.root = root

    def env(self) -> dict[str, str]:
        """The environment commands run with: this interpreter first on PATH, no store settings."""
        # The copy uses its own stores (mlflow.db, bentoml_home/), as a fresh clone would.
        own = ("MLFLOW_", "BENTOML_", "MODELOPS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(
        self, *cmd: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        """Run a command in the copy; with `check`, fail with its output when it fails."""
        result = subprocess.run(
            cmd, cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def repro(self, *targets: str, check: bool = True) -> subprocess.CompletedProcess:
        """`dvc repro` in the copy."""
        return self.run("dvc", "repro", *targets, check=check)

    def params(self) -> dict:
        """The copy's params.yaml."""
        return yaml.safe_load((self.root / "params.yaml").read_text())

    def set_params(self, updates: dict) -> None:
        """Deep-merge `updates` into the copy's params.yaml (a None value deletes the key)."""
        (self.root / "params.yaml").write_text(yaml.safe_dump(merge(self.params(), updates)))

    def json(self, relative: str) -> Any:
        """A JSON file of the copy, parsed."""
        return json.loads((self.root / relative).read_text())

    def bytes(self, relative: str) -> bytes:
        """A file of the copy, as bytes."""
        return (self.root / relative).read_bytes()

    def registry(self) -> Any:
        """An MLflow client on the copy's own store."""
        import mlflow

        return mlflow.MlflowClient(tracking_uri=f"sqlite:///{self.root}/mlflow.db")

    def copy(self, destination: Path) -> Project:
        """A copy of this copy (its stores and outputs included)."""
        shutil.copytree(self.root, destination, symlinks=True)
        return Project(destination)


def copy_repository(destination: Path) -> Project:
    """Copy the files git knows about (tracked or new, not ignored) and commit them."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO, capture_output=True, check=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run([*git, *cmd], cwd=destination, check=True, capture_output=True)
    return Project(destination)
