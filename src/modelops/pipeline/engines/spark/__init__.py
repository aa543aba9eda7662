"""The Spark engine: the pipeline's stages on Apache Spark (pyspark is imported only here).

- `session`: a SparkSession from `compute.spark` (master, conf), stopped when the stage ends;
- `tables`: read CSV/Parquet from a path or an s3:// URI, write Parquet folders atomically,
  and turn the project's errors raised on executors back into their one-line messages;
- `validation`: the same contract.yaml through Great Expectations' Spark datasource, with the
  local engine's expectations and one-line messages;
- `split`: a deterministic, seeded split by a hash of each row;
- `training`: xgboost.spark, trained distributed, returned as the same `TabularModel` a local run
  makes (so packaging, serving and Lambda do not change);
- `scoring`: batch scoring with the packaged model in a pandas UDF, to partitioned Parquet;
- `stages`: the stage entry points `pipelines/*.py` dispatch to when `compute.engine: spark`.
"""
