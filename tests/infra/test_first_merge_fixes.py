"""The first-merge fixes of issue #21 that need no terraform: CD's preflight decision, the
image manifest Lambda accepts, and re-using an image already pushed under an IMMUTABLE tag
(ECR through moto in-process)."""

import hashlib
import json
import os
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from modelops.delivery import registry as image
from modelops.delivery.preflight import REQUIRED, decide, missing_settings

CONFIGURED = {name: "x" for name in REQUIRED}
SHA, NEWER = "a" * 40, "b" * 40


def test_before_the_repository_variables_exist_cd_says_what_to_set():
    decision = decide({}, SHA, SHA)
    assert not decision.deploy
    for name in REQUIRED:
        assert name in decision.reason
    assert "ecr_repository_url" in decision.reason and "Settings > Secrets and variables" in (
        decision.reason
    )
    assert missing_settings({**CONFIGURED, "ECR_REPOSITORY": " "}) == ["ECR_REPOSITORY"]


def test_only_mains_newest_commit_deploys():
    assert decide(CONFIGURED, SHA, SHA).deploy
    older = decide(CONFIGURED, SHA, NEWER)
    assert not older.deploy and "no longer main's newest" in older.reason
    assert decide(CONFIGURED, SHA, None).deploy  # git cannot tell: deploy what CI checked


def test_environments_can_be_switched_off_but_not_misspelled():
    assert decide(CONFIGURED, SHA, SHA).environments
    assert not decide({**CONFIGURED, "DEPLOY_ENVIRONMENTS": "false"}, SHA, SHA).environments
    with pytest.raises(ValueError, match="DEPLOY_ENVIRONMENTS must be true or false"):
        decide({**CONFIGURED, "DEPLOY_ENVIRONMENTS": "no"}, SHA, SHA)


REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops"


@pytest.fixture
def ecr(monkeypatch):
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    with mock_aws():
        client = boto3.client("ecr", region_name="eu-west-1")
        client.create_repository(repositoryName="modelops", imageTagMutability="IMMUTABLE")
        yield client


def put(client, tag: str, media_type: str, layer: str = "a") -> str:
    """PutImage as `docker push` ends. The digest is given: a registry's digest is the sha256
    of the manifest's bytes (OCI distribution spec), while moto 5.2 derives one from the layers
    only (every layer-less manifest would share the digest of the empty string)."""
    manifest = json.dumps({"schemaVersion": 2, "mediaType": media_type,
                           "config": {"digest": "sha256:" + layer * 64}, "layers": []})  # fmt: skip
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    return client.put_image(
        repositoryName="modelops", imageTag=tag, imageManifest=manifest, imageDigest=digest
    )["image"]["imageId"]["imageDigest"]


def test_a_single_platform_manifest_passes_and_an_index_is_refused(ecr):
    digest = put(ecr, "ok", image.LAMBDA_MANIFEST_TYPES[0])
    assert image.check_lambda_manifest(REPOSITORY, digest, ecr) == image.LAMBDA_MANIFEST_TYPES[0]
    index = put(ecr, "index", "application/vnd.oci.image.index.v1+json", layer="b")
    with pytest.raises(image.ImageError, match="Lambda runs only a single-platform image"):
        image.check_lambda_manifest(REPOSITORY, index, ecr)


def test_a_rerun_reuses_the_digest_of_the_tag_already_pushed(ecr):
    assert image.existing_image(REPOSITORY, "abc-v1", ecr) is None
    digest = put(ecr, "abc-v1", image.LAMBDA_MANIFEST_TYPES[1])
    assert image.existing_image(REPOSITORY, "abc-v1", ecr) == f"{REPOSITORY}@{digest}"
    # what a rebuild would meet: the tag is immutable, another digest is refused
    with pytest.raises(ecr.exceptions.ImageAlreadyExistsException):
        put(ecr, "abc-v1", image.LAMBDA_MANIFEST_TYPES[1], layer="c")


def test_registries_other_than_ecr_are_not_checked():
    assert image.existing_image("ghcr.io/acme/modelops", "abc-v1") is None
    assert image.check_lambda_manifest("ghcr.io/acme/modelops", "sha256:" + "0" * 64) is None


@pytest.mark.slow
def test_prod_promote_warns_when_the_tracking_server_never_registered_the_model(tmp_path):
    """CI on main tracks locally, so the team's server may not know the released version: the
    deploy already succeeded, and the run must not turn red (it says so as a warning)."""
    from tests.infra.tools import ROOT

    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
           "GITHUB_ACTIONS": "true"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.promote", "--version", "7", "--data-hash", "abc",
         "--if-registered"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "::warning::champion not moved: model 'modelops-classifier' has no version 7" in (
        result.stdout
    )
