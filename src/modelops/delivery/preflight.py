"""CD's first job: is this repository set up to deploy, and is this commit main's newest.

    python -m modelops.delivery.preflight --sha <commit> [--main-ref origin/main]

Writes `deploy=true|false` and `environments=true|false` to $GITHUB_OUTPUT, the reason to stdout;
never fails for a missing setting, so the first push to a new repository (before the repository
variables exist) ends green with a warning that lists what to set, instead of a red run at
"Credentials could not be loaded".

Why "newest": CI on main runs once per commit (its concurrency group is the commit), so runs
finish in any order, and GitHub keeps one pending run per concurrency group, replacing it by a
newer one. A CD run for a commit that is no longer main's tip skips: the run of the newer commit
deploys everything, this commit included, and an older commit never overwrites a newer deploy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

# What CD needs, and where each value comes from (docs/deploying-to-aws.md, GitHub settings).
REQUIRED = {
    "AWS_REGION": "bootstrap output `region`",
    "AWS_ROLE_ARN": "bootstrap output `deploy_role_arns` (staging role; per environment in each "
    "GitHub environment when DEPLOY_ENVIRONMENTS is not false)",
    "ECR_REPOSITORY": "bootstrap output `ecr_repository_url`",
    "TF_STATE_BUCKET": "bootstrap output `state_bucket`",
    "TF_STATE_KMS_KEY_ARN": "bootstrap output `kms_key_arn`",
}
DOCS = "docs/deploying-to-aws.md#3-repository-variables--5-min"


@dataclass(frozen=True)
class Decision:
    """Whether CD deploys this run, and why."""

    deploy: bool
    environments: bool
    reason: str


def missing_settings(variables: Mapping[str, str]) -> list[str]:
    """The required repository variables that are unset or empty."""
    return [name for name in REQUIRED if not (variables.get(name) or "").strip()]


def uses_environments(variables: Mapping[str, str]) -> bool:
    """Whether jobs name GitHub environments: yes unless DEPLOY_ENVIRONMENTS is "false".

    Private repositories on the Free plan have no environments; CD then deploys staging only.
    """
    value = (variables.get("DEPLOY_ENVIRONMENTS") or "true").strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"DEPLOY_ENVIRONMENTS must be true or false, got {value!r}")
    return value == "true"


def decide(variables: Mapping[str, str], sha: str, main_sha: str | None) -> Decision:
    """Deploy only when every required variable is set and `sha` is main's newest commit."""
    environments = uses_environments(variables)
    missing = missing_settings(variables)
    if missing:
        where = "; ".join(f"{name} = {REQUIRED[name]}" for name in missing)
        return Decision(
            False,
            environments,
            f"CD is not configured yet, nothing deployed: set the repository variables {where} "
            f"(Settings > Secrets and variables > Actions > Variables; {DOCS}), then re-run",
        )
    if main_sha and main_sha != sha:
        return Decision(
            False,
            environments,
            f"{sha[:12]} is no longer main's newest commit ({main_sha[:12]} is): its CD run "
            "deploys both, so this one deploys nothing",
        )
    return Decision(True, environments, f"deploying {sha[:12]}")


def main_tip(ref: str) -> str | None:
    """The commit `ref` names in this checkout (None when git cannot tell)."""
    out = subprocess.run(["git", "rev-parse", "--verify", "--quiet", ref],
                         capture_output=True, text=True)  # fmt: skip
    return out.stdout.strip() or None if out.returncode == 0 else None


def main(argv: list[str] | None = None) -> int:
    """Print the decision (a ::warning:: when not deploying) and write it to $GITHUB_OUTPUT."""
    parser = argparse.ArgumentParser(prog="python -m modelops.delivery.preflight")
    parser.add_argument("--sha", required=True, help="the commit CI checked")
    parser.add_argument("--main-ref", default="origin/main", help="main's tip in this checkout")
    args = parser.parse_args(argv)
    if not args.sha:
        print("usage: make cd-preflight SHA=<commit>", file=sys.stderr)
        return 2
    try:
        decision = decide(os.environ, args.sha, main_tip(args.main_ref))
    except ValueError as error:
        print(f"::error::{error}")
        return 2
    prefix = "" if decision.deploy else ("::warning::" if os.environ.get("GITHUB_ACTIONS") else "")
    print(prefix + decision.reason)
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"deploy={'true' if decision.deploy else 'false'}\n")
            out.write(f"environments={'true' if decision.environments else 'false'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
