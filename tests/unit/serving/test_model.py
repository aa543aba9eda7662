"""The artifact: raw rows (numbers, booleans, categories, nulls) to predictions, per task."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest

from modelops.params import DataParams, GenerateParams
from modelops.pipeline.data import generate_dataset
from modelops.pipeline.training import RandomForestParams, XGBoostParams
from modelops.serving.model import EncodingError, Feature, TabularModel, category_key

MIXED = GenerateParams(n_rows=400, n_numeric=3, n_categorical=2, n_boolean=1, seed=3)
XGB = XGBoostParams(n_estimators=15, n_jobs=1)


def fit(task, params=XGB, **generate):
    from tests.fitting import fit_table

    data = DataParams(task=task)
    frame = generate_dataset(MIXED.model_copy(update=generate), data)
    model, contract = fit_table(
        frame, data, "xgboost" if params is XGB else "random_forest", params
    )
    return model, contract, frame


@pytest.fixture(scope="module")
def binary():
    return fit("binary")


def test_feature_encodings():
    number = Feature("age", "number")
    assert number.encode(3) == 3.0 and math.isnan(number.encode(None))
    flag = Feature("vip", "boolean")
    assert [flag.encode(v) for v in (True, "yes", "0", False)] == [1.0, 1.0, 0.0, 0.0]
    plan = Feature("plan", "category", ("basic", "pro", "3"))
    assert plan.encode("pro") == 1.0
    assert plan.encode(3.0) == 2.0  # a float read back from CSV names the integer category
    assert math.isnan(plan.encode("never seen")) and math.isnan(plan.encode(None))


@pytest.mark.parametrize(
    ("feature", "value", "message"),
    [
        (Feature("age", "number"), "forty", "age: expected a number, got str"),
        (Feature("age", "number"), True, "age: expected a number, got bool"),
        (Feature("age", "number"), float("inf"), "age: must be finite"),
        (Feature("vip", "boolean"), "maybe", "vip: expected true or false"),
    ],
)
def test_a_wrong_type_names_the_column(feature, value, message):
    with pytest.raises(EncodingError, match=message):
        feature.encode(value)


def test_schema_round_trip_and_older_cards():
    plan = Feature("plan", "category", ("a", "b"), nullable=False)
    assert plan.schema() == {
        "name": "plan", "type": "category", "categories": ["a", "b"], "nullable": False,
    }  # fmt: skip
    assert Feature.from_schema(plan.schema()) == plan
    assert Feature.from_schema({"name": "x", "dtype": "float64"}).type == "number"
    with pytest.raises(ValueError, match="unknown type 'text'"):
        Feature("x", "text")


def test_rows_and_frames_encode_the_same(binary):
    model, contract, frame = binary
    rows = [
        {"num_00": None, "num_01": 1.5, "num_02": 60, "cat_00": "unseen", "cat_01": "level_a",
         "flag_00": None},
        {"num_00": 40.0, "cat_00": "level_b", "flag_00": True},  # absent keys are nulls
    ]  # fmt: skip
    from_rows = model.encode_rows(rows)
    from_frame = model.encode_frame(pd.DataFrame(rows, columns=contract.feature_names))
    np.testing.assert_array_equal(from_rows, from_frame)
    assert np.isnan(from_rows[0, contract.feature_names.index("cat_00")])
    # a real table's frame (pandas string and boolean dtypes with NA) encodes like its rows
    head = frame[contract.feature_names].head(20)
    records = [
        {k: (None if pd.isna(v) else v) for k, v in row.items()}
        for row in head.to_dict(orient="records")
    ]
    np.testing.assert_array_equal(model.encode_frame(head), model.encode_rows(records))


def test_binary_predictions_carry_original_labels_and_positive_probability(binary):
    model, contract, frame = binary
    assert model.classes == ["no", "yes"] and contract.positive_class == "yes"
    predictions = model.predict_encoded(model.encode_frame(frame.head(5)))
    for prediction in predictions:
        assert prediction["label"] in ("no", "yes")
        assert set(prediction["probabilities"]) == {"no", "yes"}
        assert prediction["probability"] == prediction["probabilities"]["yes"]
        assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    labels = model.predict(frame.head(50))
    assert list(labels) == [
        p["label"] for p in model.predict_encoded(model.encode_frame(frame.head(50)))
    ]


def test_the_threshold_decides_the_binary_label(binary):
    """A card's threshold of 0.9 must turn 'yes' at p=0.6 into 'no': serving may not ignore it."""
    model, contract, frame = binary
    matrix = model.encode_frame(frame)
    positive = model.estimator.predict_proba(matrix)[:, 1]
    between = (positive >= 0.5) & (positive < 0.9)
    assert between.any(), "the fixture needs rows with 0.5 <= p < 0.9"
    card = {"feature_schema": contract.feature_schema(), "threshold": 0.9}
    strict = TabularModel(
        [Feature.from_schema(f) for f in card["feature_schema"]],
        model.estimator, "binary", model.classes, threshold=card["threshold"],
    )  # fmt: skip
    default = [p["label"] for p in model.predict_encoded(matrix)]
    high = [p["label"] for p in strict.predict_encoded(matrix)]
    assert {default[i] for i in np.flatnonzero(between)} == {"yes"}
    assert {high[i] for i in np.flatnonzero(between)} == {"no"}
    assert list(strict.predict(frame)) == high


