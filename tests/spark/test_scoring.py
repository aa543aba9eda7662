"""Batch scoring on Spark equals the single-machine scoring of the same rows."""

import numpy as np
import pandas as pd
import pytest

from modelops.pipeline.engines.spark.scoring import score_table, write_scores
from modelops.pipeline.engines.spark.tables import read_table
from modelops.serving.inference import InputError, Predictor
from modelops.serving.scoring import score_file
from tests import typed_models
from tests.typed_models import features_only


@pytest.mark.parametrize("task", typed_models.TASKS)
def test_spark_scoring_equals_local_scoring(spark, tmp_path, task):
    model, rows, card = typed_models.build(task)
    predictor = Predictor(model, card)
    raw = [features_only(row) for row in rows[:80]]
    raw[3] = {**raw[3], "size": "never-seen"}  # an unseen category is predicted on, as missing
    frame = pd.DataFrame(raw).assign(customer_id=range(80))
    assert frame.isna().any().any()
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    score_file(predictor, tmp_path / "in.parquet", tmp_path / "local.parquet")
    table = read_table(spark, tmp_path / "in.parquet").repartition(3)  # several partitions
    write_scores(score_table(predictor, table), tmp_path / "scored.parquet")
    assert len(list((tmp_path / "scored.parquet").glob("part-*.parquet"))) == 3
    ours = pd.read_parquet(tmp_path / "scored.parquet").sort_values("customer_id")
    local = pd.read_parquet(tmp_path / "local.parquet").sort_values("customer_id")
    assert list(ours.columns) == list(local.columns)
    if task == "regression":
        np.testing.assert_allclose(ours["value"], local["value"])
    else:
        assert ours["label"].tolist() == local["label"].tolist()
        probabilities = [c for c in local.columns if c.startswith("proba")]
        np.testing.assert_allclose(ours[probabilities], local[probabilities])


def test_bad_rows_fail_with_the_local_message_and_write_nothing(spark, tmp_path):
    model, rows, card = typed_models.build("binary")
    predictor = Predictor(model, card)
    frame = pd.DataFrame([features_only(row) for row in rows[:20]])
    number = next(f.name for f in predictor.feature_schema if f.type == "number")
    bad = frame.astype(object)
    bad[number] = [str(v) for v in bad[number]]
    bad.loc[5, number] = "twelve"
    table = spark.createDataFrame(bad)
    with pytest.raises(InputError, match=rf"^INPUT: {number}: expected numbers$"):
        write_scores(score_table(predictor, table), tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
    with pytest.raises(InputError, match=rf"INPUT: missing features: {number}"):
        score_table(predictor, read_table_without(spark, frame, number))


def read_table_without(spark, frame, column):
    return spark.createDataFrame(frame.drop(columns=[column]).astype(object))
