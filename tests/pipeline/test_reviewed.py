"""`make reviewed`: CD deploys the outputs CI pushed for the commit, exactly as dvc.lock names them.

CI on main reproduces the pipeline and pushes its outputs to the DVC remote; CD, on a fresh
checkout of that commit, pulls what dvc.lock names, refuses to go on unless `dvc status` is clean,
and packages that model, never retraining it. Without a remote it says so and falls back.
"""

import subprocess

import pytest

from tests.project_copy import Project

pytestmark = pytest.mark.slow


def commit_all(project: Project) -> None:
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    project.run(*git, "add", "-A")
    project.run(*git, "commit", "-qm", "reproduced", check=False)


def clone(project: Project, destination) -> Project:
    """A fresh checkout of the project's commit: git files only, as CD's runner has."""
    subprocess.run(
        ["git", "clone", "-q", str(project.root), str(destination)], check=True, timeout=120
    )
    return Project(destination)


def reviewed(project: Project, **env: str) -> subprocess.CompletedProcess:
    # SYNCED= : the copy uses this interpreter's environment instead of building its own .venv
    return subprocess.run(
        ["make", "reviewed", "SYNCED="], cwd=project.root,
        env={**project.env(), "GITHUB_ACTIONS": "", **env},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_cd_pulls_exactly_what_dvc_lock_names_and_packages_it(fresh_copy, tmp_path):
    remote = tmp_path / "remote"
    commit_all(fresh_copy)
    env = {"DVC_REMOTE_URL": str(remote)}
    pushed = subprocess.run(
        ["python", "-m", "pipelines.remote", "push"], cwd=fresh_copy.root,
        env={**fresh_copy.env(), **env}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    card = (fresh_copy.root / "models" / "best" / "model_card.json").read_text()

    checkout = clone(fresh_copy, tmp_path / "cd")
    assert not (checkout.root / "models" / "best").exists()
    result = reviewed(checkout, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (checkout.root / "models" / "best" / "model_card.json").read_text() == card
    assert (checkout.root / "models" / "bento.json").is_file()
    assert "reviewed outputs of" in result.stdout
    # nothing was retrained: the pipeline's stages up to `select` ran nowhere but in CI
    assert "Running stage 'train'" not in result.stdout + result.stderr


def test_cd_refuses_a_remote_without_this_commits_outputs(fresh_copy, tmp_path):
    commit_all(fresh_copy)
    checkout = clone(fresh_copy, tmp_path / "cd")
    (tmp_path / "empty-remote").mkdir()
    result = reviewed(checkout, DVC_REMOTE_URL=str(tmp_path / "empty-remote"))
    assert result.returncode != 0
    assert "the remote lacks this commit's outputs" in result.stderr + result.stdout
    assert not (checkout.root / "models" / "bento.json").exists()


def test_without_a_remote_cd_announces_its_fallback(fresh_copy, tmp_path):
    commit_all(fresh_copy)
    checkout = clone(fresh_copy, tmp_path / "cd")
    result = reviewed(checkout, GITHUB_ACTIONS="true", REPRO_CHECK="echo FALLBACK-RAN")
    assert result.returncode == 0, result.stderr
    assert "::warning::no DVC remote configured" in result.stdout
    assert "FALLBACK-RAN" in result.stdout
