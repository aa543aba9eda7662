"""A SparkSession built from `compute.spark`, always stopped when the work is done."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyspark.sql import SparkSession

from modelops.params import SparkParams
from modelops.pipeline.data import DataError

log = logging.getLogger("modelops")

# Defaults for a pipeline run; anything in compute.spark.conf overrides them.
DEFAULT_CONF: dict[str, Any] = {
    "spark.ui.enabled": "false",  # no web UI port per stage
    "spark.ui.showConsoleProgress": "false",  # progress bars would garble the stage log
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",  # pandas <-> Spark through Arrow
    "spark.sql.shuffle.partitions": "8",  # 200 (Spark's default) is for clusters, not a laptop
    "spark.log.level": "WARN",
}


def java_available() -> bool:
    """Whether a Java runtime is there for Spark's JVM (JAVA_HOME or `java` on PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.path.isfile(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def submitted() -> bool:
    """Whether spark-submit started this stage (an EMR Serverless job run, `engines.spark.job`).

    Then spark-submit has set the master and the cluster's resources: `compute.spark.master`
    (a laptop's `local[2]`) would pull the whole job onto the driver, and the laptop's 8 shuffle
    partitions would starve a cluster, so neither is applied.
    """
    from modelops.pipeline.engines.spark.job import SUBMITTED_ENV

    return os.environ.get(SUBMITTED_ENV) == "1"


def session_conf(params: SparkParams) -> dict[str, str]:
    """The Spark configuration a session gets: the defaults, then `compute.spark.conf`."""
    defaults = dict(DEFAULT_CONF)
    if submitted():
        defaults.pop("spark.sql.shuffle.partitions")
    conf = {**defaults, **params.conf}
    return {key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in conf.items()}  # fmt: skip


@contextmanager
def spark_session(params: SparkParams) -> Iterator[SparkSession]:
    """A SparkSession on `params.master` with `params.conf`; stopped on exit, even on failure.

    Python workers run this interpreter (PYSPARK_PYTHON, unless set), so they see the same
    packages as the driver.

    Raises:
        DataError: no Java runtime to start Spark's JVM.

    """
    if not java_available():
        raise DataError(
            "compute.engine is spark but no Java runtime was found (install Java 17 or set "
            "JAVA_HOME)"
        )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(params.app_name)
    if not submitted():
        builder = builder.master(params.master)
    for key, value in session_conf(params).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    log.info("spark %s on %s", session.version, session.sparkContext.master)
    try:
        yield session
    finally:
        session.stop()
