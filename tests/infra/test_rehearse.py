"""`make rehearse`: the whole first merge, and the rules it plays by, each able to fail.

The journey itself runs once (moto on loopback, DVC in subprocesses: about a minute); the rules
it is made of are tested one by one against the defects issue #21 found, so each test here would
have failed on the configuration before the fix.
"""

import copy
import io
import json

import pytest
import yaml

from modelops.delivery import rehearse as r
from tests.infra.tools import ROOT, TOOLS

FIXTURES = ROOT / "tests" / "infra" / "fixtures"
REPO = r.GitHubRepository("acme", "modelops", 1234567, 890123456, immutable_subjects=True)
PROVIDER = f"arn:aws:iam::{r.ACCOUNT}:oidc-provider/{r.OIDC_HOST}"


def trust_policy(*subjects: str) -> dict:
    return {"Statement": [{"Effect": "Allow", "Principal": {"Federated": PROVIDER},
                           "Action": "sts:AssumeRoleWithWebIdentity",
                           "Condition": {"StringEquals": {
                               f"{r.OIDC_HOST}:aud": "sts.amazonaws.com",
                               f"{r.OIDC_HOST}:sub": list(subjects)}}}]}  # fmt: skip


def test_a_name_only_trust_policy_refuses_a_repository_with_immutable_subjects():
    """The defect: trust on `repo:OWNER/REPO:...` only; GitHub sends `repo:OWNER@ID/REPO@ID:...`
    for repositories created or renamed on or after 2026-07-15."""
    claims = REPO.token("prod")
    assert claims["sub"] == "repo:acme@1234567/modelops@890123456:environment:prod"
    ok, why = r.trust_allows(trust_policy("repo:acme/modelops:environment:prod"), PROVIDER, claims)
    assert not ok and "does not match" in why
    both = trust_policy(claims["sub"], "repo:acme/modelops:environment:prod")
    assert r.trust_allows(both, PROVIDER, claims)[0]
    assert not r.trust_allows(both, PROVIDER, REPO.token(None))[0]  # main, no environment


def test_the_bootstrap_plan_trusts_what_github_sends_for_both_repository_forms():
    plan = json.loads((FIXTURES / "plan_bootstrap_first.json").read_text())
    # the deploy roles by environment, the read-only ones by what they are (pull_request, monitor)
    roles = {item["index"]: json.loads(item["change"]["after"]["assume_role_policy"])
             for item in plan["resource_changes"] if item["type"] == "aws_iam_role"}  # fmt: skip
    legacy = r.GitHubRepository("acme", "modelops", 1234567, 890123456, immutable_subjects=False)
    for repo in (REPO, legacy):
        assert r.trust_allows(roles["prod"], PROVIDER, repo.token("prod"))[0]
        assert r.trust_allows(roles["staging"], PROVIDER, repo.token(None))[0]
        assert r.trust_allows(roles["staging"], PROVIDER, repo.token("staging"))[0]
        assert not r.trust_allows(roles["prod"], PROVIDER, repo.token(None))[0]
        # CI on pull requests: only the read-only role, only this repository's pull requests
        assert repo.pull_request_token()["sub"] == f"repo:{repo.repo_claim}:pull_request"
        assert r.trust_allows(roles["pull_request"], PROVIDER, repo.pull_request_token())[0]
        assert not r.trust_allows(roles["pull_request"], PROVIDER, repo.token(None))[0]
        for deploy in ("staging", "prod"):
            assert not r.trust_allows(roles[deploy], PROVIDER, repo.pull_request_token())[0]
        # the monitor (monitor.yml on main, no environment): main's jobs only
        assert r.trust_allows(roles["monitor"], PROVIDER, repo.token(None))[0]
        assert not r.trust_allows(roles["monitor"], PROVIDER, repo.token("prod"))[0]
        assert not r.trust_allows(roles["monitor"], PROVIDER, repo.pull_request_token())[0]
        branch = {**repo.token(None), "sub": repo.subject(None, "refs/heads/feature")}
        assert not r.trust_allows(roles["monitor"], PROVIDER, branch)[0]
    other = r.GitHubRepository("someone", "modelops", 7, 8, immutable_subjects=False)
    assert not r.trust_allows(roles["pull_request"], PROVIDER, other.pull_request_token())[0]
    assert not r.trust_allows(roles["monitor"], PROVIDER, other.token(None))[0]


def test_a_repository_without_environments_cannot_name_one():
    free = r.GitHubRepository("acme", "modelops", 1, 2, True, environments=False)
    assert free.token(None)["sub"] == "repo:acme@1/modelops@2:ref:refs/heads/main"
    with pytest.raises(r.RehearsalFailed, match="no environments"):
        free.token("prod")


