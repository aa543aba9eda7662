"""Terraform for the environments, and the pinned policy tools: what the infra make targets run.

    python -m modelops.delivery.infra [--env staging|prod] [--terraform terraform]
        [--env-dir infra/envs] [--lock-timeout 10m] <command>

- `credentials`: fail fast, before any download or lock, when terraform, the AWS CLI or usable
  AWS credentials are missing.
- `backend-config`: write <env-dir>/backend-<env>.hcl from TF_STATE_BUCKET + TF_STATE_KMS_KEY_ARN
  + AWS_REGION (CI) or the bootstrap's outputs.
- `bootstrap`: once per AWS account: init, plan, policy check, apply infra/bootstrap, then the
  backend config of every environment.
- `plan [--image-uri URI]`: terraform plan of the one root (infra/envs) for --env ->
  tfplan-<env> and tfplan-<env>.json. `apply [--image-uri URI]`: that plan, policy-checked, applied;
  then `env-outputs` appended to $GITHUB_OUTPUT when set.
- `env-outputs`: live_url=, candidate_url=, smoke_auth= of the environment's stack.
- `policy PLAN...`: terraform-compliance (infra/policies) on each plan JSON.
- `install-tool NAME`, `lock-tools`: the hash-locked tool envs in .tools/ (infra/tools/NAME.txt).
- `fmt-check`: terraform fmt -check of infra/ (skipped with a note when terraform is missing,
  except in CI). `naming-test`: terraform test of the provider-less naming module.

Every environment shares one root: its state key, backend and settings are per environment
(backend-<env>.hcl, <env>.tfvars), and so is terraform's working data (TF_DATA_DIR), so staging
and prod never share an initialised backend. Standard library only: CD runs it before .venv.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("staging", "prod")
BOOTSTRAP = Path("infra/bootstrap")
POLICIES = Path("infra/policies")
TOOLS = Path(".tools")
TOOL_REQUIREMENTS = Path("infra/tools")
LOCKED_TOOLS = ("checkov", "terraform-compliance")
NAMING = Path("infra/modules/naming")
# The function URLs' auth type, as `make smoke AUTH=` takes it (AWS_IAM: SigV4-signed calls).
SMOKE_AUTH = {"AWS_IAM": "aws_iam", "NONE": "none"}
TERRAFORM_INSTALL = "https://developer.hashicorp.com/terraform/install"


class InfraError(RuntimeError):
    """A step that cannot run, with what is missing in words, and the exit code make reports."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Terraform:
    """The terraform CLI on one environment of the shared root (infra/envs)."""

    env: str
    binary: str = "terraform"
    env_dir: Path = Path("infra/envs")
    lock_timeout: str = "10m"

    @property
    def backend(self) -> Path:
        """The environment's backend settings, written by `backend-config`."""
        return self.env_dir / f"backend-{self.env}.hcl"

    @property
    def plan_json(self) -> Path:
        """Where `plan` writes `terraform show -json` of the environment's plan."""
        return self.env_dir / f"tfplan-{self.env}.json"

    def command(self, *args: str) -> list[str]:
        """`terraform -chdir=<env-dir> <args>`."""
        return [self.binary, f"-chdir={self.env_dir}", *args]

    def environ(self) -> dict[str, str]:
        """The environment of this process, with the environment's own TF_DATA_DIR."""
        return {**os.environ, "TF_DATA_DIR": f".terraform-{self.env}"}

    def run(self, *args: str, stdout: int | None = None) -> subprocess.CompletedProcess[str]:
        """Run terraform on the root, echoed as make echoed it; raise InfraError if it fails."""
        return run(self.command(*args), env=self.environ(), stdout=stdout)

    def output(self, name: str) -> str:
        """`terraform output -raw <name>`; raise InfraError if terraform cannot tell."""
        return output(self.command("output", "-raw", name), env=self.environ())

    def init(self) -> None:
        """Initialise the root on the environment's backend (reconfigured: one root, two states)."""
        self.run("init", "-input=false", "-reconfigure", f"-backend-config={self.backend.name}")

    def plan(self, image_uri: str | None) -> None:
        """tfplan-<env> and its JSON; image_uri only for the first apply (releases move it)."""
        image = ["-var", f"image_uri={image_uri}"] if image_uri else []
        self.run(
            "plan", "-input=false", f"-lock-timeout={self.lock_timeout}",
            f"-var-file={self.env}.tfvars", "-var", f"environment={self.env}",
            f"-out=tfplan-{self.env}", *image,
        )  # fmt: skip
        write_json_plan(self.command("show", "-json", f"tfplan-{self.env}"), self.plan_json,
                        self.environ())  # fmt: skip

    def apply(self) -> None:
        """Apply the saved plan (waiting for a lock another run holds)."""
        self.run(
            "apply", "-input=false", f"-lock-timeout={self.lock_timeout}", f"tfplan-{self.env}"
        )


