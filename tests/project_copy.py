"""A throw-away copy of the repository, to run the real `dvc repro` in (tests and benchmarks)."""

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

TINY_PARAMS: dict[str, Any] = {
    "generate": {
        "n_rows": 600,
        "n_numeric": 3,
        "n_categorical": 1,
        "n_boolean": 1,
        "n_informative": 4,
    },
    "train": {
        "candidates": {
            "linear": {"C": 1.0},
            "random_forest": {"n_estimators": 20, "max_depth": 6, "n_jobs": 1},
            "xgboost": {"n_estimators": 30, "max_depth": 3, "n_jobs": 1},
        }
    },
    "select": {"min_score": 0.6},
}


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
        # The copy uses its own stores (mlflow.db, bentoml_home/), as a fresh clone would.
        own = ("MLFLOW_", "BENTOML_", "MODELOPS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def run(
        self, *cmd: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            cmd, cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
        return result

    def repro(self, *targets: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("dvc", "repro", *targets, check=check)

    def params(self) -> dict:
        return yaml.safe_load((self.root / "params.yaml").read_text())

    def set_params(self, updates: dict) -> None:
        (self.root / "params.yaml").write_text(yaml.safe_dump(merge(self.params(), updates)))

    def json(self, relative: str) -> Any:
        return json.loads((self.root / relative).read_text())

    def bytes(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def registry(self):
        import mlflow

        return mlflow.MlflowClient(tracking_uri=f"sqlite:///{self.root}/mlflow.db")

    def copy(self, destination: Path) -> Project:
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
