import json
import pickle
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from sklearn.linear_model import LogisticRegression

from modelops.serving.formats import EstimatorScorer
from modelops.serving.inference import (
    DEFAULT_THRESHOLD,
    InputError,
    ModelLoadError,
    Predictor,
    card_task,
    example_instance,
    instance_schema,
    load_pickled_model,
    prediction_schema,
    read_model_card,
    service_metadata,
)
from modelops.serving.model import Feature
from tests import typed_models
from tests.typed_models import features_only, same


@pytest.fixture(scope="module", params=typed_models.TASKS)
def built(request, tmp_path_factory):
    model, rows, card = typed_models.build(request.param)
    folder = typed_models.write_best(tmp_path_factory.mktemp(request.param), model, card)
    return {"task": request.param, "model": model, "rows": rows, "card": card, "folder": folder}


def test_predictions_match_the_model_and_keep_row_order(built):
    predictor = Predictor.from_directory(built["folder"])
    rows = [features_only(row) for row in built["rows"][:6]]
    shuffled = [dict(reversed(list(row.items()))) for row in rows]  # key order must not matter
    result = predictor.predict(shuffled)
    model = built["model"]
    expected = model.predict_encoded(model.encode_rows(rows))
    assert all(same(a, b) for a, b in zip(result, expected, strict=True))
    assert predictor.task == built["task"] and predictor.model_info == {
        "name": f"typed-{built['task']}", "version": "3",
    }  # fmt: skip


def test_the_estimator_predicts_on_one_thread(built):
    predictor = Predictor.from_directory(built["folder"])
    jobs = {k: v for k, v in predictor.scorer.estimator.get_params().items() if "n_jobs" in k}
    assert set(jobs.values()) <= {1, None}  # built with n_jobs=2 (xgboost, random forest)
    if built["task"] != "regression":
        assert 2 not in jobs.values() and jobs


def test_prediction_columns_equal_the_per_row_predictions(built):
    predictor = Predictor.from_directory(built["folder"])
    rows = [features_only(row) for row in built["rows"][:40]]
    matrix = predictor.encode(rows)
    columns = predictor.prediction_columns(matrix)
    per_row = predictor.predict_encoded(matrix)
    if built["task"] == "regression":
        assert list(columns) == ["value"]
        assert columns["value"].tolist() == pytest.approx([p["value"] for p in per_row])
        return
    assert columns["label"].tolist() == [p["label"] for p in per_row]
    for label in predictor.classes:
        got = columns[f"proba_{label}"].tolist()
        assert got == pytest.approx([p["probabilities"][str(label)] for p in per_row], abs=1e-6)
    assert ("probability" in columns) is (built["task"] == "binary")


def test_missing_and_unknown_features_are_listed(built):
    predictor = Predictor.from_directory(built["folder"])
    row = features_only(built["rows"][0])
    first = predictor.features[0]
    del row[first]
    with pytest.raises(InputError) as err:
        predictor.predict([row | {"colour": 1.0}])
    assert str(err.value) == (
        f"missing features: {first}; unknown features: colour "
        f"(expected: {', '.join(predictor.features)})"
    )


def test_a_missing_or_an_unknown_feature_alone_is_refused_with_the_full_message(built):
    predictor = Predictor.from_directory(built["folder"])
    expected = ", ".join(predictor.features)
    with pytest.raises(InputError) as err:
        predictor.check_columns(predictor.features[2:])
    missing = ", ".join(predictor.features[:2])
    assert str(err.value) == f"missing features: {missing} (expected: {expected})"
    with pytest.raises(InputError) as err:
        predictor.check_columns([*predictor.features, "colour", "size2"])
    assert str(err.value) == f"unknown features: colour, size2 (expected: {expected})"
    predictor.check_columns(list(predictor.features))  # the schema itself passes


def test_empty_input_and_a_wrong_width_are_refused(built):
    predictor = Predictor.from_directory(built["folder"])
    with pytest.raises(InputError, match=r"^no instances given$"):
        predictor.predict([])
    with pytest.raises(InputError, match="expected 5 features"):
        predictor.predict_encoded(np.zeros((2, 3)))


