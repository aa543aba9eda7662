"""One retrain PR (or issue) per drift, against a fake GitHub API on loopback.

The fake is tests/workflows/fake_github.py, extended here with the issue, pull-request, ref and
Git Data endpoints the monitor uses, as GitHub documents them:
`GET /pulls?head=owner:branch&state=all` lists closed PRs with `merged_at`, `GET /issues` also
lists pull requests (marked by a `pull_request` key), `POST /pulls` is refused (422) while an
open PR has the same head, `POST /git/trees` takes `base_tree` and entries with `content` (or
`sha: null` to delete), `POST /git/commits` takes `tree` and `parents`, `GET /git/commits/{sha}`
gives its message.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelops.monitoring.refresh import LabelledSource, Prepared
from modelops.monitoring.retrain import (
    BRANCH,
    COMMIT_MESSAGE,
    LABEL,
    REQUEST_FILE,
    GitHub,
    GitHubError,
    act,
    decide,
    fingerprint_of,
    resolve_mode,
    retrying_session,
)
from tests.workflows.fake_github import FakeGitHub

REPO = "acme/models"
MAIN_FILES = {"dvc.lock": "old lock\n", "data/external/labels.csv.dvc": "md5: old\n"}


class FakeGitHubWithIssues(FakeGitHub):
    """Adds issues and pull requests (create, list with state, edit) and ref updates."""

    def __init__(self):
        super().__init__()
        self.state.issues = []  # issues and pull requests share numbers, as on GitHub
        main = self.state.refs["main"]
        self.state.trees = {"tree-0": dict(MAIN_FILES)}
        self.state.commit_objects = {main: {"tree": "tree-0", "parents": [], "message": "init"}}

    def files_on(self, branch):
        """The files of `branch`'s head commit."""
        commit = self.state.commit_objects[self.state.refs[branch]]
        return self.state.trees[commit["tree"]]

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
        if rest == "/git/trees" and method == "POST":
            if body["base_tree"] not in state.trees:
                return 422, {"message": "base_tree is not a tree"}
            files = dict(state.trees[body["base_tree"]])
            for entry in body["tree"]:
                if "content" in entry:
                    files[entry["path"]] = entry["content"]
                elif entry.get("sha", "") is None:
                    files.pop(entry["path"], None)
            sha = f"tree-{len(state.trees)}"
            state.trees[sha] = files
            return 201, {"sha": sha}
        if rest == "/git/commits" and method == "POST":
            if body["tree"] not in state.trees or not all(
                p in state.commit_objects for p in body["parents"]
            ):
                return 422, {"message": "tree or parent does not exist"}
            sha = f"{len(state.commit_objects):040x}"
            state.commit_objects[sha] = {k: body[k] for k in ("tree", "parents", "message")}
            return 201, {"sha": sha}
        if (m := re.fullmatch(r"/git/commits/([0-9a-f]{40})", rest)) and method == "GET":
            if m[1] not in state.commit_objects:
                return 404, {"message": "Not Found"}
            commit = state.commit_objects[m[1]]
            return 200, {
                "sha": m[1],
                "message": commit["message"],
                "tree": {"sha": commit["tree"]},
                "parents": [{"sha": p} for p in commit["parents"]],
            }
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


SOURCE = LabelledSource(
    "data/external/labels.csv", "data/external/labels.csv.dvc", "s3://labels/customers.csv"
)


def refreshed(lock="new lock\n", error=None):
    """A refresh that found new labels: the import's new hash and the rerun's dvc.lock."""
    files = {"dvc.lock": lock, "data/external/labels.csv.dvc": "md5: new\n"}
    return lambda: Prepared(files, error)


def never():
    raise AssertionError("refreshed the data although nothing was to be opened or updated")


def test_closing_without_merging_silences_that_drift_until_it_changes(api):
    client = github(api)
    opened = act(client, report(), "pr", None, refreshed(), SOURCE)
    assert opened.action == "open"
    pull = api.state.issues[0]
    assert pull["head"]["label"] == f"acme:{BRANCH}"
    branch = api.files_on(BRANCH)
    assert branch["dvc.lock"] == "new lock\n"  # the refreshed data and the pipeline's rerun
    assert branch["data/external/labels.csv.dvc"] == "md5: new\n"
    committed = json.loads(branch[REQUEST_FILE])
    assert committed["fingerprint"] == "abc123" and committed["drifted_features"] == ["num_00"]
    head = api.state.commit_objects[api.state.refs[BRANCH]]
    assert head["parents"] == [api.state.refs["main"]]  # ONE commit on the default branch
    assert (
        "`data/external/labels.csv` (a DVC import of `s3://labels/customers.csv`)" in (pull["body"])
    )
    assert "`dvc.lock`" in pull["body"] and "gate decides" in pull["body"]

    pull["state"] = "closed"  # a person closes it without merging
    again = act(client, report(), "pr", None, never, SOURCE)
    assert again.action == "silenced" and again.number == pull["number"]
    assert len(api.state.issues) == 1

    changed = act(client, report(features=("num_01",), fingerprint="fff000"), "pr", None,
                  refreshed("newer lock\n"), SOURCE)  # fmt: skip
    assert changed.action == "open" and changed.number == 2
    assert api.files_on(BRANCH)["dvc.lock"] == "newer lock\n"
    # the leftover branch was moved onto the new commit, not left on the closed PR's
    assert any(
        c.method == "PATCH" and c.path.endswith(f"/git/refs/heads/{BRANCH}")
        for c in api.state.calls
    )


