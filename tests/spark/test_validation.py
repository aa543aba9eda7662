"""The Spark engine enforces the same contract with the same one-line messages as the local one."""

import numpy as np
import pandas as pd
import pytest

from modelops.pipeline.engines.spark.tables import read_table
from modelops.pipeline.engines.spark.validation import validate_table
from modelops.pipeline.validation import validate_dataset
from tests.spark.conftest import generated


@pytest.fixture(scope="module")
def binary():
    return generated("binary")


def both_engines(spark, frame, contract, path):
    """Validate the same Parquet file with each engine (as each stage would read it)."""
    frame.to_parquet(path, index=False)
    local = validate_dataset(pd.read_parquet(path), contract)
    remote = validate_table(read_table(spark, path), contract)
    return local, remote


def test_the_table_it_was_inferred_from_passes_on_spark(spark, binary, tmp_path):
    frame, _, contract = binary
    local, remote = both_engines(spark, frame, contract, tmp_path / "clean.parquet")
    assert local.success and remote.success, remote.describe_failures()
    assert remote.to_dict() == local.to_dict()
    assert remote.evaluated > 20


def test_contract_breaks_read_the_same_on_both_engines(spark, binary, tmp_path):
    frame, _, contract = binary
    broken = frame.drop(columns=["num_01"]).assign(extra=1.0)  # a lost and a new column
    broken["cat_00"] = broken["cat_00"].astype(object)
    broken.loc[7, "cat_00"] = "never seen"  # a new category
    broken.loc[2, "num_02"] = np.inf  # an infinity
    broken.loc[0, "target"] = "perhaps"  # a new class
    local, remote = both_engines(spark, broken, contract, tmp_path / "broken.parquet")
    messages = [failure["message"] for failure in remote.failures]
    assert messages == [failure["message"] for failure in local.failures]
    assert remote.to_dict() == local.to_dict()
    text = "\n".join(messages)
    assert "missing: ['num_01']" in text and "unexpected: ['extra']" in text
    assert "cat_00: values must be in ['level_a'" in text and "never seen" in text
    assert "num_02: values must be finite and between" in text and "inf" in text
    assert "target: values must be in ['no', 'yes']" in text and "perhaps" in text
    assert not remote.success and len(messages) == 4


def test_a_type_change_reads_the_same_on_both_engines(spark, binary, tmp_path):
    frame, _, contract = binary
    changed = frame.assign(num_00=frame["num_00"].astype(str))
    local, remote = both_engines(spark, changed, contract, tmp_path / "typed.parquet")
    assert [f["message"] for f in remote.failures] == [f["message"] for f in local.failures]
    assert any(
        f["message"].startswith("num_00: must be numeric; observed") for f in remote.failures
    )
