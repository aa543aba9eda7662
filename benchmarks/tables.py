"""Real tables, offline: scikit-learn's bundled datasets made to look like what people bring.

Numbers binned into text categories, booleans, nulls injected, string labels, an id column.
Seeded, so every test (and benchmark) sees the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _with_nulls(frame: pd.DataFrame, columns: list[str], fraction: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for column in columns:
        frame.loc[rng.random(len(frame)) < fraction, column] = None


def wine() -> pd.DataFrame:
    """Multiclass (178 rows, 3 cultivars as text), an alcohol band category, a boolean, nulls."""
    from sklearn.datasets import load_wine

    bunch = load_wine(as_frame=True)
    frame = bunch.data.iloc[:, :8].copy()
    frame["alcohol"] = pd.cut(
        bunch.data["alcohol"], [0, 12.5, 13.5, 20], labels=["light", "medium", "strong"]
    ).astype(object)
    frame["deep_colour"] = bunch.data["color_intensity"] > bunch.data["color_intensity"].median()
    frame["deep_colour"] = frame["deep_colour"].astype(object)
    _with_nulls(frame, ["malic_acid", "ash", "alcohol", "deep_colour"], 0.08, seed=1)
    frame["cultivar"] = np.array(["barolo", "grignolino", "barbera"], dtype=object)[bunch.target]
    return frame


def diabetes() -> pd.DataFrame:
    """Regression (442 rows, disease progression), sex as text, an age band, nulls."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.data.copy()
    frame["sex"] = np.where(frame["sex"] > 1.5, "female", "male").astype(object)
    frame["age"] = pd.cut(
        frame["age"], [0, 35, 50, 65, 120], labels=["<35", "35-50", "50-65", "65+"]
    )
    frame["age"] = frame["age"].astype(object)
    _with_nulls(frame, ["bmi", "bp", "sex", "s3"], 0.06, seed=2)
    frame["progression"] = bunch.target.astype(float)
    return frame


def breast_cancer() -> pd.DataFrame:
    """Binary (569 rows, benign/malignant as text), a patient id, a size band, a boolean, nulls."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.data.iloc[:, :10].copy()
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame.insert(0, "patient_id", [f"P-{i:05d}" for i in range(len(frame))])
    frame["size_band"] = pd.qcut(bunch.data["mean area"], 3, labels=["small", "mid", "large"])
    frame["size_band"] = frame["size_band"].astype(object)
    frame["smooth"] = (bunch.data["mean smoothness"] < 0.1).astype(object)
    _with_nulls(frame, ["mean_texture", "mean_perimeter", "size_band", "smooth"], 0.05, seed=3)
    frame["diagnosis"] = np.array(["malignant", "benign"], dtype=object)[bunch.target]
    return frame
