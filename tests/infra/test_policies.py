"""terraform-compliance policies (infra/policies) against plan-JSON fixtures.

The compliant plan passes every feature; each violation, made from it by changing one value,
fails its feature with the message naming the resource and the rule.
"""

import copy
import json
import re
import shutil
import subprocess

import pytest

from tests.infra.tools import ROOT, tool

POLICIES = ROOT / "infra" / "policies"
COMPLIANT = ROOT / "tests" / "infra" / "fixtures" / "plan_compliant.json"
FN = "module.serving.aws_lambda_function.service"
ECR = "aws_ecr_repository.service"
URL = 'module.serving.aws_lambda_function_url.this["live"]'


def load_plan() -> dict:
    return json.loads(COMPLIANT.read_text())


def resources(plan: dict, address: str) -> list[dict]:
    """The values of `address` in planned_values and resource_changes (both must agree)."""
    found = [
        change["change"]["after"]
        for change in plan["resource_changes"]
        if change["address"] == address
    ]
    modules = [
        plan["planned_values"]["root_module"],
        *plan["planned_values"]["root_module"].get("child_modules", []),
    ]
    found += [
        r["values"] for module in modules for r in module["resources"] if r["address"] == address
    ]
    assert len(found) == 2, f"{address} not in the fixture"
    return found


def violate(address: str, key: str, value=None, *, delete: bool = False, policy_key: str = ""):
    """A mutation of the plan: set (or delete) `key` of `address`; for `tags`, drop the tag
    `value`; with `policy_key`, set that field of the policy document's first statement."""

    def change(plan: dict) -> dict:
        plan = copy.deepcopy(plan)
        for values in resources(plan, address):
            if key == "tags":
                values["tags"].pop(value)
            elif policy_key:
                document = json.loads(values[key])
                document["Statement"][0][policy_key] = value
                values[key] = json.dumps(document)
            elif delete:
                values.pop(key)
            else:
                values[key] = value
        return plan

    return change


