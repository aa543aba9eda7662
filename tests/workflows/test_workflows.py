"""The workflows, proven by what runs here: actionlint, zizmor, pins, permissions, make targets."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses:\s*\S+@[0-9a-f]{40}\s+#\s*v\d+\.\d+\.\d+\s*$")


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).is_file() else shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (make venv installs it)")
    return str(path)


def load(path: Path) -> dict:
    # PyYAML reads the `on:` key as True (YAML 1.1); normalise it back
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job in workflow.get("jobs", {}).values():
        yield from job.get("steps", [])


def make_targets_called(script: str) -> set[str]:
    """Targets of every `make` command in a shell script (variables and options skipped)."""
    found = set()
    for line in script.splitlines():
        for command in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(command, comments=True)
            if words[:1] == ["make"]:
                found |= {w for w in words[1:] if not w.startswith("-") and "=" not in w}
    return found


def makefile_targets(text: str) -> set[str]:
    """Rule names defined in a Makefile (not variable assignments)."""
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, flags=re.MULTILINE))


def workflow_targets() -> dict[str, set[str]]:
    called: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for step in steps(load(path)):
            for target in make_targets_called(step.get("run", "")):
                called.setdefault(target, set()).add(path.name)
    return called


def test_the_workflows_exist():
    names = {p.name for p in WORKFLOWS}
    assert {"ci.yml", "cd.yml", "deploy.yml", "report-comment.yml"} <= names


def test_actionlint_is_clean():
    result = subprocess.run(
        [tool("actionlint"), *map(str, WORKFLOWS)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.evnt.number }}\n")  # fmt: skip
    result = subprocess.run([tool("actionlint"), str(broken)], capture_output=True, text=True)
    assert result.returncode != 0 and "evnt" in result.stdout


def test_zizmor_is_clean_offline():
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", ".github/workflows"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_run_step_is_a_make_target():
    """The workflows read as a runbook of make targets: no inline scripts."""
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if "run" in step:
                lines = [ln for ln in step["run"].splitlines() if ln.strip()]
                assert len(lines) == 1 and lines[0].startswith("make "), (path.name, step)


def test_every_make_target_a_workflow_calls_exists():
    defined = makefile_targets((ROOT / "Makefile").read_text())
    called = workflow_targets()
    assert {"lint", "test", "repro-check", "report", "pr-comment", "smoke", "image-push",
            "apply", "release-candidate", "release-rollback"} <= set(called)  # fmt: skip
    missing = {target: sorted(files) for target, files in called.items() if target not in defined}
    assert not missing, f"workflows call make targets the Makefile lacks: {missing}"


def test_target_check_fails_for_a_truly_missing_target():
    makefile = "report: $(SYNCED) ## x\n\tpython -m modelops.review.report\nVAR := 1\n"
    assert makefile_targets(makefile) == {"report"}
    assert make_targets_called('make report BASE="origin/$X" && make  -s deploy  # c') == {
        "report",
        "deploy",
    }
    assert make_targets_called("make smoke URL=$U SMOKE_EXPECT_VERSION=2") == {"smoke"}
    assert {"deploy"} - makefile_targets(makefile) == {"deploy"}


def test_third_party_actions_are_pinned_by_sha_with_a_version_comment():
    for path in WORKFLOWS:
        text = path.read_text()
        for step in steps(load(path)):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert PINNED.match(uses), (path.name, uses)
        for line in text.splitlines():
            if re.search(r"uses:\s*[\w-]+/", line):
                assert VERSION_COMMENT.search(line), (path.name, line)


def test_permissions_are_minimal_and_concurrency_is_set():
    for path in WORKFLOWS:
        workflow = load(path)
        top = workflow.get("permissions")
        assert top in ({}, {"contents": "read"}), (path.name, top)
        for name, job in workflow["jobs"].items():
            granted = {k for k, v in (job.get("permissions") or {}).items() if v == "write"}
            assert granted <= {"id-token", "pull-requests", "contents"}, (path.name, name)
        jobs_concurrency = [j.get("concurrency") for j in workflow["jobs"].values()]
        assert workflow.get("concurrency") or all(jobs_concurrency), path.name


def test_pull_request_jobs_need_no_secrets_and_checkouts_keep_no_token():
    for path in WORKFLOWS:
        text = path.read_text()
        assert "secrets." not in text, path.name  # OIDC and repository variables only
        for step in steps(load(path)):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, path.name
    ci = load(ROOT / ".github/workflows/ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    for name, job in ci["jobs"].items():
        for step in job["steps"]:
            if "configure-aws-credentials" in step.get("uses", ""):
                # only on pushes to main: the role trusts ref:refs/heads/main, never a PR
                assert step["if"].startswith("github.event_name == 'push' && "), name


def test_cd_deploys_by_digest_with_canary_smoke_and_rollback():
    cd = load(ROOT / ".github/workflows/cd.yml")
    assert cd["on"] == {"push": {"branches": ["main"]}}
    assert cd["jobs"]["production"]["needs"] == ["image", "staging"]
    assert cd["jobs"]["production"]["with"]["environment"] == "prod"
    deploy = load(ROOT / ".github/workflows/deploy.yml")
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"]["group"] == "deploy-${{ inputs.environment }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    order = [next(iter(make_targets_called(s["run"]))) for s in job["steps"] if "run" in s]
    assert order == [
        "apply", "release-candidate", "smoke", "release-canary", "smoke", "release-promote",
        "smoke", "release-rollback", "release-status", "promote",
    ]  # fmt: skip
    rollback = next(s for s in job["steps"] if "release-rollback" in s.get("run", ""))
    assert rollback["if"].startswith("failure()")
