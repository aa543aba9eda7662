"""Split by row hash and distributed XGBoost on Spark, against the local engine."""

import cloudpickle
import numpy as np
import pytest
from xgboost import XGBClassifier, XGBRegressor

from modelops.pipeline.engines.spark.split import split_table
from modelops.pipeline.engines.spark.tables import read_table, write_table
from modelops.pipeline.engines.spark.training import fit_xgboost, skip_reason
from modelops.pipeline.evaluation import task_metrics
from modelops.pipeline.training import XGBoostParams, fit_candidate, scores_of, training_data
from modelops.serving.model import TabularModel
from tests.spark.conftest import generated

PARAMS = XGBoostParams(n_estimators=15, max_depth=3, n_jobs=1)


def key_set(frame):
    return set(map(tuple, frame.astype(str).to_numpy()))


def test_the_split_is_by_row_and_ignores_partitioning(spark, tmp_path):
    frame, _, _ = generated("binary", n_rows=600)
    frame.loc[[3, 9], "target"] = None  # rows without a target are dropped, as locally
    frame.to_parquet(tmp_path / "table.parquet", index=False)
    table = read_table(spark, tmp_path / "table.parquet")
    train, test = split_table(table, "target", 0.25, seed=42)
    shuffled = table.repartition(7).orderBy("num_01")
    train2, test2 = split_table(shuffled, "target", 0.25, seed=42)
    a, b = train.toPandas(), test.toPandas()
    assert key_set(a) == key_set(train2.toPandas()) and key_set(b) == key_set(test2.toPandas())
    assert len(a) + len(b) == 598 and not key_set(a) & key_set(b)
    assert 0.18 < len(b) / 598 < 0.32  # a hash, not an exact quota
    _, other = split_table(table, "target", 0.25, seed=43)
    assert key_set(other.toPandas()) != key_set(b)  # the seed matters
    write_table(test, tmp_path / "test.parquet")
    write_table(train, tmp_path / "test.parquet")  # replaces the folder whole
    assert key_set(read_table(spark, tmp_path / "test.parquet").toPandas()) == key_set(a)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_distributed_xgboost_is_the_local_model(spark, tmp_path, task):
    frame, _, contract = generated(task)
    frame.to_parquet(tmp_path / "train.parquet", index=False)
    fitted = fit_xgboost(read_table(spark, tmp_path / "train.parquet"), contract, PARAMS, seed=3)
    model = fitted.model
    assert isinstance(model, TabularModel)
    assert isinstance(model.estimator, XGBRegressor if task == "regression" else XGBClassifier)
    assert (model.task, model.classes, model.feature_names) == (
        task,
        list(contract.classes),
        contract.feature_names,
    )
    matrix = training_data(frame, contract.features())
    labels = (
        frame["target"].to_numpy(dtype=np.float64)
        if task == "regression"
        else contract.class_index(frame["target"])
    )
    local = fit_candidate(
        "xgboost", PARAMS, 3, features=contract.features(), task=task,
        classes=list(contract.classes), matrix=matrix, labels=labels,
    )  # fmt: skip
    spark_scores, local_scores = scores_of(model, matrix), scores_of(local.model, matrix)
    np.testing.assert_allclose(spark_scores, local_scores, rtol=1e-4, atol=1e-4)
    classes = list(contract.classes)
    headline = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}[task]
    ours = task_metrics(task, labels, spark_scores, classes, 0.5)[headline]
    assert ours == pytest.approx(task_metrics(task, labels, local_scores, classes, 0.5)[headline])
    restored = cloudpickle.loads(cloudpickle.dumps(model))  # how MLflow and the Bento store it
    rows = frame[contract.feature_names].head(20).to_dict("records")
    served = restored.predict_encoded(restored.encode_rows(rows))
    expected = local.model.predict_encoded(local.model.encode_rows(rows))
    if task == "regression":
        np.testing.assert_allclose([p["value"] for p in served], [p["value"] for p in expected])
    else:
        assert [p["label"] for p in served] == [p["label"] for p in expected]


def test_kinds_without_a_spark_form_say_why():
    assert skip_reason("xgboost") is None
    assert "random_forest has no Spark form" in skip_reason("random_forest")
