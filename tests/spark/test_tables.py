"""Tables at a URI (what an EMR Serverless job writes to S3), on a `file://` URI here.

Spark resolves `file://` through the same Hadoop FileSystem path as `s3://` on EMR (no rename
is used either way); an S3 bucket is not reachable from this tier, so `file://` stands in.
"""

import pytest

from modelops.pipeline.data import DataError
from modelops.pipeline.engines.spark.engine import SparkEngine
from modelops.pipeline.engines.spark.tables import read_table, write_table


def test_a_uri_table_is_written_once_and_named_by_its_write(spark, tmp_path):
    frame = spark.createDataFrame([(1, "a"), (2, "b"), (3, "c")], ["x", "y"])
    first, second = (f"file://{tmp_path}/run-{n}/train.parquet" for n in (1, 2))
    write_table(frame, first)
    assert sorted(read_table(spark, first).toPandas()["x"]) == [1, 2, 3]
    with pytest.raises(DataError, match=r"already exists; a table URI is written once"):
        write_table(frame.limit(1), first)
    assert read_table(spark, first).count() == 3  # the first write is intact
    engine = SparkEngine(spark)
    assert engine.data_hash(first) == engine.data_hash(first)
    write_table(frame, second)  # the same rows, another write: another table
    assert engine.data_hash(second) != engine.data_hash(first)
