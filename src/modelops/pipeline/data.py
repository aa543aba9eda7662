"""Datasets: seeded synthetic generation, loading a user's CSV/Parquet, and atomic table I/O."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelops.params import DataParams, GenerateParams
from modelops.storage import atomic_path

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")


class DataError(ValueError):
    """A data file is missing, unreadable or does not fit the data contract."""


BINARY_LABELS = ("no", "yes")


def synthetic_feature_names(params: GenerateParams) -> list[str]:
    """Column names of generated features: `num_00`.., `cat_00`.., `flag_00`.."""
    names = []
    for prefix, count in (
        ("num", params.n_numeric),
        ("cat", params.n_categorical),
        ("flag", params.n_boolean),
    ):
        names += [f"{prefix}_{i:02d}" for i in range(count)]
    return names


def generate_dataset(params: GenerateParams, data: DataParams) -> pd.DataFrame:
    """Make a seeded, mixed-type table for `data.task` (auto means binary).

    A latent numeric matrix carries the signal (scikit-learn's make_classification or
    make_regression); categorical columns are latent columns binned into text levels, boolean
    columns are latent columns thresholded at 0, and `missing_fraction` of every feature column's
    cells are then blanked. Binary labels are "no"/"yes" (positive_fraction is the share of
    "yes"), multiclass labels are "class_a", "class_b", ...; a regression target is a float.
    """
    from sklearn.datasets import make_classification, make_regression

    task = "binary" if data.task == "auto" else data.task
    names = synthetic_feature_names(params)
    n_columns = len(names)
    rng = np.random.default_rng(params.seed)
    if task == "regression":
        latent, target = make_regression(
            n_samples=params.n_rows,
            n_features=n_columns,
            n_informative=params.n_informative,
            noise=10.0 * params.label_noise / 0.02 if params.label_noise else 0.0,
            shuffle=False,
            random_state=params.seed,
        )
        labels: Any = np.round(target.astype(np.float64), 4)
    else:
        n_classes = 2 if task == "binary" else params.n_classes
        weights = [1.0 - params.positive_fraction] if task == "binary" else None
        latent, codes = make_classification(
            n_samples=params.n_rows,
            n_features=n_columns,
            n_informative=params.n_informative,
            n_redundant=0,
            n_repeated=0,
            n_classes=n_classes,
            n_clusters_per_class=1 if task == "multiclass" or params.n_informative < 2 else 2,
            weights=weights,
            flip_y=params.label_noise,
            class_sep=params.class_separation,
            shuffle=False,
            random_state=params.seed,
        )
        vocabulary = (
            BINARY_LABELS
            if task == "binary"
            else tuple(f"class_{chr(ord('a') + i)}" for i in range(n_classes))
        )
        labels = np.array(vocabulary, dtype=object)[codes]
    # informative latent columns are first: spread them over all three column types
    order = rng.permutation(n_columns)
    frame = pd.DataFrame(index=range(params.n_rows))
    levels = [f"level_{chr(ord('a') + i)}" for i in range(params.category_levels)]
    for name, column in zip(names, order, strict=True):
        values = latent[:, column]
        if name.startswith("num_"):
            series = pd.Series(np.round(values * 10.0 + 50.0, 4), dtype="float64")
        elif name.startswith("cat_"):
            edges = np.quantile(values, np.linspace(0, 1, params.category_levels + 1)[1:-1])
            series = pd.Series(np.array(levels, dtype=object)[np.digitize(values, edges)])
        else:
            series = pd.Series(values > 0, dtype="boolean")
        if params.missing_fraction:
            series[rng.random(params.n_rows) < params.missing_fraction] = None
        frame[name] = series
    frame[data.target] = labels
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
    """Read a Parquet file written by `write_table` (or a folder of them: the Spark engine's)."""
    path = Path(path)
    if not path.exists():
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
    frame: pd.DataFrame, target: str, test_size: float, seed: int, stratify: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split; with `stratify`, the class balance is kept in both parts.

    Raises:
        DataError: a class has too few rows to appear in both parts.

    """
    from sklearn.model_selection import train_test_split

    if not stratify:
        train, test = train_test_split(frame, test_size=test_size, random_state=seed)
        return train.reset_index(drop=True), test.reset_index(drop=True)
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
