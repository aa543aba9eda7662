"""The repository copies of benchmarks/project_copy.py, with the tiny params the tests run."""

from __future__ import annotations

from typing import Any

from benchmarks.project_copy import REPO, Project, copy_repository, merge

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

__all__ = ["REPO", "TINY_PARAMS", "Project", "copy_repository", "merge"]
