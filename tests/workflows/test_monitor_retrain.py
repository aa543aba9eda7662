"""One retrain PR (or issue) per drift, against a fake GitHub API on loopback.

The fake is tests/workflows/fake_github.py, extended here with the issue, pull-request and ref
endpoints the monitor uses, as GitHub documents them: `GET /pulls?head=owner:branch&state=all`
lists closed PRs with `merged_at`, `GET /issues` also lists pull requests (marked by a
`pull_request` key), `POST /pulls` is refused (422) while an open PR has the same head.
"""

import json
import re
import subprocess
import sys

import pytest

from modelops.monitoring.retrain import (
    BRANCH,
    LABEL,
    REQUEST_FILE,
    GitHub,
    GitHubError,
    act,
    decide,
    fingerprint_of,
    retrying_session,
)
from tests.workflows.fake_github import FakeGitHub

REPO = "acme/models"


class FakeGitHubWithIssues(FakeGitHub):
    """Adds issues and pull requests (create, list with state, edit) and ref updates."""

    def __init__(self):
        super().__init__()
        self.state.issues = []  # issues and pull requests share numbers, as on GitHub

    def new_number(self):
        return len(self.state.issues) + 1

    def route(self, method, path, query, body):
        state = self.state
        rest = path.removeprefix(f"/repos/{state.repository}")
        wanted = query.get("state", ["open"])[0]

        def listed(item):
            return wanted == "all" or item["state"] == wanted

        if rest == "/issues" and method == "GET":
            labels = set(query.get("labels", [""])[0].split(",")) - {""}
            items = [
                i
                for i in state.issues
                if listed(i) and labels <= {label["name"] for label in i.get("labels", [])}
            ]
            return self.page(items, query, path)
        if rest == "/issues" and method == "POST":
            issue = {
                "number": self.new_number(),
                "state": "open",
                "title": body["title"],
                "body": body["body"],
                "labels": [{"name": n} for n in body["labels"]],
            }
            state.issues.append(issue)
            return 201, issue
        if (m := re.fullmatch(r"/issues/(\d+)", rest)) and method == "PATCH":
            item = next((i for i in state.issues if i["number"] == int(m[1])), None)
            if item is None:
                return 404, {"message": "Not Found"}
            item.update(body)
            return 200, item
        if rest == "/pulls" and method == "GET":
            head = query.get("head", [""])[0]
            pulls = [i for i in state.issues if "pull_request" in i]
            return 200, [p for p in pulls if p["head"]["label"] == head and listed(p)]
        if rest == "/pulls" and method == "POST":
            label = f"{state.repository.split('/')[0]}:{body['head']}"
            if any(
                p.get("head", {}).get("label") == label and p["state"] == "open"
                for p in state.issues
            ):
                return 422, {"message": f"A pull request already exists for {label}."}
            if body["head"] not in state.refs:
                return 422, {"message": "head does not exist"}
            pull = {
                "number": self.new_number(),
                "state": "open",
                "title": body["title"],
                "body": body["body"],
                "merged_at": None,
                "pull_request": {},
                "head": {"label": label, "ref": body["head"]},
            }
            state.issues.append(pull)
            return 201, pull
        if (m := re.fullmatch(r"/git/refs/heads/(.+)", rest)) and method == "PATCH":
            if m[1] not in state.refs:
                return 422, {"message": "Reference does not exist"}
            state.refs[m[1]] = body["sha"]
            return 200, {"ref": f"refs/heads/{m[1]}", "object": {"sha": body["sha"]}}
        return super().route(method, path, query, body)


@pytest.fixture
def api():
    with FakeGitHubWithIssues() as fake:
        yield fake


def github(api):
    return GitHub("test-token", REPO, api_url=api.url, session=retrying_session("test-token", 0))


def report(drift=True, features=("num_00",), fingerprint="abc123"):
    tests = [{"test": "wasserstein_normed", "value": 1.9, "threshold": 0.1, "drift": True}]
    return {
        "drift": drift,
        "rows": 1000,
        "fingerprint": fingerprint if drift else "",
        "drifted_features": list(features) if drift else [],
        "features": {f: {"type": "number", "tests": tests, "drift": True} for f in features},
        "prediction": {"drift": False, "tests": []},
        "window": {"first": "2026-12-01T00:00:00", "last": "2026-12-02T00:00:00"},
        "reference": {"model": {"name": "m", "version": "3"}, "contract": "c"},
        "contract_check": {"success": True, "failures": []},
    }


