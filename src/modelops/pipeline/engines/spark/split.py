"""A deterministic, seeded train/test split on Spark: each row's side is a hash of its values.

The same row lands on the same side however the table is partitioned, ordered or re-read, and
on every cluster: the side is `xxhash64(seed, every column)` mapped to [0, 1) and compared with
`test_size`. Identical rows share a side (no copy of a training row leaks into the test set).
Classes are not stratified exactly; on the tables Spark is for, each class's share in both parts
is its share in the table within sampling error.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from modelops.pipeline.data import DataError

BUCKETS = 1_000_000


def row_position(frame: DataFrame, seed: int) -> Column:
    """Each row's place in [0, 1), from a seeded hash of all its values (column order as read)."""
    hashed = F.xxhash64(F.lit(seed), *[F.col(name) for name in frame.columns])
    return F.pmod(hashed, F.lit(BUCKETS)) / F.lit(float(BUCKETS))


def split_table(
    frame: DataFrame, target: str, test_size: float, seed: int
) -> tuple[DataFrame, DataFrame]:
    """Drop rows without a target, then split the rest by `row_position` into train and test.

    Raises:
        DataError: the table has no target column.

    """
    if target not in frame.columns:
        raise DataError(f"no target column {target!r} (columns: {', '.join(frame.columns)})")
    labelled = frame.filter(F.col(target).isNotNull())
    position = row_position(frame, seed)
    return labelled.filter(position >= test_size), labelled.filter(position < test_size)
