"""Terraform hygiene that runs offline: fmt, checkov, `terraform test` of the naming module,
and the make targets that need AWS failing fast with a reason when it is not there."""

import os
import re
import shutil
import subprocess

import pytest

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
    assert not (ROOT / "infra" / "envs" / "staging" / ".terraform").exists()


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
    for env in ("staging", "prod"):
        tfvars = (INFRA / "envs" / env / "terraform.tfvars").read_text()
        for setting in ("memory_size", "timeout", "reserved_concurrency", "log_retention_days"):
            assert re.search(rf"^{setting}\s+=\s+\d+", tfvars, re.MULTILINE), (env, setting)
        assert (
            f'key          = "envs/{env}/terraform.tfstate"'
            in (INFRA / "envs" / env / "main.tf").read_text()
        )
        assert "use_lockfile = true" in (INFRA / "envs" / env / "main.tf").read_text()
