"""The registry's champion scored on this change's test set: what the gate compares against."""

from __future__ import annotations

import logging
from typing import Any

from modelops.pipeline.contract import Contract
from modelops.pipeline.engines import Engine, UnknownLabels
from modelops.pipeline.selection import ChampionScore, GateRefused
from modelops.pipeline.tracking import CHAMPION_ALIAS, alias_version, load_registered_model
from modelops.serving.model import TabularModel

log = logging.getLogger("modelops.select")


def rescore(
    model: object, metric: str, test: Any, contract: Contract, engine: Engine | None = None
) -> float:
    """The champion's `metric` on `test` (a table of `engine`; the local engine by default).

    Raises:
        ValueError: the champion cannot be scored on this contract's table (another task, other
            features or classes, or not a `TabularModel`).

    """
    if not isinstance(model, TabularModel):
        raise ValueError(f"champion is a {type(model).__name__}, not a TabularModel")
    if model.task != contract.task:
        raise ValueError(f"champion is a {model.task} model")
    if model.feature_names != contract.feature_names:
        raise ValueError(f"champion expects features {model.feature_names}")
    if engine is None:
        from modelops.pipeline.engines.local import LocalEngine

        engine = LocalEngine()
    try:
        scores = engine.metrics(model, test, contract.target)
    except UnknownLabels:
        raise ValueError("champion has other classes") from None
    return float(scores[metric])


def score_champion(
    model_name: str, metric: str, test: Any, contract: Contract, engine: Engine | None = None
) -> ChampionScore | None:
    """Score the registry's champion on this test set; fall back to its recorded score.

    Returns None when no version carries the champion alias.

    Raises:
        GateRefused: the champion cannot be scored here and has no recorded score either.

    """
    champion = alias_version(model_name, CHAMPION_ALIAS)
    if champion is None:
        return None
    try:
        model = load_registered_model(model_name, CHAMPION_ALIAS)
        score = rescore(model, metric, test, contract, engine)
        return ChampionScore(champion.version, score, "rescored on this test set")
    except Exception as exc:  # a champion on another schema or format: use its recorded score
        recorded = champion.tags.get(f"metric.{metric}")
        if recorded is None:
            raise GateRefused(
                f"cannot score champion version {champion.version} on this data ({exc}) and it "
                f"has no recorded {metric}; remove its '{CHAMPION_ALIAS}' alias to accept a new "
                "schema deliberately"
            ) from exc
        log.warning("champion not rescored (%s); using its recorded %s", exc, metric)
        return ChampionScore(champion.version, float(recorded), "recorded at its registration")
