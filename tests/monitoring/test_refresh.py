"""Refreshing a retrain's labelled data: a real git + DVC project, `dvc update`, `dvc repro`."""

import pytest

from modelops.monitoring.refresh import (
    RefreshError,
    changed_files,
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
