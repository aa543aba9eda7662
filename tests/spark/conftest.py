"""The `spark` tier: the Spark engine on `local[2]`, on small generated tables.

Every test here is marked `spark` and runs on one pytest-xdist worker (one JVM at a time on a
2-core machine); the session is shared by the tier and stopped at its end. Without a Java runtime
the tier skips, saying so.
"""

from __future__ import annotations

import pytest

from modelops.params import DataParams, GenerateParams, SparkParams, ValidateParams

TIER = __file__.rsplit("/", 1)[0]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).startswith(TIER):
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark():
    from modelops.pipeline.engines.spark.session import java_available, spark_session

    if not java_available():
        pytest.skip("no Java runtime (JAVA_HOME or java on PATH): the Spark engine needs Java 17")
    with spark_session(SparkParams(master="local[2]")) as session:
        yield session


def generated(task: str, n_rows: int = 400, seed: int = 7):
    """A seeded mixed-type table for `task`, with its `DataParams` and inferred contract."""
    from modelops.pipeline.contract import infer_contract
    from modelops.pipeline.data import generate_dataset

    data = DataParams(task=task)
    frame = generate_dataset(GenerateParams(n_rows=n_rows, seed=seed), data)
    contract, _ = infer_contract(frame, data, ValidateParams(min_rows=20), f"generated {task}")
    return frame, data, contract
