"""Package the selected model for serving: BentoML model store + a built Bento.

The model (a `TabularModel`: encoding + estimator) is pickled into a BentoML model-store entry,
with its model card as a custom object, so the serving process needs neither mlflow nor the
pipeline's files. `bentoml.models.create` (BentoML's way to save a model of any kind) makes the
store entry a plain folder holding that pickle, which the service loads itself; the scikit-learn
framework saver is not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

from modelops.serving.inference import STORED_MODEL_FILE, Predictor

DEFAULT_BENTOML_HOME = "bentoml_home"
CARD_OBJECT = "model_card"
BENTO_NAME = "modelops-classifier"


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


def import_model(predictor: Predictor) -> str:
    """Save the model into the BentoML model store; return its tag (name:version).

    The version is a hash of the model and its card, not BentoML's random one: the same selected
    model gets the same tag (models/bento.json is a DVC output, compared byte for byte), and an
    entry already in the store is reused as it is (its files are what an image copies).
    """
    import bentoml
    from bentoml.exceptions import NotFound

    card: dict[str, Any] = predictor.card
    model_bytes = pickle.dumps(predictor.model)
    version = content_hash(model_bytes, json.dumps(card, sort_keys=True).encode())
    tag = f"{card['name']}:{version}"
    with contextlib.suppress(NotFound):
        return str(bentoml.models.get(tag).tag)
    with bentoml.models.create(
        tag,
        labels={"version": str(card["version"]), "candidate": str(card["candidate"])},
        metadata={
            "version": str(card["version"]),  # the card's content version
            "data_hash": str(card["data_hash"]),
            "task": predictor.task,
            "features": len(predictor.features),
        },
        custom_objects={CARD_OBJECT: card},
    ) as saved:
        Path(saved.path, STORED_MODEL_FILE).write_bytes(model_bytes)
    return str(saved.tag)


def build_bento(root: str | Path, model_tag: str) -> str:
    """Build the Bento of `services/` pinned to `model_tag`; return the Bento tag.

    Its version is a hash of the model tag and the files it includes (a Bento already in the
    store with that version is reused), so the same code and model give the same tag.
    """
    import bentoml
    from bentoml.exceptions import NotFound

    os.environ["MODELOPS_MODEL_TAG"] = model_tag  # the service resolves its model at import
    include = [
        "services/*.py",
        "src/modelops/__init__.py",
        "src/modelops/serving/*.py",
        "src/modelops/serving/web/*",  # the page at / (its script and style sheet)
    ]
    files = sorted({f for pattern in include for f in Path(root).glob(pattern) if f.is_file()})
    version = content_hash(
        model_tag.encode(),
        *(f"{f.relative_to(root).as_posix()}\0".encode() + f.read_bytes() for f in files),
    )
    with contextlib.suppress(NotFound):
        return str(bentoml.bentos.get(f"{BENTO_NAME}:{version}").tag)
    bento = bentoml.bentos.build(
        service="services.classifier:Classifier",
        name=BENTO_NAME,
        version=version,
        include=include,
        labels={"model": model_tag},
        build_ctx=str(root),
    )
    return str(bento.tag)
