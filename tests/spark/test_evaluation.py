"""Test metrics on Spark, computed on the executors, equal the local engine's on the same rows.

Both engines read the same Parquet file; the Spark table is spread over several partitions so the
ranking metrics' cross-partition counts are exercised. A small random forest scores in coarse
steps, so many rows tie on a score: ties are where a hand-made ROC/PR area goes wrong.
"""

import math

import numpy as np
import pandas as pd
import pytest

from modelops.pipeline.champion import rescore
from modelops.pipeline.engines import UnknownLabels
from modelops.pipeline.engines.local import LocalEngine
from modelops.pipeline.engines.spark.engine import SparkEngine
from modelops.pipeline.training import (
    RandomForestParams,
    XGBoostParams,
    fit_candidate,
    training_data,
    training_labels,
)
from tests.spark.conftest import generated

KINDS = {
    "xgboost": XGBoostParams(n_estimators=10, max_depth=3, n_jobs=1),
    "random_forest": RandomForestParams(n_estimators=3, max_depth=3, n_jobs=1),  # many ties
}


def fitted(task, kind, n_rows=600):
    frame, data, contract = generated(task, n_rows=n_rows)
    train, test = frame.iloc[: n_rows // 2], frame.iloc[n_rows // 2 :]
    model = fit_candidate(
        kind, KINDS[kind], 3, features=contract.features(), task=task,
        classes=list(contract.classes), matrix=training_data(train, contract.features()),
        labels=training_labels(contract, train), threshold=0.4,
    ).model  # fmt: skip
    return model, test, data.target


def assert_same_metrics(ours, theirs):
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        if isinstance(value, dict):
            assert_same_metrics(ours[name], value)
        elif isinstance(value, float) and math.isnan(value):
            assert math.isnan(ours[name]), name
        else:  # both rounded to 6 decimals; summation order may move the last one
            assert ours[name] == pytest.approx(value, abs=2e-6), name


@pytest.mark.parametrize(
    ("task", "kind"),
    [("binary", "xgboost"), ("binary", "random_forest"), ("multiclass", "random_forest"),
     ("regression", "xgboost")],
)  # fmt: skip
def test_distributed_metrics_equal_the_local_ones(spark, tmp_path, task, kind):
    model, test, target = fitted(task, kind)
    test.to_parquet(tmp_path / "test.parquet", index=False)
    local = LocalEngine()
    remote = SparkEngine(spark)
    table = remote.read(tmp_path / "test.parquet", "--test").repartition(4)
    frame = local.read(tmp_path / "test.parquet", "--test")
    theirs, their_plots = local.evaluate(model, frame, target, 20, 5)
    ours, our_plots = remote.evaluate(model, table, target, 20, 5)
    assert_same_metrics(ours, theirs)
    assert our_plots.keys() == their_plots.keys()
    if task == "binary":  # the plot data come from the same rows while the table fits the driver
        assert our_plots["roc"] == their_plots["roc"]
    if task != "regression":
        assert sorted(our_plots["confusion"].splitlines()) == sorted(
            their_plots["confusion"].splitlines()
        )


def test_a_champion_is_rescored_on_spark_and_other_classes_are_refused(spark, tmp_path):
    model, test, target = fitted("binary", "xgboost")
    _, _, contract = generated("binary", n_rows=600)
    test.to_parquet(tmp_path / "test.parquet", index=False)
    engine = SparkEngine(spark)
    table = engine.read(tmp_path / "test.parquet", "--test")
    expected = rescore(model, "roc_auc", pd.read_parquet(tmp_path / "test.parquet"), contract)
    assert rescore(model, "roc_auc", table, contract, engine) == pytest.approx(expected, abs=2e-6)
    relabelled = test.assign(**{target: np.where(test[target] == "yes", "maybe", "no")})
    relabelled.to_parquet(tmp_path / "relabelled.parquet", index=False)
    table = engine.read(tmp_path / "relabelled.parquet", "--test")
    with pytest.raises(UnknownLabels, match=r"not classes of the model \(\d+ rows\)"):
        engine.metrics(model, table, target)
    with pytest.raises(ValueError, match="champion has other classes"):
        rescore(model, "roc_auc", table, contract, engine)