def test_no_drift_and_no_verdict_touch_nothing(api):
    client = github(api)
    assert act(client, report(drift=False), "issue", None).action == "nothing"
    assert act(client, {**report(drift=False), "drift": None}, "pr", None).action == "nothing"
    assert api.state.calls == []


def test_issue_mode_opens_one_issue_then_updates_it(api):
    client = github(api)
    first = act(client, report(), "issue", "https://ci/run/1")
    second = act(client, report(features=("num_00", "cat_00"), fingerprint="def456"), "issue", None)
    assert (first.action, second.action) == ("open", "update")
    assert first.number == second.number == 1
    (issue,) = api.state.issues
    assert issue["labels"] == [{"name": LABEL}]
    assert fingerprint_of(issue["body"]) == "def456"  # the latest drift, in place
    assert "`cat_00`" in issue["body"] and "normalized Wasserstein" in issue["body"]
    assert len(api.state.calls_of("POST")) == 1


def test_closing_without_merging_silences_that_drift_until_it_changes(api):
    client = github(api)
    opened = act(client, report(), "pr", None)
    assert opened.action == "open"
    pull = api.state.issues[0]
    assert pull["head"]["label"] == f"acme:{BRANCH}"
    committed = json.loads(api.state.files[(BRANCH, REQUEST_FILE)])
    assert committed["fingerprint"] == "abc123" and committed["drifted_features"] == ["num_00"]

    pull["state"] = "closed"  # a person closes it without merging
    again = act(client, report(), "pr", None)
    assert again.action == "silenced" and again.number == pull["number"]
    assert len(api.state.issues) == 1

    changed = act(client, report(features=("num_01",), fingerprint="fff000"), "pr", None)
    assert changed.action == "open" and changed.number == 2
    # the leftover branch was moved back onto main before the new commit
    assert any(
        c.method == "PATCH" and c.path.endswith(f"/git/refs/heads/{BRANCH}")
        for c in api.state.calls
    )


def test_a_merged_retrain_does_not_silence_a_drift_that_persists(api):
    client = github(api)
    act(client, report(), "pr", None)
    api.state.issues[0].update(state="closed", merged_at="2026-12-02T10:00:00Z")
    assert act(client, report(), "pr", None).action == "open"


def test_other_issues_with_the_label_are_left_alone(api):
    api.state.issues.append(
        {"number": 1, "state": "open", "title": "bug", "body": "x", "labels": [{"name": LABEL}]}
    )
    decision = act(github(api), report(), "issue", None)
    assert decision.action == "open" and decision.number == 2
    assert api.state.issues[0]["body"] == "x"


def test_decide_prefers_the_oldest_open_item():
    items = [
        {"number": 9, "state": "open", "body": "<!-- modelops-drift fingerprint=aa -->"},
        {"number": 4, "state": "open", "body": "<!-- modelops-drift fingerprint=bb -->"},
    ]
    assert decide(report(), items).number == 4
    assert decide(report(), [{"number": 1, "state": "open", "body": "no marker"}]).action == "open"


def test_errors_name_the_reason(api):
    api.state.failures = [403]
    with pytest.raises(GitHubError, match="403"):
        act(github(api), report(), "issue", None)
    with pytest.raises(GitHubError, match="owner/name"):
        GitHub("t", "not-a-repo")


def test_the_cli_reads_the_report_and_says_what_it_did(api, tmp_path):
    path = tmp_path / "drift.json"
    path.write_text(json.dumps(report()))
    params = tmp_path / "params.yaml"
    params.write_text("data:\n  source: null\n")
    env = {
        "GITHUB_TOKEN": "test-token",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api.url,
        "PATH": "/usr/bin:/bin",
    }
    command = [sys.executable, "-m", "modelops.monitoring.retrain", "--params", str(params)]
    done = subprocess.run(
        [*command, "--report", str(path)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "monitor-pr (issue): open #1" in done.stdout
    missing = subprocess.run(
        [*command, "--report", str(tmp_path / "none.json")],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert missing.returncode == 1 and "run `make monitor` first" in missing.stderr


def test_the_monitor_workflow_runs_on_a_schedule_with_read_only_aws_and_the_make_targets():
    from tests.workflows.test_workflows import ROOT, load, make_targets_called

    workflow = load(ROOT / ".github/workflows/monitor.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}  # never a PR's code
    job = workflow["jobs"]["monitor"]
    targets = [next(iter(make_targets_called(s["run"]))) for s in job["steps"] if "run" in s]
    assert targets == ["pull", "monitor", "monitor-pr"]
    assert job["permissions"]["id-token"] == "write"
    aws = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
    assert aws["with"]["role-to-assume"] == "${{ vars.MONITOR_ROLE_ARN }}"
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/monitor/"
