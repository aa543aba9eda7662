"""The serving format of each winner predicts as the trained model does, with fewer libraries.

The trained `TabularModel` is what the pipeline logs to MLflow (its scikit-learn flavor stores
the object as it is); the package stage writes it in its lightest exact format. On the test
split, with nulls in every column and categories never seen in training, the served labels must
be identical and the probabilities (or values) within 1e-6, for every task and candidate kind.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

from modelops.params import DataParams, GenerateParams
from modelops.pipeline.data import generate_dataset
from modelops.pipeline.training import LinearParams, RandomForestParams, XGBoostParams
from modelops.serving.formats import (
    BOOSTER_FILE,
    SERVING_FILE,
    FormatError,
    load_scorer,
    write_serving_model,
)
from modelops.serving.inference import MODEL_CARD, ModelLoadError, Predictor

MIXED = GenerateParams(
    n_rows=500, n_numeric=3, n_categorical=2, n_boolean=1, missing_fraction=0.1, seed=11
)
KINDS = {
    "linear": (LinearParams(), "linear"),
    "random_forest": (RandomForestParams(n_estimators=15, max_depth=5, n_jobs=1), "pickle"),
    "xgboost": (XGBoostParams(n_estimators=20, n_jobs=1), "xgboost"),
}


def packaged(task, kind, folder):
    from tests.fitting import fit_table

    data = DataParams(task=task)
    frame = generate_dataset(MIXED, data)
    train, test = frame.iloc[:400], frame.iloc[400:].copy()
    model, contract = fit_table(train, data, kind, KINDS[kind][0], threshold=0.4)
    categories = [f.name for f in contract.features() if f.type == "category"]
    test.loc[test.index[::7], categories[0]] = "never seen in training"
    card = {"name": "m", "version": "1", "task": contract.task, "feature_schema": [
        f.schema() for f in contract.features()]}  # fmt: skip
    if contract.task != "regression":
        card["classes"] = list(contract.classes)
    if contract.task == "binary":
        card["threshold"] = 0.4
    served = write_serving_model(model, folder, probe=model.encode_frame(train))
    (folder / MODEL_CARD).write_text(json.dumps(card))
    return model, test[contract.feature_names], served


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_served_model_predicts_as_the_trained_one_on_the_test_split(task, kind, tmp_path):
    model, test, served = packaged(task, kind, tmp_path)
    assert served == KINDS[kind][1]
    assert test.isna().any().all()  # nulls in every column, unseen categories too
    expected = model.outputs(model.encode_frame(test))
    predictor = Predictor.from_directory(tmp_path)
    got = predictor.outputs(predictor.encode_frame(test))
    if task == "regression":
        np.testing.assert_allclose(got.values, expected.values, rtol=0, atol=1e-6)
    else:
        assert got.labels().tolist() == expected.labels().tolist()
        np.testing.assert_allclose(got.probabilities, expected.probabilities, rtol=0, atol=1e-6)
    rows = test.head(5).astype(object).where(test.head(5).notna(), None).to_dict("records")
    assert predictor.predict(rows) == got.records()[:5]  # the HTTP path: the same outputs


def test_an_xgboost_winner_serves_without_scikit_learn_or_pandas(tmp_path):
    """Loaded as the Lambda loads it, with scikit-learn and pandas not importable.

    The serving image of an XGBoost winner does not install them; here a finder first on
    `sys.meta_path` (importlib's documented import hook) refuses them as if they were absent,
    in a child process of its own.
    """
    _, test, served = packaged("binary", "xgboost", tmp_path)
    assert served == "xgboost" and (tmp_path / BOOSTER_FILE).is_file()
    row = {k: (None if v != v else v) for k, v in test.iloc[0].to_dict().items()}
    code = (
        "import sys, json\n"
        "class Absent:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sklearn', 'pandas'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Absent())\n"
        "from modelops.serving.inference import Predictor\n"
        f"predictor = Predictor.from_directory({str(tmp_path)!r})\n"
        f"print(json.dumps(predictor.predict([{row!r}])))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)[0]["label"] in ("no", "yes")


def test_a_broken_serving_folder_is_a_clear_load_error(tmp_path):
    packaged("binary", "xgboost", tmp_path)
    (tmp_path / BOOSTER_FILE).write_bytes(b"not a booster")
    with pytest.raises(ModelLoadError, match=r"booster\.ubj: cannot load"):
        Predictor.from_directory(tmp_path)
    (tmp_path / SERVING_FILE).write_text('{"format": "onnx"}')
    with pytest.raises(FormatError, match="unknown serving format 'onnx'"):
        load_scorer(tmp_path)


def test_a_linear_model_the_format_cannot_reproduce_is_pickled(tmp_path):
    """An unknown pipeline step (a new kind of candidate) is served as it was trained."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    model, test, _ = packaged("regression", "linear", tmp_path)
    matrix = model.encode_frame(test)
    model.estimator = make_pipeline(SimpleImputer(), PolynomialFeatures(2), Ridge())
    model.estimator.fit(matrix, np.arange(len(matrix), dtype=float))
    folder = tmp_path / "odd"
    folder.mkdir()
    assert write_serving_model(model, folder) == "pickle"
    (folder / MODEL_CARD).write_text((tmp_path / MODEL_CARD).read_text())
    got = Predictor.from_directory(folder).outputs(matrix).values
    np.testing.assert_array_equal(got, model.outputs(matrix).values)


def test_a_served_model_takes_its_threshold_and_columns_from_the_serving_spec(tmp_path):
    """The package stage's spec is what is served, whatever an edited card says."""
    model, *_ = packaged("binary", "linear", tmp_path)
    card = json.loads((tmp_path / MODEL_CARD).read_text())
    card["threshold"] = 0.9
    card["feature_schema"] = list(reversed(card["feature_schema"]))
    (tmp_path / MODEL_CARD).write_text(json.dumps(card))
    predictor = Predictor.from_directory(tmp_path)
    assert predictor.threshold == 0.4
    assert predictor.features == model.feature_names
