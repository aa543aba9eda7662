"""The release CLI against a real moto server: versions, aliases, routing weights, rollback.

moto is not AWS where it matters most here: AWS's PublishVersion publishes nothing when the
function's code and configuration are unchanged since the last published version and returns
that version (Lambda API reference, PublishVersion); moto 5 publishes a new version every time.
The tests' client therefore wraps moto's PublishVersion with AWS's documented behaviour
(`AwsPublishVersion`), so that what the first real deploy meets (Terraform's version 1 already
runs the released digest) is what the tests meet.
"""

import json
import subprocess
import sys
import uuid

import boto3
import pytest

from modelops.delivery.rehearse import DocumentedLambda
from modelops.delivery.release import (
    CANDIDATE,
    LIVE,
    VERSION_DESCRIPTION_PREFIX,
    Release,
    ReleaseError,
    main,
    validate_image_uri,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("moto")]

REGION = "eu-west-1"
REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelops"


def image(n: int) -> str:
    return f"{REPO}@sha256:{n:064x}"


@pytest.fixture
def aws_env(moto_url, monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_url,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_url


class PublishRecorder:
    """Moto's client, recording the versions moto really publishes (under DocumentedLambda)."""

    def __init__(self, client):
        self._client = client
        self.published = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def publish_version(self, **kwargs):
        response = self._client.publish_version(**kwargs)
        self.published.append(response["Version"])
        return response


class AwsPublishVersion(DocumentedLambda):
    """A boto3 Lambda client whose PublishVersion follows AWS's documentation, not moto's.

    AWS: "Lambda doesn't publish a version if the function's configuration and code haven't
    changed since the last version" -- it returns the last version instead, with its own
    description (the rehearsal's DocumentedLambda). Everything else goes to moto unchanged;
    `published` lists the versions moto really published through it.
    """

    def __init__(self, client):
        self.recorder = PublishRecorder(client)
        super().__init__(self.recorder)

    @property
    def published(self):
        return self.recorder.published


@pytest.fixture
def client(aws_env):
    return AwsPublishVersion(boto3.client("lambda", region_name=REGION, endpoint_url=aws_env))


def test_the_fixture_follows_aws_publish_version_semantics(client, function):
    """Unchanged code and configuration: the last version comes back, nothing is published."""
    again = client.publish_version(FunctionName=function, Description="no change")
    assert again["Version"] == "1" and client.published == []
    client.update_function_configuration(FunctionName=function, MemorySize=2048)
    client.get_waiter("function_updated_v2").wait(FunctionName=function, WaiterConfig={"Delay": 1})
    assert client.publish_version(FunctionName=function)["Version"] == "2"


@pytest.fixture
def function(client, aws_env):
    """What the first `terraform apply` leaves: version 1 of the first image, both aliases on it,
    a function URL on each alias."""
    iam = boto3.client("iam", region_name=REGION, endpoint_url=aws_env)
    name = f"modelops-test-{uuid.uuid4().hex[:8]}"
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    client.create_function(
        FunctionName=name,
        Role=role,
        PackageType="Image",
        Code={"ImageUri": image(1)},
        Publish=True,
        MemorySize=1024,
        Timeout=30,
    )
    for alias in (LIVE, CANDIDATE):
        client.create_alias(FunctionName=name, Name=alias, FunctionVersion="1")
        client.create_function_url_config(FunctionName=name, Qualifier=alias, AuthType="AWS_IAM")
    return name


@pytest.fixture
def release(client, function):
    return Release(client, function, waiter_delay=1)


def live_alias(client, name):
    return client.get_alias(FunctionName=name, Name=LIVE)


def test_candidate_publishes_a_version_for_the_digest_and_points_candidate_at_it(
    release, client, function
):
    state = release.candidate(image(2))

    assert state.changed and state.version == "2"
    assert client.get_alias(FunctionName=function, Name=CANDIDATE)["FunctionVersion"] == "2"
    assert live_alias(client, function)["FunctionVersion"] == "1"
    versions = client.list_versions_by_function(FunctionName=function)["Versions"]
    assert {v["Version"] for v in versions} == {"$LATEST", "1", "2"}
    assert state.candidate_image == image(2)
    assert state.candidate_url and state.live_url


def test_candidate_is_idempotent_for_the_same_digest(release, client, function):
    first = release.candidate(image(2))
    again = release.candidate(image(2))

    assert again.version == first.version == "2"
    assert not again.changed
    versions = client.list_versions_by_function(FunctionName=function)["Versions"]
    assert len(versions) == 3  # $LATEST, 1, 2: nothing new published


def test_candidate_reuses_an_older_version_when_its_digest_comes_back(release, client, function):
    release.candidate(image(2))
    release.candidate(image(3))
    back = release.candidate(image(2))

    assert back.version == "2" and back.changed  # the alias moved, nothing was published
    assert client.get_alias(FunctionName=function, Name=CANDIDATE)["FunctionVersion"] == "2"
    assert len(client.list_versions_by_function(FunctionName=function)["Versions"]) == 4


def test_canary_routes_the_weight_to_the_candidate_and_keeps_live_primary(
    release, client, function
):
    release.candidate(image(2))
    state = release.canary(0.1)

    alias = live_alias(client, function)
    assert alias["FunctionVersion"] == "1"
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.1}
    assert state.canary_weight == pytest.approx(0.1) and state.version == "2"
    assert not release.canary(0.1).changed  # same weight again: nothing to do
    status = release.status()
    assert (status.live_version, status.candidate_version) == ("1", "2")
    assert status.canary_weight == pytest.approx(0.1) and status.candidate_image == image(2)


