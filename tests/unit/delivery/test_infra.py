"""modelops.delivery.infra (make's infra targets) against a fake terraform and AWS CLI on PATH.

The fakes record each call (argv and TF_DATA_DIR) and answer `output -raw` and `show -json` as
terraform does; tests/infra/test_terraform.py runs the same targets through make.
"""

import json
import os
from pathlib import Path

import pytest

from modelops.delivery import infra, release
from modelops.delivery.infra import InfraError, Terraform

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OUTPUTS = {
    "function_url_auth_type": "AWS_IAM",
    "live_url": "https://live.example.lambda-url.eu-west-1.on.aws/",
    "candidate_url": "https://candidate.example.lambda-url.eu-west-1.on.aws/",
    "function_name": "modelops-prod",
    "region": "eu-west-1",
    "state_bucket": "modelops-tfstate-123456789012-eu-west-1",
    "kms_key_arn": KEY,
}


@pytest.fixture
def fakes(tmp_path, monkeypatch):
    """terraform, aws and terraform-compliance scripts that log to calls.log; cwd = a project."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    answers = "".join(f'  *"output -raw {k}") echo "{v}";;\n' for k, v in OUTPUTS.items())
    scripts = {
        "terraform": (
            f'echo "terraform TF_DATA_DIR=${{TF_DATA_DIR:-}} $*" >> {log}\n'
            f'case "$*" in\n{answers}'
            '  *"show -json"*) echo \'{"resource_changes": []}\';;\n'
            '  *"output -raw missing"*) exit 1;;\n'
            "esac\n"
        ),
        "aws": f'echo "aws $*" >> {log}\nexit "${{FAKE_AWS_EXIT:-0}}"\n',
        "terraform-compliance": f'echo "terraform-compliance $*" >> {log}\n',
    }
    for name, body in scripts.items():
        script = bin_dir / name
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name in ("TF_STATE_BUCKET", "TF_STATE_KMS_KEY_ARN", "AWS_REGION", "GITHUB_OUTPUT",
                 "TF_VAR_image_uri", "FUNCTION_NAME", "FAKE_AWS_EXIT", "CI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(infra, "install_tool", lambda name, tools=infra.TOOLS: bin_dir)
    project = tmp_path / "project"
    (project / "infra" / "envs").mkdir(parents=True)
    monkeypatch.chdir(project)
    return log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def state_settings(monkeypatch):
    monkeypatch.setenv("TF_STATE_BUCKET", OUTPUTS["state_bucket"])
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("TF_STATE_KMS_KEY_ARN", KEY)


def test_backend_config_writes_one_encrypted_state_per_environment(fakes, monkeypatch, capsys):
    """`encrypt = true` alone makes the S3 backend ask for SSE-S3; kms_key_id names the key."""
    state_settings(monkeypatch)
    assert infra.main(["--env", "prod", "backend-config"]) == 0
    written = Path("infra/envs/backend-prod.hcl").read_text()
    assert written == (
        f'bucket     = "{OUTPUTS["state_bucket"]}"\nregion     = "eu-west-1"\n'
        f'key        = "envs/prod/terraform.tfstate"\nkms_key_id = "{KEY}"\n'
    )
    assert "wrote infra/envs/backend-prod.hcl (bucket" in capsys.readouterr().out
    assert calls(fakes) == []  # the settings came from the environment, not terraform


def test_backend_config_reads_the_bootstrap_outputs_without_ci_settings(fakes):
    assert infra.main(["--env", "staging", "backend-config"]) == 0
    assert f'kms_key_id = "{KEY}"' in Path("infra/envs/backend-staging.hcl").read_text()
    assert [c.split(" ", 2)[2] for c in calls(fakes)] == [
        f"-chdir=infra/bootstrap output -raw {name}"
        for name in ("state_bucket", "region", "kms_key_arn")
    ]


@pytest.mark.parametrize(
    ("unset", "message"),
    [
        ("AWS_REGION", "AWS_REGION is required with TF_STATE_BUCKET"),
        ("TF_STATE_KMS_KEY_ARN", "TF_STATE_KMS_KEY_ARN is required with TF_STATE_BUCKET"),
    ],
)
def test_backend_config_names_the_missing_setting(fakes, monkeypatch, capsys, unset, message):
    state_settings(monkeypatch)
    monkeypatch.delenv(unset)
    assert infra.main(["--env", "staging", "backend-config"]) == 2
    assert message in capsys.readouterr().err
    assert not Path("infra/envs/backend-staging.hcl").exists()


def test_plan_runs_the_one_root_with_the_environments_settings(fakes, monkeypatch):
    state_settings(monkeypatch)
    uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/m@sha256:" + "a" * 64
    assert infra.main(["--env", "prod", "--lock-timeout", "7m", "plan", "--image-uri", uri]) == 0
    terraform = [c for c in calls(fakes) if c.startswith("terraform")]
    assert terraform == [
        "terraform TF_DATA_DIR=.terraform-prod -chdir=infra/envs init -input=false -reconfigure "
        "-backend-config=backend-prod.hcl",
        "terraform TF_DATA_DIR=.terraform-prod -chdir=infra/envs plan -input=false "
        "-lock-timeout=7m -var-file=prod.tfvars -var environment=prod -out=tfplan-prod "
        f"-var image_uri={uri}",
        "terraform TF_DATA_DIR=.terraform-prod -chdir=infra/envs show -json tfplan-prod",
    ]
    assert "aws sts get-caller-identity" in calls(fakes)  # credentials checked first
    assert json.loads(Path("infra/envs/tfplan-prod.json").read_text()) == {"resource_changes": []}


def test_plan_without_an_image_says_so_before_terraform_runs(fakes, monkeypatch, capsys):
    state_settings(monkeypatch)
    assert infra.main(["--env", "staging", "plan"]) == 2
    assert "IMAGE_URI=<repo>@sha256:<digest> is required" in capsys.readouterr().err
    assert not [c for c in calls(fakes) if c.startswith("terraform")]


def test_plan_takes_the_image_from_tf_var_image_uri(fakes, monkeypatch):
    state_settings(monkeypatch)
    monkeypatch.setenv("TF_VAR_image_uri", "repo@sha256:" + "b" * 64)
    assert infra.main(["--env", "staging", "plan"]) == 0
    plan = next(c for c in calls(fakes) if " plan " in c)
    assert "image_uri" not in plan  # terraform reads TF_VAR_image_uri itself


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"FAKE_AWS_EXIT": "255"}, "no usable AWS credentials"),
        ({}, "infra/envs/backend-staging.hcl is missing: set TF_STATE_BUCKET"),
    ],
)
def test_plan_stops_before_any_lock_saying_what_is_missing(
    fakes, monkeypatch, capsys, setup, message
):
    for name, value in setup.items():
        monkeypatch.setenv(name, value)
    assert infra.main(["--env", "staging", "plan", "--image-uri", "x@sha256:1"]) == 1
    assert message in capsys.readouterr().err
    assert not [c for c in calls(fakes) if c.startswith("terraform")]


def test_an_unknown_environment_is_refused(fakes, capsys):
    assert infra.main(["--env", "dev", "plan", "--image-uri", "x"]) == 2
    assert "ENV must be staging or prod (got 'dev')" in capsys.readouterr().err
    assert calls(fakes) == []


def test_apply_checks_the_plan_then_writes_the_stacks_outputs(fakes, monkeypatch, tmp_path):
    state_settings(monkeypatch)
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    assert infra.main(["--env", "staging", "apply", "--image-uri", "r@sha256:" + "c" * 64]) == 0
    ran = [c.split(" -chdir=infra/envs ")[-1] for c in calls(fakes)]
    order = [next(i for i, c in enumerate(ran) if c.startswith(step))
             for step in ("plan ", "terraform-compliance", "apply ")]  # fmt: skip
    assert order == sorted(order)  # policy between plan and apply
    policy = next(c for c in ran if c.startswith("terraform-compliance"))
    assert (
        policy
        == "terraform-compliance --no-ansi -f infra/policies -p infra/envs/tfplan-staging.json"
    )
    assert "apply -input=false -lock-timeout=10m tfplan-staging" in ran
    assert github_output.read_text().splitlines() == [
        "earlier=1",
        f"live_url={OUTPUTS['live_url']}",
        f"candidate_url={OUTPUTS['candidate_url']}",
        "smoke_auth=aws_iam",
    ]


def test_a_failing_terraform_step_stops_with_its_exit_code(fakes, monkeypatch, tmp_path):
    state_settings(monkeypatch)
    failing = tmp_path / "bin" / "terraform-compliance"
    failing.write_text("#!/bin/sh\nexit 3\n")
    assert infra.main(["--env", "staging", "apply", "--image-uri", "r@sha256:1"]) == 3
    assert not [c for c in calls(fakes) if " apply " in c]  # a refused plan is never applied


def test_policy_names_a_missing_plan_file(fakes, capsys):
    assert infra.main(["policy", "nope.json"]) == 2
    assert "no such plan file: nope.json" in capsys.readouterr().err
    assert infra.main(["policy"]) == 2
    assert "usage: make policy PLAN=" in capsys.readouterr().err


def test_function_settings_prefer_the_environment_then_terraform(fakes):
    tf = Terraform("prod")
    assert infra.function_settings(tf, {}) == ("modelops-prod", "eu-west-1")
    given = {"FUNCTION_NAME": "f", "AWS_REGION": "us-east-1"}
    assert infra.function_settings(tf, given) == ("f", "us-east-1")
    with pytest.raises(InfraError, match="ENV must be staging or prod"):
        infra.function_settings(Terraform("qa"), given)


def test_release_without_a_function_says_how_to_get_one(fakes, tmp_path, capsys):
    empty = tmp_path / "bin" / "terraform"
    empty.write_text("#!/bin/sh\nexit 1\n")  # no state yet: terraform output fails
    assert release.main(["--env", "prod", "status"]) == 1
    assert (
        "no function for ENV=prod: set FUNCTION_NAME (and AWS_REGION), or run "
        "'make apply ENV=prod' first" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["candidate", ""], "usage: make release-candidate ENV=<env> IMAGE_URI=<repo>@sha256:"),
        (["canary", ""], "usage: make release-canary ENV=<env> WEIGHT=<0..1>"),
    ],
)
def test_release_commands_name_their_missing_argument(fakes, capsys, argv, usage):
    assert release.main(["--env", "prod", *argv]) == 2
    assert usage in capsys.readouterr().err
    assert calls(fakes) == []


def test_install_tool_reuses_an_env_with_the_same_requirements(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "infra" / "tools").mkdir(parents=True)
    requirements = tmp_path / "infra" / "tools" / "checkov.txt"
    requirements.write_text("checkov==3.2.0 --hash=sha256:00\n")
    marker = tmp_path / ".tools" / "checkov" / ".installed"
    marker.parent.mkdir(parents=True)
    marker.write_text(infra.requirements_hash(requirements) + "\n")
    ran: list[list[str]] = []

    def run(command, **_):  # uv, recorded; `uv venv <path>` makes the env's folder
        ran.append(list(command))
        if command[3:4] == ["venv"]:
            Path(command[-1]).mkdir(parents=True)

    monkeypatch.setattr(infra, "run", run)
    assert infra.install_tool("checkov") == Path(".tools/checkov/bin")
    assert ran == []  # same content: nothing installed
    requirements.write_text("checkov==3.2.1 --hash=sha256:11\n")
    infra.install_tool("checkov")
    assert [c[3] for c in ran if c[1:3] == ["-m", "uv"]] == ["venv", "pip"]
    assert marker.read_text().strip() == infra.requirements_hash(requirements)


def test_fmt_check_without_terraform_skips_locally_and_fails_in_ci(tmp_path, capsys):
    missing = str(tmp_path / "no-terraform")
    infra.fmt_check(missing, {})
    assert "SKIPPED terraform fmt -check" in capsys.readouterr().err
    with pytest.raises(InfraError, match="CI must check terraform fmt"):
        infra.fmt_check(missing, {"CI": "true"})
