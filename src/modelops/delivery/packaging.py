"""Package the selected model for serving: BentoML model store + a built Bento.

The model (a `TabularModel`: encoding + estimator) is pickled into a BentoML model-store entry,
with its model card as a custom object, so the serving process needs neither mlflow nor the
pipeline's files. `bentoml.models.create` (BentoML's way to save a model of any kind) makes the
store entry a plain folder holding that pickle, which the service loads itself; the scikit-learn
framework saver is not used.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from modelops.serving.inference import STORED_MODEL_FILE, Predictor

DEFAULT_BENTOML_HOME = "bentoml_home"
CARD_OBJECT = "model_card"


def use_project_bentoml_home(root: str | Path) -> str:
    """Point BentoML at `<root>/bentoml_home` unless BENTOML_HOME is set; return the folder.

    Must run before `bentoml` is imported: BentoML reads the variable once, at import.
    """
    home = os.environ.setdefault("BENTOML_HOME", str(Path(root).resolve() / DEFAULT_BENTOML_HOME))
    Path(home).mkdir(parents=True, exist_ok=True)
    return home


def import_model(predictor: Predictor) -> str:
    """Save the model into the BentoML model store; return its tag (name:version)."""
    import bentoml

    card: dict[str, Any] = predictor.card
    with bentoml.models.create(
        card["name"],
        labels={"registry_version": str(card["version"]), "candidate": str(card["candidate"])},
        metadata={
            "registry_version": str(card["version"]),
            "git_commit": str(card["git_commit"]),
            "data_hash": str(card["data_hash"]),
            "task": predictor.task,
            "features": len(predictor.features),
        },
        custom_objects={CARD_OBJECT: card},
    ) as saved:
        Path(saved.path, STORED_MODEL_FILE).write_bytes(pickle.dumps(predictor.model))
    return str(saved.tag)


def build_bento(root: str | Path, model_tag: str) -> str:
    """Build the Bento of `services/` pinned to `model_tag`; return the Bento tag."""
    import bentoml

    os.environ["MODELOPS_MODEL_TAG"] = model_tag  # the service resolves its model at import
    bento = bentoml.bentos.build(
        service="services.classifier:Classifier",
        name="modelops-classifier",
        include=[
            "services/*.py",
            "src/modelops/__init__.py",
            "src/modelops/serving/*.py",
            "src/modelops/serving/web/*",  # the page at / (its script and style sheet)
        ],
        labels={"model": model_tag},
        build_ctx=str(root),
    )
    return str(bento.tag)
