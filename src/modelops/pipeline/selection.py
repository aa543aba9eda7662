"""Pick the best candidate, enforce the quality gate and the champion/challenger rule."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from modelops.params import LOWER_IS_BETTER, SelectParams
from modelops.pipeline.evaluation import is_better, regression


class GateRefused(RuntimeError):
    """The best candidate did not pass the quality gate; nothing is registered or replaced."""


@dataclass(frozen=True)
class ChampionScore:
    """The current champion's score on the selection metric, and how it was obtained."""

    version: str
    score: float
    source: str  # "rescored on this test set" or "recorded at its registration"


@dataclass(frozen=True)
class Decision:
    """The outcome of the gate, recorded in `metrics/selected.json` and the model card."""

    winner: str
    metric: str
    score: float
    ranking: list[tuple[str, float]]
    champion_version: str | None
    champion_score: float | None
    champion_source: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        payload = asdict(self)
        payload["ranking"] = [{"candidate": n, "score": s} for n, s in self.ranking]
        return payload


def rank_candidates(scores: dict[str, dict[str, Any]], metric: str) -> list[tuple[str, float]]:
    """Candidates best first by `metric`; ties keep the order in which they were listed."""
    if not scores:
        raise GateRefused("no candidate was evaluated")
    missing = [name for name, values in scores.items() if metric not in values]
    if missing:
        raise GateRefused(f"metric {metric!r} missing for candidate(s) {', '.join(missing)}")
    lower = metric in LOWER_IS_BETTER

    def key(item: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[float, int]:
        position, (_, values) = item
        return (values[metric] if lower else -values[metric], position)

    ordered = sorted(enumerate(scores.items()), key=key)
    return [(name, values[metric]) for _, (name, values) in ordered]


def decide(
    scores: dict[str, dict[str, Any]],
    params: SelectParams,
    champion: ChampionScore | None,
    task: str = "binary",
) -> Decision:
    """Apply the gate to the best candidate, by the task's selection metric.

    Raises:
        GateRefused: the best score misses `min_score`, or it is worse than the champion by more
            than `max_regression`; the message gives both scores.
        ParamsError: `select.metric` does not apply to the task.

    """
    metric = params.metric_for(task)
    ranking = rank_candidates(scores, metric)
    winner, score = ranking[0]
    if is_better(metric, params.min_score, score):
        bound = "at most" if metric in LOWER_IS_BETTER else "at least"
        raise GateRefused(
            f"best candidate {winner!r} has {metric}={score:.6f}; the gate needs {bound} "
            f"{params.min_score} (select.min_score)"
        )
    reason = f"{winner!r} is the best of {len(ranking)} candidate(s) by {metric} ({score:.6f})"
    if champion is not None:
        worse_by = regression(metric, score, champion.score)
        if worse_by > params.max_regression:
            raise GateRefused(
                f"best candidate {winner!r} has {metric}={score:.6f}, worse than champion "
                f"version {champion.version} ({metric}={champion.score:.6f}, "
                f"{champion.source}) by {worse_by:.6f} > select.max_regression="
                f"{params.max_regression}; champion kept"
            )
        reason += (
            f"; champion version {champion.version} has {champion.score:.6f} "
            f"({champion.source}), regression {max(worse_by, 0.0):.6f} is within "
            f"{params.max_regression}"
        )
    else:
        reason += "; no champion registered yet"
    return Decision(
        winner=winner,
        metric=metric,
        score=score,
        ranking=ranking,
        champion_version=champion.version if champion else None,
        champion_score=champion.score if champion else None,
        champion_source=champion.source if champion else None,
        reason=reason,
    )


def build_model_card(
    *,
    model_name: str,
    version: str,
    candidate: str,
    task: str,
    task_reason: str,
    target: str,
    classes: list[Any],
    positive_class: Any,
    threshold: float,
    metrics: dict[str, Any],
    hyperparameters: dict[str, Any],
    data_hash: str,
    feature_schema: list[dict[str, Any]],
    input_example: list[dict[str, Any]],
    decision: Decision,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What serving shows at `/metadata` and a reviewer reads to know which model this is.

    Keys follow the shared card interface: `classes`, `positive_class` and `threshold` only for
    the tasks they mean something for; `feature_schema` comes from the data contract
    (`Feature.schema()`), `input_example` holds raw rows (nulls as None).

    The card is a DVC output, so everything in it follows from the stage's inputs: `version` is
    the model's content version (`content_version`), and no run id, commit or time is in it.
    Those are lineage, kept by the registry (the version's tags and run) and shown in the PR
    report; the image's labels name the commit it was built from.
    """
    card: dict[str, Any] = {
        "name": model_name,
        "version": version,
        "task": task,
        "task_reason": task_reason,
        "target": target,
    }
    if task != "regression":
        card["classes"] = list(classes)
    if task == "binary":
        card["positive_class"] = positive_class
        card["threshold"] = threshold
    card.update(
        candidate=candidate,
        metrics=metrics,
        params=hyperparameters,
        data_hash=data_hash,
        feature_schema=feature_schema,
        input_example=input_example,
        selection=decision.to_dict(),
        data=data or {},
        model_format="mlflow-sklearn-cloudpickle",
        model_path="model/model.pkl",
    )
    return card


def content_version(model_uuid: str) -> str:
    """A model card's `version`: the first 12 hex digits of the model's content-derived id.

    The same training inputs give the same model bytes, hence the same version, on any machine;
    the registry tags each of its versions with the full id, so either finds the other.
    """
    return model_uuid[:12]


def raw_rows(frame: Any, columns: list[str], limit: int = 5) -> list[dict[str, Any]]:
    """The first rows of a frame as JSON-ready raw dicts (NaN/NA/NaT and infinities as None).

    `to_dict` already gives Python scalars (NumPy and nullable pandas values boxed); what is
    left is to write every missing or infinite value as None.
    """
    import pandas as pd

    def raw(value: Any) -> Any:
        missing = pd.isna(value) or (isinstance(value, float) and math.isinf(value))
        return None if missing else value

    # pandas lower-cases `orient`, so a change of its case is the same call
    records = frame[columns].head(limit).to_dict(orient="records")  # pragma: no mutate
    return [{str(key): raw(value) for key, value in record.items()} for record in records]
