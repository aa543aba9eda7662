"""Refreshing a retrain's labelled data: a real git + DVC project, `dvc update`, `dvc repro`."""

import subprocess
import sys

import pytest

from modelops.monitoring.refresh import (
    RefreshError,
    changed_files,
    fetch_recorded,
    find_labelled_source,
    prepare,
)
from tests.monitoring.labelled_repo import git, make_labelled_repo, write_labels


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    return root, make_labelled_repo(root)


def test_the_import_providing_data_source_is_the_labelled_source(project):
    root, source_file = project
    source = find_labelled_source(root, root / "params.yaml")
    assert source is not None
    assert (source.data_source, source.dvc_file) == (
        "data/external/labels.csv",
        "data/external/labels.csv.dvc",
    )
    assert source.origin.endswith(source_file.name)


def test_a_folder_import_holding_the_file_counts_and_a_plain_file_does_not(project, tmp_path):
    root, _ = project
    (root / "params.yaml").write_text("data:\n  source: data/external/other.csv\n")
    assert find_labelled_source(root, root / "params.yaml") is None  # not an import's output
    (root / "params.yaml").write_text("data:\n  source: null\n")
    assert find_labelled_source(root, root / "params.yaml") is None
    stage = "deps:\n- path: s3://bucket/labels\nouts:\n- path: labels\n"
    (root / "data/labels.dvc").write_text(stage)
    git(root, "add", "data/labels.dvc")
    (root / "params.yaml").write_text("data:\n  source: data/labels/2026-12.csv\n")
    found = find_labelled_source(root, root / "params.yaml")
    assert found is not None and found.dvc_file == "data/labels.dvc"
    assert found.origin == "s3://bucket/labels"


def test_no_new_labels_means_nothing_to_retrain_on(project):
    root, _ = project
    source = find_labelled_source(root, root / "params.yaml")
    assert prepare(root, source) is None
    assert changed_files(root) == {}  # nothing touched


def test_new_labels_are_imported_and_the_pipeline_reruns_on_them(project):
    root, source_file = project
    source = find_labelled_source(root, root / "params.yaml")
    write_labels(source_file, 5)
    prepared = prepare(root, source)
    assert prepared is not None and prepared.pipeline_error is None
    assert set(prepared.files) == {"data/external/labels.csv.dvc", "dvc.lock", "metrics.json"}
    assert prepared.files["metrics.json"] == '{"rows": 5}'
    assert prepared.files["dvc.lock"] == (root / "dvc.lock").read_text()
    size = f"size: {source_file.stat().st_size}"  # the new version's
    assert size in prepared.files["data/external/labels.csv.dvc"]


def test_a_failing_pipeline_still_carries_the_refreshed_data_and_says_why(project):
    root, source_file = project
    source = find_labelled_source(root, root / "params.yaml")
    write_labels(source_file, 12)  # the stand-in gate refuses more than 9 rows
    prepared = prepare(root, source)
    assert prepared is not None
    assert "gate: refused, 12 rows" in prepared.pipeline_error
    assert "data/external/labels.csv.dvc" in prepared.files


def test_an_unreadable_source_names_the_import_and_the_role(project):
    root, source_file = project
    source = find_labelled_source(root, root / "params.yaml")
    source_file.unlink()
    with pytest.raises(RefreshError, match=r"labels\.csv\.dvc .*must be able to read it"):
        prepare(root, source)


# --- CI on the retrain pull request: the recorded version, fetched from the source ------------


def ci_checkout(root, tmp_path):
    """What CI's checkout of the commit has: the files git tracks, no DVC cache, no data."""
    clone = tmp_path / "ci"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    assert not (clone / "data/external/labels.csv").exists()
    return clone


def repro(root):
    return subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=root, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_ci_cannot_repro_an_import_the_remote_lacks_until_the_recorded_version_is_fetched(
    project, tmp_path
):
    """DVC pulls a `dvc import-url` output from the DVC remote only; a retrain PR's new labels
    were never pushed (only CI on main pushes), so CI's repro fails until they are fetched."""
    root, _ = project
    clone = ci_checkout(root, tmp_path)
    failed = repro(clone)
    assert failed.returncode != 0 and "missing data" in failed.stderr
    source = find_labelled_source(clone, clone / "params.yaml")
    assert fetch_recorded(clone, source) is True
    assert (clone / "data/external/labels.csv").read_text() == (
        root / "data/external/labels.csv"
    ).read_text()
    assert changed_files(clone) == {}  # the commit's record is kept as it is
    assert repro(clone).returncode == 0
    assert fetch_recorded(clone, source) is False  # already here: nothing downloaded


def test_a_source_that_moved_on_since_the_commit_is_refused_and_the_record_kept(project, tmp_path):
    root, source_file = project
    clone = ci_checkout(root, tmp_path)
    write_labels(source_file, 7)  # newer labels than the commit recorded
    source = find_labelled_source(clone, clone / "params.yaml")
    with pytest.raises(RefreshError, match="changed since this commit recorded it"):
        fetch_recorded(clone, source)
    assert changed_files(clone) == {}  # the .dvc file the commit has, untouched
    assert not (clone / "data/external/labels.csv").exists()  # no unreviewed data left behind


def test_the_cli_says_what_it_did_and_why_it_cannot(project, tmp_path):
    """`make labelled-data`: no import, fetched, or a source this run cannot read (a fork)."""
    root, source_file = project
    clone = ci_checkout(root, tmp_path)

    def cli():
        command = [sys.executable, "-m", "modelops.monitoring.refresh", "--params",
                   str(clone / "params.yaml")]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=300)

    hidden = source_file.rename(tmp_path / "elsewhere.csv")  # as a private bucket to a fork
    unreadable = cli()
    assert unreadable.returncode == 1
    assert "cannot read the labelled source" in unreadable.stderr
    assert "AWS_PULL_REQUEST_ROLE_ARN" in unreadable.stderr
    hidden.rename(source_file)
    fetched = cli()
    assert fetched.returncode == 0, fetched.stderr
    assert "data/external/labels.csv fetched from" in fetched.stdout
    (clone / "params.yaml").write_text("data:\n  source: null\n")
    assert "nothing to fetch" in cli().stdout