def test_wrong_types_name_the_column(built):
    predictor = Predictor.from_directory(built["folder"])
    row = features_only(built["rows"][0])
    first = predictor.features[0]
    with pytest.raises(InputError, match=re.escape(f"{first}: expected a number")):
        predictor.predict([row | {first: "12"}])
    with pytest.raises(InputError, match="flag: expected true or false"):
        predictor.predict([row | {"flag": "perhaps"}])
    with pytest.raises(InputError, match="must be finite"):
        predictor.predict([row | {first: float("inf")}])


def test_an_older_all_numeric_binary_model_is_served_as_binary_0_1(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    estimator = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    schema = [{"name": "a", "dtype": "float64"}, {"name": "b", "dtype": "float64"}]
    card = {"name": "old", "version": "1", "feature_schema": schema}
    folder = typed_models.write_best(tmp_path, estimator, card)  # a bare estimator pickled
    predictor = Predictor.from_directory(folder)
    assert isinstance(predictor.scorer, EstimatorScorer) and predictor.scorer.task == "binary"
    [prediction] = predictor.predict([{"a": 2.0, "b": 0.0}])
    assert prediction["label"] == 1 and set(prediction["probabilities"]) == {"0", "1"}
    metadata = service_metadata(card, 10)
    assert metadata["task"] == "binary" and metadata["classes"] == [0, 1]
    assert [f["type"] for f in metadata["feature_schema"]] == ["number", "number"]
    # what the card does not say, /metadata says as the service predicts it
    assert metadata["target"] == "target" and metadata["positive_class"] == 1
    assert metadata["threshold"] == DEFAULT_THRESHOLD and metadata["max_instances"] == 10


def test_metadata_tells_a_caller_the_task_target_classes_and_limits(built):
    card = built["card"] | {"target": "outcome"}
    metadata = service_metadata(card, 250)
    assert (metadata["task"], metadata["target"], metadata["max_instances"]) == (
        built["task"], "outcome", 250,
    )  # fmt: skip
    assert card_task(card) == (built["task"], card.get("classes", []))
    if built["task"] == "regression":
        assert not {"classes", "positive_class", "threshold"} & set(metadata)
        return
    assert metadata["classes"] == card["classes"]
    if built["task"] == "multiclass":
        assert not {"positive_class", "threshold"} & set(metadata)
        return
    assert metadata["positive_class"] == card["positive_class"] == card["classes"][1]
    assert metadata["threshold"] == card["threshold"] == 0.4  # the card's, not the default
    assert card_task({"feature_schema": []}) == ("binary", [0, 1])  # a card older than #13


def test_instance_schema_types_each_column():
    features = [
        Feature("age (years)"), Feature("member", "boolean"),
        Feature("plan", "category", ("basic", "pro")), Feature("zone", "category", ("1", "2")),
    ]  # fmt: skip
    schema = TypeAdapter(instance_schema(features))
    good = {"age (years)": 30, "member": True, "plan": "gold", "zone": 2}  # unseen plan accepted
    assert schema.validate_python(good) == good | {"age (years)": 30.0}
    assert schema.validate_python(dict.fromkeys(good)) == dict.fromkeys(good)  # all null
    for bad, column in (
        ({"age (years)": "30"}, "age (years)"),  # a string is not a number
        ({"age (years)": float("nan")}, "age (years)"),
        ({"age (years)": True}, "age (years)"),
        ({"member": "yes"}, "member"),
        ({"plan": 3}, "plan"),  # text categories take text
        ({"extra": 1}, "extra"),  # unknown
    ):
        with pytest.raises(ValidationError) as err:
            schema.validate_python(good | bad)
        assert column in str(err.value)
    with pytest.raises(ValidationError, match="plan"):
        schema.validate_python({k: v for k, v in good.items() if k != "plan"})  # missing key
    properties = schema.json_schema()["properties"]
    assert list(properties) == ["age (years)", "member", "plan", "zone"]
    assert properties["plan"]["x-known-categories"] == ["basic", "pro"]


def test_the_request_schema_documents_each_column_for_the_api_docs():
    null = " null: missing (the model predicts on it)."
    codes = [f"p{i}" for i in range(53)]
    features = [Feature("age"), Feature("member", "boolean"), Feature("plan", "category", codes)]
    properties = TypeAdapter(instance_schema(features)).json_schema()["properties"]
    assert {name: field["title"] for name, field in properties.items()} == {
        "age": "age", "member": "member", "plan": "plan",
    }  # fmt: skip
    assert properties["age"]["description"] == "A finite number." + null
    assert properties["member"]["description"] == "true or false." + null
    fifty = Feature("plan", "category", codes[:50])  # listed whole up to 50
    [whole] = TypeAdapter(instance_schema([fifty])).json_schema()["properties"].values()
    assert whole["description"].startswith(f"A category. Known: {', '.join(codes[:50])}. Any")
    shown = ", ".join(codes[:50])  # a longer list is cut at 50, saying how many more there are
    assert properties["plan"]["description"] == (
        f"A category. Known: {shown} (and 3 more). Any other value is accepted and predicted on "
        "as missing." + null
    )
    assert properties["plan"]["examples"] == codes[:10]
    assert properties["plan"]["x-known-categories"] == codes


def test_integer_coded_categories_take_negative_codes_and_text_ones_take_text_only():
    features = [
        Feature("zone", "category", ("-1", "0", "2")),
        Feature("grade", "category", ("X1", "2")),
    ]
    schema = TypeAdapter(instance_schema(features))
    assert schema.validate_python({"zone": -1, "grade": "2"}) == {"zone": -1, "grade": "2"}
    with pytest.raises(ValidationError, match="grade"):  # "X1" is text: the column is text
        schema.validate_python({"zone": "0", "grade": 2})


def test_prediction_schema_follows_the_task():
    binary = TypeAdapter(prediction_schema("binary", [False, True]))
    answer = {"label": True, "probabilities": {"False": 0.2, "True": 0.8}, "probability": 0.8}
    assert binary.validate_python(answer) == answer
    with pytest.raises(ValidationError):
        binary.validate_python(answer | {"label": "maybe"})
    for bad in (
        {"probability": 1.5},
        {"probability": -0.1},
        {"probabilities": {"False": -0.1, "True": 0.8}},
        {"probabilities": {"False": 0.2, "True": 1.5}},
    ):
        with pytest.raises(ValidationError):  # probabilities lie in [0, 1]
            binary.validate_python(answer | bad)
    regression = TypeAdapter(prediction_schema("regression", []))
    assert regression.json_schema()["required"] == ["value"]
    assert regression.validate_python({"value": 12.5}) == {"value": 12.5}
    with pytest.raises(ValidationError):
        regression.validate_python({"value": "high"})
    multiclass = TypeAdapter(prediction_schema("multiclass", ["a", "b", "c"]))
    assert set(multiclass.json_schema()["required"]) == {"label", "probabilities"}


def test_the_prediction_schema_documents_each_answer_for_the_api_docs():
    def described(schema):
        doc = TypeAdapter(schema).json_schema()
        return doc["title"], {name: f.get("description") for name, f in doc["properties"].items()}

    assert described(prediction_schema("regression", [])) == (
        "Prediction", {"value": "Predicted value."},
    )  # fmt: skip
    title, fields = described(prediction_schema("binary", ["no", "yes"]))
    assert title == "Prediction" and fields == {
        "label": "Predicted class, as the target column names it.",
        "probabilities": "Probability of each class (keys are the classes as text).",
        "probability": "Probability of the positive class 'yes'.",
    }
    doc = TypeAdapter(prediction_schema("multiclass", ["a", "b", "c"])).json_schema()
    [probabilities] = doc["$defs"].values()
    assert probabilities["title"] == "Probabilities"
    assert set(probabilities["required"]) == {"a", "b", "c"}


def test_broken_artifacts_are_named(tmp_path):
    with pytest.raises(ModelLoadError, match="model card not found"):
        read_model_card(tmp_path)
    (tmp_path / "model_card.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        read_model_card(tmp_path)
    (tmp_path / "model_card.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ModelLoadError, match="no feature_schema"):
        read_model_card(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04truncated")
    with pytest.raises(ModelLoadError, match=r"cannot load model \((Unpickling|EOF)Error: "):
        load_pickled_model(tmp_path / "model.pkl")
    with pytest.raises(ModelLoadError, match="model file not found"):
        load_pickled_model(tmp_path / "none.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelLoadError, match="list has no predict"):
        load_pickled_model(tmp_path / "list.pkl")


def test_inference_imports_no_pipeline_library():
    code = (
        "import sys, modelops.serving.inference; "
        "print(sorted(m for m in ('mlflow', 'great_expectations', 'dvc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_example_instance_is_a_row_the_schema_accepts(built):
    card = built["card"]
    assert example_instance(card) == card["input_example"][0]
    stale = {**card, "input_example": [{"gone": 1.0}]}  # an example of other columns: rebuilt
    built_row = example_instance(stale)
    assert list(built_row) == [f["name"] for f in card["feature_schema"]]
    assert built_row["size"] == "small" and built_row["flag"] is False
    schema = TypeAdapter(instance_schema([Feature.from_schema(f) for f in card["feature_schema"]]))
    for row in (example_instance(card), built_row):
        assert schema.validate_python(row) == row
        assert Predictor(EstimatorScorer(built["model"].estimator, built["task"]), card).predict(
            [row]
        )


class FixedProbabilities:
    """A binary estimator with set answers, and the thread settings a library would have."""

    def __init__(self, probabilities, threads=None, refuse=None):
        self.probabilities = np.asarray(probabilities, dtype=np.float32)  # as xgboost returns
        self.threads = dict(threads or {})
        self.refuse = refuse

    def get_params(self, deep=True):
        return dict(self.threads)

    def set_params(self, **updates):
        if self.refuse:
            raise self.refuse("read-only")
        self.threads |= updates

    def predict(self, matrix):
        return self.predict_proba(matrix).argmax(axis=1)

    def predict_proba(self, matrix):
        return self.probabilities[: len(matrix)]


OLD_CARD = {"name": "old", "version": "1", "feature_schema": [{"name": "a", "dtype": "float64"}]}


def test_a_probability_at_the_threshold_is_the_positive_class_in_rows_and_columns():
    estimator = FixedProbabilities([[0.25, 0.75], [0.5, 0.5], [0.6, 0.4]])  # exact in float32
    predictor = Predictor(
        EstimatorScorer(estimator, "binary"), OLD_CARD | {"threshold": 0.75}
    )  # the card's threshold
    matrix = predictor.encode([{"a": 1.0}] * 3)
    assert [p["label"] for p in predictor.predict_encoded(matrix)] == [1, 0, 0]
    columns = predictor.prediction_columns(matrix)
    assert columns["label"].tolist() == [1, 0, 0]
    assert columns["probability"].tolist() == pytest.approx([0.75, 0.5, 0.4])
    assert {c.dtype for c in columns.values() if c.dtype != object} == {np.dtype(np.float64)}
    default = Predictor(
        EstimatorScorer(estimator, "binary"), OLD_CARD
    )  # no threshold on the card: 0.5
    assert default.prediction_columns(matrix)["label"].tolist() == [1, 1, 0]


@pytest.mark.parametrize("refusal", [ValueError, TypeError])
def test_every_thread_setting_of_an_estimator_is_set_to_one_and_a_refusal_is_harmless(refusal):
    threads = {"nthread": 4, "model__thread_count": 8, "pipe__model__n_jobs": -1, "n_jobs": 1}
    estimator = FixedProbabilities([[0.5, 0.5]], threads)
    EstimatorScorer(estimator, "binary")
    assert estimator.threads == dict.fromkeys(threads, 1)
    stubborn = FixedProbabilities([[0.2, 0.8]], {"nthread": 4}, refuse=refusal)
    assert (
        Predictor(EstimatorScorer(stubborn, "binary"), OLD_CARD).predict([{"a": 0.0}])[0]["label"]
        == 1
    )
    assert stubborn.threads == {"nthread": 4}


def test_arrays_without_column_names_do_not_warn_on_every_prediction():
    import pandas as pd

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    estimator = LogisticRegression().fit(frame, [0, 0, 1, 1])  # fitted with names
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictor = Predictor(EstimatorScorer(estimator, "binary"), OLD_CARD)
        predictor.predict([{"a": 2.5}])
        warnings.warn("a warning of its own", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning of its own"]  # others still show
    assert [f.name for f in predictor.feature_schema] == ["a"]


def test_the_card_names_where_the_model_file_is(built, tmp_path):
    pickled = (built["folder"] / "model" / "model.pkl").read_bytes()
    row = features_only(built["rows"][0])
    expected = Predictor.from_directory(built["folder"]).predict([row])
    card = {k: v for k, v in built["card"].items() if k != "model_path"}
    for folder, model_path in ((tmp_path / "moved", "weights/m.pkl"), (tmp_path / "unsaid", None)):
        file = folder / (model_path or "model/model.pkl")  # a card that does not say: the default
        file.parent.mkdir(parents=True)
        file.write_bytes(pickled)
        written = card | ({"model_path": model_path} if model_path else {})
        (folder / "model_card.json").write_text(json.dumps(written))
        assert read_model_card(folder / "model_card.json") == read_model_card(folder) == written
        got = Predictor.from_directory(folder).predict([row])
        assert all(same(a, b) for a, b in zip(got, expected, strict=True))


class FixedValues:
    """A regressor answering a column vector of float32, as some libraries do."""

    def predict(self, matrix):
        return np.arange(len(matrix), dtype=np.float32).reshape(-1, 1) / 4


def test_regression_columns_are_one_float64_value_per_row():
    predictor = Predictor(
        EstimatorScorer(FixedValues(), "regression"), OLD_CARD | {"task": "regression"}
    )
    columns = predictor.prediction_columns(predictor.encode([{"a": 1.0}] * 3))
    assert list(columns) == ["value"] and columns["value"].dtype == np.float64
    assert columns["value"].tolist() == [0.0, 0.25, 0.5]


def test_a_built_example_row_holds_zero_false_and_the_first_category_or_null():
    schema = [
        {"name": "n", "type": "number"}, {"name": "b", "type": "boolean"},
        {"name": "c", "type": "category", "categories": ["x", "y"]},
        {"name": "empty", "type": "category", "categories": []},
    ]  # fmt: skip
    row = example_instance({"feature_schema": schema})
    assert row == {"n": 0.0, "b": False, "c": "x", "empty": None}


def test_a_pickled_model_takes_its_threshold_from_the_model_not_the_card(tmp_path):
    model, _, card = typed_models.build("binary")
    model.threshold = 0.35
    folder = typed_models.write_best(tmp_path, model, {**card, "threshold": 0.9})
    assert Predictor.from_directory(folder).threshold == 0.35


def test_metadata_names_the_cards_positive_class_even_when_it_sorts_first():
    schema = [{"name": "a", "type": "number"}]
    card = {"name": "m", "version": "1", "task": "binary", "classes": ["no", "yes"],
            "positive_class": "no", "feature_schema": schema}  # fmt: skip
    assert service_metadata(card, 10)["positive_class"] == "no"


def test_a_row_whose_keys_are_all_renamed_lists_what_is_missing_and_unknown(built):
    predictor = Predictor.from_directory(built["folder"])
    renamed = {f"{name}_x": value for name, value in features_only(built["rows"][0]).items()}
    with pytest.raises(InputError, match=r"^missing features: .*; unknown features: .*_x"):
        predictor.predict([renamed])


def test_a_row_missing_one_key_is_refused_not_predicted_as_null(built):
    predictor = Predictor.from_directory(built["folder"])
    row = features_only(built["rows"][0])
    first = predictor.features[0]
    del row[first]
    with pytest.raises(InputError, match=rf"^missing features: {re.escape(first)} \(expected"):
        predictor.predict([row])


def test_the_api_docs_name_the_row_schema_and_list_at_most_fifty_categories():
    def description(levels: int) -> str:
        feature = Feature("plan", "category", tuple(f"c{i:02d}" for i in range(levels)))
        schema = TypeAdapter(instance_schema([feature])).json_schema()
        assert schema["title"] == "Instance"  # the name the OpenAPI page shows for a row
        return schema["properties"]["plan"]["description"]

    assert "more)" not in description(50) and "c49" in description(50)
    assert "c49 (and 1 more)." in description(51) and "c50" not in description(51)
