import json
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from sklearn.linear_model import LogisticRegression

from modelops.serving.inference import (
    InputError,
    ModelLoadError,
    Predictor,
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
    jobs = {k: v for k, v in predictor.model.estimator.get_params().items() if "n_jobs" in k}
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
    assert f"missing features: {first}" in str(err.value)
    assert "unknown features: colour" in str(err.value)


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
    with pytest.raises(InputError, match="no instances"):
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


def test_an_older_all_numeric_binary_model_is_served_as_binary_0_1():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    estimator = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    schema = [{"name": "a", "dtype": "float64"}, {"name": "b", "dtype": "float64"}]
    card = {"name": "old", "version": "1", "feature_schema": schema}
    predictor = Predictor(estimator, card)
    [prediction] = predictor.predict([{"a": 2.0, "b": 0.0}])
    assert prediction["label"] == 1 and set(prediction["probabilities"]) == {"0", "1"}
    metadata = service_metadata(card, 10)
    assert metadata["task"] == "binary" and metadata["classes"] == [0, 1]
    assert [f["type"] for f in metadata["feature_schema"]] == ["number", "number"]


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


def test_prediction_schema_follows_the_task():
    binary = TypeAdapter(prediction_schema("binary", [False, True]))
    answer = {"label": True, "probabilities": {"False": 0.2, "True": 0.8}, "probability": 0.8}
    assert binary.validate_python(answer) == answer
    with pytest.raises(ValidationError):
        binary.validate_python(answer | {"label": "maybe"})
    regression = TypeAdapter(prediction_schema("regression", []))
    assert regression.json_schema()["required"] == ["value"]
    multiclass = TypeAdapter(prediction_schema("multiclass", ["a", "b", "c"]))
    assert set(multiclass.json_schema()["required"]) == {"label", "probabilities"}


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
    with pytest.raises(ModelLoadError, match="cannot load model"):
        load_pickled_model(tmp_path / "model.pkl")
    with pytest.raises(ModelLoadError, match="model file not found"):
        load_pickled_model(tmp_path / "none.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelLoadError, match="has no predict"):
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
        assert Predictor(built["model"], card).predict([row])
