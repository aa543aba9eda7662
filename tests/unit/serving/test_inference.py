import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from modelops.params import XGBoostParams
from modelops.pipeline.training import fit_candidate
from modelops.serving.inference import (
    InputError,
    ModelLoadError,
    Predictor,
    instance_schema,
    load_pickled_model,
    read_model_card,
)


@pytest.fixture
def packaged(tmp_path, tiny_frame):
    """A models/best-shaped folder with a small XGBoost model."""
    x, y = tiny_frame.drop(columns="target"), tiny_frame["target"]
    fitted = fit_candidate("xgboost", XGBoostParams(n_estimators=5, n_jobs=1), 0, x, y)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pkl").write_bytes(pickle.dumps(fitted.model))
    card = {
        "name": "clf", "version": "7", "threshold": 0.5, "model_path": "model/model.pkl",
        "feature_schema": [{"name": c, "dtype": "float64"} for c in x.columns],
    }  # fmt: skip
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    return tmp_path, fitted.model, x


def test_predictions_match_the_model_and_keep_row_order(packaged):
    folder, model, x = packaged
    predictor = Predictor.from_directory(folder)
    rows = x.head(4).to_dict(orient="records")
    shuffled = [dict(reversed(list(row.items()))) for row in rows]  # key order must not matter
    result = predictor.predict(shuffled)
    expected = model.predict_proba(x.head(4))[:, 1]
    assert [r["probability"] for r in result] == [round(float(p), 6) for p in expected]
    assert [r["label"] for r in result] == [int(p >= 0.5) for p in expected]
    assert predictor.model_info == {"name": "clf", "version": "7"}
    assert predictor.model.get_params()["n_jobs"] == 1  # one thread per prediction


def test_missing_and_unknown_features_are_listed(packaged):
    predictor = Predictor.from_directory(packaged[0])
    row = dict.fromkeys(predictor.features[1:], 0.0) | {"colour": 1.0}
    with pytest.raises(InputError) as err:
        predictor.predict([row])
    assert "missing features: feature_00" in str(err.value)
    assert "unknown features: colour" in str(err.value)


def test_a_missing_or_an_unknown_feature_alone_is_refused_with_the_full_message(packaged):
    predictor = Predictor.from_directory(packaged[0])
    expected = ", ".join(predictor.features)
    with pytest.raises(InputError) as err:
        predictor.check_columns(predictor.features[2:])
    missing = ", ".join(predictor.features[:2])
    assert str(err.value) == f"missing features: {missing} (expected: {expected})"
    with pytest.raises(InputError) as err:
        predictor.check_columns([*predictor.features, "colour", "size"])
    assert str(err.value) == f"unknown features: colour, size (expected: {expected})"
    predictor.check_columns(list(predictor.features))  # the schema itself passes


def test_non_finite_and_empty_input_refused(packaged):
    predictor = Predictor.from_directory(packaged[0])
    with pytest.raises(InputError, match="no instances"):
        predictor.predict([])
    matrix = np.zeros((2, len(predictor.features)))
    matrix[1, 2] = np.nan
    with pytest.raises(InputError, match="finite"):
        predictor.predict_matrix(matrix)
    with pytest.raises(InputError, match="expected 4 features"):
        predictor.predict_matrix(np.zeros((2, 3)))


def test_instance_schema_is_strict():
    schema = instance_schema(["age (years)", "income"])
    assert schema.model_validate({"age (years)": 30, "income": 1.5}).model_dump(by_alias=True) == {
        "age (years)": 30.0, "income": 1.5,
    }  # fmt: skip
    for bad in (
        {"age (years)": "30", "income": 1.5},  # a string is not a number
        {"age (years)": float("nan"), "income": 1.5},
        {"age (years)": 30},  # missing
        {"age (years)": 30, "income": 1.5, "extra": 1},  # unknown
    ):
        with pytest.raises(ValidationError):
            schema.model_validate(bad)
    properties = schema.model_json_schema()["properties"]
    assert list(properties) == ["age (years)", "income"]


def test_broken_artifacts_are_named(tmp_path):
    with pytest.raises(ModelLoadError, match="model card not found"):
        read_model_card(tmp_path)
    (tmp_path / "model_card.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        read_model_card(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04truncated")
    with pytest.raises(ModelLoadError, match="cannot load model"):
        load_pickled_model(tmp_path / "model.pkl")
    with pytest.raises(ModelLoadError, match="model file not found"):
        load_pickled_model(tmp_path / "none.pkl")
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(ModelLoadError, match="has no predict_proba"):
        load_pickled_model(tmp_path / "list.pkl")


def test_inference_imports_no_pipeline_library():
    code = (
        "import sys, modelops.serving.inference; "
        "print(sorted(m for m in ('mlflow', 'great_expectations', 'dvc') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
