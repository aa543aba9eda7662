"""Package the selected model for serving: one BentoML model-store entry, the image's artifact.

The entry holds the model in its serving format (`modelops.serving.formats`: an XGBoost winner
as its native booster, a linear one as its coefficients, anything else pickled) and its card as
`model_card.json`, so the service loads it with only what that format needs, and the Lambda
reads the same folder without importing BentoML. `bentoml.models.create` is BentoML's public
way to save a model of any other kind; the image copies exactly this entry. No Bento is built:
the image is made from `services/`, the locked serving dependencies and this entry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from modelops.serving.formats import write_serving_model
from modelops.serving.inference import MODEL_CARD, load_pickled_model, read_model_card

DEFAULT_BENTOML_HOME = "bentoml_home"
CARD_OBJECT = "model_card"


def use_project_bentoml_home(root: str | Path) -> str:
    """Point BentoML at `<root>/bentoml_home` unless BENTOML_HOME is set; return the folder.

    Must run before `bentoml` is imported: BentoML reads the variable once, at import.
    """
    home = os.environ.setdefault("BENTOML_HOME", str(Path(root).resolve() / DEFAULT_BENTOML_HOME))
    Path(home).mkdir(parents=True, exist_ok=True)
    return home


def import_model(best: str | Path, probe: np.ndarray | None = None) -> tuple[str, str]:
    """Save the selected model of `best` (models/best/) into the BentoML model store.

    Args:
        best: the folder with `model_card.json` and the pickled `TabularModel`.
        probe: encoded rows (the test split's, say) a light serving format must match on.

    Returns:
        The tag (name:version) of the store entry and the serving format written.

    """
    import bentoml

    best = Path(best)
    card: dict[str, Any] = read_model_card(best)
    model = load_pickled_model(best / card.get("model_path", "model/model.pkl"))
    with bentoml.models.create(
        card["name"],
        labels={"registry_version": str(card["version"]), "candidate": str(card["candidate"])},
        metadata={
            "registry_version": str(card["version"]),
            "git_commit": str(card["git_commit"]),
            "data_hash": str(card["data_hash"]),
            "task": str(card.get("task", "binary")),
            "features": len(card["feature_schema"]),
        },
    ) as saved:
        served = write_serving_model(model, saved.path, probe)
        Path(saved.path, MODEL_CARD).write_text(json.dumps(card, indent=1))
    return str(saved.tag), served
