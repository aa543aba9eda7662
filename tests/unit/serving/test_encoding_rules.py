"""Exact rules of the model's input encoding and of its outputs, on values built for each rule.

Fast (no fitting beyond scikit-learn's DummyClassifier/DummyRegressor): these are the tests
`make mutation` runs against `serving/features.py`, `serving/outputs.py` and `serving/model.py`.
"""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor

from modelops.serving.features import (
    EncodingError,
    Feature,
    category_key,
    encode_frame,
    encode_rows,
)
from modelops.serving.model import TabularModel
from modelops.serving.outputs import Outputs, plain

NUM = Feature("x")
FLAG = Feature("b", "boolean")
COLOUR = Feature("c", "category", ("red", "2", "blue"))


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (None, None),
        (math.nan, None),
        (np.float64("nan"), None),
        (3.0, "3"),
        (-2.0, "-2"),
        (3.5, "3.5"),
        (np.int64(4), "4"),
        (np.float64(2.0), "2"),
        (np.float32(2.5), "2.5"),
        (True, "True"),
        ("red", "red"),
        (7, "7"),
    ],
)
def test_category_key_names_a_value_as_text_and_missing_as_none(value, key):
    assert category_key(value) == key


def test_a_feature_refuses_an_unknown_type_by_name():
    with pytest.raises(ValueError, match=r"^feature 'z': unknown type 'text'$"):
        Feature("z", "text")  # type: ignore[arg-type]  # the wrong type is the point


def test_category_codes_follow_the_order_of_the_categories_as_text():
    colour = Feature("c", "category", (1, "red"))  # type: ignore[arg-type]  # ints read as text
    assert colour.categories == ("1", "red")
    assert [colour.encode(v) for v in ("1", 1, 1.0, "red")] == [0.0, 0.0, 0.0, 1.0]
    assert [COLOUR.encode(v) for v in ("red", "2", 2, "blue")] == [0.0, 1.0, 1.0, 2.0]
    # not a category feature: no codes, categories left as given
    assert Feature("n", "number", ("a",)).categories == ("a",)


@pytest.mark.parametrize("value", [None, math.nan, "green", 5])
def test_a_missing_or_unseen_category_is_nan(value):
    assert math.isnan(COLOUR.encode(value))


def test_numbers_encode_as_floats_and_refuse_anything_else_by_name():
    assert NUM.encode(3) == 3.0
    assert isinstance(NUM.encode(3), float)
    assert NUM.encode(np.int32(-2)) == -2.0
    assert NUM.encode(2.25) == 2.25
    assert math.isnan(NUM.encode(None))
    assert math.isnan(NUM.encode(math.nan))
    with pytest.raises(EncodingError, match=r"^x: expected a number, got bool$"):
        NUM.encode(True)
    with pytest.raises(EncodingError, match=r"^x: expected a number, got str$"):
        NUM.encode("3")
    with pytest.raises(EncodingError, match=r"^x: must be finite \(got inf\)$"):
        NUM.encode(math.inf)
    with pytest.raises(EncodingError, match=r"^x: must be finite \(got -inf\)$"):
        NUM.encode(-math.inf)


@pytest.mark.parametrize(
    "value", [True, "true", "True", "TRUE", "1", "yes", "Yes", "YES", 1, np.True_]
)
def test_each_spelling_of_true_is_one(value):
    assert FLAG.encode(value) == 1.0


@pytest.mark.parametrize(
    "value", [False, "false", "False", "FALSE", "0", "no", "No", "NO", 0, np.False_]
)
def test_each_spelling_of_false_is_zero(value):
    assert FLAG.encode(value) == 0.0


def test_a_boolean_is_missing_as_none_or_nan_and_refuses_other_text_by_name():
    assert math.isnan(FLAG.encode(None))
    assert math.isnan(FLAG.encode(math.nan))
    with pytest.raises(EncodingError, match=r"^b: expected true or false, got 'maybe'$"):
        FLAG.encode("maybe")
    with pytest.raises(EncodingError, match=r"^b: expected true or false, got 2$"):
        FLAG.encode(2)


def test_schema_round_trips_and_an_entry_without_type_is_a_nullable_number():
    assert NUM.schema() == {"name": "x", "type": "number", "nullable": True}
    assert Feature("b", "boolean", nullable=False).schema() == {
        "name": "b",
        "type": "boolean",
        "nullable": False,
    }
    assert COLOUR.schema() == {
        "name": "c",
        "type": "category",
        "nullable": True,
        "categories": ["red", "2", "blue"],
    }
    for feature in (NUM, FLAG, COLOUR, Feature("b", "boolean", nullable=False)):
        assert Feature.from_schema(feature.schema()) == feature
    assert Feature.from_schema({"name": 5}) == Feature("5", "number", (), nullable=True)
    loaded = Feature.from_schema({"name": "c", "type": "category", "categories": None})
    assert loaded.categories == ()
    assert Feature.from_schema({"name": "n", "nullable": 0}).nullable is False


