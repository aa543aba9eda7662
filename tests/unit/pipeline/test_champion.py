"""Rescoring the registry's champion on this change's test set, and what stops it."""

from dataclasses import replace

import pytest

from modelops.params import DataParams, GenerateParams
from modelops.pipeline.champion import rescore
from modelops.pipeline.data import generate_dataset
from modelops.pipeline.evaluation import label_indices, task_metrics
from modelops.pipeline.training import XGBoostParams, scores_of
from tests.fitting import fit_table

TABLE = GenerateParams(n_rows=300, n_numeric=3, n_categorical=1, n_boolean=1, seed=9)


@pytest.fixture(scope="module")
def fitted():
    frame = generate_dataset(TABLE, DataParams())
    model, contract = fit_table(frame, DataParams(), "xgboost", XGBoostParams(n_estimators=10))
    return model, contract, frame


def test_the_champion_is_scored_on_this_test_set(fitted):
    model, contract, frame = fitted
    test = frame.tail(100)
    expected = task_metrics(
        "binary",
        label_indices(model, test["target"]),
        scores_of(model, model.encode_frame(test)),
        model.classes,
    )["roc_auc"]
    assert rescore(model, "roc_auc", test, contract) == pytest.approx(expected)


def test_a_champion_of_another_format_task_or_schema_is_not_rescored(fitted):
    model, contract, frame = fitted
    with pytest.raises(ValueError, match="champion is a dict, not a TabularModel"):
        rescore({}, "roc_auc", frame, contract)
    with pytest.raises(ValueError, match="champion is a binary model"):
        rescore(model, "r2", frame, replace(contract, task="regression"))
    fewer = replace(contract, columns=contract.columns[:-1])
    with pytest.raises(ValueError, match="champion expects features"):
        rescore(model, "roc_auc", frame, fewer)


def test_a_champion_with_other_classes_is_not_rescored(fitted):
    model, contract, frame = fitted
    relabelled = frame.assign(target=frame["target"].map({"no": "no", "yes": "maybe"}))
    with pytest.raises(ValueError, match="champion has other classes"):
        rescore(model, "roc_auc", relabelled, contract)