def run_compliance(tmp_path, plan: dict, feature: str | None = None) -> subprocess.CompletedProcess:
    binary = tool("terraform-compliance")
    # One line, like `terraform show -json` writes (terraform-compliance rewrites multi-line files).
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps(plan, separators=(",", ":")))
    features = POLICIES
    if feature:
        features = tmp_path / "features"
        features.mkdir()
        shutil.copy(POLICIES / feature, features / feature)
    return subprocess.run(
        [binary, "--no-ansi", "-f", str(features), "-p", str(plan_file)],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_every_policy_feature_has_a_violation_case():
    covered = {feature for feature, *_ in VIOLATIONS}
    assert covered == {path.name for path in POLICIES.glob("*.feature")}


def test_compliant_plan_passes_every_policy(tmp_path):
    result = run_compliance(tmp_path, load_plan())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failure:" not in result.stdout
    # Every scenario was evaluated, except the two that have nothing to check in this plan: it
    # has no aws_iam_policy (only role policies), and no public (NONE) function URL.
    skips = [line.strip() for line in result.stdout.splitlines() if "SKIPPING:" in line]
    assert skips and all(
        "Can not find aws_iam_policy defined" in line
        or "Can not find NONE authorization_type" in line
        for line in skips
    ), skips
    assert re.search(r"^\d+ scenarios \(20 passed, 3 skipped\)$", result.stdout, re.MULTILINE)


def public_url_with_cors(origins):
    def change(plan: dict) -> dict:
        plan = violate(URL, "authorization_type", "NONE")(plan)
        for values in resources(plan, URL):
            values["cors"] = [{"allow_origins": origins, "allow_methods": ["POST"]}]
        return plan

    return change


LOG_GROUP = "module.serving.aws_cloudwatch_log_group.function"
LOGS_POLICY = "module.serving.aws_iam_role_policy.logs"
DEPLOY_POLICY = 'aws_iam_role_policy.deploy["staging"]'
ECR_LOGIN = 'aws_iam_role_policy.ecr_login["staging"]'
BUCKET = "module.dvc_bucket.aws_s3_bucket_{}.this"
# (feature, how the compliant plan is broken, the failure message terraform-compliance must print)
VIOLATIONS = [
    (
        "tags.feature",
        violate(ECR, "tags", "Project"),
        "aws_ecr_repository.service (resource that supports tags) does not have Project property",
    ),
    (
        "tags.feature",
        violate(LOG_GROUP, "tags", "Environment"),
        f"{LOG_GROUP} (resource that supports tags) does not have Environment property",
    ),
    (
        "ecr.feature",
        violate(ECR, "image_tag_mutability", "MUTABLE"),
        "image_tag_mutability property in aws_ecr_repository.service resource does not match with "
        "^IMMUTABLE$ case insensitive regex. It is set to MUTABLE",
    ),
    (
        "ecr.feature",
        violate(ECR, "image_scanning_configuration", [{"scan_on_push": False}]),
        "scan_on_push property in aws_ecr_repository.service resource does not match with ^true$",
    ),
    (
        "lambda.feature",
        violate(FN, "memory_size", 256),
        f"{FN} on aws_lambda_function. 256 is not more and equal than 512",
    ),
    ("lambda.feature", violate(FN, "memory_size", 20480), "20480 is not less and equal than 10240"),
    ("lambda.feature", violate(FN, "timeout", 900), "900 is not less and equal than 60"),
    ("lambda.feature", violate(FN, "reserved_concurrent_executions", -1), "-1 is not more than 0"),
    (
        "function_url.feature",
        violate(URL, "authorization_type", delete=True),
        f"{URL} (aws_lambda_function_url) does not have authorization_type property",
    ),
    (
        "function_url.feature",
        violate(URL, "authorization_type", "NONE"),
        f"{URL} (aws_lambda_function_url) does not have cors property",
    ),
    (
        "function_url.feature",
        public_url_with_cors(["*"]),
        f"allow_origins property in {URL} resource matches with ^\\*$",
    ),
    (
        "logs.feature",
        violate(LOG_GROUP, "retention_in_days", 0),
        f"{LOG_GROUP} on aws_cloudwatch_log_group. 0 is not more than 0",
    ),
    (
        "iam.feature",
        violate(LOGS_POLICY, "policy", "logs:*", policy_key="Action"),
        "Action property in module.serving.aws_iam_role_policy.logs resource matches with .*\\*.* "
        "case insensitive regex. It is set to logs:*",
    ),
    (
        "iam.feature",
        violate(DEPLOY_POLICY, "policy", "*", policy_key="Resource"),
        'Resource property in aws_iam_role_policy.deploy["staging"] resource matches with ^\\*$',
    ),
    # the resource exception for ecr:GetAuthorizationToken does not extend to its actions
    (
        "iam.feature",
        violate(ECR_LOGIN, "policy", "ecr:*", policy_key="Action"),
        'Action property in aws_iam_role_policy.ecr_login["staging"] resource matches',
    ),
    (
        "s3.feature",
        violate(BUCKET.format("versioning"), "versioning_configuration", [{"status": "Suspended"}]),
        f"status property in {BUCKET.format('versioning')} resource does not match with ^Enabled$",
    ),
    (
        "s3.feature",
        violate(
            BUCKET.format("server_side_encryption_configuration"),
            "rule",
            [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}],
        ),
        "sse_algorithm property in module.dvc_bucket.aws_s3_bucket_server_side_encryption_"
        "configuration.this resource does not match with ^aws:kms$",
    ),
    (
        "s3.feature",
        violate(BUCKET.format("public_access_block"), "restrict_public_buckets", False),
        f"restrict_public_buckets property in {BUCKET.format('public_access_block')} resource "
        "does not match with ^true$",
    ),
]


@pytest.mark.parametrize(
    ("feature", "mutation", "message"),
    VIOLATIONS,
    ids=[f"{feature}-{i}" for i, (feature, *_rest) in enumerate(VIOLATIONS)],
)
def test_policy_fails_on_its_violation_with_its_message(tmp_path, feature, mutation, message):
    result = run_compliance(tmp_path, mutation(load_plan()), feature)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    failures = [line for line in output.splitlines() if "Failure:" in line]
    assert failures, output
    assert any(message in line for line in failures), "\n".join(failures)
