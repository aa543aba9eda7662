"""`make repro-check`: dvc status clean after dvc repro, and a stale committed dvc.lock fails."""

import sys

import pytest

from modelops.review.repro_check import compare_locks
from tests.project_copy import TINY_PARAMS, copy_repository


def lock(C=1.0, code="aaa", model="m1"):
    return {
        "stages": {
            "train": {
                "deps": [{"path": "pipelines/train.py", "md5": code},
                         {"path": "data/split/train.parquet", "md5": "d1"}],
                "params": {"params.yaml": {"train": {"C": C}}},
                "outs": [{"path": "models/candidates", "md5": model}],
            },
            "split": {"deps": [], "outs": [{"path": "data/split/train.parquet", "md5": "d1"}]},
            "evaluate": {"deps": [{"path": "models/candidates", "md5": model}]},
        }
    }  # fmt: skip


def test_only_sources_and_params_are_compared():
    assert compare_locks(lock(), lock(model="m2")) == []  # rebuilt outputs may differ
    assert compare_locks(lock(), lock(C=0.5)) == [
        "stage 'train': params.yaml:train changed since dvc.lock was committed"
    ]
    assert compare_locks(lock(), lock(code="bbb")) == [
        "stage 'train': pipelines/train.py changed since dvc.lock was committed"
    ]
    assert (
        compare_locks({}, lock())[0]
        == "stage 'train': params.yaml:train is not in the committed dvc.lock"
    )


@pytest.mark.slow
@pytest.mark.xdist_group("repro-check")
def test_stale_lock_fails_then_the_committed_repro_passes(tmp_path):
    project = copy_repository(tmp_path / "repo")
    project.set_params(TINY_PARAMS)
    project.run(
        "git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "params only"
    )

    stale = project.run(sys.executable, "-m", "modelops.review.repro_check", check=False)
    assert stale.returncode == 1
    assert "the committed dvc.lock is stale" in stale.stderr
    assert "stage 'generate': params.yaml:generate changed" in stale.stderr
    assert "stage 'train': params.yaml:train changed" in stale.stderr

    project.run(
        "git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qam", "lock"
    )
    clean = project.run(sys.executable, "-m", "modelops.review.repro_check", check=False)
    assert clean.returncode == 0, clean.stderr
    assert "dvc status clean" in clean.stdout
    assert "up to date" in project.run("dvc", "status").stdout
