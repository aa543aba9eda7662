"""MLflow: where runs go, what each candidate run records, and the model registry.

Pipeline-only: the serving process never imports this module (nor mlflow).
The embedded default is a sqlite file and an artifact folder in the working tree; setting
`MLFLOW_TRACKING_URI` points everything at a shared tracking server instead.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from modelops.serving.model import TabularModel

DEFAULT_DB = "mlflow.db"
DEFAULT_ARTIFACTS = "mlartifacts"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "modelops"
CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"
# The tag that ties an MLflow run and a registry version to the bytes of a model in DVC's outputs
# (the content version a model card names, see `model_uuid`).
MODEL_UUID_TAG = "model_uuid"
# An MLmodel file of a DVC output records no wall-clock time (the same inputs must give the same
# bytes): this fixed time, the Unix epoch as in reproducible builds. The MLflow run keeps the real
# one, with the logged model's own copy.
REPRODUCIBLE_TIME_CREATED = "1970-01-01 00:00:00"
MODEL_URI_TAG = "model_uri"
# A tracking server that does not answer fails the stage in seconds, not after mlflow's own
# default of 7 retries with exponential backoff (minutes). Both are overridable by environment.
CONNECT_ATTEMPTS_ENV = "MODELOPS_TRACKING_CONNECT_ATTEMPTS"
DEFAULT_CONNECT_ATTEMPTS = 3
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
}


class TrackingError(RuntimeError):
    """The tracking server or registry refused or could not be reached."""


@dataclass(frozen=True)
class LoggedCandidate:
    """Where a candidate's run and model live in MLflow."""

    name: str
    run_id: str
    model_uri: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form (written to the train stage's `runs.json`)."""
        return {"run_id": self.run_id, "model_uri": self.model_uri}


def tracking_uri(root: str | Path) -> str:
    """`MLFLOW_TRACKING_URI` if set, else the sqlite file in the project folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(root).resolve() / DEFAULT_DB}"


def check_tracking_server(uri: str, attempts: int | None = None, timeout: float = 5.0) -> None:
    """Fail fast when a tracking server does not answer its health check.

    Args:
        uri: an http(s) tracking URI; other URIs (sqlite, file, databricks) are not checked.
        attempts: connection attempts in all (default `MODELOPS_TRACKING_CONNECT_ATTEMPTS` or 3),
            with a short exponential backoff between them.
        timeout: seconds to wait for each connection and each answer.

    Raises:
        TrackingError: the server is unreachable, unhealthy or refuses the credentials, naming
            its URI.

    """
    if not uri.startswith(("http://", "https://")):
        return
    # requests, as mlflow's client uses: the same proxies, CA bundle and TLS settings apply.
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    if attempts is None:
        attempts = int(os.environ.get(CONNECT_ATTEMPTS_ENV) or DEFAULT_CONNECT_ATTEMPTS)
    retries = Retry(
        total=max(attempts - 1, 0),
        backoff_factor=0.5,
        status_forcelist=(502, 503, 504),
        raise_on_status=False,
    )
    url = f"{uri.rstrip('/')}/health"
    verify: bool | str = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or True
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        verify = False
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retries))
        session.mount("https://", HTTPAdapter(max_retries=retries))
        try:
            response = session.get(url, timeout=timeout, verify=verify)
        except requests.RequestException as exc:
            reason = exc.args[0] if exc.args else exc
            reason = getattr(reason, "reason", None) or reason
            raise TrackingError(
                f"MLflow tracking server {uri} is unreachable after {attempts} attempt(s): "
                f"{reason}. Start it (make mlflow-server) or fix MLFLOW_TRACKING_URI; unset it "
                "to use the local sqlite store"
            ) from exc
    if response.status_code in (401, 403):
        raise TrackingError(_refused(uri, f"HTTP {response.status_code} on GET {url}"))
    if response.status_code != 200:
        raise TrackingError(
            f"MLflow tracking server {uri} is not healthy: GET {url} answered "
            f"{response.status_code}"
        )


def _refused(uri: str, reason: str) -> str:
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    who = f"user {user!r}" if user else "anonymous access (MLFLOW_TRACKING_USERNAME unset)"
    return (
        f"MLflow tracking server {uri} refused {who} ({reason}): check "
        "MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD"
    )


def start_tracking(root: str | Path) -> str:
    """Point mlflow at the tracking store and return the experiment id (created if absent).

    For a tracking server, its health is checked first (bounded retries) and mlflow's own HTTP
    retries are bounded too, unless the `MLFLOW_HTTP_REQUEST_*` variables say otherwise.

    Raises:
        TrackingError: the tracking store cannot be reached, naming its URI.

    """
    import mlflow

    uri = tracking_uri(root)
    check_tracking_server(uri)
    for key, value in MLFLOW_HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    mlflow.set_tracking_uri(uri)
    name = os.environ.get(EXPERIMENT_ENV, DEFAULT_EXPERIMENT)
    try:
        experiment = mlflow.get_experiment_by_name(name)
        if experiment is not None:
            return experiment.experiment_id
        location = None
        if uri.startswith("sqlite:") and "MLFLOW_TRACKING_URI" not in os.environ:
            location = (Path(root).resolve() / DEFAULT_ARTIFACTS).as_uri()
        return mlflow.create_experiment(name, artifact_location=location)
    except Exception as exc:
        code = getattr(exc, "error_code", None)
        if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
            raise TrackingError(_refused(uri, code)) from exc
        raise TrackingError(f"MLflow tracking store {uri} is not usable: {exc}") from exc


def git_commit(root: str | Path) -> str:
    """The commit the working tree is on, or "unknown" outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def pip_requirements(model: TabularModel) -> list[str]:
    """Pinned requirements of a model, given explicitly so mlflow skips its slow inference."""
    from importlib.metadata import version

    packages = ["scikit-learn", "cloudpickle", "numpy", "pandas"]
    if "xgboost" in type(model.estimator).__module__:
        packages.append("xgboost-cpu")
    return [f"{package}=={version(package)}" for package in packages]


def raw_example(features: pd.DataFrame, rows: int = 5) -> pd.DataFrame:
    """The first rows of the raw feature columns as plain Python values (None for missing)."""
    example = features.head(rows).astype(object)
    return example.where(example.notna(), None)


def log_candidate(
    *,
    experiment_id: str,
    name: str,
    model: TabularModel,
    hyperparameters: dict[str, Any],
    metrics: dict[str, float],
    features: pd.DataFrame,
    tags: dict[str, str],
) -> LoggedCandidate:
    """One MLflow run per candidate: params, metrics, tags and the model with its signature."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    example = raw_example(features)
    with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
        mlflow.set_tags({**tags, "candidate": name, "mlflow.source.git.commit": tags["git_commit"]})
        mlflow.log_params({"candidate": name, **hyperparameters})
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            serialization_format="cloudpickle",
            pip_requirements=pip_requirements(model),
        )
        # where `find_candidate_run` looks it up again: DVC's outputs name no run
        mlflow.set_tag(MODEL_URI_TAG, info.model_uri)
    return LoggedCandidate(name=name, run_id=run.info.run_id, model_uri=info.model_uri)


def find_candidate_run(experiment_id: str, name: str, identity: str) -> LoggedCandidate | None:
    """The latest run that logged candidate `name` with model id `identity`, or None.

    The train stage's outputs hold no run ids (they would change its bytes on every run): the
    run is found by the tags `log_candidate` set, the candidate's name and `MODEL_UUID_TAG`.
    """
    import mlflow

    runs = mlflow.search_runs(
        experiment_ids=[experiment_id],
        filter_string=f"tags.candidate = '{name}' and tags.{MODEL_UUID_TAG} = '{identity}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs or MODEL_URI_TAG not in runs[0].data.tags:
        return None
    run = runs[0]
    uri = run.data.tags[MODEL_URI_TAG]
    return LoggedCandidate(name=name, run_id=run.info.run_id, model_uri=uri)


def model_uuid(model: Any) -> str:
    """A model's id derived from its bytes (its cloudpickle): the same training, the same id.

    MLflow draws a random `model_uuid` for every save; this one is the same for the same model
    on any machine. Its first 12 characters are the model card's `version`.
    """
    import cloudpickle

    digest = hashlib.sha256(cloudpickle.dumps(model)).digest()
    return uuid.UUID(bytes=digest[:16]).hex


def save_model_locally(model: TabularModel, features: pd.DataFrame, path: str | Path) -> str:
    """Save a model as an MLflow model folder (cloudpickle), the same format as the logged one.

    The folder is a DVC output: its `MLmodel` carries the id `model_uuid(model)` and a fixed
    creation time instead of MLflow's random id and the time of the save (MLflow's documented
    `mlflow_model` argument), so the same inputs give the same bytes. Returns that id.
    """
    import mlflow.sklearn
    from mlflow.models import Model, infer_signature

    identity = model_uuid(model)
    example = raw_example(features)
    mlflow.sklearn.save_model(
        model,
        str(path),
        mlflow_model=Model(utc_time_created=REPRODUCIBLE_TIME_CREATED, model_uuid=identity),
        signature=infer_signature(example, model.predict(example)),
        input_example=example,
        serialization_format="cloudpickle",
        pip_requirements=pip_requirements(model),
    )
    return identity


def saved_model_uuid(path: str | Path) -> str:
    """The `model_uuid` in the MLmodel file of a folder written by `save_model_locally`."""
    from mlflow.models import Model

    return str(Model.load(str(path)).model_uuid)


def load_local_model(path: str | Path) -> Any:
    """Load a model folder written by `save_model_locally`."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(str(path))


