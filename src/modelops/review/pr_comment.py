"""Post the report as ONE pull-request comment, updated in place on every push.

GitHub is called through the `gh` CLI that GitHub's runners carry (`gh api`, authenticated by
GITHUB_TOKEN or GH_TOKEN; GH_HOST for GitHub Enterprise), so this module holds only what is
ours: which comment is the report, the outdated banner, and the images.

The comment is found by the hidden marker the report starts with (`<!-- modelops-report -->`):
list the issue comments (all pages), PATCH the one with the marker, else POST a new one. So a PR
gets a single report comment however many times CI runs, never one per push.

Images: a comment cannot carry files and GITHUB_TOKEN cannot upload attachments, so the PNGs of
the report are published to a side branch through the contents API and shown inline (the links
point at that commit), for pull requests from forks too. Only files that are PNG images by their
signature and at most MAX_IMAGE_BYTES are published; anything else becomes a pointer to the run's
artifact. The files are data only: nothing from the pull request is run.

When CI fails before it wrote a report, `--outdated` (`make pr-comment-outdated`) puts a banner
on top of the existing report comment: it describes an earlier commit, not the PR's head.

`make pr-comment` runs it with GITHUB_TOKEN, GITHUB_REPOSITORY and PR_NUMBER (or HEAD_SHA +
HEAD_OWNER + HEAD_BRANCH to look the PR up), REPORT (default reports/pr/report.md), and
optionally COMMENT_AUTHOR (only that login's marked comment is updated), ARTIFACT_URL and
PUBLISH_IMAGES=true. It needs the standard library and `gh` only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelops.review.render import MARKER, rewrite_images

# GitHub rejects comment bodies over 65,536 characters; keep room for the truncation note.
MAX_BODY = 65_000
ASSETS_BRANCH = "modelops-report-assets"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 1_000_000
OUTDATED_START = "<!-- modelops-outdated -->"
OUTDATED_END = "<!-- /modelops-outdated -->"
# Statuses worth another try for a call that is safe to repeat (`gh api` itself does not retry).
TRANSIENT = {429, 500, 502, 503, 504}
IDEMPOTENT = {"GET", "PATCH", "PUT"}  # never POST: a retried create could post twice


class GitHubError(RuntimeError):
    """A GitHub API call failed; the message says why and what to check."""


@dataclass(frozen=True)
class Posted:
    """What `upsert_comment` did."""

    action: str  # "created" or "updated"
    comment_id: int
    url: str


class GitHub:
    """The few GitHub REST calls the report comment needs, made with `gh api`."""

    def __init__(
        self,
        token: str,
        repository: str,
        gh: str = "gh",
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 60.0,
    ):
        if not token:
            raise GitHubError("GITHUB_TOKEN is empty: the job must pass it in the environment")
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise GitHubError(f"GITHUB_REPOSITORY={repository!r} is not 'owner/name'")
        self.repository = repository
        self.gh = shutil.which(gh) or gh
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout

    def environment(self) -> dict[str, str]:
        """`gh`'s environment: the token, and no prompts, pager, colour or update notices."""
        return {
            **os.environ,
            "GH_TOKEN": self.token,
            "GH_PROMPT_DISABLED": "1",
            "GH_NO_UPDATE_NOTIFIER": "1",
            "NO_COLOR": "1",
        }

    def request(
        self,
        method: str,
        endpoint: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
        paginate: bool = False,
    ) -> Any:
        """`gh api` one endpoint; the parsed JSON response (a list of pages with `paginate`).

        Raises:
            GitHubError: `gh` is missing, or the call failed; says why and what to check.

        """
        command = [self.gh, "api", "--method", method, endpoint]
        for key, value in (query or {}).items():  # with --method GET, fields are the query
            command += ["--raw-field", f"{key}={value}"]
        if paginate:  # follow `Link: rel=next`; --slurp wraps the pages in one JSON array
            command += ["--paginate", "--slurp"]
        if body is not None:
            command += ["--input", "-"]
        stdin = json.dumps(body) if body is not None else None
        for attempt in range(self.retries + 1):
            try:
                result = subprocess.run(
                    command, input=stdin, capture_output=True, text=True,
                    env=self.environment(), timeout=self.timeout, check=False,
                )  # fmt: skip
            except FileNotFoundError:
                raise GitHubError(
                    f"{self.gh}: the GitHub CLI is not installed (GitHub's runners carry it; "
                    "elsewhere see https://cli.github.com)"
                ) from None
            except subprocess.TimeoutExpired:
                raise GitHubError(
                    f"gh api {method} {endpoint}: no answer in {self.timeout:.0f} s"
                ) from None
            if result.returncode == 0:
                return json.loads(result.stdout) if result.stdout.strip() else None
            status = http_status(result.stderr)
            if method in IDEMPOTENT and status in TRANSIENT and attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
                continue
            raise GitHubError(explain(method, endpoint, status, result, self.repository))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def exists(self, endpoint: str, query: Mapping[str, Any] | None = None) -> Any:
        """The resource at `endpoint`, or None when GitHub answers 404."""
        try:
            return self.request("GET", endpoint, query=query)
        except GitHubError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise

    def comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of issue/PR `number`, following the `Link: rel=next` pages."""
        pages = self.request(
            "GET", f"repos/{self.repository}/issues/{number}/comments?per_page=100", paginate=True
        )
        return [comment for page in pages or [] for comment in page]

    def upsert_comment(
        self, number: int, body: str, marker: str = MARKER, author: str | None = None
    ) -> Posted:
        """Update the comment carrying `marker` on PR `number`, or create it.

        With `author`, only that user's comments count: a person who pastes the marker into
        their own comment never gets it overwritten.
        """
        if marker not in body:
            body = f"{marker}\n{body}"
        body = truncate(body)
        comment = self.marked_comment(number, marker, author)
        return self._write(number, comment, body, ("updated", "created"))

    def _write(
        self, number: int, comment: dict[str, Any] | None, body: str, actions: tuple[str, str]
    ) -> Posted:
        """Edit `comment` in place, or post a new one when there is none; say which it did."""
        if comment:
            payload = self.request(
                "PATCH", f"repos/{self.repository}/issues/comments/{comment['id']}",
                body={"body": body},
            )  # fmt: skip
        else:
            payload = self.request(
                "POST", f"repos/{self.repository}/issues/{number}/comments", body={"body": body}
            )
        action = actions[0] if comment else actions[1]
        return Posted(action, int(payload["id"]), payload.get("html_url", ""))

    def marked_comment(
        self, number: int, marker: str = MARKER, author: str | None = None
    ) -> dict[str, Any] | None:
        """The sticky comment: the oldest one carrying `marker` (by `author` when given)."""
        mine = [
            c
            for c in self.comments(number)
            if marker in (c.get("body") or "")
            and (author is None or (c.get("user") or {}).get("login") == author)
        ]
        # the oldest one is the sticky comment; any later duplicates are left as they are
        return min(mine, key=lambda c: c["id"]) if mine else None

    def mark_outdated(
        self, number: int, head_sha: str, run_url: str | None, author: str | None = None
    ) -> Posted:
        """Put the outdated banner on the report comment (or post the banner alone)."""
        comment = self.marked_comment(number, MARKER, author)
        body = outdated_body((comment or {}).get("body") or MARKER, head_sha, run_url)
        return self._write(number, comment, truncate(body), ("marked outdated", "created outdated"))

    def find_pull_request(self, head_sha: str, head_owner: str, head_branch: str) -> int:
        """The open PR whose head is `head_owner:head_branch` at commit `head_sha`.

        `workflow_run` events from forks carry no pull request number, so it is looked up
        from the run's head; the commit must match, so a branch pushed since is not mistaken.
        """
        pulls = self.request(
            "GET", f"repos/{self.repository}/pulls",
            query={"head": f"{head_owner}:{head_branch}", "state": "open", "per_page": 100},
        )  # fmt: skip
        for pull in pulls:
            if pull.get("head", {}).get("sha") == head_sha:
                return int(pull["number"])
        raise GitHubError(
            f"no open pull request in {self.repository} has head {head_owner}:{head_branch} "
            f"at {head_sha[:12]} (closed, or pushed again since this run)"
        )

    def publish_images(self, images: dict[str, bytes], folder: str, branch: str) -> dict[str, str]:
        """Commit `images` under `folder` on `branch` (created if missing); return name -> URL.

        The URLs point at the commit that added them, so a later push does not change what an
        older report showed.
        """
        self.ensure_branch(branch)
        urls: dict[str, str] = {}
        for name, data in sorted(images.items()):
            path = f"{folder}/{name}"
            response = self.request(
                "PUT", f"repos/{self.repository}/contents/{path}",
                body={
                    "message": f"report image {path}",
                    "content": base64.b64encode(data).decode(),
                    "branch": branch,
                    **self.existing_sha(path, branch),
                },
            )  # fmt: skip
            commit = response["commit"]["sha"]
            urls[name] = f"https://github.com/{self.repository}/blob/{commit}/{path}?raw=true"
        return urls

    def existing_sha(self, path: str, branch: str) -> dict[str, str]:
        """{"sha": blob} when `path` exists on `branch` (the contents API needs it to replace)."""
        found = self.exists(f"repos/{self.repository}/contents/{path}", query={"ref": branch})
        return {"sha": found["sha"]} if found else {}

    def ensure_branch(self, branch: str) -> None:
        """Create `branch` from the default branch's head if it does not exist yet."""
        if self.exists(f"repos/{self.repository}/git/ref/heads/{branch}"):
            return
        default = self.request("GET", f"repos/{self.repository}")["default_branch"]
        head = self.request("GET", f"repos/{self.repository}/git/ref/heads/{default}")
        self.request(
            "POST", f"repos/{self.repository}/git/refs",
            body={"ref": f"refs/heads/{branch}", "sha": head["object"]["sha"]},
        )  # fmt: skip


