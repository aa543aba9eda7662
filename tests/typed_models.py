"""Small mixed-type `TabularModel`s built by hand, one per task, for the serving tests.

Built from scikit-learn's bundled tables made mixed-type (numbers binned into string categories,
a boolean column, nulls injected, string labels), and written as `models/best/` folders the way
the pipeline writes them, so the tests exercise the serving wing without the pipeline's training.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from xgboost import XGBClassifier

from modelops.serving.model import Feature, TabularModel

TASKS = ("binary", "multiclass", "regression")
SIZES = ("small", "medium", "large")


def _mixed_rows(data: np.ndarray, names: list[str], rng: np.random.Generator) -> list[dict]:
    """Raw rows: three numbers, a category binned from a fourth, a boolean from a fifth, nulls."""
    size_cut = np.quantile(data[:, 3], [1 / 3, 2 / 3])
    flag_cut = np.median(data[:, 4])
    rows = []
    for values in data:
        row: dict[str, Any] = {names[i]: float(values[i]) for i in range(3)}
        row["size"] = SIZES[int(np.searchsorted(size_cut, values[3]))]
        row["flag"] = bool(values[4] > flag_cut)
        for key in list(row):
            if rng.random() < 0.1:
                row[key] = None
        rows.append(row)
    return rows


def _features(names: list[str]) -> list[Feature]:
    return [
        *(Feature(name) for name in names[:3]),
        Feature("size", "category", SIZES),
        Feature("flag", "boolean"),
    ]


def build(task: str, seed: int = 0) -> tuple[TabularModel, list[dict], dict]:
    """A fitted model of `task`, its raw training rows and its model card."""
    rng = np.random.default_rng(seed)
    loader = {"binary": load_breast_cancer, "multiclass": load_wine, "regression": load_diabetes}
    bunch = loader[task]()
    # Column names with spaces and brackets, as real tables have them.
    names = [str(n).replace("/", " per ") for n in bunch.feature_names[:3]]
    if task == "regression":
        names = ["age (years)", "sex", "bmi"]
    rows = _mixed_rows(bunch.data, names, rng)
    features = _features(names)
    encoder = TabularModel(features, estimator=None, task="regression")
    matrix = encoder.encode_rows(rows)
    if task == "binary":
        classes = ["malignant", "benign"]  # sklearn's 0 and 1; benign (1) is the positive class
        estimator = XGBClassifier(n_estimators=15, max_depth=3, n_jobs=2, random_state=seed)
        target = bunch.target
        estimator.fit(matrix, target)
    elif task == "multiclass":
        classes = ["barolo", "grignolino", "barbera"]
        estimator = make_pipeline(
            SimpleImputer(strategy="median"),
            RandomForestClassifier(n_estimators=15, max_depth=4, n_jobs=2, random_state=seed),
        )
        target = bunch.target
        estimator.fit(matrix, target)
    else:
        classes = []
        estimator = make_pipeline(SimpleImputer(strategy="median"), Ridge(alpha=1.0))
        target = bunch.target
        estimator.fit(matrix, target)
    model = TabularModel(features, estimator, task, classes=classes, threshold=0.4)
    labels = [classes[int(t)] for t in target] if classes else [float(t) for t in target]
    for row, label in zip(rows, labels, strict=True):
        row["target"] = label
    card = card_for(model, task)
    return model, rows, card


def card_for(model: TabularModel, task: str) -> dict[str, Any]:
    """The model card the pipeline writes (SHARED INTERFACES keys)."""
    card: dict[str, Any] = {
        "name": f"typed-{task}", "version": "3", "task": task, "target": "target",
        "candidate": "hand-built", "metrics": {"score": 0.9}, "params": {},
        "trained_at": "2026-12-01T08:00:00+00:00", "git_commit": "abc123",
        "data_hash": "0123456789abcdef",
        "feature_schema": [feature.schema() for feature in model.features],
        "input_example": [example_row(model)], "model_path": "model/model.pkl",
    }  # fmt: skip
    if task != "regression":
        card["classes"] = list(model.classes)
    if task == "binary":
        card |= {"positive_class": model.classes[1], "threshold": model.threshold}
    return card


def example_row(model: TabularModel) -> dict[str, Any]:
    """A valid raw row for `model` (first known category, true, 1.0)."""
    values = {"number": 1.0, "boolean": True}
    return {
        f.name: f.categories[0] if f.type == "category" else values[f.type] for f in model.features
    }


def write_best(folder: Path, model: TabularModel, card: dict) -> Path:
    """Write `model_card.json` + `model/model.pkl` as the pipeline's models/best/."""
    (folder / "model").mkdir(parents=True, exist_ok=True)
    (folder / "model" / "model.pkl").write_bytes(pickle.dumps(model))
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


def features_only(row: dict) -> dict:
    """A raw row without its target."""
    return {k: v for k, v in row.items() if k != "target"}


def same(a: Any, b: Any) -> bool:
    """Equal predictions, probabilities within rounding (1e-6)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=1.5e-6)
    return a == b and type(a) is type(b)