def test_promote_moves_live_fully_and_remembers_the_previous_version(release, client, function):
    release.candidate(image(2))
    release.canary(0.25)
    state = release.promote()

    alias = live_alias(client, function)
    assert alias["FunctionVersion"] == "2"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert state.previous_version == "1" and state.live_version == "2"
    assert not release.promote().changed  # promoting again changes nothing


def test_rollback_during_a_canary_keeps_live_on_its_primary_version(release, client, function):
    release.candidate(image(2))
    release.canary(0.5)
    state = release.rollback()

    alias = live_alias(client, function)
    assert alias["FunctionVersion"] == "1"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert state.changed and state.canary_weight == 0


def test_rollback_after_promote_returns_to_the_previous_version_once(release, client, function):
    release.candidate(image(2))
    release.promote()
    release.candidate(image(3))
    release.promote()
    assert live_alias(client, function)["FunctionVersion"] == "3"

    state = release.rollback()
    assert state.changed and live_alias(client, function)["FunctionVersion"] == "2"

    again = release.rollback()  # idempotent: does not walk further back to version 1
    assert not again.changed and live_alias(client, function)["FunctionVersion"] == "2"


def test_rollback_with_nothing_promoted_changes_nothing(release, client, function):
    state = release.rollback()
    assert not state.changed and state.live_version == "1"
    assert live_alias(client, function)["FunctionVersion"] == "1"


def test_canary_of_a_candidate_that_is_already_live_changes_nothing(release, client, function):
    state = release.canary(0.1)
    assert not state.changed and state.canary_weight == 0
    assert not (live_alias(client, function).get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )


def test_first_release_of_terraforms_digest_finds_version_1(release, client, function):
    """The first apply published version 1 from image(1); CD then releases that same digest.
    AWS publishes nothing new, and version 1 (described by Terraform, not by this CLI) is found."""
    state = release.candidate(image(1))
    assert state.version == "1" and not state.changed
    assert client.published == []
    assert (state.live_version, state.candidate_version) == ("1", "1")


@pytest.mark.parametrize("weight", [0, 1, 1.5, -0.1])
def test_bad_weight_is_refused_before_anything_changes(release, client, function, weight):
    release.candidate(image(2))
    with pytest.raises(ReleaseError, match="weight"):
        release.canary(weight)
    assert not (live_alias(client, function).get("RoutingConfig") or {}).get(
        "AdditionalVersionWeights"
    )


@pytest.mark.parametrize(
    "uri",
    [
        f"{REPO}:latest",
        f"{REPO}@sha256:abc",
        f"{REPO}@sha256:{'G' * 64}",
        "",
        f"{REPO}@md5:{'0' * 64}",
    ],
)
def test_image_not_pinned_by_digest_is_refused(release, client, function, uri):
    with pytest.raises(ReleaseError, match="not pinned by digest"):
        release.candidate(uri)
    assert len(client.list_versions_by_function(FunctionName=function)["Versions"]) == 2


def test_unknown_function_names_the_function_and_region(client):
    with pytest.raises(ReleaseError, match=r"not found in region eu-west-1.*'no-such-fn'"):
        Release(client, "no-such-fn").candidate(image(2))


def test_validate_image_uri_accepts_an_ecr_digest():
    assert validate_image_uri(image(7)) == image(7)


