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
FIXTURES = ROOT / "tests" / "infra" / "fixtures"
# In the shape `terraform show -json tfplan` writes: for each environment stack a first plan
# (everything created, computed values unknown: absent from `after`, true in `after_unknown`)
# and an update plan (prior state, no-op changes, one in-place update), and the bootstrap's first
# plan. To refresh one from a real plan: `make plan ENV=staging`, then copy
# infra/envs/tfplan-staging.json here.
PLANS = {
    "staging_first": FIXTURES / "plan_staging_first.json",
    "staging_update": FIXTURES / "plan_staging_update.json",
    "prod_first": FIXTURES / "plan_prod_first.json",
    "prod_update": FIXTURES / "plan_prod_update.json",
    "bootstrap_first": FIXTURES / "plan_bootstrap_first.json",
    # staging's first plan with capture_archive = true (infra/modules/capture_archive)
    "staging_archive_first": FIXTURES / "plan_staging_archive_first.json",
}
FN = "module.serving.aws_lambda_function.service"
ECR = "aws_ecr_repository.service"
URL = 'module.serving.aws_lambda_function_url.this["live"]'


def load_plan(name: str = "staging_first") -> dict:
    return json.loads(PLANS[name].read_text())


def resources(plan: dict, address: str) -> list[dict]:
    """The values of `address` in planned_values and resource_changes (both must agree)."""
    found = [
        change["change"]["after"]
        for change in plan["resource_changes"]
        if change["address"] == address
    ]

    def walk(module: dict):
        yield from module.get("resources", [])
        for child in module.get("child_modules", []):
            yield from walk(child)

    found += [
        r["values"] for r in walk(plan["planned_values"]["root_module"]) if r["address"] == address
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


def unknown(address: str, key: str):
    """A mutation: `key` of `address` becomes "(known after apply)", as terraform writes it."""

    def change(plan: dict) -> dict:
        plan = copy.deepcopy(plan)
        for values in resources(plan, address):
            values.pop(key)
        for item in plan["resource_changes"]:
            if item["address"] == address:
                item["change"]["after_unknown"][key] = True
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
    covered = {feature for _plan, feature, *_ in VIOLATIONS}
    assert covered == {path.name for path in POLICIES.glob("*.feature")}


# Scenarios each plan evaluates; the rest skip because the plan has nothing they check (an env
# stack has no bucket, ECR repository or deploy role; the bootstrap no function; none has a
# public URL or an aws_iam_policy).
PASSED = {
    "bootstrap_first": 25,
    **{name: 15 for name in PLANS if not name.startswith("boot")},
    "staging_archive_first": 28,  # + the archive's 6 and its bucket's s3 scenarios, 15 + 6 + 7
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_each_fixture_plan_passes_every_policy(tmp_path, name):
    result = run_compliance(tmp_path, load_plan(name))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failure:" not in result.stdout
    skips = [line.strip() for line in result.stdout.splitlines() if "SKIPPING:" in line]
    assert all("Can not find" in line for line in skips), skips
    found = re.search(r"^(\d+) scenarios \((\d+) passed, (\d+) skipped\)$", result.stdout, re.M)
    assert found, result.stdout[-2000:]
    assert int(found.group(2)) == PASSED[name], result.stdout[-3000:]


def test_fixtures_have_the_shape_terraform_show_json_writes():
    for name, path in PLANS.items():
        plan = json.loads(path.read_text())
        assert {
            "format_version",
            "terraform_version",
            "variables",
            "planned_values",
            "resource_changes",
            "prior_state",
            "configuration",
            "timestamp",
            "applyable",
            "complete",
            "errored",
        } <= set(plan), name
        for item in plan["resource_changes"]:
            change = item["change"]
            assert {"actions", "before", "after", "after_unknown", "after_sensitive"} <= set(
                change
            ), (name, item["address"])
            if name.endswith("_first"):
                assert change["actions"] == ["create"] and change["before"] is None
                # unknown values are absent from `after` and true in `after_unknown`
                unknowns = [k for k, v in change["after_unknown"].items() if v is True]
                assert not set(unknowns) & set(change["after"]), item["address"]
        if name.endswith("_update"):
            actions = {tuple(item["change"]["actions"]) for item in plan["resource_changes"]}
            assert actions == {("no-op",), ("update",)}, actions
    # a first plan does not know what the provider computes: the function's ARN and version
    first = next(i for i in load_plan("staging_first")["resource_changes"] if i["address"] == FN)
    assert first["change"]["after_unknown"]["arn"] is True
    assert first["change"]["after_unknown"]["version"] is True


def test_policy_documents_are_known_on_a_first_plan():
    """An IAM policy whose ARN came from a resource created in the same apply is unknown on the
    first plan, and the policy check then fails on a policy it cannot read (defect: the logs
    policy embedded the log group's computed `arn`)."""
    for name in ("staging_first", "prod_first", "bootstrap_first", "staging_archive_first"):
        for item in load_plan(name)["resource_changes"]:
            if item["type"] == "aws_iam_role_policy":
                assert "policy" in item["change"]["after"], (name, item["address"])
    # a resource's computed `arn`, or a module output of one (the capture archive's bucket was
    # named by `module.bucket.arn`, so Firehose's write policy was unknown on a first plan)
    computed_arn = re.compile(r"\b(aws_[a-z0-9_]+|module)\.[a-z0-9_]+(\[[^\]]*\])?\.arn\b")
    for path in (ROOT / "infra").rglob("*.tf"):
        text = path.read_text()
        for block in re.finditer(r'data "aws_iam_policy_document" "\w+" \{.*?\n\}', text, re.S):
            assert not computed_arn.search(block.group(0)), (path, block.group(0)[:200])


def test_a_policy_unknown_at_plan_time_fails_the_iam_policy(tmp_path):
    plan = unknown("module.serving.aws_iam_role_policy.logs", "policy")(load_plan())
    result = run_compliance(tmp_path, plan, "iam.feature")
    assert result.returncode != 0
    assert "module.serving.aws_iam_role_policy.logs (aws_iam_role_policy) does not have policy" in (
        result.stdout
    )


def test_the_fixture_trusts_both_subject_forms_of_an_immutable_repository():
    """GitHub gives repositories created or renamed on or after 2026-07-15 subjects with the
    owner's and repository's IDs (`repo:OWNER@ID/REPO@ID:...`, docs: "Immutable subject
    claims"); the bootstrap, given `owner@id/name@id`, trusts them and the name form."""
    plan = load_plan("bootstrap_first")
    assert plan["variables"]["repository"]["value"] == "acme@1234567/modelops@890123456"
    for values in resources(plan, PROD_ROLE):
        condition = json.loads(values["assume_role_policy"])["Statement"][0]["Condition"]
        assert condition["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
            "repo:acme@1234567/modelops@890123456:environment:prod",
            "repo:acme/modelops:environment:prod",
        ]


def test_a_trust_policy_unknown_on_the_first_plan_fails_the_check(tmp_path):
    """Why the trust policy must not read the OIDC provider's computed ARN: Terraform then
    defers the data source, `assume_role_policy` is unknown on the first plan, and the check
    that runs before the first apply fails (make bootstrap could never create anything)."""
    plan = unknown(PROD_ROLE, "assume_role_policy")(load_plan("bootstrap_first"))
    result = run_compliance(tmp_path, plan, "iam_trust.feature")
    assert result.returncode != 0
    assert f"{PROD_ROLE} (aws_iam_role) does not have assume_role_policy" in result.stdout


def public_permissions(*, principal="*", auth="NONE", via_url=True, action=None):
    """The env plan with the two public-URL permissions the serving module creates for
    url_auth_type = NONE (one changed by the arguments)."""

    def change(plan: dict) -> dict:
        plan = copy.deepcopy(plan)
        module = next(
            m
            for m in plan["planned_values"]["root_module"]["child_modules"]
            if m["address"] == "module.serving"
        )
        for name, values in (
            (
                "public_url",
                {"action": action or "lambda:InvokeFunctionUrl", "function_url_auth_type": auth},
            ),
            (
                "public_url_invoke",
                {"action": "lambda:InvokeFunction", "invoked_via_function_url": via_url},
            ),
        ):
            values = {
                **values,
                "function_name": "modelops-staging",
                "principal": principal,
                "qualifier": "live",
                "statement_id": f"{name}-live",
            }
            address = f'module.serving.aws_lambda_permission.{name}["live"]'
            base = {
                "address": address,
                "mode": "managed",
                "type": "aws_lambda_permission",
                "name": name,
                "index": "live",
                "provider_name": "registry.terraform.io/hashicorp/aws",
            }
            module["resources"].append(
                {**base, "schema_version": 0, "values": values, "sensitive_values": {}}
            )
            plan["resource_changes"].append(
                {
                    **base,
                    "module_address": "module.serving",
                    "change": {
                        "actions": ["create"],
                        "before": None,
                        "after": values,
                        "after_unknown": {"id": True},
                        "before_sensitive": False,
                        "after_sensitive": {},
                    },
                }
            )
        return plan

    return change


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
PROD_ROLE = 'aws_iam_role.deploy["prod"]'
PR_ROLE = 'aws_iam_role.read_only["pull_request"]'
PR_POLICY = "aws_iam_role_policy.pull_request[0]"
MONITOR_ROLE = 'aws_iam_role.read_only["monitor"]'
MONITOR_POLICY = "aws_iam_role_policy.monitor[0]"
LABELLED_POLICY = "aws_iam_role_policy.deploy_labelled_data[0]"
ARCHIVE = "module.capture_archive[0]"
FIREHOSE_POLICY = f"{ARCHIVE}.aws_iam_role_policy.firehose_write"
FIREHOSE_ROLE = f"{ARCHIVE}.aws_iam_role.firehose"
LOGS_PUT = f"{ARCHIVE}.aws_iam_role_policy.logs_put"
LOGS_ROLE = f"{ARCHIVE}.aws_iam_role.logs"
ARCHIVE_BUCKET = "arn:aws:s3:::modelops-staging-captures-123456789012"
STREAMS = "arn:aws:firehose:eu-west-1:123456789012:deliverystream"
ENV_ROLE = "module.serving.aws_iam_role.function"
SSE = BUCKET.format("server_side_encryption_configuration")


def trust(address: str, edit):
    """A mutation of a role's trust policy document (`edit(statement)` changes it in place)."""

    def change(plan: dict) -> dict:
        plan = copy.deepcopy(plan)
        for values in resources(plan, address):
            document = json.loads(values["assume_role_policy"])
            edit(document["Statement"][0])
            values["assume_role_policy"] = json.dumps(document)
        return plan

    return change


def in_statement(address: str, sid: str, key: str, value):
    """A mutation of one statement (by Sid) of a role policy: set its `key` to `value`."""

    def change(plan: dict) -> dict:
        plan = copy.deepcopy(plan)
        for values in resources(plan, address):
            document = json.loads(values["policy"])
            (statement,) = [s for s in document["Statement"] if s["Sid"] == sid]
            statement[key] = value
            values["policy"] = json.dumps(document)
        return plan

    return change


def set_subjects(*subjects):
    def edit(statement):
        statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] = list(
            subjects
        )

    return edit


def sse_key(key_id):
    return violate(
        SSE,
        "rule",
        [
            {
                "apply_server_side_encryption_by_default": [
                    {"sse_algorithm": "aws:kms", "kms_master_key_id": key_id}
                ]
            }
        ],
    )


REPO = "repo:acme/modelops"
# (plan, feature, how the plan is broken, the failure message terraform-compliance must print)
LOGGING = {
    "log_format": "JSON",
    "application_log_level": "INFO",
    "system_log_level": "INFO",
    "log_group": "/aws/lambda/modelops-prod",
}
VIOLATIONS = [
    (
        "bootstrap_first",
        "tags.feature",
        violate(ECR, "tags", "Project"),
        "aws_ecr_repository.service (resource that supports tags) does not have Project property",
    ),
    (
        "staging_update",
        "tags.feature",
        violate(LOG_GROUP, "tags", "Environment"),
        f"{LOG_GROUP} (resource that supports tags) does not have Environment property",
    ),
    (
        "bootstrap_first",
        "ecr.feature",
        violate(ECR, "image_tag_mutability", "MUTABLE"),
        "image_tag_mutability property in aws_ecr_repository.service resource does not match with "
        "^IMMUTABLE$ case insensitive regex. It is set to MUTABLE",
    ),
    (
        "bootstrap_first",
        "ecr.feature",
        violate(ECR, "image_scanning_configuration", [{"scan_on_push": False}]),
        "scan_on_push property in aws_ecr_repository.service resource does not match with ^true$",
    ),
    (  # Text logs: the capture lines would not be structured events Logs Insights can read
        "prod_first",
        "lambda.feature",
        violate(FN, "logging_config", [{**LOGGING, "log_format": "Text"}]),
        f"log_format property in {FN} resource does not match with ^JSON$ case insensitive regex. "
        "It is set to Text",
    ),
    (  # WARN: Lambda would drop every capture line (it gives them the level INFO)
        "staging_update",
        "lambda.feature",
        violate(FN, "logging_config", [{**LOGGING, "application_log_level": "WARN"}]),
        "does not match with ^(TRACE|DEBUG|INFO)$",
    ),
    (
        "staging_first",
        "lambda.feature",
        violate(FN, "memory_size", 256),
        f"{FN} on aws_lambda_function. 256 is not more and equal than 512",
    ),
    (
        "prod_update",
        "lambda.feature",
        violate(FN, "memory_size", 20480),
        "20480 is not less and equal than 10240",
    ),
    (
        "prod_first",
        "lambda.feature",
        violate(FN, "timeout", 900),
        "900 is not less and equal than 60",
    ),
    (
        "staging_first",
        "lambda.feature",
        violate(FN, "reserved_concurrent_executions", 0),
        "reserved_concurrent_executions property in module.serving.aws_lambda_function.service "
        "resource matches with ^0$",
    ),
    (
        "staging_first",
        "function_url.feature",
        violate(URL, "authorization_type", delete=True),
        f"{URL} (aws_lambda_function_url) does not have authorization_type property",
    ),
    (
        "staging_update",
        "function_url.feature",
        violate(URL, "authorization_type", "NONE"),
        f"{URL} (aws_lambda_function_url) does not have cors property",
    ),
    (
        "staging_first",
        "function_url.feature",
        public_url_with_cors(["*"]),
        f"allow_origins property in {URL} resource matches with ^\\*$",
    ),
    (
        "prod_first",
        "logs.feature",
        violate(LOG_GROUP, "retention_in_days", 0),
        f"{LOG_GROUP} on aws_cloudwatch_log_group. 0 is not more than 0",
    ),
    (
        "staging_first",
        "iam.feature",
        violate(LOGS_POLICY, "policy", "logs:*", policy_key="Action"),
        "Action property in module.serving.aws_iam_role_policy.logs resource matches with .*\\*.* "
        "case insensitive regex. It is set to logs:*",
    ),
    (
        "bootstrap_first",
        "iam.feature",
        violate(DEPLOY_POLICY, "policy", "*", policy_key="Resource"),
        'Resource property in aws_iam_role_policy.deploy["staging"] resource matches with ^\\*$',
    ),
    # the resource exception for ecr:GetAuthorizationToken does not extend to its actions
    (
        "bootstrap_first",
        "iam.feature",
        violate(ECR_LOGIN, "policy", "ecr:*", policy_key="Action"),
        'Action property in aws_iam_role_policy.ecr_login["staging"] resource matches',
    ),
    (
        "bootstrap_first",
        "s3.feature",
        violate(BUCKET.format("versioning"), "versioning_configuration", [{"status": "Suspended"}]),
        f"status property in {BUCKET.format('versioning')} resource does not match with ^Enabled$",
    ),
    (
        "bootstrap_first",
        "s3.feature",
        violate(
            SSE,
            "rule",
            [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}],
        ),
        "sse_algorithm property in module.dvc_bucket.aws_s3_bucket_server_side_encryption_"
        "configuration.this resource does not match with ^aws:kms$",
    ),
    # KMS, but with AWS's own key for S3 instead of the project's
    (
        "bootstrap_first",
        "s3.feature",
        sse_key("arn:aws:kms:eu-west-1:123456789012:alias/aws/s3"),
        f"kms_master_key_id property in {SSE} resource does not match with",
    ),
    (
        "bootstrap_first",
        "s3.feature",
        violate(BUCKET.format("public_access_block"), "restrict_public_buckets", False),
        f"restrict_public_buckets property in {BUCKET.format('public_access_block')} resource "
        "does not match with ^true$",
    ),
    (
        "staging_first",
        "lambda_permission.feature",
        public_permissions(action="lambda:UpdateFunctionCode"),
        'action property in module.serving.aws_lambda_permission.public_url["live"] resource '
        "does not match with ^lambda:InvokeFunction(Url)?$",
    ),
    (
        "staging_first",
        "lambda_permission.feature",
        public_permissions(auth="AWS_IAM"),
        "function_url_auth_type property in module.serving.aws_lambda_permission.public_url",
    ),
    (
        "staging_first",
        "lambda_permission.feature",
        public_permissions(via_url=False),
        "invoked_via_function_url property in module.serving.aws_lambda_permission."
        "public_url_invoke",
    ),
    (
        "staging_first",
        "iam_trust.feature",
        trust(ENV_ROLE, lambda statement: statement.update(Principal="*")),
        f"Principal property in {ENV_ROLE} resource matches with ^\\*$",
    ),
    # the defect: production also trusted any job on main, which skips its environment's reviewers
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(PROD_ROLE, set_subjects(f"{REPO}:ref:refs/heads/main", f"{REPO}:environment:prod")),
        f"token.actions.githubusercontent.com:sub property in {PROD_ROLE} resource does not match "
        "with ^repo:[^:]+/[^:]+:environment:prod$",
    ),
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust('aws_iam_role.deploy["staging"]', set_subjects(f"{REPO}:*")),
        'token.actions.githubusercontent.com:sub property in aws_iam_role.deploy["staging"] '
        "resource matches with .*\\* case insensitive regex. It is set to repo:acme/modelops:*",
    ),
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(
            PROD_ROLE,
            lambda statement: statement["Condition"]["StringEquals"].update(
                {"token.actions.githubusercontent.com:aud": "example.com"}
            ),
        ),
        f"token.actions.githubusercontent.com:aud property in {PROD_ROLE} resource does not match",
    ),
    # any branch but main, or another claim, is not a subject the deploy roles may trust
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(
            'aws_iam_role.deploy["staging"]',
            set_subjects(f"{REPO}:ref:refs/heads/feature", f"{REPO}:environment:staging"),
        ),
        'token.actions.githubusercontent.com:sub property in aws_iam_role.deploy["staging"] '
        "resource does not match with ^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/",
    ),
    # the pull-request role: only this repository's pull_request subject, and only reads
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(PR_ROLE, set_subjects(f"{REPO}:pull_request", f"{REPO}:ref:refs/heads/feature")),
        f"token.actions.githubusercontent.com:sub property in {PR_ROLE} resource does not match "
        "with ^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?:pull_request$",
    ),
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(
            PR_ROLE,
            lambda statement: statement["Condition"]["StringEquals"].update(
                {"token.actions.githubusercontent.com:aud": "example.com"}
            ),
        ),
        f"token.actions.githubusercontent.com:aud property in {PR_ROLE} resource does not match",
    ),
    (  # a write to the DVC remote from a pull request
        "bootstrap_first",
        "iam.feature",
        violate(PR_POLICY, "policy", ["s3:GetObject", "s3:PutObject"], policy_key="Action"),
        f"Action property in {PR_POLICY} resource does not match with ^(s3:(GetObject|",
    ),
    # the capture archive (staging with capture_archive = true): Firehose writes only its
    # bucket's two prefixes, Logs puts only to its stream, each role trusted by its service only
    (
        "staging_archive_first",
        "capture_archive.feature",
        violate(FIREHOSE_POLICY, "policy", f"{ARCHIVE_BUCKET}/*", policy_key="Resource"),
        f"Resource property in {FIREHOSE_POLICY} resource does not match with ^(arn:aws",
    ),
    (
        "staging_archive_first",
        "capture_archive.feature",
        violate(
            FIREHOSE_POLICY, "policy", ["s3:PutObject", "s3:DeleteObject"], policy_key="Action"
        ),
        f"Action property in {FIREHOSE_POLICY} resource does not match with ^(s3:(AbortMultipart",
    ),
    (
        "staging_archive_first",
        "capture_archive.feature",
        violate(LOGS_PUT, "policy", "firehose:DeleteDeliveryStream", policy_key="Action"),
        f"Action property in {LOGS_PUT} resource does not match with ^firehose:(PutRecord|",
    ),
    (
        "staging_archive_first",
        "capture_archive.feature",
        violate(LOGS_PUT, "policy", f"{STREAMS}/another-stream", policy_key="Resource"),
        f"Resource property in {LOGS_PUT} resource does not match with ^arn:aws[a-z-]*:firehose:",
    ),
    (
        "staging_archive_first",
        "capture_archive.feature",
        trust(FIREHOSE_ROLE, lambda s: s.update(Principal={"Service": "lambda.amazonaws.com"})),
        f"Service property in {FIREHOSE_ROLE} resource does not match with ^firehose",
    ),
    (
        "staging_archive_first",
        "capture_archive.feature",
        trust(LOGS_ROLE, lambda s: s.update(Principal={"Service": "firehose.amazonaws.com"})),
        f"Service property in {LOGS_ROLE} resource does not match with ^logs",
    ),
    (  # the staging deploy role writing into the labelled source
        "bootstrap_first",
        "iam.feature",
        violate(LABELLED_POLICY, "policy", ["s3:GetObject", "s3:PutObject"], policy_key="Action"),
        f"Action property in {LABELLED_POLICY} resource does not match with ^(s3:(GetObject|",
    ),
    (  # a Lambda call from a pull request
        "bootstrap_first",
        "iam.feature",
        violate(PR_POLICY, "policy", "lambda:InvokeFunction", policy_key="Action"),
        f"Action property in {PR_POLICY} resource does not match with ^(s3:(GetObject|",
    ),
    # the monitor's role: only main's subject, the token audience, and only reads
    (  # a pull request taking the monitor's role
        "bootstrap_first",
        "iam_trust.feature",
        trust(MONITOR_ROLE, set_subjects(f"{REPO}:ref:refs/heads/main", f"{REPO}:pull_request")),
        f"token.actions.githubusercontent.com:sub property in {MONITOR_ROLE} resource does not "
        "match with ^repo:[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?:ref:refs/heads/main$",
    ),
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(MONITOR_ROLE, set_subjects(f"{REPO}:environment:prod")),
        f"token.actions.githubusercontent.com:sub property in {MONITOR_ROLE} resource does not "
        "match with ^repo:",
    ),
    (
        "bootstrap_first",
        "iam_trust.feature",
        trust(
            MONITOR_ROLE,
            lambda statement: statement["Condition"]["StringEquals"].update(
                {"token.actions.githubusercontent.com:aud": "example.com"}
            ),
        ),
        f"token.actions.githubusercontent.com:aud property in {MONITOR_ROLE} resource does not "
        "match",
    ),
    (  # the monitor deleting what it reads: its log group
        "bootstrap_first",
        "iam.feature",
        in_statement(
            MONITOR_POLICY, "QueryCaptureLogs", "Action", ["logs:StartQuery", "logs:DeleteLogGroup"]
        ),
        f"Action property in {MONITOR_POLICY} resource does not match with ^(logs:(StartQuery|",
    ),
    (  # the monitor writing into the capture archive
        "bootstrap_first",
        "iam.feature",
        in_statement(MONITOR_POLICY, "CaptureArchiveRead", "Action", "s3:PutObject"),
        f"Action property in {MONITOR_POLICY} resource does not match with ^(logs:(StartQuery|",
    ),
    (  # queries on every log group of the account
        "bootstrap_first",
        "iam.feature",
        in_statement(MONITOR_POLICY, "QueryCaptureLogs", "Resource", "*"),
        f"Resource property in {MONITOR_POLICY} resource matches with ^\\*$",
    ),
]


def test_a_public_url_with_its_two_permissions_passes(tmp_path):
    plan = public_url_with_cors(["https://app.example.com"])(load_plan())
    result = run_compliance(tmp_path, public_permissions()(plan))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Failure:" not in result.stdout


@pytest.mark.parametrize(
    ("plan", "feature", "mutation", "message"),
    VIOLATIONS,
    ids=[f"{feature}-{plan}-{i}" for i, (plan, feature, *_rest) in enumerate(VIOLATIONS)],
)
def test_policy_fails_on_its_violation_with_its_message(tmp_path, plan, feature, mutation, message):
    result = run_compliance(tmp_path, mutation(load_plan(plan)), feature)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    failures = [line for line in output.splitlines() if "Failure:" in line]
    assert failures, output
    assert any(message in line for line in failures), "\n".join(failures)
