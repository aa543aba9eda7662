"""Typed, validated views of `params.yaml`: one frozen pydantic model per section.

Every pipeline stage loads only the sections it declares in `dvc.yaml` and fails before doing any
work when a value is missing, misspelled or out of range, naming the dotted key and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class ParamsError(ValueError):
    """`params.yaml` is missing, unreadable, or has a bad value; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


TaskChoice = Literal["auto", "binary", "multiclass", "regression"]
Label = bool | int | str


class DataParams(_Section):
    """Which table to learn from and how to read its columns (the contract is inferred from it)."""

    source: str | None = Field(
        None, description="CSV or Parquet file to load; null generates synthetic data."
    )
    target: str = Field("target", min_length=1, description="The column to predict.")
    task: TaskChoice = Field(
        "auto", description="auto infers binary/multiclass/regression from the target column."
    )
    positive_class: Label | None = Field(
        None, description="Binary only: the class `probability` refers to; null = minority class."
    )
    features: tuple[str, ...] | None = Field(
        None, description="Feature columns to use; null means every column not dropped."
    )
    drop: tuple[str, ...] = Field((), description="Columns never used as features.")
    categorical: tuple[str, ...] = Field(
        (), description="Columns read as categories even when they hold numbers."
    )

    @model_validator(mode="after")
    def _distinct(self) -> DataParams:
        for key in ("features", "drop", "categorical"):
            names = getattr(self, key) or ()
            if self.target in names:
                raise ValueError(f"{key} must not include the target column {self.target!r}")
            if len(set(names)) != len(names):
                raise ValueError(f"{key} has duplicate names")
        if self.features is not None:
            both = sorted(set(self.features) & set(self.drop))
            if both:
                raise ValueError(f"columns both in features and drop: {', '.join(both)}")
        return self


class GenerateParams(_Section):
    """Synthetic mixed-type data (used only when `data.source` is null), for `data.task`."""

    n_rows: int = Field(5000, ge=10, le=50_000_000)
    n_numeric: int = Field(5, ge=0, le=1000)
    n_categorical: int = Field(2, ge=0, le=100)
    n_boolean: int = Field(1, ge=0, le=100)
    n_informative: int = Field(5, ge=1, description="Columns that carry the signal.")
    n_classes: int = Field(3, ge=3, le=20, description="Classes when data.task is multiclass.")
    category_levels: int = Field(4, ge=2, le=50)
    missing_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Null cells per feature.")
    positive_fraction: Fraction = 0.3
    label_noise: float = Field(0.02, ge=0.0, lt=0.5)
    class_separation: float = Field(1.0, gt=0.0)
    seed: Seed = 42

    @model_validator(mode="after")
    def _informative_fits(self) -> GenerateParams:
        total = self.n_numeric + self.n_categorical + self.n_boolean
        if total < 1:
            raise ValueError("generate at least one feature column")
        if self.n_informative > total:
            raise ValueError(
                f"n_informative ({self.n_informative}) must not exceed the number of feature "
                f"columns ({total})"
            )
        return self