def log_test_metrics(run_id: str, metrics: dict[str, float]) -> bool:
    """Add test-set metrics to a candidate's run; False when the run is not in this store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.MlflowClient().log_batch(
            run_id,
            metrics=[
                mlflow.entities.Metric(f"test_{key}", value, _now_ms(), 0)
                for key, value in metrics.items()
            ],
        )
    except MlflowException:
        return False
    return True


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


@dataclass(frozen=True)
class RegisteredVersion:
    """A model version in the registry."""

    name: str
    version: str
    run_id: str | None
    tags: dict[str, str]


def alias_version(model_name: str, alias: str) -> RegisteredVersion | None:
    """The version an alias points at, or None when the model or the alias does not exist."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        found = mlflow.MlflowClient().get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE") or (
            "not found" in str(exc).lower()
        ):
            return None
        raise
    return RegisteredVersion(model_name, str(found.version), found.run_id, dict(found.tags))


def register_candidate(
    model_name: str, logged: LoggedCandidate, tags: dict[str, str]
) -> RegisteredVersion:
    """Register the candidate's model as a version with the `candidate` alias.

    Re-registering the same run, or the same model (tag `MODEL_UUID_TAG` in `tags`: a forced
    rerun trains the same bytes in a new run), reuses its existing version, so reruns do not pile
    up identical versions.
    """
    import mlflow

    client = mlflow.MlflowClient()
    identity = tags.get(MODEL_UUID_TAG)
    existing = [
        version
        for version in client.search_model_versions(f"name='{model_name}'")
        if version.run_id == logged.run_id
        or (identity and version.tags.get(MODEL_UUID_TAG) == identity)
    ]
    if existing:
        version = max(existing, key=lambda v: int(v.version))
    else:
        version = mlflow.register_model(logged.model_uri, model_name, tags=tags)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, str(version.version), key, value)
    client.set_registered_model_alias(model_name, CANDIDATE_ALIAS, str(version.version))
    return RegisteredVersion(model_name, str(version.version), logged.run_id, tags)