def test_encode_rows_reads_a_missing_key_as_null_and_keeps_the_shape():
    matrix = encode_rows([NUM, FLAG, COLOUR], [{"x": 1, "b": "no", "c": "blue"}, {"b": "yes"}])
    expected = np.array([[1.0, 0.0, 2.0], [math.nan, 1.0, math.nan]])
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.float64
    assert encode_rows([NUM, FLAG], []).shape == (0, 2)


def test_encode_rows_with_no_features_gives_one_empty_vector_per_row_like_encode_frame():
    rows = [{"x": 1.0}, {}, {"other": "kept out"}]
    matrix = encode_rows([], rows)
    assert matrix.shape == (3, 0) and matrix.dtype == np.float64
    frame = pd.DataFrame({"x": [1.0, None, None]})
    np.testing.assert_array_equal(matrix, encode_frame([], frame))
    assert encode_rows([], []).shape == (0, 0)


def test_encode_frame_matches_encode_rows_and_reads_every_missing_marker_as_nan():
    frame = pd.DataFrame(
        {
            "x": [1.0, None, 3.0],
            "b": pd.Series([True, None, "no"], dtype=object),
            "c": pd.Series(["blue", pd.NA, 2], dtype=object),
            "extra": ["kept", "out", "."],
        }
    )
    matrix = encode_frame([NUM, FLAG, COLOUR], frame)
    expected = np.array([[1.0, 1.0, 2.0], [math.nan, math.nan, math.nan], [3.0, 0.0, 1.0]])
    np.testing.assert_array_equal(matrix, expected)
    nat = pd.DataFrame({"c": pd.Series([pd.NaT, "red"], dtype=object)})
    np.testing.assert_array_equal(encode_frame([COLOUR], nat), [[math.nan], [0.0]])
    assert encode_frame([], frame).shape == (3, 0)


def test_encode_frame_names_what_is_wrong():
    with pytest.raises(EncodingError, match=r"^missing feature columns: b, c$"):
        encode_frame([NUM, FLAG, COLOUR], pd.DataFrame({"x": [1.0]}))
    with pytest.raises(EncodingError, match=r"^x: expected numbers$"):
        encode_frame([NUM], pd.DataFrame({"x": ["a"]}))
    with pytest.raises(EncodingError, match=r"^x: must be finite \(found infinity\)$"):
        encode_frame([NUM], pd.DataFrame({"x": [1.0, -math.inf]}))


def test_plain_turns_numpy_scalars_into_python_values():
    assert type(plain(np.int64(3))) is int
    assert type(plain(np.float32(0.5))) is float
    assert type(plain(np.bool_(True))) is bool
    marker = object()
    assert plain(marker) is marker


def test_binary_outputs_the_positive_class_from_the_threshold_on():
    scores = np.array([[0.7, 0.3], [0.6, 0.4], [0.59, 0.41], [0.1234564, 0.8765436]])
    out = Outputs.of("binary", [np.int64(0), np.int64(1)], 0.4, scores)
    assert out.classes == (0, 1)
    assert all(type(c) is int for c in out.classes)
    assert out.chosen.tolist() == [0, 1, 1, 1]
    assert len(out) == 4
    assert out.labels().tolist() == [0, 1, 1, 1]
    assert out.records() == [
        {"label": 0, "probabilities": {"0": 0.7, "1": 0.3}, "probability": 0.3},
        {"label": 1, "probabilities": {"0": 0.6, "1": 0.4}, "probability": 0.4},
        {"label": 1, "probabilities": {"0": 0.59, "1": 0.41}, "probability": 0.41},
        {
            "label": 1,
            "probabilities": {"0": 0.123456, "1": 0.876544},
            "probability": 0.876544,
        },
    ]
    columns = out.columns()
    assert list(columns) == ["label", "probability", "proba_0", "proba_1"]
    assert columns["label"].tolist() == [0, 1, 1, 1]
    assert columns["probability"].tolist() == [0.3, 0.4, 0.41, 0.876544]
    assert columns["proba_0"].tolist() == [0.7, 0.6, 0.59, 0.123456]


def test_multiclass_outputs_the_most_probable_class_whatever_the_threshold():
    scores = np.array([[0.2, 0.5, 0.3], [0.5, 0.1, 0.4]])
    out = Outputs.of("multiclass", ["a", "b", "c"], 0.99, scores)
    assert out.labels().tolist() == ["b", "a"]
    assert out.records() == [
        {"label": "b", "probabilities": {"a": 0.2, "b": 0.5, "c": 0.3}},
        {"label": "a", "probabilities": {"a": 0.5, "b": 0.1, "c": 0.4}},
    ]
    assert list(out.columns()) == ["label", "proba_a", "proba_b", "proba_c"]
    assert out.columns()["proba_c"].tolist() == [0.3, 0.4]