class ValidateParams(_Section):
    """How the data contract is inferred from a table (its margins) and hard row-count limits."""

    min_rows: int = Field(100, ge=1, description="Never accept fewer rows than this.")
    max_rows: int = Field(50_000_000, ge=1)
    row_ratio: float = Field(
        10.0, ge=1.0, description="Contract row bounds: inferred rows / ratio .. rows * ratio."
    )
    range_margin: float = Field(
        0.5, ge=0.0, description="Numeric ranges widened by this fraction of the observed span."
    )
    null_margin: float = Field(
        0.1, ge=0.0, le=1.0, description="Allowed rise of a column's null fraction."
    )
    identifier_fraction: float = Field(
        0.9, gt=0.0, le=1.0, description="Text columns with this share of unique values: dropped."
    )
    max_categories: int = Field(100, ge=2, description="More distinct texts: an identifier.")
    max_classes: int = Field(
        20, ge=2, description="A numeric target with at most this many integer values: classes."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ValidateParams:
        if self.min_rows > self.max_rows:
            raise ValueError("min_rows must not exceed max_rows")
        return self


class SplitParams(_Section):
    """Seeded, stratified train/test split."""

    test_size: Fraction = 0.2
    seed: Seed = 42


class TrainParams(_Section):
    """Candidates to train, each with its hyperparameters.

    `candidates` maps a kind to its hyperparameters (null: the defaults); the kinds and their
    hyperparameter models are the table `modelops.pipeline.training.KINDS`, which the train stage
    validates them against (`parse_candidates`) before any work.
    """

    seed: Seed = 42
    candidates: dict[str, dict[str, Any] | None]

    @model_validator(mode="after")
    def _at_least_one(self) -> TrainParams:
        if not self.candidates:
            raise ValueError("list at least one candidate")
        return self


class EvaluateParams(_Section):
    """How candidates are scored on the test set."""

    threshold: float = Field(0.5, gt=0.0, lt=1.0)
    calibration_bins: int = Field(10, ge=2, le=100)
    curve_points: int = Field(101, ge=11, le=10_001)


METRICS_BY_TASK: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss"),
    "multiclass": ("accuracy", "f1_macro", "log_loss", "roc_auc_ovr"),
    "regression": ("rmse", "mae", "r2"),
}
AUTO_METRIC = {"binary": "roc_auc", "multiclass": "f1_macro", "regression": "r2"}
ALL_METRICS = tuple(dict.fromkeys(m for ms in METRICS_BY_TASK.values() for m in ms))
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
MetricName = Literal[
    "auto", "roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss",
    "f1_macro", "roc_auc_ovr", "rmse", "mae", "r2",
]  # fmt: skip