def promote(model_name: str, source_alias: str = CANDIDATE_ALIAS) -> RegisteredVersion:
    """Point `champion` at the version `source_alias` points at (what CD does after smoke tests).

    Raises:
        TrackingError: the source alias does not exist.

    """
    import mlflow

    version = alias_version(model_name, source_alias)
    if version is None:
        raise TrackingError(f"model {model_name!r} has no {source_alias!r} alias to promote")
    mlflow.MlflowClient().set_registered_model_alias(model_name, CHAMPION_ALIAS, version.version)
    return version


def promote_version(model_name: str, version: str, data_hash: str) -> RegisteredVersion:
    """Point `champion` at `version`, once its tags show it is the released model.

    CD passes the version and data hash of the model the deployed image serves (its model
    card): `version` is the card's content version (the start of the model's id, tag
    `MODEL_UUID_TAG`) or a registry version number. A registry version trained on other data
    (another runner's retrain, another branch) is refused instead of becoming the champion.

    Raises:
        TrackingError: the version does not exist, or its data hash is not `data_hash`.

    """
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        found = (
            client.get_model_version(model_name, str(version))
            if str(version).isdigit()
            else version_of_model(model_name, str(version))
        )
    except MlflowException as exc:
        raise TrackingError(
            f"model {model_name!r} has no version {version} in the registry: the image serves a "
            "model this registry never registered (was CI on main tracking to it?)"
        ) from exc
    registered = found.tags.get("data_hash", "")
    if not data_hash or registered != data_hash:
        raise TrackingError(
            f"{model_name!r} version {version} was trained on data {registered or '(no hash)'}, "
            f"the released model on {data_hash or '(no hash given)'}: not the same model, "
            "champion not moved"
        )
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, str(found.version))
    return RegisteredVersion(model_name, str(found.version), found.run_id, dict(found.tags))


