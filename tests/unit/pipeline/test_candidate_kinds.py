"""The table of candidate kinds: params validation, the lists people read, and each kind's build.

Adding a kind is one entry in `modelops.pipeline.training.KINDS` plus its case here; these tests
fail until params.yaml's comment and the docs list it too.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from modelops.params import ParamsError, load_params, parse_section
from modelops.pipeline.training import (
    KINDS,
    HistGradientBoostingParams,
    LinearParams,
    RandomForestParams,
    XGBoostParams,
    build_estimator,
    parse_candidates,
)
from modelops.serving.model import Feature

REPO = Path(__file__).resolve().parents[3]
FEATURES = [Feature("x"), Feature("flag", "boolean"), Feature("c", "category", ("a", "b"))]


def listed_in_comment(text: str) -> list[str]:
    """The kinds named on params.yaml's `candidates:` line (`# kinds: a, b, c (...)`)."""
    line = next(line for line in text.splitlines() if line.strip().startswith("candidates:"))
    kinds = re.search(r"# kinds: ([a-z_, ]+)", line)
    assert kinds, f"params.yaml's candidates line lists no kinds: {line!r}"
    return [name.strip() for name in kinds[1].split(",")]


def test_params_yaml_lists_exactly_the_registered_kinds():
    assert listed_in_comment((REPO / "params.yaml").read_text()) == list(KINDS)


def test_the_docs_list_every_kind_with_its_hyperparameters():
    docs = (REPO / "docs" / "data-and-pipeline.md").read_text()
    row = next(line for line in docs.splitlines() if line.startswith("| `train` | `seed`"))
    named = re.findall(r"`([a-z_]+)` \(", row)
    assert named == list(KINDS), "the train params row lists the kinds in KINDS order"
    for name, kind in KINDS.items():
        for field in kind.params.model_fields:
            assert f"`{field}`" in row.split(f"`{name}` (", 1)[1].split(")", 1)[0], (name, field)
    table = docs.split("### Candidate kinds", 1)[1].split("\n\n", 2)[1]
    assert re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M) == list(KINDS)


def test_the_repository_params_are_valid_kinds():
    (train,) = load_params(REPO / "params.yaml", "train")
    parsed = parse_candidates(train.candidates)
    assert parsed and all(isinstance(parsed[n], KINDS[n].params) for n in parsed)


def test_candidates_are_typed_and_keep_the_table_order():
    train = parse_section(
        {"train": {"candidates": {"xgboost": {"max_depth": 3}, "random_forest": None}}}, "train"
    )
    parsed = parse_candidates(train.candidates)
    assert list(parsed) == ["random_forest", "xgboost"]  # the order of KINDS
    assert isinstance(parsed["xgboost"], XGBoostParams) and parsed["xgboost"].max_depth == 3
    assert parsed["random_forest"] == RandomForestParams()  # `random_forest:` alone: defaults


def test_unknown_candidate_names_it_and_lists_known_kinds():
    with pytest.raises(ParamsError) as err:
        parse_candidates({"svm": {}, "xgboost": {}})
    message = str(err.value)
    assert message.startswith("train.candidates: unknown candidate 'svm'; known: ")
    assert message.endswith(", ".join(KINDS))


def test_misspelled_or_bad_hyperparameter_gives_dotted_path(tmp_path):
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["train"]["candidates"]["xgboost"]["max_dept"] = 3
    (train,) = load_params(write(tmp_path, raw), "train")
    with pytest.raises(ParamsError, match=r"train\.candidates\.xgboost\.max_dept: unknown key"):
        parse_candidates(train.candidates)
    with pytest.raises(
        ParamsError,
        match=r"train\.candidates\.hist_gradient_boosting\.learning_rate: .*greater than 0",
    ):
        parse_candidates({"hist_gradient_boosting": {"learning_rate": 0}})


def write(tmp_path, payload):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(payload))
    return path


def test_a_kind_refuses_another_kinds_hyperparameters():
    with pytest.raises(ValueError, match="'xgboost' takes XGBoostParams, not LinearParams"):
        build_estimator("xgboost", LinearParams(), 0, "binary", FEATURES)


@pytest.mark.parametrize(
    ("task", "estimator"),
    [
        ("binary", "HistGradientBoostingClassifier"),
        ("multiclass", "HistGradientBoostingClassifier"),
        ("regression", "HistGradientBoostingRegressor"),
    ],
)
def test_hist_gradient_boosting_builds_per_task_with_native_categories(task, estimator):
    params = HistGradientBoostingParams(max_iter=7, learning_rate=0.2, l2_regularization=0.5)
    model = build_estimator("hist_gradient_boosting", params, 3, task, FEATURES)
    assert type(model).__name__ == estimator
    got = model.get_params()
    assert (got["max_iter"], got["learning_rate"], got["l2_regularization"]) == (7, 0.2, 0.5)
    assert got["random_state"] == 3 and got["early_stopping"] is False
    assert list(got["categorical_features"]) == [False, False, True]


def test_hist_gradient_boosting_without_categories_declares_none():
    model = build_estimator(
        "hist_gradient_boosting", HistGradientBoostingParams(), 0, "binary", FEATURES[:2]
    )
    assert model.get_params()["categorical_features"] is None


def test_hist_gradient_boosting_learns_a_category_and_predicts_on_missing_and_unseen():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 400).astype(float)
    x = rng.normal(size=400)
    labels = (codes == 2).astype(int)  # only the category carries the signal
    matrix = np.column_stack([x, codes])
    features = [Feature("x"), Feature("c", "category", ("a", "b", "c"))]
    model = build_estimator(
        "hist_gradient_boosting", HistGradientBoostingParams(max_iter=20), 0, "binary", features
    )
    model.fit(matrix, labels)
    assert (model.predict(matrix) == labels).mean() == 1.0
    # NaN is what the encoding gives a missing or unseen category: predicted on, not refused
    probability = model.predict_proba(np.array([[0.0, np.nan], [np.nan, 2.0]]))
    assert probability.shape == (2, 2) and probability[1, 1] > 0.9