class SelectParams(_Section):
    """The quality gate and the champion/challenger rule."""

    model_name: str = Field("modelops-classifier", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    metric: MetricName = Field(
        "auto", description="auto: roc_auc (binary), f1_macro (multiclass), r2 (regression)."
    )
    min_score: float = Field(0.7, description="For log_loss, rmse and mae, a maximum.")
    max_regression: float = Field(0.01, ge=0.0)

    def metric_for(self, task: str) -> str:
        """The selection metric for `task`.

        Raises:
            ParamsError: an explicit metric that does not exist for the task.

        """
        if self.metric == "auto":
            return AUTO_METRIC[task]
        if self.metric not in METRICS_BY_TASK[task]:
            raise ParamsError(
                f"select.metric: {self.metric!r} does not apply to a {task} task; use auto or "
                f"one of {', '.join(METRICS_BY_TASK[task])}"
            )
        return self.metric


class MonitorParams(_Section):
    """Prediction capture and drift monitoring (`make monitor`): what is kept, what counts as drift.

    Statistics: normalized Wasserstein distance (Wasserstein-1 divided by the reference's
    standard deviation) for numbers; Jensen-Shannon distance with log base 2 (so it lies in
    [0, 1]) for categories and booleans. A feature drifts when a statistic exceeds its threshold.
    """

    sample_rate: float = Field(
        1.0, gt=0.0, le=1.0,
        description="Share of requests captured (deterministic by request id); env "
        "MODELOPS_CAPTURE_SAMPLE_RATE overrides it in the service.",
    )  # fmt: skip
    max_rows_per_request: int = Field(
        100, ge=1, description="Rows captured per request at most (the first ones)."
    )
    exclude: tuple[str, ...] = Field(
        (), description="Feature columns never captured (e.g. personal data); not monitored."
    )
    bins: int = Field(100, ge=10, le=1000, description="Quantiles/bins of the stored reference.")
    min_rows: int = Field(
        1000,
        ge=1,
        description="No drift verdict on a window with fewer captured rows (at 500 rows, sampling "
        "noise alone pushes a normalized Wasserstein past 0.1 in ~5% of windows).",
    )
    max_rows: int = Field(
        2_000_000, ge=1, description="The window's newest rows kept at most (memory bound)."
    )
    window_days: float = Field(7.0, gt=0.0, description="How far back the window reaches.")
    wasserstein_threshold: float = Field(
        0.1, gt=0.0, description="Numbers: normalized Wasserstein distance above this drifts."
    )
    jensen_shannon_threshold: float = Field(
        0.1, gt=0.0, le=1.0,
        description="Categories/booleans/predictions: Jensen-Shannon distance (base 2) above "
        "this drifts.",
    )  # fmt: skip
    null_rate_threshold: float = Field(
        0.1, gt=0.0, le=1.0, description="A null rate rising or falling by more than this drifts."
    )
    unseen_threshold: float = Field(
        0.01, ge=0.0, lt=1.0,
        description="A category column drifts when more than this share of its values are "
        "categories the contract does not list.",
    )  # fmt: skip
    share_of_features: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="The window drifts when more than this share of features drift (0: any); "
        "prediction drift always counts.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _distinct(self) -> MonitorParams:
        if len(set(self.exclude)) != len(self.exclude):
            raise ValueError("exclude has duplicate names")
        if self.min_rows > self.max_rows:
            raise ValueError("min_rows must not exceed max_rows")
        return self


SparkConfValue = str | int | float | bool
SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?|yarn|(spark|k8s)://\S+")


class SparkParams(_Section):
    """Where the Spark engine runs: the master URL and any Spark configuration."""

    master: str = Field(
        "local[2]", description="local[N], yarn, spark://host:port or k8s://https://host:port."
    )
    app_name: str = Field("modelops", min_length=1)
    conf: dict[str, SparkConfValue] = Field(
        default_factory=dict,
        description="Spark configuration, e.g. spark.sql.shuffle.partitions: 8.",
    )

    @model_validator(mode="after")
    def _master_and_conf(self) -> SparkParams:
        if not SPARK_MASTER.fullmatch(self.master):
            raise ValueError(
                f"master {self.master!r} is not a Spark master URL; use local[N], local[*], "
                "yarn, spark://host:port or k8s://https://host:port"
            )
        bad = sorted(key for key in self.conf if not key.startswith("spark."))
        if bad:
            raise ValueError(f"conf keys must start with 'spark.': {', '.join(bad)}")
        return self


class ComputeParams(_Section):
    """Which engine runs the data stages: `local` (pandas, one process) or `spark`."""

    engine: Literal["local", "spark"] = "local"
    spark: SparkParams = Field(default_factory=lambda: SparkParams.model_validate({}))


SECTIONS: dict[str, type[_Section]] = {
    "data": DataParams,
    "generate": GenerateParams,
    "validate": ValidateParams,
    "split": SplitParams,
    "train": TrainParams,
    "evaluate": EvaluateParams,
    "select": SelectParams,
    "monitor": MonitorParams,
    "compute": ComputeParams,
}


def describe_error(exc: ValidationError, prefix: str) -> str:
    """A pydantic error as `dotted.key: reason` parts, joined by semicolons."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in (prefix, *err["loc"]) if part != "")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (misspelled?)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Read `params.yaml` as a mapping.

    Raises:
        ParamsError: the file is missing, not YAML, or not a mapping.

    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ParamsError(f"{path}: params file not found") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    return raw


def parse_section(raw: dict[str, Any], section: str) -> Any:
    """Validate one section of an already-read params mapping.

    Raises:
        ParamsError: the section is missing or a value is bad; names the dotted key.

    """
    model = SECTIONS[section]
    if section not in raw:
        raise ParamsError(f"{section}: required section is missing from params")
    value = raw[section] if raw[section] is not None else {}
    if not isinstance(value, dict):
        raise ParamsError(f"{section}: expected a mapping, got {type(value).__name__}")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise ParamsError(describe_error(exc, prefix=section)) from None


def load_params(path: str | Path, *sections: str) -> tuple[Any, ...]:
    """Load and validate the named sections of a params file, in the order given."""
    raw = read_params_file(path)
    return tuple(parse_section(raw, section) for section in sections)