def http_status(stderr: str) -> int | None:
    """The HTTP status `gh api` names on failure (`gh: Not Found (HTTP 404)`), if any."""
    found = re.findall(r"\(HTTP (\d{3})\)", stderr)
    return int(found[-1]) if found else None


def explain(
    method: str,
    endpoint: str,
    status: int | None,
    result: subprocess.CompletedProcess[str],
    repository: str,
) -> str:
    """A message that says what a failed `gh api` call means for this job."""
    detail = " ".join(result.stderr.strip().splitlines()[-2:]) or result.stdout.strip()[:200]
    hint = {
        401: "GITHUB_TOKEN is invalid or expired",
        403: (
            "the token may not do this: the job needs `permissions: pull-requests: write` "
            "(and `contents: write` to publish images); a pull_request run from a fork only has "
            "a read-only token, which is why fork PRs are commented from the workflow_run "
            "workflow; or the API rate limit was hit"
        ),
        404: (
            f"not found: check GITHUB_REPOSITORY={repository!r} and the PR number, and that "
            "the token can see the repository"
        ),
        422: "GitHub refused the content (too large or malformed)",
    }.get(status or 0, "unexpected response")
    shown = f"HTTP {status}" if status else f"gh exited {result.returncode}"
    return f"gh api --method {method} {endpoint} -> {shown}: {hint} ({detail})"


