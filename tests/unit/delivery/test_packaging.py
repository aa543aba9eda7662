"""Issue #26: the package stage's folder is the image's model, the same bytes for one model."""

from __future__ import annotations

import json
from pathlib import Path

import bentoml
import pytest

from modelops.delivery.packaging import import_model, model_tag, package
from modelops.serving.formats import SERVING_FILE
from modelops.serving.inference import MODEL_CARD, ModelLoadError


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_packaging_twice_writes_the_same_bytes_and_only_the_serving_files(packaged, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert package(packaged["best"], first) == package(packaged["best"], second) == "xgboost"
    assert files(first) == files(second)
    spec = json.loads((first / SERVING_FILE).read_text())
    assert sorted(files(first)) == sorted([SERVING_FILE, spec["file"], MODEL_CARD])
    assert json.loads((first / MODEL_CARD).read_text()) == packaged["card"]


def test_packaging_again_replaces_what_the_folder_held(packaged, tmp_path):
    folder = tmp_path / "serving"
    folder.mkdir()
    (folder / "stale.pkl").write_bytes(b"an earlier model's file")
    package(packaged["best"], folder)
    assert "stale.pkl" not in files(folder)


def test_a_bad_selected_model_leaves_the_earlier_package_as_it_was(tmp_path, packaged):
    folder = tmp_path / "serving"
    package(packaged["best"], folder)
    before = files(folder)
    with pytest.raises(ModelLoadError, match=r"no-such-best.*model card not found"):
        package(tmp_path / "no-such-best", folder)
    assert files(folder) == before


def test_the_store_entry_holds_the_packaged_files_under_a_content_tag(packaged, tmp_path):
    folder = tmp_path / "serving"
    package(packaged["best"], folder)
    tag, served = import_model(packaged["best"], packaged=folder)
    assert tag == packaged["tag"] == model_tag(packaged["best"]) and served == "xgboost"
    entry = Path(bentoml.models.get(tag).path)
    assert {name: (entry / name).read_bytes() for name in files(folder)} == files(folder)
