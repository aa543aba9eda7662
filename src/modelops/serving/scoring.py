"""Batch scoring of a CSV or Parquet file of raw rows through the serving code path, in chunks.

The input holds the table's raw columns (numbers, booleans, category strings, empty cells for
missing values); the output is the input plus the prediction columns of the model's task:
`label`, `probability` (binary: of the positive class) and `proba_<class>` for classification,
`value` for regression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from modelops.serving.features import EncodingError
from modelops.serving.inference import InputError, Predictor
from modelops.storage import atomic_path

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def file_format(path: str | Path, role: str) -> str:
    """`csv` or `parquet` from the suffix; refuses anything else, naming the argument."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            f"{role} {path}: use a .csv or .parquet file, not {suffix or 'no suffix'!r}"
        )
    return FORMATS[suffix]


def count_rows(path: Path, kind: str) -> int | None:
    """Rows in the input, for the progress bar (Parquet knows; CSV would need a full read)."""
    if kind == "parquet":
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        return int(pq.ParquetFile(path).metadata.num_rows)
    return None


def read_chunks(path: Path, kind: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The input in chunks of at most `chunk_rows` rows, without loading it whole."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    else:
        yield from pd.read_csv(path, chunksize=chunk_rows)


def score_file(
    predictor: Predictor,
    source: str | Path,
    destination: str | Path,
    chunk_rows: int = 50_000,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Append the prediction columns to every row of `source`; write `destination` atomically.

    Columns other than the features (ids, say) pass through. Missing values and unseen categories
    are predicted on, as the service does. Returns the number of rows.

    Raises:
        InputError: a bad path or format, missing features, or a value that cannot stand in its
            column (text in a number column, an infinity: naming the column and the rows);
            `destination` is not created or changed then.

    """
    source, destination = Path(source), Path(destination)
    in_kind, out_kind = file_format(source, "INPUT"), file_format(destination, "OUTPUT")
    if not source.is_file():
        raise InputError(f"INPUT {source}: file not found")
    total = 0
    with atomic_path(destination) as tmp:
        writer = None
        try:
            for index, chunk in enumerate(read_chunks(source, in_kind, chunk_rows)):
                missing = [f for f in predictor.features if f not in chunk.columns]
                if missing:
                    raise InputError(f"INPUT {source}: missing features: {', '.join(missing)}")
                if chunk.empty:  # a header-only CSV: nothing to type-check or score
                    continue
                try:
                    matrix = predictor.encode_frame(chunk)
                except EncodingError as exc:
                    rows = f"rows {total}-{total + len(chunk) - 1}"
                    raise InputError(f"INPUT {source}, {rows}: {exc}") from None
                scored = chunk.assign(**predictor.outputs(matrix).columns())
                writer = _write(scored, tmp, out_kind, writer, first=index == 0)
                total += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        finally:
            if writer is not None:
                writer.close()
        if total == 0:
            raise InputError(f"INPUT {source}: no rows")
    return total


def _write(frame: pd.DataFrame, path: Path, kind: str, writer: Any, first: bool) -> Any:
    if kind == "csv":
        frame.to_csv(path, mode="w" if first else "a", header=first, index=False)
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table)
    return writer