def outdated_body(body: str, head_sha: str, run_url: str | None) -> str:
    """`body` with the banner saying it predates `head_sha` (an older banner is replaced)."""
    if OUTDATED_START in body and OUTDATED_END in body:
        before, rest = body.split(OUTDATED_START, 1)
        body = before + rest.split(OUTDATED_END, 1)[1].lstrip("\n")
    run = f"[CI run]({run_url})" if run_url else "CI run"
    banner = (
        f"{OUTDATED_START}\n> [!WARNING]\n> **Outdated.** The {run} for `{head_sha[:12]}` failed "
        "before it wrote a report: what follows describes an earlier commit, not this pull "
        f"request's head. Fix the failing job; the next green run replaces this comment.\n"
        f"{OUTDATED_END}\n"
    )
    if MARKER in body:
        head, tail = body.split(MARKER, 1)
        return f"{head}{MARKER}\n{banner}{tail.lstrip(chr(10))}"
    return f"{MARKER}\n{banner}{body}"


def publishable_images(folder: Path) -> dict[str, bytes]:
    """The report's PNGs that are PNG images by signature and small enough to publish."""
    images = {}
    for path in sorted(folder.glob("plots/*.png")):
        data = path.read_bytes()
        if data.startswith(PNG_SIGNATURE) and len(data) <= MAX_IMAGE_BYTES:
            images[path.name] = data
    return images


