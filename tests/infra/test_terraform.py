"""Terraform hygiene that runs offline: fmt, checkov, `terraform test` of the naming module,
and the make targets that need AWS failing fast with a reason when it is not there."""

import json
import os
import re
import shutil
import subprocess

import pytest

from modelops.delivery.infra import Terraform
from tests.infra.tools import ROOT, tool

INFRA = ROOT / "infra"


def terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.skip("terraform is not installed")
    return found


def run(args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)


def test_terraform_files_are_formatted():
    result = run([terraform(), "fmt", "-check", "-recursive", "-diff", str(INFRA)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_fmt_check_catches_unformatted_files(tmp_path):
    (tmp_path / "bad.tf").write_text('variable "x" {\ntype=string\n}\n')
    assert run([terraform(), "fmt", "-check", "-recursive", str(tmp_path)]).returncode != 0


def test_naming_module_passes_terraform_test(tmp_path):
    module = tmp_path / "naming"
    shutil.copytree(INFRA / "modules" / "naming", module)
    init = run([terraform(), f"-chdir={module}", "init", "-backend=false", "-input=false"])
    assert init.returncode == 0, init.stderr
    result = run([terraform(), f"-chdir={module}", "test", "-no-color"])
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.search(r"(\d+) passed, 0 failed", result.stdout)
    assert passed and int(passed.group(1)) >= 14, result.stdout


def test_checkov_passes_offline_with_the_project_config():
    result = run([tool("checkov"), "--config-file", ".checkov.yaml"], cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"Passed checks: [1-9]\d*, Failed checks: 0", result.stdout), result.stdout


def test_every_skipped_checkov_check_is_justified():
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [line for line in lines if re.match(r"\s+- CKV", line)]
    assert skips
    for line in skips:
        reason = line.split("#", 1)[1].strip() if "#" in line else ""
        assert len(reason) > 30, f"skip without a reason: {line.strip()}"


def test_checkov_fails_on_a_mutable_ecr_repository(tmp_path):
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    main = copy / "bootstrap" / "main.tf"
    main.write_text(main.read_text().replace('"IMMUTABLE"', '"MUTABLE"'))
    result = run(
        [tool("checkov"), "-d", str(copy), "--framework", "terraform", "--skip-download",
         "--compact", "--quiet", "--check", "CKV_AWS_51"]
    )  # fmt: skip
    assert result.returncode != 0
    assert "CKV_AWS_51" in result.stdout and "aws_ecr_repository.service" in result.stdout


def no_aws_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_CA_BUNDLE"}
    env |= {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "MAKEFLAGS": "",
    }
    return env


@pytest.mark.parametrize("target", ["plan", "apply"])
def test_plan_and_apply_without_credentials_fail_fast_saying_what_is_missing(tmp_path, target):
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    result = run(["make", target, "ENV=staging"], cwd=ROOT, env=no_aws_env(tmp_path))
    assert result.returncode != 0
    assert re.search(
        r"no usable AWS credentials|AWS CLI is not installed|terraform is not", result.stderr
    )
    assert not (ROOT / "infra" / "envs" / ".terraform-staging").exists()


def test_plan_with_unknown_env_is_refused(tmp_path):
    result = run(["make", "plan", "ENV=dev"], cwd=ROOT, env=no_aws_env(tmp_path))
    assert result.returncode != 0 and "ENV must be staging or prod (got 'dev')" in result.stderr


def test_release_target_without_a_deployed_function_says_so(tmp_path):
    env = no_aws_env(tmp_path)
    env.pop("FUNCTION_NAME", None)
    result = run(["make", "release-status", "ENV=prod"], cwd=ROOT, env=env)
    assert result.returncode != 0
    assert "no function for ENV=prod: set FUNCTION_NAME" in result.stderr


def variable_names(path) -> set[str]:
    return set(re.findall(r'^variable "(\w+)"', path.read_text(), re.MULTILINE))


def test_serving_module_validates_every_setting_through_the_naming_module():
    """The serving module's settings reach the naming module, whose validation `terraform test`
    covers; a new setting that bypassed it would go unvalidated."""
    serving = INFRA / "modules" / "serving"
    call = re.search(r'module "naming" \{(.*?)\n\}', (serving / "main.tf").read_text(), re.DOTALL)
    passed = set(re.findall(r"^\s+(\w+)\s+= var\.(\w+)", call.group(1), re.MULTILINE))
    assert all(argument == variable for argument, variable in passed)
    naming = variable_names(INFRA / "modules" / "naming" / "variables.tf")
    shared = variable_names(serving / "variables.tf") & naming
    assert shared == {argument for argument, _ in passed}
    assert {"memory_size", "timeout", "architecture", "reserved_concurrency", "image_uri"} <= shared


def test_each_environment_passes_its_settings_from_tfvars():
    """One root (infra/envs) for every environment: settings per <env>.tfvars, the state key per
    backend-<env>.hcl (written by make backend-config), the environment from make's ENV."""
    main = (INFRA / "envs" / "main.tf").read_text()
    for env in ("staging", "prod"):
        tfvars = (INFRA / "envs" / f"{env}.tfvars").read_text()
        for setting in ("memory_size", "timeout", "log_retention_days"):
            assert re.search(rf"^{setting}\s+=\s+\d+", tfvars, re.MULTILINE), (env, setting)
        assert not re.search(r"^environment\s*=", tfvars, re.M)  # it comes from ENV only
    assert "use_lockfile = true" in main and "key " not in main.split("backend")[1].split("}")[0]
    assert re.search(r"^\s+environment\s+= var\.environment$", main, re.M)
    # the command line make's plan runs (tests/unit/delivery/test_infra.py runs it on a fake)
    plan = Terraform("prod")
    assert plan.environ()["TF_DATA_DIR"] == ".terraform-prod"
    assert plan.command("plan") == ["terraform", "-chdir=infra/envs", "plan"]
    makefile = (ROOT / "Makefile").read_text()
    assert '--env "$(ENV)"' in makefile and '--env-dir "$(ENV_DIR)"' in makefile
    assert not (INFRA / "envs" / "staging").exists() and not (INFRA / "envs" / "prod").exists()


def test_the_environment_variable_accepts_only_staging_and_prod(tmp_path):
    variables = (INFRA / "envs" / "variables.tf").read_text()
    block = re.search(r'variable "environment" \{.*?\n\}', variables, re.S).group(0)
    (tmp_path / "main.tf").write_text(
        block + '\noutput "environment" { value = var.environment }\n'
    )
    assert run([terraform(), f"-chdir={tmp_path}", "init", "-input=false"]).returncode == 0
    for env, valid in (("staging", True), ("prod", True), ("dev", False)):
        result = run([terraform(), f"-chdir={tmp_path}", "plan", "-input=false", "-no-color",
                      "-var", f"environment={env}"])  # fmt: skip
        assert (result.returncode == 0) is valid, (env, result.stderr)


def hcl_list(text: str, name: str) -> list[str]:
    found = re.search(rf"^\s*{name}\s*=\s*\[(.*?)\]", text, re.MULTILINE)
    assert found, name
    return re.findall(r'"([^"]+)"', found.group(1))


def test_prod_deploy_role_trusts_only_its_environment():
    """A job on main that names no environment (sub `ref:refs/heads/main`) skips the prod
    environment's required reviewers: prod must not trust it. Each subject exists in the name
    form and, given the IDs, the immutable form (GitHub docs, "Immutable subject claims")."""
    text = (INFRA / "bootstrap" / "github_oidc.tf").read_text()
    prod = re.search(r"^\s*prod\s*=\s*(.*)$", text, re.M).group(1)
    staging = re.search(r"^\s*staging\s*=\s*(.*)$", text, re.M).group(1)
    assert re.findall(r'"(repo:[^"]+)"', prod) == ["repo:${r.owner}/${r.name}:environment:prod"]
    assert re.findall(r'"(repo:[^"]+)"', staging) == [
        "repo:${r.owner}/${r.name}:ref:refs/heads/main",
        "repo:${r.owner}/${r.name}:environment:staging",
    ]
    assert "for r in local.repositories" in prod
    assert "distinct([var.repository, local.repository_name])" in text


def test_trust_policies_do_not_depend_on_resources_created_in_the_same_apply():
    """A first plan defers a data source that reads a resource being created, and the role's
    assume_role_policy is then unknown to the policy check that runs before the apply (defect:
    the trust policy named aws_iam_openid_connect_provider.github[0].arn)."""
    text = (INFRA / "bootstrap" / "github_oidc.tf").read_text()
    arn = re.search(r"^\s*oidc_provider_arn\s*=\s*(.*)$", text, re.M).group(1)
    assert "aws_iam_openid_connect_provider" not in arn
    provider = "oidc-provider/token.actions.githubusercontent.com"
    assert arn == f'"arn:${{local.partition}}:iam::${{local.account}}:{provider}"'
    role = re.search(r'resource "aws_iam_role" "deploy" \{(.*?)\n\}', text, re.S).group(1)
    assert "depends_on = [aws_iam_openid_connect_provider.github]" in role


@pytest.mark.parametrize(
    ("repository", "valid"),
    [
        ("acme/modelops", True),
        ("acme@1234567/modelops@890123456", True),
        ("acme@1234567/modelops", False),  # one ID without the other
        ("acme/modelops@x1", False),
        ("acme/models/extra", False),
    ],
)
def test_bootstrap_repository_accepts_both_subject_forms(tmp_path, repository, valid):
    """The variable's validation and the subjects it yields, run by terraform without a
    provider (the validation block and locals copied from the bootstrap)."""
    variables = (INFRA / "bootstrap" / "variables.tf").read_text()
    block = re.search(r'variable "repository" \{.*?\n\}', variables, re.S).group(0)
    oidc = (INFRA / "bootstrap" / "github_oidc.tf").read_text()
    names = re.search(r"^\s*repository_name\s*=.*$", oidc, re.M).group(0)
    subjects = re.search(r"^\s*repository_subjects\s*=.*$", oidc, re.M).group(0)
    (tmp_path / "main.tf").write_text(
        f"{block}\nlocals {{\n{names}\n{subjects}\n}}\n"
        'output "subjects" { value = local.repository_subjects }\n'
    )
    assert run([terraform(), f"-chdir={tmp_path}", "init", "-input=false"]).returncode == 0
    result = run(
        [terraform(), f"-chdir={tmp_path}", "apply", "-auto-approve", "-input=false",
         "-no-color", "-var", f"repository={repository}"]
    )  # fmt: skip
    assert (result.returncode == 0) is valid, result.stdout + result.stderr
    if valid:
        out = run([terraform(), f"-chdir={tmp_path}", "output", "-json", "subjects"])
        expected = [repository] + (["acme/modelops"] if "@" in repository else [])
        assert json.loads(out.stdout) == expected


def test_deploy_roles_can_read_the_dvc_remote_and_only_staging_writes_it():
    """CI and CD run `make pull` (and CI on main `make push`) with the deploy roles."""
    text = (INFRA / "bootstrap" / "github_oidc.tf").read_text()
    assert (
        'dvc_bucket_arn     = "arn:${local.partition}:s3:::${var.project}-dvc-${local.suffix}"'
        in (text)
    )
    read = re.search(r'sid\s+= "DvcRemoteRead"(.*?)\n  \}', text, re.S).group(1)
    assert 'each.key == "write" ? ["s3:GetObject", "s3:PutObject"] : ["s3:GetObject"]' in read
    writers = 'dvc_remote[contains(local.dvc_writers, each.key) ? "write" : "read"]'
    assert writers in text  # the deploy policy of a writer sources the "write" document
    assert 'resources = ["${local.dvc_bucket_arn}/dvc/*"]' in read
    assert re.search(r'dvc_writers\s+= toset\(\["staging"\]\)', text)
    listing = re.search(r'sid\s+= "DvcRemoteList"(.*?)\n  \}', text, re.S).group(1)
    assert "s3:ListBucket" in listing and "local.dvc_bucket_arn" in listing
    # s3fs probes the bucket with HeadBucket (needs s3:ListBucket, carries no s3:prefix) and
    # GetBucketLocation before writing; both refused, it tries CreateBucket (s3fs core.py).
    assert "s3:GetBucketLocation" in listing and "s3:prefix" not in listing
    # the bootstrap's remote URL is the prefix these statements name
    assert "s3://${module.dvc_bucket.id}/dvc" in (INFRA / "bootstrap" / "outputs.tf").read_text()


def test_each_environment_passes_the_project_name_to_the_serving_module():
    main = (INFRA / "envs" / "main.tf").read_text()
    call = re.search(r'module "serving" \{(.*?)\n\}', main, re.S).group(1)
    assert re.search(r"^\s+project\s+= var\.project$", call, re.M)
    assert 'variable "project"' in (INFRA / "envs" / "variables.tf").read_text()


def test_reserved_concurrency_defaults_to_unreserved_everywhere():
    """5 + 20 reserved executions fail on new accounts whose quota is 10."""
    for path in (
        INFRA / "envs" / "variables.tf",
        INFRA / "modules" / "serving" / "variables.tf",
        INFRA / "modules" / "naming" / "variables.tf",
    ):
        block = re.search(r'variable "reserved_concurrency" \{(.*?)\n\}', path.read_text(), re.S)
        assert re.search(r"^\s+default\s+= null$", block.group(1), re.M), path
    for env in ("staging", "prod"):
        tfvars = (INFRA / "envs" / f"{env}.tfvars").read_text()
        assert not re.search(r"^reserved_concurrency", tfvars, re.M), env


def test_provider_constraints_name_the_release_that_added_invoked_via_function_url():
    for path in (
        INFRA / "modules" / "serving" / "versions.tf",
        INFRA / "envs" / "main.tf",
    ):
        assert (
            'version = ">= 6.28, < 7.0" # 6.28: aws_lambda_permission.invoked_via_function_url'
            in (path.read_text())
        ), path


def make(args, tmp_path, **env) -> subprocess.CompletedProcess:
    # Under `make test` the parent make's level and flags are inherited: a sub-make would then
    # print "Entering directory" lines into the output these tests read.
    inherited = {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}
    base = {k: v for k, v in no_aws_env(tmp_path).items() if k not in inherited}
    return run(["make", *args], cwd=ROOT, env=base | env)


def test_backend_config_encrypts_the_state_with_the_project_key(tmp_path):
    """`encrypt = true` alone makes the S3 backend ask for SSE-S3; kms_key_id names the key."""
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = make(
        ["backend-config", "ENV=staging", f"ENV_DIR={tmp_path}"], tmp_path,
        TF_STATE_BUCKET="modelops-tfstate-123456789012-eu-west-1", AWS_REGION="eu-west-1",
        TF_STATE_KMS_KEY_ARN=key,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "backend-staging.hcl").read_text()
    assert f'kms_key_id = "{key}"' in written
    assert 'key        = "envs/staging/terraform.tfstate"' in written  # one state per ENV
    assert 'bucket     = "modelops-tfstate-123456789012-eu-west-1"' in written


def test_backend_config_without_the_kms_key_says_what_is_missing(tmp_path):
    result = make(
        ["backend-config", "ENV=staging", f"ENV_DIR={tmp_path}"], tmp_path,
        TF_STATE_BUCKET="modelops-tfstate-123456789012-eu-west-1", AWS_REGION="eu-west-1",
    )  # fmt: skip
    assert result.returncode == 2
    assert "TF_STATE_KMS_KEY_ARN is required" in result.stderr
    assert not (tmp_path / "backend-staging.hcl").exists()


def fake_terraform(tmp_path, auth: str):
    script = tmp_path / "terraform"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f'  *function_url_auth_type*) echo "{auth}";;\n'
        '  *live_url*) echo "https://live.example.lambda-url.eu-west-1.on.aws/";;\n'
        '  *candidate_url*) echo "https://candidate.example.lambda-url.eu-west-1.on.aws/";;\n'
        "  *) exit 1;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(("auth", "smoke_auth"), [("AWS_IAM", "aws_iam"), ("NONE", "none")])
def test_env_outputs_give_smoke_the_stacks_url_auth_type(tmp_path, auth, smoke_auth):
    """deploy.yml signs smoke calls from this output, not from a variable to remember."""
    result = make(
        ["env-outputs", "ENV=prod", f"TERRAFORM={fake_terraform(tmp_path, auth)}"], tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "live_url=https://live.example.lambda-url.eu-west-1.on.aws/",
        "candidate_url=https://candidate.example.lambda-url.eu-west-1.on.aws/",
        f"smoke_auth={smoke_auth}",
    ]


def test_env_outputs_refuse_an_unknown_auth_type(tmp_path):
    result = make(
        ["env-outputs", "ENV=prod", f"TERRAFORM={fake_terraform(tmp_path, 'SIGV5')}"], tmp_path
    )
    assert result.returncode != 0
    assert "unexpected function_url_auth_type 'SIGV5'" in result.stderr


def test_plan_and_apply_wait_for_the_state_lock(tmp_path):
    """CI's staging plan and CD's apply share one state lock: the second waits, not fails."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^LOCK_TIMEOUT \?= \d+m$", makefile, re.M)
    assert '--lock-timeout "$(LOCK_TIMEOUT)"' in makefile
    log = tmp_path / "calls.log"
    script = tmp_path / "terraform"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    script.chmod(0o755)
    tf = Terraform("staging", str(script), tmp_path, "10m")
    tf.plan("repo@sha256:" + "a" * 64)
    tf.apply()
    plan, _, apply = log.read_text().splitlines()
    assert "plan -input=false -lock-timeout=10m" in plan
    assert "apply -input=false -lock-timeout=10m" in apply


def test_every_local_module_source_resolves():
    """`terraform init` (which needs the provider, unavailable here) would refuse a wrong path."""
    sources = []
    for path in INFRA.rglob("*.tf"):
        for source in re.findall(r'^\s*source\s*=\s*"(\.[^"]+)"', path.read_text(), re.M):
            sources.append(source)
            assert (path.parent / source).resolve().is_dir(), (path, source)
    assert len(sources) >= 5
