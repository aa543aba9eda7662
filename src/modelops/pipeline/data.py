"""Datasets: seeded synthetic generation, loading a user's CSV/Parquet, and atomic table I/O."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelops.params import DataParams, GenerateParams
from modelops.storage import atomic_path

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")
# separators a CSV may use; the first line decides (csv.Sniffer), a comma when it cannot tell
CSV_SEPARATORS = ",;\t|"
SNIFF_BYTES = 64 * 1024


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
    separator = ","
    try:
        if suffix == ".csv":
            separator, header = _csv_header(path)
            _refuse_duplicates(path, header)
            # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is not part of the first name
            frame = pd.read_csv(path, sep=separator, encoding="utf-8-sig")
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data.source: {path} is empty") from None
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for a corrupt file
        raise DataError(f"data.source: cannot read {path}: {exc}") from None
    if frame.empty:
        raise DataError(f"data.source: {path} has a header but no rows")
    if target not in frame.columns:
        hint = ""
        if suffix == ".csv" and len(frame.columns) == 1:
            hint = (
                f"; read as one column separated by {separator!r}: a CSV needs one of "
                f"{' '.join(repr(c) for c in CSV_SEPARATORS)} between its columns"
            )
        raise DataError(
            f"data.source: {path} has no target column {target!r} "
            f"(columns: {', '.join(map(str, frame.columns))}){hint}; set data.target"
        )
    return frame


def _csv_header(path: Path) -> tuple[str, list[str]]:
    """The separator of a CSV file (sniffed from its start) and its header's names, as written.

    Raises:
        DataError: the file is not UTF-8 text.

    """
    with open(path, "rb") as handle:
        start = handle.read(SNIFF_BYTES)
    try:
        text = start.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(start) - 4:  # not just a character cut at the end of the sample
            raise DataError(
                f"data.source: {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
            ) from None
        text = start[: exc.start].decode("utf-8-sig")
    lines = text.splitlines()
    if len(start) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    try:
        separator = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=CSV_SEPARATORS).delimiter
    except csv.Error:  # one column, or no separator it can tell apart
        separator = ","
    header = next(csv.reader(lines[:1], delimiter=separator), [])
    return separator, header


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    """Stop on a column name written twice: pandas would read the second as `name.1`.

    Raises:
        DataError: naming each repeated column.

    """
    repeated = [name for name, count in Counter(names).items() if count > 1]
    if repeated:
        raise DataError(
            f"data.source: {path} has the column name(s) {', '.join(map(repr, repeated))} more "
            "than once; rename or remove the copies (a reader would take the second for "
            f"{repeated[0] + '.1'!r}, a different column)"
        )


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
