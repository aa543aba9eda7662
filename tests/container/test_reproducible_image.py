"""Issue #26: the same commit and packaged model give the same image on a rebuild.

CD pushes by digest into an immutable repository: a re-run must build the image it pushed
before, not a new digest under the same tag, even on a fresh runner that packages the model
again (`dvc repro package` into an empty BentoML store).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelops.delivery import image as img

pytestmark = [pytest.mark.container, pytest.mark.slow, pytest.mark.xdist_group("container")]


def package_afresh(bentoml_home: str) -> None:
    """What a fresh CD runner does: the package stage's command, no earlier output or store."""
    shutil.rmtree(img.SERVING_FOLDER)
    command = [
        sys.executable, "-m", "pipelines.package", "--best", "models/best",
        "--serving", "models/serving", "--output", "models/bento.json",
    ]  # fmt: skip
    env = {**os.environ, "BENTOML_HOME": bentoml_home}
    subprocess.run(command, cwd=img.REPO, env=env, check=True, capture_output=True)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def timed_build() -> tuple[str, str]:
    started = time.perf_counter()
    # Every layer is built again: Podman 4's layer cache ignores --timestamp, so a cached build
    # can hand back an image an earlier build made at another commit's time (found when a
    # machine kept images of older commits); CD's fresh runners have no such cache.
    tag = img.build(no_cache=True)
    print(f"{img.image_id(tag)} in {time.perf_counter() - started:.0f} s")
    return tag, img.image_id(tag)


def test_a_rebuild_after_packaging_afresh_gives_the_same_image_id(tmp_path):
    reason = img.engine_unavailable()
    if reason:
        pytest.skip(reason)
    kept = tmp_path / "serving"
    shutil.copytree(img.SERVING_FOLDER, kept)
    first_tag, first = timed_build()
    try:
        package_afresh(str(tmp_path / "bentoml_home"))
        assert folder_bytes(img.SERVING_FOLDER) == folder_bytes(kept)  # what the image copies
        new_tag, rebuilt = timed_build()
    finally:  # the checkout keeps the folder it had, whatever the fresh packaging wrote
        shutil.rmtree(img.SERVING_FOLDER, ignore_errors=True)
        shutil.copytree(kept, img.SERVING_FOLDER)
    assert new_tag == first_tag
    assert rebuilt == first