def test_regression_outputs_values_as_floats_in_one_column():
    out = Outputs.of("regression", ["ignored"], 0.5, np.array([[1], [2.5]], dtype=np.int64))
    assert out.classes == ()
    assert out.values.dtype == np.float64
    assert len(out) == 2
    assert out.labels().tolist() == [1.0, 2.0]
    assert out.records() == [{"value": 1.0}, {"value": 2.0}]
    assert list(out.columns()) == ["value"]
    assert out.columns()["value"].tolist() == [1.0, 2.0]


def _classifier(labels):
    x = np.zeros((len(labels), 1))
    return DummyClassifier(strategy="prior").fit(x, labels)


def test_a_tabular_model_refuses_a_task_or_classes_that_do_not_fit_by_name():
    with pytest.raises(ValueError, match=r"^unknown task 'ranking'; expected one of binary, "):
        TabularModel([NUM], None, "ranking")  # type: ignore[arg-type]  # the wrong task is the point
    with pytest.raises(
        ValueError, match=r"^a multiclass model needs at least 2 classes, got \[1\]$"
    ):
        TabularModel([NUM], None, "multiclass", [1])
    with pytest.raises(
        ValueError, match=r"^a binary model has exactly 2 classes, got \[1, 2, 3\]$"
    ):
        TabularModel([NUM], None, "binary", [1, 2, 3])
    assert TabularModel([NUM], None, "regression").classes == []
    assert TabularModel([NUM], None, "multiclass", [1, 2]).threshold == 0.5


def test_a_tabular_model_predicts_labels_and_probabilities_of_its_estimator():
    # index 1 ("yes") has prior 0.75: above a 0.7 threshold, below 0.8
    estimator = _classifier([0, 1, 1, 1])
    frame = pd.DataFrame({"x": [1.0, 2.0], "c": ["red", None]})
    model = TabularModel([NUM, COLOUR], estimator, "binary", ["no", "yes"], threshold=0.7)
    assert model.feature_names == ["x", "c"]
    assert model.predict(frame).tolist() == ["yes", "yes"]
    np.testing.assert_array_equal(model.predict_proba(frame), [[0.25, 0.75], [0.25, 0.75]])
    assert model.classes_.tolist() == ["no", "yes"]
    strict = TabularModel([NUM, COLOUR], estimator, "binary", ["no", "yes"], threshold=0.8)
    assert strict.predict(frame).tolist() == ["no", "no"]
    rows = model.encode_rows([{"x": 1, "c": "blue"}])
    np.testing.assert_array_equal(rows, [[1.0, 2.0]])
    np.testing.assert_array_equal(model.encode_frame(frame), [[1.0, 0.0], [2.0, math.nan]])
    assert model.predict_encoded(rows) == [
        {"label": "yes", "probabilities": {"no": 0.25, "yes": 0.75}, "probability": 0.75}
    ]


def test_a_regression_model_predicts_values_and_has_no_probabilities():
    estimator = DummyRegressor(strategy="mean").fit(np.zeros((2, 1)), [1.0, 4.0])
    model = TabularModel([NUM], estimator, "regression")
    frame = pd.DataFrame({"x": [0.0, 9.0]})
    assert model.predict(frame).tolist() == [2.5, 2.5]
    assert model.scores(np.zeros((3, 1))).shape == (3,)
    assert model.predict_encoded(np.zeros((1, 1))) == [{"value": 2.5}]
    with pytest.raises(AttributeError, match=r"^a regression model has no predict_proba$"):
        model.predict_proba(frame)


def test_regression_scores_are_one_float_per_row_whatever_the_regressor_returns():
    # with an integer constant, DummyRegressor predicts integers
    estimator = DummyRegressor(strategy="constant", constant=2).fit(np.zeros((2, 1)), [1, 3])
    assert estimator.predict(np.zeros((3, 1))).dtype == np.int64
    scores = TabularModel([NUM], estimator, "regression").scores(np.zeros((3, 1)))
    assert scores.shape == (3,)
    assert scores.dtype == np.float64
    assert scores.tolist() == [2.0, 2.0, 2.0]


def test_outputs_refuse_probabilities_that_do_not_fit_the_classes_or_the_rows():
    # an estimator with three probability columns for a two-class model: no class is dropped
    with pytest.raises(ValueError, match="zip"):
        Outputs.of("multiclass", ["a", "b"], 0.5, np.array([[0.5, 0.3, 0.2]])).records()
    rows = Outputs("binary", ("a", "b"), chosen=np.array([0]), probabilities=np.ones((2, 2)) / 2)
    with pytest.raises(ValueError, match="zip"):
        rows.records()


def test_integer_scores_are_read_as_float_probabilities_and_regression_keeps_its_task():
    out = Outputs.of("binary", ["a", "b"], 0.5, np.array([[1, 0], [0, 1]]))
    assert out.probabilities.dtype == np.float64
    assert [type(p) for p in out.records()[0]["probabilities"].values()] == [float, float]
    assert Outputs.of("regression", [], 0.5, np.array([1.0])).task == "regression"
