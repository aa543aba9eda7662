"""Candidate models per task: each is a `TabularModel` (raw rows in) around one estimator.

`KINDS` is the one table of candidate kinds: each maps its name (the key under
`train.candidates` in params.yaml) to its hyperparameter model and the builder of its estimator
for a task. Adding a kind is one entry here plus its test; params validation, the error that
lists the known kinds, and the docs' list all read this table.

The estimator sees the contract's encoding (numbers as is, booleans 0/1, categories as integer
codes, NaN for missing or unseen) and handles it the way its library does best:

- linear: an sklearn Pipeline that imputes numbers (median) and booleans (most frequent),
  one-hot encodes category codes (NaN is its own level, unseen codes are ignored) and scales,
  then LogisticRegression (classification) or Ridge (regression);
- random_forest: scikit-learn's forest, which splits on NaN natively;
- hist_gradient_boosting: scikit-learn's histogram gradient boosting, with category codes as
  native categorical features and NaN as missing;
- xgboost: XGBoost with `feature_types` "c" for category codes (`enable_categorical`) and NaN as
  missing, natively.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelops.params import ParamsError, describe_error
from modelops.serving.model import Feature, TabularModel, Task

if TYPE_CHECKING:
    from modelops.pipeline.contract import Contract


class _Hyperparameters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LinearParams(_Hyperparameters):
    """The linear candidate: logistic regression (classification) or ridge (regression).

    Imputation, one-hot encoding and scaling run in its scikit-learn pipeline; `C` is the inverse
    regularisation strength for both (ridge uses alpha = 1 / C).
    """

    C: float = Field(1.0, gt=0.0)
    max_iter: int = Field(1000, ge=10)
    class_weight: Literal["balanced"] | None = None


class RandomForestParams(_Hyperparameters):
    """Hyperparameters of the random forest candidate."""

    n_estimators: int = Field(200, ge=1, le=5000)
    max_depth: int | None = Field(None, ge=1)
    min_samples_leaf: int = Field(1, ge=1)
    max_features: float | Literal["sqrt", "log2"] = "sqrt"
    n_jobs: int = Field(-1, ge=-1)


class HistGradientBoostingParams(_Hyperparameters):
    """Hyperparameters of scikit-learn's histogram gradient boosting candidate.

    Early stopping is off by default: with it, scikit-learn holds out a random tenth of the
    training rows, so the number of trees would depend on that draw.
    """

    max_iter: int = Field(200, ge=1, le=10_000)
    learning_rate: float = Field(0.1, gt=0.0, le=1.0)
    max_depth: int | None = Field(None, ge=1)
    max_leaf_nodes: int | None = Field(31, ge=2)
    min_samples_leaf: int = Field(20, ge=1)
    l2_regularization: float = Field(0.0, ge=0.0)
    early_stopping: bool = False


class XGBoostParams(_Hyperparameters):
    """Hyperparameters of the XGBoost candidate."""

    n_estimators: int = Field(200, ge=1, le=10_000)
    max_depth: int = Field(4, ge=1, le=32)
    learning_rate: float = Field(0.1, gt=0.0, le=1.0)
    subsample: float = Field(1.0, gt=0.0, le=1.0)
    colsample_bytree: float = Field(1.0, gt=0.0, le=1.0)
    min_child_weight: float = Field(1.0, ge=0.0)
    reg_lambda: float = Field(1.0, ge=0.0)
    # A fixed thread count, not -1 (all cores): XGBoost's hist sketches split the rows by thread,
    # so only the same count gives the same model bytes on machines with different core counts.
    n_jobs: int = Field(2, ge=-1)


@dataclass(frozen=True)
class BuildContext:
    """What a builder needs besides the hyperparameters (an `engine` may join it later)."""

    task: Task
    seed: int
    features: list[Feature]

    @property
    def classify(self) -> bool:
        """Whether the task is classification (binary or multiclass)."""
        return self.task != "regression"


@dataclass(frozen=True)
class CandidateKind:
    """One kind of candidate: its hyperparameters and how to build its unfitted estimator."""

    params: type[BaseModel]
    build: Callable[[Any, BuildContext], Any]  # (params of type `params`, context) -> estimator
    summary: str  # one line for the docs: what it is per task


@dataclass(frozen=True)
class FittedCandidate:
    """A trained candidate and what it took to train it."""

    name: str
    model: TabularModel
    hyperparameters: dict[str, Any]
    fit_seconds: float


def _columns(features: list[Feature], kind: str) -> list[int]:
    return [i for i, feature in enumerate(features) if feature.type == kind]


def _linear_preprocessing(features: list[Feature]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts: list[tuple[str, Any, list[int]]] = []
    if numbers := _columns(features, "number"):
        parts.append(
            ("number", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers)
        )
    if booleans := _columns(features, "boolean"):
        parts.append(("boolean", SimpleImputer(strategy="most_frequent"), booleans))
    if categories := _columns(features, "category"):
        parts.append(
            (
                "category",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64),
                categories,
            )
        )
    # a column that is all NaN in training is kept by the imputers (as 0), not dropped
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def _build_linear(params: LinearParams, context: BuildContext) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    head = (
        LogisticRegression(
            C=params.C,
            max_iter=params.max_iter,
            class_weight=params.class_weight,
            random_state=context.seed,
        )
        if context.classify
        else Ridge(alpha=1.0 / params.C, random_state=context.seed)
    )
    return make_pipeline(_linear_preprocessing(context.features), head)


def _build_random_forest(params: RandomForestParams, context: BuildContext) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    forest = RandomForestClassifier if context.classify else RandomForestRegressor
    return forest(**params.model_dump(), random_state=context.seed)


def _build_hist_gradient_boosting(params: HistGradientBoostingParams, context: BuildContext) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    booster = HistGradientBoostingClassifier if context.classify else HistGradientBoostingRegressor
    # category codes are 0..n-1 with NaN for missing or unseen: what its native support expects
    # (at most 255 levels; the contract keeps at most validate.max_categories <= 255 of them)
    categorical = [feature.type == "category" for feature in context.features]
    return booster(
        **params.model_dump(),
        categorical_features=categorical if any(categorical) else None,
        random_state=context.seed,
    )


def _build_xgboost(params: XGBoostParams, context: BuildContext) -> Any:
    from xgboost import XGBClassifier, XGBRegressor

    objective, metric = {
        "binary": ("binary:logistic", "logloss"),
        "multiclass": ("multi:softprob", "mlogloss"),
        "regression": ("reg:squarederror", "rmse"),
    }[context.task]
    booster = XGBClassifier if context.classify else XGBRegressor
    return booster(
        **params.model_dump(),
        tree_method="hist",
        objective=objective,
        eval_metric=metric,
        enable_categorical=True,
        feature_types=["c" if f.type == "category" else "q" for f in context.features],
        max_cat_to_onehot=1,
        random_state=context.seed,
    )


# The candidate kinds, in the order they train and are listed.
KINDS: dict[str, CandidateKind] = {
    "linear": CandidateKind(
        LinearParams,
        _build_linear,
        "logistic regression (classification) or ridge (regression) after imputation, "
        "one-hot encoding and scaling, in one scikit-learn pipeline",
    ),
    "random_forest": CandidateKind(
        RandomForestParams,
        _build_random_forest,
        "scikit-learn's random forest classifier or regressor; splits on missing values natively",
    ),
    "hist_gradient_boosting": CandidateKind(
        HistGradientBoostingParams,
        _build_hist_gradient_boosting,
        "scikit-learn's histogram gradient boosting classifier or regressor; categories and "
        "missing values natively",
    ),
    "xgboost": CandidateKind(
        XGBoostParams,
        _build_xgboost,
        "XGBoost classifier or regressor; categories and missing values natively",
    ),
}


def parse_candidates(
    raw: Mapping[str, Mapping[str, Any] | None], prefix: str = "train.candidates"
) -> dict[str, BaseModel]:
    """Validate `train.candidates` against `KINDS`: kind -> typed hyperparameters, table order.

    A kind with no body (`xgboost:`) trains with default hyperparameters.

    Raises:
        ParamsError: an unknown kind, or a bad hyperparameter; names the dotted key.

    """
    unknown = sorted(set(raw) - set(KINDS))
    if unknown:
        raise ParamsError(
            f"{prefix}: unknown candidate {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(KINDS)}"
        )
    parsed: dict[str, BaseModel] = {}
    for name, kind in KINDS.items():
        if name not in raw:
            continue
        try:
            parsed[name] = kind.params.model_validate(raw[name] or {})
        except ValidationError as exc:
            raise ParamsError(describe_error(exc, prefix=f"{prefix}.{name}")) from None
    return parsed


def build_estimator(
    name: str, params: BaseModel, seed: int, task: Task, features: list[Feature]
) -> Any:
    """An unfitted estimator over the encoded matrix for one candidate kind and task.

    Raises:
        ValueError: `name` is not a known candidate kind, or `params` are not its hyperparameters.

    """
    kind = KINDS.get(name)
    if kind is None:
        raise ValueError(f"unknown candidate kind {name!r}; known: {', '.join(KINDS)}")
    if not isinstance(params, kind.params):
        raise ValueError(
            f"candidate {name!r} takes {kind.params.__name__}, not {type(params).__name__}"
        )
    return kind.build(params, BuildContext(task=task, seed=seed, features=features))


def fit_candidate(
    name: str,
    params: BaseModel,
    seed: int,
    *,
    features: list[Feature],
    task: Task,
    classes: list[Any],
    matrix: np.ndarray,
    labels: np.ndarray,
    threshold: float = 0.5,
) -> FittedCandidate:
    """Fit one candidate on an encoded training matrix; labels are class indices or values."""
    estimator = build_estimator(name, params, seed, task, features)
    started = time.perf_counter()
    estimator.fit(matrix, labels)
    if "n_jobs" in estimator.get_params(deep=False):
        # A forest's threads add their trees' predictions in the order they finish: predicting
        # on one thread fixes that order, so evaluation gives the same bytes on every run.
        estimator.set_params(n_jobs=1)
    model = TabularModel(features, estimator, task, classes, threshold)
    return FittedCandidate(
        name=name,
        model=model,
        hyperparameters=params.model_dump(),
        fit_seconds=time.perf_counter() - started,
    )


def training_labels(contract: Contract, frame: pd.DataFrame) -> np.ndarray:
    """The target column as the estimators learn it: class indices, or values (regression)."""
    if contract.task == "regression":
        return frame[contract.target].to_numpy(dtype=np.float64)
    return np.asarray(contract.class_index(frame[contract.target]))


def training_data(frame: pd.DataFrame, model_features: list[Feature]) -> np.ndarray:
    """The encoded float matrix of a frame's feature columns (as the model will encode them)."""
    return TabularModel(model_features, None, "regression").encode_frame(frame)


def scores_of(model: TabularModel, matrix: np.ndarray) -> np.ndarray:
    """Class probabilities (classification, columns in `classes` order) or predicted values."""
    if model.task == "regression":
        return np.asarray(model.estimator.predict(matrix), dtype=np.float64)
    return np.asarray(model.estimator.predict_proba(matrix), dtype=np.float64)
