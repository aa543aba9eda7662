"""Post the report as ONE pull-request comment, updated in place on every push.

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
PUBLISH_IMAGES=true.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from modelops.review.report import MARKER, rewrite_images

# GitHub rejects comment bodies over 65,536 characters; keep room for the truncation note.
MAX_BODY = 65_000
ASSETS_BRANCH = "modelops-report-assets"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 1_000_000
OUTDATED_START = "<!-- modelops-outdated -->"
OUTDATED_END = "<!-- /modelops-outdated -->"


class GitHubError(RuntimeError):
    """A GitHub API call failed; the message says why and what to check."""


@dataclass(frozen=True)
class Posted:
    """What `upsert_comment` did."""

    action: str  # "created" or "updated"
    comment_id: int
    url: str


def retrying_session(token: str, retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session that authenticates and retries rate limits and transient server errors.

    POST is not retried on a status (a retried create could post twice); reads and the
    idempotent PATCH/PUT are.
    """
    retry = Retry(
        total=retries,
        backoff_factor=backoff,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "PATCH", "PUT"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.headers.update(
        {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "modelops-pr-comment",
        }
    )
    return session


class GitHub:
    """The few GitHub REST calls the report comment needs."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = "https://api.github.com",
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ):
        if not token:
            raise GitHubError("GITHUB_TOKEN is empty: the job must pass it in the environment")
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise GitHubError(f"GITHUB_REPOSITORY={repository!r} is not 'owner/name'")
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self.session = session or retrying_session(token)
        self.timeout = timeout

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> requests.Response:
        """Call the API; raise GitHubError with a clear reason on any error status."""
        url = path_or_url if "://" in path_or_url else f"{self.api_url}{path_or_url}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(f"{method} {url}: {exc}") from None
        if response.status_code >= 400:
            raise GitHubError(explain(method, url, response, self.repository))
        return response

    def comments(self, number: int) -> list[dict[str, Any]]:
        """Every comment of issue/PR `number`, following the `Link: rel=next` pages."""
        url: str | None = f"/repos/{self.repository}/issues/{number}/comments?per_page=100"
        found: list[dict[str, Any]] = []
        while url:
            response = self.request("GET", url)
            found += response.json()
            url = response.links.get("next", {}).get("url")
        return found

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
            response = self.request(
                "PATCH", f"/repos/{self.repository}/issues/comments/{comment['id']}",
                json={"body": body},
            )  # fmt: skip
        else:
            response = self.request(
                "POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body}
            )
        payload = response.json()
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
        response = self.request(
            "GET", f"/repos/{self.repository}/pulls",
            params={"head": f"{head_owner}:{head_branch}", "state": "open", "per_page": 100},
        )  # fmt: skip
        for pull in response.json():
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
                "PUT", f"/repos/{self.repository}/contents/{path}",
                json={
                    "message": f"report image {path}",
                    "content": base64.b64encode(data).decode(),
                    "branch": branch,
                    **self.existing_sha(path, branch),
                },
            )  # fmt: skip
            commit = response.json()["commit"]["sha"]
            urls[name] = f"https://github.com/{self.repository}/blob/{commit}/{path}?raw=true"
        return urls

    def existing_sha(self, path: str, branch: str) -> dict[str, str]:
        """{"sha": blob} when `path` exists on `branch` (the contents API needs it to replace)."""
        url = f"{self.api_url}/repos/{self.repository}/contents/{path}"
        response = self.session.get(url, params={"ref": branch}, timeout=self.timeout)
        return {"sha": response.json()["sha"]} if response.status_code == 200 else {}

    def ensure_branch(self, branch: str) -> None:
        """Create `branch` from the default branch's head if it does not exist yet."""
        url = f"{self.api_url}/repos/{self.repository}/git/ref/heads/{branch}"
        if self.session.get(url, timeout=self.timeout).status_code == 200:
            return
        default = self.request("GET", f"/repos/{self.repository}").json()["default_branch"]
        head = self.request("GET", f"/repos/{self.repository}/git/ref/heads/{default}").json()
        self.request(
            "POST", f"/repos/{self.repository}/git/refs",
            json={"ref": f"refs/heads/{branch}", "sha": head["object"]["sha"]},
        )  # fmt: skip


def explain(method: str, url: str, response: requests.Response, repository: str) -> str:
    """A message that says what an error status means for this job."""
    try:
        payload = response.json()
        detail = payload.get("message", "") if isinstance(payload, dict) else ""
    except ValueError:
        detail = response.text[:200]
    status = response.status_code
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
    }.get(status, "unexpected response")
    return f"{method} {url} -> HTTP {status}: {hint} ({detail})"


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
            env.get("GITHUB_TOKEN", ""),
            env.get("GITHUB_REPOSITORY", ""),
            env.get("GITHUB_API_URL") or "https://api.github.com",
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
