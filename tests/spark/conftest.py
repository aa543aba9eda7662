"""The `spark` tier: the Spark engine on `local[2]`, on small generated tables.

Every test here is marked `spark`. The in-process tests share one SparkSession (one JVM, stopped at
the tier's end) on one pytest-xdist worker; the `dvc repro` tests (a JVM per stage, in the stages'
own processes) are a group of their own, so under `make test` (-n 2) they run beside the others
instead of after them. Tables are small, so the tier's Spark runs with 2 shuffle partitions (one
per core) instead of the engine's 8: the same plans, a quarter of the tasks. Without a Java runtime
the tier skips, saying so.
"""

from __future__ import annotations

import pytest

from modelops.params import DataParams, GenerateParams, SparkParams, ValidateParams

TIER = __file__.rsplit("/", 1)[0]
TIER_CONF = {"spark.sql.shuffle.partitions": 2, "spark.default.parallelism": 2}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reads the groups into node ids
def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).startswith(TIER):
            item.add_marker(pytest.mark.spark)
            repro = str(item.fspath).endswith("test_repro.py")
            item.add_marker(pytest.mark.xdist_group("spark-repro" if repro else "spark"))


@pytest.fixture(scope="session")
def java():
    """Skip without a Java runtime (what Spark's JVM needs); starts nothing."""
    from modelops.pipeline.engines.spark.session import java_available

    if not java_available():
        pytest.skip("no Java runtime (JAVA_HOME or java on PATH): the Spark engine needs Java 17")


@pytest.fixture(scope="session")
def spark(java):
    from modelops.pipeline.engines.spark.session import spark_session

    with spark_session(SparkParams(master="local[2]", conf=TIER_CONF)) as session:
        yield session


def generated(task: str, n_rows: int = 400, seed: int = 7):
    """A seeded mixed-type table for `task`, with its `DataParams` and inferred contract."""
    from modelops.pipeline.contract import infer_contract
    from modelops.pipeline.data import generate_dataset

    data = DataParams(task=task)
    frame = generate_dataset(GenerateParams(n_rows=n_rows, seed=seed), data)
    contract, _ = infer_contract(frame, data, ValidateParams(min_rows=20), f"generated {task}")
    return frame, data, contract
