"""Fixtures: the repository copied to a temp folder and reproduced with tiny params."""

import pytest

from tests.project_copy import TINY_PARAMS, Project, copy_repository


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Project:
    """The repository with tiny params after one successful `dvc repro`."""
    project = copy_repository(tmp_path_factory.mktemp("repo"))
    project.set_params(TINY_PARAMS)
    project.repro()
    return project


@pytest.fixture
def fresh_copy(reproduced, tmp_path) -> Project:
    """An independent copy of the reproduced project, for a test that changes it."""
    return reproduced.copy(tmp_path / "repo")