def run(
    command: Sequence[str], env: Mapping[str, str] | None = None, stdout: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Echo `command` (as make does), run it; raise InfraError with its exit code if it fails."""
    print(" ".join(command), flush=True)
    result = subprocess.run(list(command), env=env, stdout=stdout, text=True, check=False)
    if result.returncode != 0:
        raise InfraError(f"{command[0]} {command[1]} ... failed", result.returncode)
    return result


def output(command: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The stdout of a `terraform output -raw` command; raise InfraError if it fails."""
    result = subprocess.run(list(command), env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise InfraError(f"{' '.join(command)} failed", result.returncode)
    return result.stdout.strip()


def write_json_plan(command: Sequence[str], path: Path, env: Mapping[str, str]) -> None:
    """`terraform show -json <plan> > path`."""
    with path.open("w", encoding="utf-8") as out:
        print(f"{' '.join(command)} > {path}", flush=True)
        result = subprocess.run(list(command), env=env, stdout=out, text=True, check=False)
    if result.returncode != 0:
        raise InfraError(f"{' '.join(command)} failed", result.returncode)


def check_env(env: str) -> str:
    """`env` if it is an environment the root deploys, else InfraError (exit 2)."""
    if env not in ENVIRONMENTS:
        raise InfraError(f"ENV must be staging or prod (got '{env}')", 2)
    return env


def check_credentials(terraform: str) -> None:
    """Terraform, the AWS CLI and AWS credentials STS accepts, or InfraError naming the gap."""
    if shutil.which(terraform) is None:
        raise InfraError(f"terraform is not installed ({TERRAFORM_INSTALL})")
    if shutil.which("aws") is None:
        raise InfraError(
            "the AWS CLI is not installed (pip install awscli, or https://aws.amazon.com/cli/)"
        )
    try:
        sts = subprocess.run(["aws", "sts", "get-caller-identity"], capture_output=True,
                             timeout=20, check=False)  # fmt: skip
        usable = sts.returncode == 0
    except subprocess.TimeoutExpired:
        usable = False
    if not usable:
        raise InfraError(
            "no usable AWS credentials (or no network to AWS STS): run 'aws configure sso' / "
            "set AWS_PROFILE, or use OIDC in CI"
        )


def backend_config(tf: Terraform, environ: Mapping[str, str]) -> Path:
    """Write backend-<env>.hcl: the state bucket, region, per-environment key and KMS key."""
    bucket = environ.get("TF_STATE_BUCKET", "")
    region = environ.get("AWS_REGION", "")
    key = environ.get("TF_STATE_KMS_KEY_ARN", "")
    if not bucket:
        outputs = [output([tf.binary, f"-chdir={BOOTSTRAP}", "output", "-raw", name])
                   for name in ("state_bucket", "region", "kms_key_arn")]  # fmt: skip
        bucket, region, key = outputs
    if not region:
        raise InfraError("AWS_REGION is required with TF_STATE_BUCKET", 2)
    if not key:
        raise InfraError(
            "TF_STATE_KMS_KEY_ARN is required with TF_STATE_BUCKET: the state is encrypted with "
            "the project's KMS key (bootstrap output kms_key_arn)",
            2,
        )
    check_env(tf.env)
    state = f"envs/{tf.env}/terraform.tfstate"
    tf.backend.write_text(
        f'bucket     = "{bucket}"\nregion     = "{region}"\n'
        f'key        = "{state}"\nkms_key_id = "{key}"\n'
    )
    print(f"wrote {tf.backend} (bucket {bucket}, key {state}, state encrypted with {key})")
    return tf.backend


def preflight(tf: Terraform, environ: Mapping[str, str]) -> None:
    """What plan/apply need, before any download or lock: ENV, credentials, the backend."""
    check_env(tf.env)
    check_credentials(tf.binary)
    if not tf.backend.is_file() and environ.get("TF_STATE_BUCKET"):
        backend_config(tf, environ)
    if not tf.backend.is_file():
        raise InfraError(
            f"{tf.backend} is missing: set TF_STATE_BUCKET (+ AWS_REGION), or write it from the "
            f"bootstrap outputs (make backend-config ENV={tf.env})"
        )


def plan(tf: Terraform, image_uri: str | None, environ: Mapping[str, str]) -> None:
    """Preflight, then the environment's plan and its JSON for the policy check."""
    preflight(tf, environ)
    if not image_uri and not environ.get("TF_VAR_image_uri"):
        raise InfraError(
            "IMAGE_URI=<repo>@sha256:<digest> is required (the first apply deploys it; later "
            "applies ignore it, releases move the image)",
            2,
        )
    tf.init()
    tf.plan(image_uri)
    print(f"plan: {tf.env_dir}/tfplan-{tf.env}   policy check: make policy PLAN={tf.plan_json}")


def env_outputs(tf: Terraform) -> list[str]:
    """The `name=value` lines deploy.yml reads after an apply."""
    auth = tf.output("function_url_auth_type")
    if auth not in SMOKE_AUTH:
        raise InfraError(f"unexpected function_url_auth_type '{auth}' of ENV={tf.env}")
    return [
        f"live_url={tf.output('live_url')}",
        f"candidate_url={tf.output('candidate_url')}",
        f"smoke_auth={SMOKE_AUTH[auth]}",
    ]


def apply(tf: Terraform, image_uri: str | None, environ: Mapping[str, str]) -> None:
    """Plan, policy-check and apply the environment; its outputs to $GITHUB_OUTPUT when set."""
    plan(tf, image_uri, environ)
    policy([tf.plan_json])
    tf.apply()
    if environ.get("GITHUB_OUTPUT"):
        lines = env_outputs(tf)
        with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write("".join(f"{line}\n" for line in lines))


def bootstrap(tf: Terraform, environ: Mapping[str, str]) -> None:
    """State bucket, KMS, ECR, OIDC roles, DVC/MLflow buckets: policy-checked, then applied."""
    check_credentials(tf.binary)
    if not (BOOTSTRAP / "terraform.tfvars").is_file():
        raise InfraError(
            f"{BOOTSTRAP}/terraform.tfvars is missing: copy terraform.tfvars.example and set "
            "region/repository"
        )
    terraform = [tf.binary, f"-chdir={BOOTSTRAP}"]
    run([*terraform, "init", "-input=false"])
    run([*terraform, "plan", "-input=false", "-out=tfplan"])
    plan_json = BOOTSTRAP / "tfplan.json"
    write_json_plan([*terraform, "show", "-json", "tfplan"], plan_json, os.environ)
    policy([plan_json])
    run([*terraform, "apply", "-input=false", "tfplan"])
    for env in ENVIRONMENTS:
        backend_config(Terraform(env, tf.binary, tf.env_dir, tf.lock_timeout), environ)


def requirements_hash(requirements: Path) -> str:
    """sha256 of a tool's requirements: its env is re-used while the content is the same."""
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def install_tool(name: str, tools: Path = TOOLS) -> Path:
    """The tool's env in .tools/<name>, (re)installed unless it holds the requirements' hash.

    A fresh checkout (newer mtimes) with a cached .tools/ (CI) re-uses it when the content is
    the same. Returns the env's bin/ folder.
    """
    requirements = TOOL_REQUIREMENTS / f"{name}.txt"
    if not requirements.is_file():
        raise InfraError(f"no pinned requirements for {name}: {requirements} is missing", 2)
    env, marker = tools / name, tools / name / ".installed"
    wanted = requirements_hash(requirements)
    if marker.is_file() and marker.read_text().strip() == wanted:
        marker.touch()
        return env / "bin"
    shutil.rmtree(env, ignore_errors=True)
    uv = [sys.executable, "-m", "uv"]
    if subprocess.run([*uv, "--version"], capture_output=True, check=False).returncode != 0:
        print("installing uv with pip", flush=True)
        run([sys.executable, "-m", "pip", "install", "--quiet", "uv"])
    run([*uv, "venv", "--quiet", "--python", sys.executable, str(env)])
    run([*uv, "pip", "sync", "--quiet", "--python", str(env / "bin" / "python"), str(requirements)])
    marker.write_text(wanted + "\n")
    return env / "bin"


def lock_tools() -> None:
    """Re-resolve infra/tools/*.txt from their .in pins, hashes included."""
    for name in LOCKED_TOOLS:
        source, locked = TOOL_REQUIREMENTS / f"{name}.in", TOOL_REQUIREMENTS / f"{name}.txt"
        run([sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--python-version", "3.11",
             "--generate-hashes", str(source), "-o", str(locked)])  # fmt: skip


def policy(plans: Sequence[Path]) -> None:
    """terraform-compliance's policies on each plan JSON (`terraform show -json`), in order."""
    if not plans:
        raise InfraError(
            "usage: make policy PLAN=<plan.json from 'terraform show -json tfplan'> "
            "[more plans, space-separated]",
            2,
        )
    for path in plans:
        if not path.is_file():
            raise InfraError(f"no such plan file: {path}", 2)
    compliance = install_tool("terraform-compliance") / "terraform-compliance"
    for path in plans:
        print(f"policy: {path}", flush=True)
        run([str(compliance), "--no-ansi", "-f", str(POLICIES), "-p", str(path)])


def fmt_check(terraform: str, environ: Mapping[str, str]) -> None:
    """Run `terraform fmt -check` on infra/; without terraform a note, or an error in CI."""
    if shutil.which(terraform) is None:
        if environ.get("CI"):
            raise InfraError("terraform is not installed: CI must check terraform fmt")
        print(f"SKIPPED terraform fmt -check: terraform is not installed ({TERRAFORM_INSTALL})",
              file=sys.stderr)  # fmt: skip
        return
    run([terraform, "fmt", "-check", "-recursive", "-diff", "infra"])


def naming_test(terraform: str) -> None:
    """`terraform test` of the provider-less naming/validation module (offline)."""
    init = [terraform, f"-chdir={NAMING}", "init", "-backend=false", "-input=false"]
    run(init, stdout=subprocess.DEVNULL)
    run([terraform, f"-chdir={NAMING}", "test"])


def function_settings(tf: Terraform, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The (function name, region) of the environment's service.

    FUNCTION_NAME/AWS_REGION if set, else the stack's `terraform output`; InfraError when
    neither names a function.
    """
    check_env(tf.env)

    def known(name: str, variable: str) -> str | None:
        if environ.get(variable):
            return environ[variable]
        try:
            return tf.output(name) or None
        except (InfraError, OSError):
            return None

    function = known("function_name", "FUNCTION_NAME")
    if not function:
        raise InfraError(
            f"no function for ENV={tf.env}: set FUNCTION_NAME (and AWS_REGION), or run "
            f"'make apply ENV={tf.env}' first"
        )
    return function, known("region", "AWS_REGION")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modelops.delivery.infra",
        description="Terraform of the environments and the pinned policy tools (make's infra "
        "targets).",
    )
    parser.add_argument("--env", default="staging", help="staging or prod (make's ENV)")
    parser.add_argument("--terraform", default="terraform", help="the terraform CLI to run")
    parser.add_argument("--env-dir", type=Path, default=Path("infra/envs"),
                        help="the environments' Terraform root")  # fmt: skip
    parser.add_argument(
        "--lock-timeout", default="10m", help="how long plan/apply wait for another run's lock"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "credentials", help="fail fast without terraform, the AWS CLI or credentials"
    )
    commands.add_parser("backend-config", help="write <env-dir>/backend-<env>.hcl")
    commands.add_parser("bootstrap", help="plan, policy-check and apply infra/bootstrap")
    for name in ("plan", "apply"):
        command = commands.add_parser(name, help=f"terraform {name} of the environment")
        command.add_argument("--image-uri", default="", help="<repo>@sha256:<digest>")
    commands.add_parser("env-outputs", help="print live_url=, candidate_url=, smoke_auth=")
    check = commands.add_parser("policy", help="terraform-compliance on plan JSON files")
    check.add_argument("plans", nargs="*", type=Path)
    tool = commands.add_parser("install-tool", help="the hash-locked env .tools/<name>")
    tool.add_argument("name", choices=LOCKED_TOOLS)
    commands.add_parser("lock-tools", help="re-resolve infra/tools/*.txt from their .in pins")
    commands.add_parser("fmt-check", help="terraform fmt -check -recursive infra")
    commands.add_parser("naming-test", help="terraform test of infra/modules/naming")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; a missing prerequisite is one line on stderr and make's exit code."""
    args = _parser().parse_args(argv)
    tf = Terraform(args.env, args.terraform, args.env_dir, args.lock_timeout)
    environ = os.environ
    try:
        if args.command == "credentials":
            check_credentials(tf.binary)
        elif args.command == "backend-config":
            backend_config(tf, environ)
        elif args.command == "bootstrap":
            bootstrap(tf, environ)
        elif args.command == "plan":
            plan(tf, args.image_uri or None, environ)
        elif args.command == "apply":
            apply(tf, args.image_uri or None, environ)
        elif args.command == "env-outputs":
            print("\n".join(env_outputs(tf)))
        elif args.command == "policy":
            policy(args.plans)
        elif args.command == "install-tool":
            install_tool(args.name)
        elif args.command == "lock-tools":
            lock_tools()
        elif args.command == "fmt-check":
            fmt_check(tf.binary, environ)
        else:
            naming_test(tf.binary)
    except InfraError as error:
        print(error, file=sys.stderr)
        return error.code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
