"""Datasets: seeded synthetic generation, loading a user's CSV/Parquet, and atomic table I/O."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from modelops.params import DataParams, GenerateParams
from modelops.storage import atomic_path

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")


class DataError(ValueError):
    """A data file is missing, unreadable or does not fit the data contract."""


def synthetic_feature_names(n_features: int) -> list[str]:
    """Column names of generated features: `feature_00`, `feature_01`, ..."""
    width = max(2, len(str(n_features - 1)))
    return [f"feature_{i:0{width}d}" for i in range(n_features)]


def generate_dataset(params: GenerateParams, data: DataParams) -> pd.DataFrame:
    """Make a seeded, tabular binary classification dataset.

    Informative features carry the signal, the rest are noise; `label_noise` flips that fraction of
    labels at random, and `positive_fraction` sets the class balance.
    """
    from sklearn.datasets import make_classification

    features, labels = make_classification(
        n_samples=params.n_rows,
        n_features=params.n_features,
        n_informative=params.n_informative,
        n_redundant=0,
        n_repeated=0,
        n_clusters_per_class=2 if params.n_informative >= 2 else 1,
        weights=[1.0 - params.positive_fraction],
        flip_y=params.label_noise,
        class_sep=params.class_separation,
        shuffle=True,
        random_state=params.seed,
    )
    frame = pd.DataFrame(
        features.astype(np.float64), columns=synthetic_feature_names(params.n_features)
    )
    frame[data.target] = labels.astype(np.int64)
    return frame


def load_dataset(path: str | Path, target: str) -> pd.DataFrame:
    """Load a user's CSV or Parquet file that has a `target` column.

    Only the shape is checked here (exists, readable, not empty, has the target); types, nulls and
    ranges are the `validate` stage's job, so that it can report all of them at once.

    Raises:
        DataError: naming the file and what is wrong with it.

    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data.source: file not found: {path}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"data.source: {path} has unsupported type {suffix or '(none)'!r}; "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise DataError(f"data.source: {path} is empty")
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data.source: {path} is empty") from None
    except Exception as exc:  # pandas/pyarrow raise many types for a corrupt file
        raise DataError(f"data.source: cannot read {path}: {exc}") from None
    if frame.empty:
        raise DataError(f"data.source: {path} has a header but no rows")
    if target not in frame.columns:
        raise DataError(
            f"data.source: {path} has no target column {target!r} "
            f"(columns: {', '.join(map(str, frame.columns))}); set data.target"
        )
    return frame


def feature_columns(frame: pd.DataFrame, data: DataParams) -> list[str]:
    """The feature columns of `frame` under the data contract: declared, or all but the target."""
    if data.features is not None:
        return list(data.features)
    return [str(column) for column in frame.columns if column != data.target]


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a Parquet file atomically: a reader never sees a half-written file."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file written by `write_table`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: not found; run the stage that produces it (dvc repro)")
    return pd.read_parquet(path)


def file_md5(path: str | Path) -> str:
    """MD5 of a file's bytes: the same digest DVC records for it in `dvc.lock`."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def split_dataset(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split that keeps the class balance in both parts.

    Raises:
        DataError: a class has too few rows to appear in both parts.

    """
    from sklearn.model_selection import train_test_split

    counts = frame[target].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        raise DataError(
            f"cannot stratify on {target!r}: each class needs at least 2 rows "
            f"(counts: {counts.to_dict()})"
        )
    train, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[target]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
