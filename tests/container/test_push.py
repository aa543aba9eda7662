"""`make image-push`: the repository it accepts and the digest it reports (no registry here)."""

from __future__ import annotations

import pytest

from modelops.delivery import image as img

DIGEST = "sha256:" + "ab" * 32
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops-classifier"


@pytest.mark.parametrize("repository", [f"{ECR}:v1", f"{ECR}@{DIGEST}", "modelops", "", "Ab/c"])
def test_push_refuses_a_repository_with_a_tag_digest_or_no_registry(repository):
    with pytest.raises(img.ImageError, match="is not '<registry>/<name>'"):
        img.push(repository)


def test_pushed_digest_is_read_from_the_push_output():
    output = (
        "The push refers to repository [x]\n"
        "5f70bf18a086: Pushed\n"
        f"abc123-v4: digest: {DIGEST} size: 2417\n"
    )
    assert img.pushed_digest(output, f"{ECR}:abc123-v4", ECR) == DIGEST


def test_pushed_digest_falls_back_to_the_engines_repo_digests(monkeypatch):
    other = "sha256:" + "cd" * 32
    reported = f'["docker.io/library/modelops@{other}", "{ECR}@{DIGEST}"]'

    class Inspect:
        stdout = reported

    monkeypatch.setattr(img, "docker", lambda *args, **kwargs: Inspect)
    assert img.pushed_digest("Copying blob ... done\n", f"{ECR}:t", ECR) == DIGEST


def test_pushed_digest_without_any_digest_is_an_error(monkeypatch):
    class Inspect:
        stdout = "null"

    monkeypatch.setattr(img, "docker", lambda *args, **kwargs: Inspect)
    with pytest.raises(img.ImageError, match="no digest"):
        img.pushed_digest("pushed\n", f"{ECR}:t", ECR)
