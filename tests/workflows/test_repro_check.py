"""`make repro-check`: dvc status clean after dvc repro, and a stale committed dvc.lock fails."""

import sys

import pytest

from modelops.review.repro_check import (
    compare_locks,
    compare_outputs,
    describe_file_change,
    first_difference,
)
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


def outs(**md5s):
    return {"stages": {"train": {"outs": [{"path": p, "md5": m} for p, m in md5s.items()]}}}


def test_an_output_with_other_bytes_is_named_with_both_hashes():
    committed = outs(**{"models/candidates": "a.dir", "metrics/x.json": "m1"})
    assert compare_outputs(committed, committed) == []
    reproduced = outs(**{"models/candidates": "b.dir", "metrics/x.json": "m1"})
    explained = compare_outputs(
        committed, reproduced, lambda path: [f"{path}/runs.json: first difference at task"]
    )
    assert explained == [
        "models/candidates: md5 b.dir, the committed dvc.lock has a.dir",
        "    models/candidates/runs.json: first difference at task",
    ]


def test_the_first_differing_field_is_named_by_its_path():
    card = {"name": "m", "metrics": {"auc": 0.9, "f1": 0.8}, "schema": [{"n": "a"}, {"n": "b"}]}
    assert first_difference(card, card) is None
    changed = {**card, "metrics": {"auc": 0.9, "f1": 0.7}}
    assert first_difference(card, changed) == "metrics.f1: 0.8 -> 0.7"
    renamed = {**card, "schema": [{"n": "a"}, {"n": "c"}]}
    assert first_difference(card, renamed) == "schema[1].n: 'b' -> 'c'"
    assert first_difference(card, {**card, "trained_at": "now"}) == "trained_at (added)"
    assert first_difference({"a": [1, 2]}, {"a": [1, 2, 3]}) == "a (length 2 -> 3)"


def test_a_changed_file_is_described_by_field_or_size():
    before = b"model_uuid: aaa\nutc_time_created: '1970-01-01 00:00:00'\n"
    after = b"model_uuid: bbb\nutc_time_created: '1970-01-01 00:00:00'\n"
    assert describe_file_change("models/best/model/MLmodel", before, after) == (
        "models/best/model/MLmodel: first difference at model_uuid: 'aaa' -> 'bbb'"
    )
    assert describe_file_change("m/model.pkl", b"\x80\x05", b"\x80\x05\x00") == (
        "m/model.pkl: binary content differs (2 -> 3 bytes)"
    )
    assert "not in DVC's cache or git" in describe_file_change("models/bento.json", None, b"{}")
    assert describe_file_change("a.json", b'{"a": 1}', b'{"a": 1}') == "a.json: the same bytes"
    assert describe_file_change("a.json", b'{"a": 1}', b'{"a":1}') == (
        "a.json: first difference at (none: the same values, other bytes)"
    )
