"""Package the selected model for serving: one folder, the image's model, byte for byte.

`package` writes the model in its serving format (`modelops.serving.formats`: an XGBoost winner
as its native booster, a linear one as its coefficients, anything else pickled) and its card as
`model_card.json` into `models/serving/`, a DVC output: a function of `models/best` only, so
the same model gives the same bytes on every machine, and the image copies exactly this folder
(the service and the Lambda load it through MODELOPS_MODEL_DIR).

`import_model` also puts the same files into the local BentoML model store
(`bentoml.models.create`, BentoML's public way to save a model of any other kind), so
`bentoml serve` and `make serve` find the model by its tag. That entry is not the image's
artifact: BentoML stamps its `model.yaml` with the time of creation (`creation_time`, no public
way to set it), so a store entry made afresh is never the same bytes twice. No Bento is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
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


def model_tag(best: str | Path) -> str:
    """`<name>:<version>` of the selected model in `best`: the version hashes the model and card.

    Not BentoML's random version: the same selected model gets the same tag on every machine
    (models/bento.json is a DVC output, compared byte for byte).
    """
    best = Path(best)
    card = read_model_card(best)
    model_file = best / str(card.get("model_path", "model/model.pkl"))
    version = content_hash(model_file.read_bytes(), json.dumps(card, sort_keys=True).encode())
    return f"{card['name']}:{version}"


def package(best: str | Path, folder: str | Path, probe: np.ndarray | None = None) -> str:
    """Write the selected model of `best` into `folder` in its serving format, with its card.

    `folder` is emptied first, so it holds exactly the serving files and `model_card.json`;
    every file is a function of `best` (and `probe`) only. Returns the serving format written.

    Args:
        best: the folder with `model_card.json` and the pickled `TabularModel` (models/best/).
        folder: where the serving model goes (models/serving/, or a store entry's folder).
        probe: encoded rows (the test split's, say) a light serving format must match on.

    """
    card, model = _selected(best)  # before anything is removed: a bad `best` leaves `folder` be
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return _write_serving_files(card, model, folder, probe)


def _selected(best: str | Path) -> tuple[dict[str, Any], Any]:
    """The card and the pickled model of the selected model in `best`."""
    card = read_model_card(best)
    return card, load_pickled_model(Path(best) / str(card.get("model_path", "model/model.pkl")))


def _write_serving_files(
    card: dict[str, Any], model: Any, folder: Path, probe: np.ndarray | None
) -> str:
    served = write_serving_model(model, folder, probe)
    (folder / MODEL_CARD).write_text(json.dumps(card, indent=1))
    return served


def import_model(
    best: str | Path, probe: np.ndarray | None = None, *, packaged: str | Path | None = None
) -> tuple[str, str]:
    """Put the selected model of `best` into the local BentoML model store (for `bentoml serve`).

    An entry already in the store under the model's tag (`model_tag`) is reused as it is.

    Args:
        best: the folder with `model_card.json` and the pickled `TabularModel` (models/best/).
        probe: encoded rows a light serving format must match on (when not `packaged`).
        packaged: a folder `package` already wrote for `best`: its files are copied, not
            converted again.

    Returns:
        The tag (name:version) of the store entry and the serving format in it.

    """
    import bentoml
    from bentoml.exceptions import NotFound

    card: dict[str, Any] = read_model_card(best)
    tag = model_tag(best)
    with contextlib.suppress(NotFound):
        existing = bentoml.models.get(tag)
        return str(existing.tag), serving_format(existing.path)
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
        entry = Path(saved.path)  # beside BentoML's model.yaml
        if packaged is None:
            served = _write_serving_files(*_selected(best), entry, probe)
        else:
            shutil.copytree(packaged, entry, dirs_exist_ok=True)
            served = serving_format(entry)
    return str(saved.tag), served


def serving_format(folder: str | Path) -> str:
    """The serving format recorded in a packaged folder's serving.json."""
    return str(json.loads(Path(folder, SERVING_FILE).read_text())["format"])