def test_unknown_policies_are_found_in_a_first_plan_as_terraform_writes_it():
    """The defect: the trust policy read the provider's computed ARN, Terraform deferred the data
    source, and assume_role_policy was unknown (true in after_unknown, absent from after)."""
    plan = json.loads((FIXTURES / "plan_bootstrap_first.json").read_text())
    assert r.unknown_policies(plan) == []
    broken = copy.deepcopy(plan)
    role = next(
        i for i in broken["resource_changes"] if i["address"] == 'aws_iam_role.deploy["prod"]'
    )
    role["change"]["after"].pop("assume_role_policy")
    role["change"]["after_unknown"]["assume_role_policy"] = True
    assert r.unknown_policies(broken) == ['aws_iam_role.deploy["prod"].assume_role_policy']


def test_github_keeps_one_pending_run_per_group():
    """cancel-in-progress: false keeps the running run, not the pending one: with a group per
    ref (the old ci.yml), the middle of three quick merges never ran."""
    per_ref = {"concurrency": {"group": "ci-${{ github.event.pull_request.number || github.ref }}"}}
    groups = r.ConcurrencyGroups()
    for sha in ("a", "b", "c"):
        groups.queue(r.ci_concurrency_group(per_ref, sha), sha)
    assert groups.cancelled == ["b"]
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    groups = r.ConcurrencyGroups()
    for sha in ("a", "b", "c"):
        groups.queue(r.ci_concurrency_group(ci, sha), sha)
    assert groups.cancelled == [] and len(groups.running) == 3


def test_deploy_step_conditions_evaluate_as_github_does():
    job = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]["deploy"]
    rollback = next(s for s in job["steps"] if "release-rollback" in s.get("run", ""))["if"]
    moved = {"canary": {"outputs": {"changed": "true"}}}
    assert r.github_condition(rollback, moved, failed=True, inputs={})
    assert not r.github_condition(rollback, moved, failed=False, inputs={})
    assert not r.github_condition(rollback, {"canary": {"outputs": {"changed": "false"}}},
                                  failed=True, inputs={})  # fmt: skip
    assert not r.github_condition("", {}, failed=True, inputs={})  # success() by default
    assert r.github_condition("inputs.environment == 'prod'", {}, False, {"environment": "prod"})


def test_a_prefix_conditioned_list_grant_leaves_s3fs_without_headbucket():
    plan = json.loads((FIXTURES / "plan_bootstrap_first.json").read_text())
    assert {"s3:ListBucket", "s3:GetBucketLocation"} <= r.dvc_remote_grants(plan, "staging")
    old = copy.deepcopy(plan)
    for item in old["resource_changes"]:
        if item["address"] == 'aws_iam_role_policy.deploy["staging"]':
            doc = json.loads(item["change"]["after"]["policy"])
            for statement in doc["Statement"]:
                if statement.get("Sid") == "DvcRemoteList":
                    statement["Action"] = "s3:ListBucket"
                    statement["Condition"] = {"StringLike": {"s3:prefix": ["dvc", "dvc/*"]}}
            item["change"]["after"]["policy"] = json.dumps(doc)
    assert r.dvc_remote_grants(old, "staging") == set()


@pytest.mark.slow
@pytest.mark.xdist_group("moto")
def test_the_first_merge_rehearsal_passes_every_step():
    compliance = TOOLS / "terraform-compliance" / "bin" / "terraform-compliance"
    out = io.StringIO()
    journal = r.rehearse(FIXTURES, str(compliance) if compliance.exists() else None, out=out)
    assert not journal.failed, out.getvalue()
    names = [step.name for step in journal.steps]
    for expected in (
        "bootstrap plan: policies known on the first plan",
        "push before the repository variables: CD says what to set",
        "first push, CI: make pull ALLOW_MISSING=1 on the empty remote",
        "first merge, CD: staging and prod released and smoked",
        "re-run of the same CD: digest re-used, nothing moved",
        "a smoke failing during the canary rolls live back",
        "Free plan, private: staging deploys without environments, prod waits",
        "OIDC monitor on main (immutable subject)",
        "OIDC monitor role, a pull request",
        "OIDC monitor in environment prod",
    ):
        assert expected in names, out.getvalue()
    assert "✓ first merge, CD: staging and prod released and smoked" in out.getvalue()


def test_a_failed_step_names_the_documentation_it_contradicts():
    out = io.StringIO()
    journal = r.Journal(out=out)
    assert not journal.check("OIDC prod", False, "sub does not match", "oidc")
    assert "✗ OIDC prod: sub does not match  [contradicts: GitHub docs, OpenID Connect" in (
        out.getvalue()
    )
    with pytest.raises(r.RehearsalFailed):
        journal.require("x", False, "why", "policy")
