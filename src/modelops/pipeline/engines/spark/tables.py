"""Tables on Spark: read CSV/Parquet from a path or a URI, write Parquet folders atomically."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException, PythonException
from pyspark.sql import DataFrame, SparkSession

from modelops.pipeline.data import SUPPORTED_SUFFIXES, DataError


@contextmanager
def executor_errors(*kinds: type[Exception]) -> Iterator[None]:
    """Re-raise a known error raised on an executor as itself, with its one-line message.

    An exception in a pandas UDF reaches the driver as a PythonException carrying the worker's
    traceback as text; for the project's own errors (bad input, a label outside the contract)
    the stage should say what it says locally, not print a Java stack.
    """
    try:
        yield
    except (PythonException, Py4JJavaError) as exc:  # the latter when a write job failed
        names = "|".join(kind.__name__ for kind in kinds)
        found = re.findall(rf"\b({names}): ([^\n]+)", str(exc))
        if not found:
            raise
        name, message = found[-1]
        kind = next(kind for kind in kinds if kind.__name__ == name)
        raise kind(message.strip()) from None


def is_uri(location: str | Path) -> bool:
    """Whether `location` names a file system Spark resolves itself (s3://, s3a://, hdfs://...)."""
    return len(urlparse(str(location)).scheme) > 1  # "C:" is a drive, not a scheme


def table_format(location: str | Path, role: str) -> str:
    """`csv` or `parquet` from the name; a folder without a suffix is read as Parquet.

    Raises:
        DataError: another suffix, naming `role` (the key or argument that gave the location).

    """
    name = str(location).rstrip("/")
    suffix = Path(urlparse(name).path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in SUPPORTED_SUFFIXES or suffix == "":
        return "parquet"
    raise DataError(
        f"{role}: {location} has unsupported type {suffix!r}; "
        f"use one of {', '.join(SUPPORTED_SUFFIXES)} (or a folder of Parquet files)"
    )


def read_table(
    session: SparkSession, location: str | Path, role: str = "table", target: str | None = None
) -> DataFrame:
    """A CSV (with a header; column types inferred) or Parquet file or folder as a DataFrame.

    Raises:
        DataError: the file is missing, unreadable, empty, or has no `target` column.

    """
    kind = table_format(location, role)
    if not is_uri(location) and not Path(location).exists():
        raise DataError(f"{role}: file not found: {location}")
    try:
        if kind == "csv":
            frame = session.read.csv(str(location), header=True, inferSchema=True)
        else:
            frame = session.read.parquet(str(location))
    except AnalysisException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{role}: cannot read {location}: {first}") from None
    if not frame.columns:
        raise DataError(f"{role}: {location} is empty")
    if target is not None and target not in frame.columns:
        raise DataError(
            f"{role}: {location} has no target column {target!r} "
            f"(columns: {', '.join(frame.columns)}); set data.target"
        )
    return frame


def write_table(frame: DataFrame, path: str | Path) -> None:
    """Write a Parquet folder (one file per partition) in place of `path`, atomically.

    Spark writes into a hidden sibling; only a complete write replaces what was at `path` (a
    file from the local engine or an earlier folder), so a failed job leaves the old output.

    A URI (s3://) has no rename to swap folders with, so it is written only where nothing is:
    an EMR Serverless job writes each output under a prefix of its own run, and moves the
    table's pointer only when the stage succeeded (`engines.spark.job`).

    Raises:
        DataError: something is at the URI already.

    """
    if is_uri(path):
        try:
            frame.write.mode("errorifexists").parquet(str(path))
        except AnalysisException as exc:
            if "already exists" not in str(exc).lower():
                raise
            raise DataError(f"{path}: already exists; a table URI is written once") from None
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.new."))
    retired = path.parent / f".{path.name}.old.{staging.name.rsplit('.', 1)[-1]}"
    try:
        frame.write.mode("overwrite").parquet(str(staging))
        if path.exists():
            os.replace(path, retired)
        os.replace(staging, path)
    finally:
        for leftover in (staging, retired):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            elif leftover.exists():
                leftover.unlink()


def folder_md5(path: str | Path) -> str:
    """A digest of a Parquet file, or of a Parquet folder's part files' bytes.

    Part files are taken in the order of their own digests, not their names (Spark names them
    with a random id per write), so the same rows written the same way give the same digest.
    """
    from modelops.pipeline.data import file_md5

    path = Path(path)
    if path.is_file():
        return file_md5(path)
    parts = sorted(
        file_md5(file)
        for file in path.rglob("*.parquet")
        if not file.name.startswith((".", "_"))
    )  # fmt: skip
    return hashlib.md5("\n".join(parts).encode(), usedforsecurity=False).hexdigest()