def truncate(body: str, limit: int = MAX_BODY) -> str:
    """Cut a body that GitHub would refuse, saying where the whole report is."""
    if len(body) <= limit:
        return body
    note = "\n\n… truncated: the full report is in the job summary and the run's artifact.\n"
    return body[: limit - len(note)] + note


def prepare_body(report: Path, image_urls: dict[str, str] | None, artifact_url: str | None) -> str:
    """The report text with its relative image links made to work in a comment."""
    where = f"[the report artifact]({artifact_url})" if artifact_url else "the run's artifact"

    def resolve(alt: str, path: str) -> str:
        url = (image_urls or {}).get(Path(path).name)
        return f"![{alt}]({url})" if url else f"- {alt}: `{path}` in {where}"

    return rewrite_images(report.read_text(), resolve)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.review.pr_comment` (settings from the environment: module doc)."""
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m modelops.review.pr_comment", description=__doc__
    )
    parser.add_argument("--report", default=env.get("REPORT") or "reports/pr/report.md")
    parser.add_argument("--pr", default=env.get("PR_NUMBER", ""), help="pull request number")
    parser.add_argument("--head-sha", default=env.get("HEAD_SHA", ""))
    parser.add_argument("--head-owner", default=env.get("HEAD_OWNER", ""))
    parser.add_argument("--head-branch", default=env.get("HEAD_BRANCH", ""))
    parser.add_argument("--artifact-url", default=env.get("ARTIFACT_URL") or None)
    parser.add_argument(
        "--author",
        default=env.get("COMMENT_AUTHOR", ""),
        help="only update a marked comment by this login (CI: github-actions[bot])",
    )
    parser.add_argument(
        "--outdated",
        action="store_true",
        help="CI failed before the report: mark the existing report comment outdated",
    )
    parser.add_argument("--run-url", default=env.get("RUN_URL") or env.get("ARTIFACT_URL"))
    parser.add_argument(
        "--publish-images",
        action="store_true",
        default=env.get("PUBLISH_IMAGES", "") in ("1", "true"),
        help=f"commit the PNGs to the {ASSETS_BRANCH!r} branch and link them (same-repo PRs)",
    )
    args = parser.parse_args(argv)
    report = Path(args.report)
    try:
        if not args.outdated and not report.is_file():
            raise GitHubError(f"{report}: no report to post; run `make report BASE=<ref>` first")
        github = GitHub(
            env.get("GH_TOKEN") or env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", "")
        )
        if args.pr:
            if not args.pr.isdigit():
                raise GitHubError(f"PR_NUMBER={args.pr!r} is not a pull request number")
            number = int(args.pr)
        elif args.head_sha and args.head_owner and args.head_branch:
            number = github.find_pull_request(args.head_sha, args.head_owner, args.head_branch)
        else:
            raise GitHubError("set PR_NUMBER, or HEAD_SHA + HEAD_OWNER + HEAD_BRANCH")
        if args.outdated:
            posted = github.mark_outdated(
                number, args.head_sha or "HEAD", args.run_url, author=args.author or None
            )
            print(f"{posted.action} comment {posted.comment_id} on #{number}: {posted.url}")
            return 0
        urls = None
        if args.publish_images:
            images = publishable_images(report.parent)
            folder = f"pr-{number}/{args.head_sha or 'latest'}"
            urls = github.publish_images(images, folder, ASSETS_BRANCH) if images else None
        body = prepare_body(report, urls, args.artifact_url)
        posted = github.upsert_comment(number, body, author=args.author or None)
    except GitHubError as exc:
        print(f"error: pr-comment: {exc}", file=sys.stderr)
        return 1
    print(f"{posted.action} comment {posted.comment_id} on #{number}: {posted.url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