def test_cli_prints_json_and_writes_github_output(function, aws_env, tmp_path, monkeypatch, capsys):
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("FUNCTION_NAME", function)

    assert main(["candidate", image(2)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["candidate_version"] == "2" and printed["action"] == "candidate"
    assert main(["promote"]) == 0
    capsys.readouterr()

    lines = output.read_text().splitlines()
    assert "version=2" in lines and "previous_version=1" in lines
    assert any(line.startswith("live_url=http") for line in lines)
    assert any(line.startswith("candidate_url=http") for line in lines)


def test_cli_errors_exit_non_zero_with_the_reason(function, aws_env, monkeypatch):
    monkeypatch.setenv("FUNCTION_NAME", function)
    result = subprocess.run(
        [sys.executable, "-m", "modelops.delivery.release", "canary", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "weight 2.0 must be greater than 0 and less than 1" in result.stderr


def test_cli_without_function_name_says_what_is_missing(monkeypatch, capsys):
    monkeypatch.delenv("FUNCTION_NAME", raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    assert main(["status"]) == 2
    assert "FUNCTION_NAME" in capsys.readouterr().err


def test_cli_without_credentials_fails_fast_with_the_reason(monkeypatch, capsys, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert main(["--function-name", "fn", "--region", REGION, "status"]) == 1
    assert "credentials" in capsys.readouterr().err.lower()


# -- the CD sequence of deploy.yml, end to end against moto with AWS's PublishVersion ---------
class SmokeFailed(Exception):
    pass


def deploy(release: Release, image_uri: str, failing_smoke: str | None = None) -> dict:
    """deploy.yml's release steps in order, with its rollback rule: roll `live` back only when
    this run moved it (canary or promote changed something) and a later step failed.
    `failing_smoke` names the smoke step that fails: candidate, canary or promoted."""
    ran = {"rolled_back": False}

    def smoke(step):
        if step == failing_smoke:
            raise SmokeFailed(step)

    ran["candidate"] = release.candidate(image_uri)
    smoke("candidate")  # a failure here leaves live untouched: nothing to roll back
    moved = False
    try:
        ran["canary"] = release.canary(0.1)
        moved |= ran["canary"].changed
        smoke("canary")
        ran["promote"] = release.promote()
        moved |= ran["promote"].changed
        smoke("promoted")
    except SmokeFailed:
        if moved:
            ran["rollback"] = release.rollback()
            ran["rolled_back"] = True
        raise
    finally:
        ran["status"] = release.status()
    return ran


def test_cd_first_deploy_of_terraforms_digest_succeeds_and_changes_nothing(release, client):
    """terraform apply published version 1 from the image; CD releases the same digest."""
    ran = deploy(release, image(1))
    assert ran["status"].live_version == ran["status"].candidate_version == "1"
    assert not ran["canary"].changed and not ran["promote"].changed
    assert client.published == []


def test_cd_first_deploy_of_a_new_digest_promotes_it(release, client):
    ran = deploy(release, image(2))
    assert ran["canary"].changed and ran["promote"].changed
    assert ran["status"].live_version == "2" and ran["status"].previous_version == "1"


def test_cd_same_digest_redeploy_and_rerun_after_promote_keep_live(release, client, function):
    deploy(release, image(2))
    for _ in range(2):  # a later merge with the same image, then a re-run of that workflow
        ran = deploy(release, image(2))
        assert not any(ran[step].changed for step in ("candidate", "canary", "promote"))
        assert ran["status"].live_version == "2" and ran["status"].previous_version == "1"
    assert client.published == ["2"]


def test_cd_rerun_after_promote_whose_smoke_flakes_does_not_move_live_back(release, function):
    deploy(release, image(2))
    with pytest.raises(SmokeFailed):
        deploy(release, image(2), failing_smoke="promoted")
    status = release.status()
    assert status.live_version == "2"  # this run moved nothing, so it rolls nothing back


@pytest.mark.parametrize("failing", ["canary", "promoted"])
def test_cd_failed_smoke_rolls_live_back(release, client, function, failing):
    deploy(release, image(2))
    with pytest.raises(SmokeFailed):
        deploy(release, image(3), failing_smoke=failing)
    alias = live_alias(client, function)
    assert alias["FunctionVersion"] == "2"
    assert not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert release.status().candidate_version == "3"


def test_cd_failed_candidate_smoke_leaves_live_alone(release, client, function):
    with pytest.raises(SmokeFailed):
        deploy(release, image(2), failing_smoke="candidate")
    assert live_alias(client, function)["FunctionVersion"] == "1"


def test_cd_rerun_after_rollback_releases_again(release, client, function):
    deploy(release, image(2))
    with pytest.raises(SmokeFailed):
        deploy(release, image(3), failing_smoke="promoted")
    assert live_alias(client, function)["FunctionVersion"] == "2"

    ran = deploy(release, image(3))  # the fault was elsewhere: the re-run goes through
    assert ran["candidate"].version == "3" and not ran["candidate"].changed
    assert ran["status"].live_version == "3" and ran["status"].previous_version == "2"
    assert client.published == ["2", "3"]  # version 3 was found again, not published twice
    assert VERSION_DESCRIPTION_PREFIX + image(3) in {
        v.get("Description")
        for v in client.list_versions_by_function(FunctionName=function)["Versions"]
    }