def test_multiclass_predicts_original_labels():
    model, _, frame = fit("multiclass", n_classes=4)
    assert model.task == "multiclass" and model.classes == [f"class_{c}" for c in "abcd"]
    predictions = model.predict_encoded(model.encode_frame(frame.head(30)))
    assert all("probability" not in p and len(p["probabilities"]) == 4 for p in predictions)
    for p in predictions:
        assert p["label"] == max(p["probabilities"], key=p["probabilities"].get)
    assert model.predict_proba(frame.head(3)).shape == (3, 4)


def test_regression_predicts_values_and_has_no_probabilities():
    model, _, frame = fit("regression", RandomForestParams(n_estimators=10, n_jobs=1))
    predictions = model.predict_encoded(model.encode_frame(frame.head(4)))
    assert all(set(p) == {"value"} and isinstance(p["value"], float) for p in predictions)
    np.testing.assert_allclose(model.predict(frame.head(4)), [p["value"] for p in predictions])
    with pytest.raises(AttributeError, match="regression model has no predict_proba"):
        model.predict_proba(frame.head(1))


def test_boolean_and_integer_labels_stay_what_they_were():
    frame = generate_dataset(MIXED, DataParams())
    from tests.fitting import fit_table

    as_bool = frame.assign(target=frame["target"] == "yes")
    model, _ = fit_table(as_bool, DataParams(), "xgboost", XGB)
    assert model.classes == [False, True]
    label = model.predict_encoded(model.encode_frame(frame.head(1)))[0]["label"]
    assert isinstance(label, bool)
    as_int = frame.assign(target=(frame["target"] == "yes").astype(int) + 1)
    model, _ = fit_table(as_int, DataParams(), "xgboost", XGB)
    assert model.classes == [1, 2] and isinstance(model.predict(frame.head(1))[0], int)


def test_pickle_round_trip_predicts_the_same(binary):
    model, _, frame = binary
    again = pickle.loads(pickle.dumps(model))
    matrix = model.encode_frame(frame.head(10))
    assert again.predict_encoded(matrix) == model.predict_encoded(matrix)


def test_bad_constructions_are_refused():
    with pytest.raises(ValueError, match="exactly 2 classes"):
        TabularModel([Feature("x")], None, "binary", ["a", "b", "c"])
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        TabularModel([Feature("x")], None, "ranking")
    with pytest.raises(EncodingError, match="missing feature columns: y"):
        TabularModel([Feature("x"), Feature("y")], None, "regression").encode_frame(
            pd.DataFrame({"x": [1.0]})
        )


def test_category_keys():
    assert category_key(3.0) == "3" and category_key(np.int64(4)) == "4"
    assert category_key(None) is None and category_key(float("nan")) is None
    assert category_key("a") == "a" and category_key(True) == "True"