def version_of_model(model_name: str, content_version: str) -> Any:
    """The newest registry version whose model id starts with `content_version` (a card's version).

    Raises:
        MlflowException: no registered version is that model.

    """
    import mlflow
    from mlflow.exceptions import MlflowException

    found = [
        version
        for version in mlflow.MlflowClient().search_model_versions(f"name='{model_name}'")
        if content_version and version.tags.get(MODEL_UUID_TAG, "").startswith(content_version)
    ]
    if not found:
        raise MlflowException(f"no version of {model_name!r} is model {content_version}")
    return max(found, key=lambda v: int(v.version))


def model_lineage(model_name: str, content_version: str) -> dict[str, str]:
    """Where and when the model a card names was trained: its registry version and MLflow run.

    DVC's outputs leave these out (they differ on every run); the registry keeps them. Empty
    when the tracking store does not know the model (e.g. outputs pulled, not trained, here).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        version = version_of_model(model_name, content_version)
        run = mlflow.MlflowClient().get_run(version.run_id) if version.run_id else None
    except MlflowException:
        return {}
    lineage = {"registry_version": str(version.version), "mlflow_run_id": str(version.run_id)}
    if run is not None:
        started = pd.Timestamp(run.info.start_time, unit="ms", tz="UTC")
        lineage["trained_at"] = started.isoformat(timespec="seconds")
        lineage["git_commit"] = run.data.tags.get("git_commit", "")
    return lineage


def load_registered_model(model_name: str, alias: str) -> Any:
    """Load the model an alias points at."""
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{model_name}@{alias}")


def ci_without_registry(environ: Mapping[str, str], version: str | None) -> str | None:
    """The warning to show instead of promoting in CI without a team MLflow server, else None.

    A CI runner's own MLflow store dies with it: moving `champion` there would change nothing
    the next run sees. The warning is a GitHub annotation (`::warning::`) on the run.
    """
    if not environ.get("GITHUB_ACTIONS") or environ.get("MLFLOW_TRACKING_URI"):
        return None
    return (
        "::warning::no team MLflow server (variable MLFLOW_TRACKING_URI): the registry's "
        f"champion is not moved; the released model is version {version or '?'} of the "
        "reviewed outputs"
    )
