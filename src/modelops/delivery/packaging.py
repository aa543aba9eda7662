"""Package the selected model for serving: one BentoML model-store entry, the image's artifact.

The entry holds the model in its serving format (`modelops.serving.formats`: an XGBoost winner
as its native booster, a linear one as its coefficients, anything else pickled) and its card as
`model_card.json`, so the service loads it with only what that format needs, and the Lambda
reads the same folder without importing BentoML. `bentoml.models.create` is BentoML's public
way to save a model of any other kind; the image copies exactly this entry. No Bento is built:
the image is made from `services/`, the locked serving dependencies and this entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from modelops.serving.formats import SERVING_FILE, write_serving_model
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


def content_hash(*parts: bytes) -> str:
    """16 hex digits of the sha256 of `parts`: a store version that is a function of the content."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def import_model(best: str | Path, probe: np.ndarray | None = None) -> tuple[str, str]:
    """Save the selected model of `best` (models/best/) into the BentoML model store.

    The version is a hash of the model and its card, not BentoML's random one: the same selected
    model gets the same tag (models/bento.json is a DVC output, compared byte for byte), and an
    entry already in the store is reused as it is (its files are what an image copies).

    Args:
        best: the folder with `model_card.json` and the pickled `TabularModel`.
        probe: encoded rows (the test split's, say) a light serving format must match on.

    Returns:
        The tag (name:version) of the store entry and the serving format written.

    """
    import bentoml
    from bentoml.exceptions import NotFound

    best = Path(best)
    card: dict[str, Any] = read_model_card(best)
    model_file = best / card.get("model_path", "model/model.pkl")
    version = content_hash(model_file.read_bytes(), json.dumps(card, sort_keys=True).encode())
    tag = f"{card['name']}:{version}"
    with contextlib.suppress(NotFound):
        existing = bentoml.models.get(tag)
        spec = json.loads(Path(existing.path, SERVING_FILE).read_text())
        return str(existing.tag), str(spec["format"])
    model = load_pickled_model(model_file)
    with bentoml.models.create(
        tag,
        labels={"version": str(card["version"]), "candidate": str(card["candidate"])},
        metadata={
            "version": str(card["version"]),  # the card's content version
            "data_hash": str(card["data_hash"]),
            "task": str(card.get("task", "binary")),
            "features": len(card["feature_schema"]),
        },
    ) as saved:
        served = write_serving_model(model, saved.path, probe)
        Path(saved.path, MODEL_CARD).write_text(json.dumps(card, indent=1))
    return str(saved.tag), served