def test_without_new_labels_no_pull_request_is_opened(api):
    decision = act(github(api), report(), "pr", None, lambda: None, SOURCE)
    assert decision.action == "waiting" and decision.number is None
    assert api.state.calls_of("POST") == [] and BRANCH not in api.state.refs


def test_an_open_retrain_gets_the_new_labels_unless_a_person_pushed_to_it(api):
    client = github(api)
    act(client, report(), "pr", None, refreshed(), SOURCE)
    update = act(client, report(), "pr", None, refreshed("second lock\n"), SOURCE)
    assert update.action == "update" and "newly refreshed" in update.reason
    assert api.files_on(BRANCH)["dvc.lock"] == "second lock\n"
    assert len(api.state.issues) == 1

    # a person raises select.max_regression on the branch
    person = "f" * 40
    state = api.state
    state.commit_objects[person] = {
        "tree": "tree-0", "parents": [state.refs[BRANCH]], "message": "accept the regression",
    }  # fmt: skip
    state.refs[BRANCH] = person
    kept = act(client, report(), "pr", None, refreshed("third lock\n"), SOURCE)
    assert kept.action == "update" and "left as it is" in kept.reason
    assert state.refs[BRANCH] == person
    assert "New labels arrived" in state.issues[0]["body"]

    same = act(client, report(), "pr", None, lambda: None, SOURCE)
    assert same.action == "update" and state.refs[BRANCH] == person
    assert "has no new version" in state.issues[0]["body"]


def test_a_pipeline_failure_in_the_monitor_run_is_shown_in_the_pull_request(api):
    act(github(api), report(), "pr", None, refreshed(error="select: gate refused"), SOURCE)
    body = api.state.issues[0]["body"]
    assert "`dvc repro` failed in the monitor's run" in body and "select: gate refused" in body


def test_a_merged_retrain_does_not_silence_a_drift_that_persists(api):
    client = github(api)
    act(client, report(), "pr", None, refreshed(), SOURCE)
    api.state.issues[0].update(state="closed", merged_at="2026-12-02T10:00:00Z")
    assert act(client, report(), "pr", None, refreshed(), SOURCE).action == "open"


def test_the_mode_follows_the_labelled_source():
    assert resolve_mode("auto", SOURCE) == "pr"
    assert resolve_mode("auto", None) == "issue"
    assert resolve_mode("issue", SOURCE) == "issue"
    with pytest.raises(GitHubError, match="DVC import"):
        resolve_mode("pr", None)
    with pytest.raises(GitHubError, match="expected auto, pr or issue"):
        resolve_mode("always", SOURCE)


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


def test_the_cli_refreshes_a_dvc_import_and_opens_the_retrain_pull_request(api, tmp_path):
    """`make monitor-pr` in a real git + DVC project whose data.source is a DVC import."""
    from tests.monitoring.labelled_repo import make_labelled_repo, write_labels

    root = tmp_path / "project"
    labels = make_labelled_repo(root, rows=3)
    drift = tmp_path / "drift.json"
    drift.write_text(json.dumps(report()))
    env = {
        "GITHUB_TOKEN": "test-token",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api.url,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",  # the venv's python, as make's
        "HOME": str(tmp_path),
    }
    command = [sys.executable, "-m", "modelops.monitoring.retrain", "--report", str(drift),
               "--params", str(root / "params.yaml")]  # fmt: skip

    def monitor_pr():
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    waiting = monitor_pr()  # the labels have not changed since the last pipeline run
    assert waiting.returncode == 0, waiting.stderr
    assert "monitor-pr (pr): waiting" in waiting.stdout and api.state.issues == []

    write_labels(labels, 6)  # new labels arrive at the source
    done = monitor_pr()
    assert done.returncode == 0, done.stderr
    assert "monitor-pr (pr): open #1" in done.stdout
    branch = api.files_on(BRANCH)
    assert branch["metrics.json"] == '{"rows": 6}'  # the pipeline reran on the new labels
    for path in ("dvc.lock", "data/external/labels.csv.dvc"):
        assert branch[path] == (root / path).read_text()
    assert api.state.commit_objects[api.state.refs[BRANCH]]["message"] == COMMIT_MESSAGE
