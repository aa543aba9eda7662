"""The sticky report comment against a fake GitHub API on loopback that records every call.

The module calls `gh api`; here `gh` on PATH is fake_gh.py, which sends what the GitHub CLI
manual says `gh api` sends to the fake, and fails the way gh does.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from modelops.review.pr_comment import (
    ASSETS_BRANCH,
    MAX_BODY,
    OUTDATED_START,
    PNG_SIGNATURE,
    GitHub,
    GitHubError,
)
from modelops.review.render import MARKER
from tests.workflows.fake_github import FakeGitHub

REPO = "acme/models"


FAKE_GH = Path(__file__).with_name("fake_gh.py")


@pytest.fixture
def api(tmp_path_factory, monkeypatch):
    """The fake GitHub, and a `gh` on PATH that sends `gh api` calls to it."""
    bin_dir = tmp_path_factory.mktemp("bin")
    gh = bin_dir / "gh"
    gh.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_GH} "$@"\n')
    gh.chmod(0o755)
    with FakeGitHub() as fake:
        fake.bin_dir = bin_dir
        monkeypatch.setenv("FAKE_GH_API_URL", fake.url)
        monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
        yield fake


def client(api, token="test-token", retries=0):
    return GitHub(token, REPO, gh=str(api.bin_dir / "gh"), retries=retries, backoff=0)


def report_body(text="metrics diff"):
    return f"{MARKER}\n## report\n{text}\n"


def test_first_run_creates_then_every_push_updates_the_same_comment(api):
    github = client(api)
    api.state.comments[7] = [{"id": 1, "body": "LGTM"}, {"id": 2, "body": "other bot"}]

    first = github.upsert_comment(7, report_body("v1"))
    second = github.upsert_comment(7, report_body("v2"))
    third = github.upsert_comment(7, report_body("v3"))

    assert first.action == "created"
    assert second.action == third.action == "updated"
    assert first.comment_id == second.comment_id == third.comment_id
    assert len(api.state.calls_of("POST")) == 1
    assert len(api.state.calls_of("PATCH")) == 2
    comments = api.state.comments[7]
    assert [c["id"] for c in comments] == [1, 2, first.comment_id]
    assert "v3" in comments[-1]["body"] and MARKER in comments[-1]["body"]
    assert comments[0]["body"] == "LGTM"  # other people's comments are never touched
    assert all(c.authorization == "token test-token" for c in api.state.calls)


def test_a_person_quoting_the_marker_keeps_their_comment(api):
    human = {"id": 3, "body": f"{MARKER} pasted by hand", "user": {"login": "alice"}}
    api.state.comments[8] = [human]
    github = client(api)
    first = github.upsert_comment(8, report_body("v1"), author="github-actions[bot]")
    second = github.upsert_comment(8, report_body("v2"), author="github-actions[bot]")
    assert first.action == "created" and second.action == "updated"
    assert second.comment_id == first.comment_id != 3
    assert api.state.comments[8][0]["body"] == f"{MARKER} pasted by hand"


def test_marker_is_found_beyond_the_first_page(api):
    github = client(api)
    others = [{"id": i, "body": f"comment {i}"} for i in range(1, 251)]
    api.state.comments[3] = [*others[:180], {"id": 500, "body": f"{MARKER}\nold"}, *others[180:]]

    posted = github.upsert_comment(3, report_body("new"))

    assert posted.action == "updated" and posted.comment_id == 500
    pages = [c.query.get("page", ["1"])[0] for c in api.state.calls_of("GET")]
    assert pages == ["1", "2", "3"]
    assert api.state.calls_of("POST") == []


def test_marker_is_added_when_the_body_lacks_it_and_long_bodies_are_cut(api):
    github = client(api)
    github.upsert_comment(9, "x" * (MAX_BODY + 5000))
    body = api.state.comments[9][0]["body"]
    assert body.startswith(MARKER)
    assert len(body) <= MAX_BODY and "truncated" in body
    assert github.upsert_comment(9, "short").action == "updated"


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "invalid or expired"),
        (403, "pull-requests: write"),
        (404, "GITHUB_REPOSITORY='acme/models'"),
    ],
)
def test_error_statuses_give_a_clear_message(api, status, words):
    api.state.failures = [status]
    with pytest.raises(GitHubError, match="HTTP") as caught:
        client(api).upsert_comment(1, report_body())
    assert words in str(caught.value)
    assert api.state.calls_of("POST") == []


def test_a_bad_token_is_refused_by_the_api(api):
    with pytest.raises(GitHubError, match="401"):
        client(api, token="wrong").upsert_comment(1, report_body())


def test_transient_errors_are_retried_but_a_create_is_never_repeated(api):
    api.state.failures = [502, 503]
    posted = client(api, retries=3).upsert_comment(4, report_body())
    assert posted.action == "created"
    assert len(api.state.calls_of("GET")) == 3 and len(api.state.calls_of("POST")) == 1

    api.state.failures = [502]
    api.state.comments[5] = []
    with pytest.raises(GitHubError, match="502"):
        client(api, retries=3).request("POST", f"repos/{REPO}/issues/5/comments", body={})
    assert api.state.comments[5] == []


def test_bad_settings_are_named():
    with pytest.raises(GitHubError, match="GITHUB_TOKEN"):
        GitHub("", REPO)
    with pytest.raises(GitHubError, match="owner/name"):
        GitHub("t", "just-a-name")


def test_pull_request_is_found_by_head_commit_for_workflow_run(api):
    api.state.pulls = [
        {"number": 12, "head": {"label": "fork-user:feature", "sha": "1" * 40}},
        {"number": 13, "head": {"label": "fork-user:feature", "sha": "2" * 40}},
    ]
    github = client(api)
    assert github.find_pull_request("2" * 40, "fork-user", "feature") == 13
    with pytest.raises(GitHubError, match="no open pull request"):
        github.find_pull_request("3" * 40, "fork-user", "feature")


def test_images_are_published_to_the_assets_branch_once_per_path(api):
    github = client(api)
    urls = github.publish_images({"roc.png": b"\x89PNG1"}, "pr-7/abc", ASSETS_BRANCH)
    assert api.state.refs[ASSETS_BRANCH] == api.state.refs["main"]  # created from main
    assert api.state.files[(ASSETS_BRANCH, "pr-7/abc/roc.png")] == b"\x89PNG1"
    assert urls["roc.png"].startswith(f"https://github.com/{REPO}/blob/")
    assert urls["roc.png"].endswith("/pr-7/abc/roc.png?raw=true")
    # a rerun on the same commit replaces the file (the contents API needs its blob sha)
    github.publish_images({"roc.png": b"\x89PNG2"}, "pr-7/abc", ASSETS_BRANCH)
    assert api.state.files[(ASSETS_BRANCH, "pr-7/abc/roc.png")] == b"\x89PNG2"
    assert len([c for c in api.state.calls if c.path.endswith("/git/refs")]) == 1


def run_cli(api, tmp_path, env_extra, *args):
    report = tmp_path / "pr" / "report.md"
    report.parent.mkdir(exist_ok=True)
    (report.parent / "plots").mkdir(exist_ok=True)
    (report.parent / "plots" / "roc.png").write_bytes(PNG_SIGNATURE + b"image data")
    (report.parent / "plots" / "evil.png").write_bytes(b"<script>not an image</script>")
    report.write_text(
        report_body("table") + "![ROC curve](plots/roc.png)\n![Evil](plots/evil.png)\n"
    )
    env = {
        "PATH": f"{api.bin_dir}:/usr/bin:/bin",
        "FAKE_GH_API_URL": api.url,
        "GITHUB_TOKEN": "test-token",
        "GITHUB_REPOSITORY": REPO,
        "REPORT": str(report),
        **env_extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "modelops.review.pr_comment", *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cli_without_image_publishing_points_at_the_artifact(api, tmp_path):
    env = {"PR_NUMBER": "21", "ARTIFACT_URL": "https://github.test/run/1/artifacts/9"}
    first = run_cli(api, tmp_path, env)
    second = run_cli(api, tmp_path, env)
    assert first.returncode == 0, first.stderr
    assert "created comment" in first.stdout and "updated comment" in second.stdout
    body = api.state.comments[21][0]["body"]
    assert "![" not in body  # a relative image would render broken in a comment
    assert "[the report artifact](https://github.test/run/1/artifacts/9)" in body
    assert api.state.files == {}


def test_cli_publishes_images_for_a_same_repo_pr(api, tmp_path):
    env = {"PR_NUMBER": "22", "PUBLISH_IMAGES": "true", "HEAD_SHA": "f" * 40}
    result = run_cli(api, tmp_path, env)
    assert result.returncode == 0, result.stderr
    body = api.state.comments[22][0]["body"]
    assert f"![ROC curve](https://github.com/{REPO}/blob/" in body
    assert (ASSETS_BRANCH, f"pr-22/{'f' * 40}/roc.png") in api.state.files


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PR_NUMBER": "abc"}, "not a pull request number"),
        ({}, "set PR_NUMBER"),
        ({"PR_NUMBER": "1", "GITHUB_TOKEN": ""}, "GITHUB_TOKEN is empty"),
        ({"PR_NUMBER": "1", "REPORT": "/nonexistent/report.md"}, "no report to post"),
    ],
)
def test_cli_names_what_is_wrong(api, tmp_path, env, message):
    result = run_cli(api, tmp_path, env)
    assert result.returncode == 1
    assert message in result.stderr
    assert api.state.calls_of("POST") == []


def test_cli_shows_a_fork_prs_plots_inline_and_publishes_only_real_pngs(api, tmp_path):
    """Fork PRs get their plots inline too (report-comment.yml publishes for every PR); a file
    that is not a PNG by its signature is never written into the repository."""
    env = {
        "HEAD_SHA": "e" * 40, "HEAD_OWNER": "someone", "HEAD_BRANCH": "patch-1",
        "PUBLISH_IMAGES": "true", "ARTIFACT_URL": "https://github.test/run/5",
    }  # fmt: skip
    api.state.pulls.append({"number": 23, "head": {"sha": "e" * 40, "label": "someone:patch-1"}})
    result = run_cli(api, tmp_path, env)
    assert result.returncode == 0, result.stderr
    body = api.state.comments[23][0]["body"]
    assert f"![ROC curve](https://github.com/{REPO}/blob/" in body
    assert "- Evil: `plots/evil.png` in [the report artifact](https://github.test/run/5)" in body
    assert set(api.state.files) == {(ASSETS_BRANCH, f"pr-23/{'e' * 40}/roc.png")}


def test_outdated_banner_goes_on_the_report_comment_once_and_a_green_run_removes_it(api):
    github = client(api)
    posted = github.upsert_comment(9, report_body("gate passes"), author=None)
    for _ in range(2):  # a re-run of the failed CI marks it again, without a second banner
        marked = github.mark_outdated(9, "a" * 40, "https://github.test/runs/77")
    assert marked.comment_id == posted.comment_id and marked.action == "marked outdated"
    body = api.state.comments[9][0]["body"]
    assert body.count(OUTDATED_START) == 1 and body.startswith(MARKER)
    assert "[CI run](https://github.test/runs/77) for `aaaaaaaaaaaa` failed" in body
    assert "gate passes" in body  # the old report stays readable below the banner
    github.upsert_comment(9, report_body("new report"))
    assert OUTDATED_START not in api.state.comments[9][0]["body"]


def test_outdated_without_a_report_comment_posts_the_banner(api, tmp_path):
    result = run_cli(
        api, tmp_path, {"PR_NUMBER": "31", "HEAD_SHA": "b" * 40, "RUN_URL": "https://r/1"},
        "--outdated", "--report", "/nonexistent/report.md",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = api.state.comments[31][0]["body"]
    assert body.startswith(MARKER) and OUTDATED_START in body and "[CI run](https://r/1)" in body


def test_a_missing_gh_is_named(api):
    github = GitHub("t", REPO, gh=str(api.bin_dir / "no-such-gh"))
    with pytest.raises(GitHubError, match="the GitHub CLI is not installed"):
        github.comments(1)


def test_the_fake_gh_refuses_what_gh_refuses(api):
    """The stand-in is only worth something if a call the real gh rejects fails here too."""
    gh = str(api.bin_dir / "gh")
    for bad in (
        ["api", "x", "--bogus"],
        ["api", "x", "--slurp"],
        ["api", "-X", "POST", "x", "--paginate"],
    ):
        result = subprocess.run(
            [gh, *bad], capture_output=True, text=True, timeout=30, env={"GH_TOKEN": "test-token"}
        )
        assert result.returncode == 1 and result.stderr, bad
    assert api.state.calls == []
