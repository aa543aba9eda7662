"""Turn a drift report into ONE retrain pull request (or ONE issue), never a pile of them.

`make monitor-pr` after `make monitor`: reads `reports/monitor/drift.json` and
- no drift (or no verdict): does nothing;
- drift, and an open drift PR/issue exists: updates its body (the latest figures), never a
  second one;
- drift, none open, but one with the same fingerprint was closed without merging: silenced —
  a person decided this drift needs no retrain; it is raised again only when the drift changes
  (another feature, another test, another unseen category: `drift.fingerprint`);
- otherwise opens one.

With labelled data configured (MONITOR_MODE=pr, or `data.source` set in params.yaml), it opens a
pull request from the branch `modelops/retrain`, whose commit writes `monitor/retrain.json` (the
drift summary and fingerprint): CI then reruns the pipeline on that branch, and the sticky report
and the champion/challenger gate decide whether a retrained model ships. Without labelled data
(synthetic `data.source: null`) there is nothing to retrain on, so it opens an issue.

Settings from the environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, MONITOR_MODE
(auto|pr|issue), RUN_URL (the monitor run, linked from the body).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from modelops.monitoring.report import markdown

MARKER = "<!-- modelops-drift fingerprint={} -->"
MARKER_PATTERN = re.compile(r"<!-- modelops-drift fingerprint=([0-9a-f]*) -->")
BRANCH = "modelops/retrain"
LABEL = "modelops-drift"
REQUEST_FILE = "monitor/retrain.json"
TITLE = "Retrain: the live model's inputs drifted"
ISSUE_TITLE = "Drift: the live model's inputs no longer look like its training data"


class GitHubError(RuntimeError):
    """A GitHub API call failed; the message names the call and the likely reason."""


@dataclass(frozen=True)
class Decision:
    """What to do with a drift report, and on which PR/issue."""

    action: str  # nothing | update | silenced | open
    number: int | None = None
    reason: str = ""


def fingerprint_of(body: str | None) -> str | None:
    """The drift fingerprint a PR/issue body carries, or None when it is not ours."""
    match = MARKER_PATTERN.search(body or "")
    return match[1] if match else None


def decide(report: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> Decision:
    """Open, update, stay silent or do nothing, given our PRs/issues (open and closed).

    `items` are GitHub PRs or issues carrying the marker; a PR's `merged_at` tells a merged
    retrain (never silences) from one closed without merging (silences its fingerprint).
    """
    if not report.get("drift"):
        verdict = "no verdict" if report.get("drift") is None else "no drift"
        return Decision("nothing", reason=verdict)
    ours = [i for i in items if fingerprint_of(i.get("body")) is not None]
    open_items = sorted((i for i in ours if i.get("state") == "open"), key=lambda i: i["number"])
    if open_items:
        return Decision("update", open_items[0]["number"], "an open one exists: updated in place")
    fingerprint = report["fingerprint"]
    for item in ours:
        closed_unmerged = item.get("state") == "closed" and not item.get("merged_at")
        if closed_unmerged and fingerprint_of(item.get("body")) == fingerprint:
            return Decision(
                "silenced",
                item["number"],
                f"#{item['number']} with this drift ({fingerprint}) was closed without merging",
            )
    return Decision("open", reason=f"new drift {fingerprint}")


def body_of(report: Mapping[str, Any], mode: str, run_url: str | None) -> str:
    """The PR/issue text: the marker, the drift summary and what happens next."""
    marker = MARKER.format(report["fingerprint"])
    if mode == "pr":
        next_step = (
            "This pull request reruns the pipeline on refreshed labelled data in CI: the sticky "
            "report shows the retrained candidate's metrics, and the champion/challenger gate "
            "decides whether it ships. Close it without merging to silence this drift until it "
            "changes."
        )
    else:
        next_step = (
            "No labelled data source is configured (`data.source` is null), so there is nothing "
            "to retrain on: collect labels for recent traffic, point `data.source` at them and "
            "run the pipeline. Close this issue to silence this drift until it changes."
        )
    summary = markdown(report, run_url)
    return f"{marker}\n## Drift detected by `make monitor`\n\n{summary}\n\n{next_step}\n"


def retrying_session(token: str, retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """An authenticated session that retries rate limits and server errors (not POSTs)."""
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
            "User-Agent": "modelops-monitor",
        }
    )
    return session


class GitHub:
    """The GitHub REST calls the retrain request needs."""

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
        self.api = f"{api_url.rstrip('/')}/repos/{repository}"
        self.session = session or retrying_session(token)
        self.timeout = timeout

    def call(self, method: str, path: str, expect_missing: bool = False, **kwargs: Any) -> Any:
        """One API call; None for a 404 when `expect_missing`; GitHubError on other errors."""
        url = path if "://" in path else f"{self.api}{path}"
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise GitHubError(f"{method} {url}: {exc}") from None
        if response.status_code == 404 and expect_missing:
            return None
        if response.status_code >= 400:
            hint = {
                401: "GITHUB_TOKEN is invalid or expired",
                403: "the job needs permissions contents/pull-requests/issues: write, or the "
                "rate limit was hit",
                404: f"not found: check GITHUB_REPOSITORY={self.repository!r}",
                422: "GitHub refused the request (a PR for this branch exists? the label?)",
            }.get(response.status_code, "unexpected response")
            raise GitHubError(f"{method} {url} -> HTTP {response.status_code}: {hint}")
        return response.json() if response.content else None

    def pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a listing, following `Link: rel=next`."""
        url: str | None = f"{self.api}{path}"
        found: list[dict[str, Any]] = []
        query: dict[str, Any] | None = {"per_page": 100, **params}
        while url:
            try:
                response = self.session.get(url, params=query, timeout=self.timeout)
            except requests.RequestException as exc:
                raise GitHubError(f"GET {url}: {exc}") from None
            if response.status_code >= 400:
                raise GitHubError(f"GET {url} -> HTTP {response.status_code}")
            found += response.json()
            url, query = response.links.get("next", {}).get("url"), None
        return found

    def drift_items(self, mode: str) -> list[dict[str, Any]]:
        """Our retrain PRs (from BRANCH) or drift issues (labelled LABEL), open and closed."""
        if mode == "pr":
            owner = self.repository.split("/")[0]
            return self.pages("/pulls", head=f"{owner}:{BRANCH}", state="all")
        issues = self.pages("/issues", labels=LABEL, state="all")
        return [i for i in issues if "pull_request" not in i]

    def open_issue(self, title: str, body: str) -> int:
        """Create the drift issue; return its number."""
        created = self.call(
            "POST", "/issues", json={"title": title, "body": body, "labels": [LABEL]}
        )
        return int(created["number"])

    def update(self, number: int, body: str) -> None:
        """Replace the body of PR/issue `number` (PRs are issues to this endpoint)."""
        self.call("PATCH", f"/issues/{number}", json={"body": body})

    def open_pull_request(self, title: str, body: str, request: dict[str, Any]) -> int:
        """Point BRANCH at the default branch, commit the retrain request there, open the PR."""
        base = self.call("GET", "")["default_branch"]
        head = self.call("GET", f"/git/ref/heads/{base}")["object"]["sha"]
        if self.call("GET", f"/git/ref/heads/{BRANCH}", expect_missing=True) is None:
            self.call("POST", "/git/refs", json={"ref": f"refs/heads/{BRANCH}", "sha": head})
        else:  # a leftover branch of a closed PR: start again from the default branch
            self.call("PATCH", f"/git/refs/heads/{BRANCH}", json={"sha": head, "force": True})
        self.put_file(REQUEST_FILE, json.dumps(request, indent=2, sort_keys=True) + "\n", BRANCH)
        pull = self.call(
            "POST", "/pulls", json={"title": title, "head": BRANCH, "base": base, "body": body}
        )
        return int(pull["number"])

    def put_file(self, path: str, text: str, branch: str) -> None:
        """Create or replace `path` on `branch` with one commit."""
        existing = self.call(
            "GET", f"/contents/{path}", expect_missing=True, params={"ref": branch}
        )
        self.call(
            "PUT",
            f"/contents/{path}",
            json={
                "message": "monitor: request a retrain (drift detected by make monitor)",
                "content": base64.b64encode(text.encode()).decode(),
                "branch": branch,
                **({"sha": existing["sha"]} if existing else {}),
            },
        )


def request_file(report: Mapping[str, Any]) -> dict[str, Any]:
    """What the retrain branch commits: enough to see why, nothing that changes every run."""
    return {
        "fingerprint": report["fingerprint"],
        "drifted_features": list(report["drifted_features"]),
        "prediction_drift": bool(report["prediction"]["drift"]),
        "reference_model": report["reference"]["model"],
        "window": {"first": report["window"]["first"], "last": report["window"]["last"]},
    }


def resolve_mode(mode: str, params_path: str | Path) -> str:
    """`pr` when labelled data is configured (data.source set), else `issue` (for auto)."""
    if mode in ("pr", "issue"):
        return mode
    if mode != "auto":
        raise GitHubError(f"MONITOR_MODE={mode!r}: expected auto, pr or issue")
    import yaml

    try:
        data = (yaml.safe_load(Path(params_path).read_text()) or {}).get("data") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GitHubError(f"{params_path}: {exc}") from None
    return "pr" if data.get("source") else "issue"


def act(github: GitHub, report: Mapping[str, Any], mode: str, run_url: str | None) -> Decision:
    """Decide and do it; return what was done (with the PR/issue number)."""
    decision = decide(report, github.drift_items(mode) if report.get("drift") else [])
    if decision.action in ("nothing", "silenced"):
        return decision
    body = body_of(report, mode, run_url)
    if decision.action == "update":
        github.update(decision.number, body)
        return decision
    if mode == "pr":
        number = github.open_pull_request(TITLE, body, request_file(report))
    else:
        number = github.open_issue(ISSUE_TITLE, body)
    return Decision("open", number, decision.reason)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: `python -m modelops.monitoring.retrain` (settings from the environment: module doc)."""
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m modelops.monitoring.retrain")
    parser.add_argument("--report", default="reports/monitor/drift.json")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--mode", default=env.get("MONITOR_MODE") or "auto")
    args = parser.parse_args(argv)
    try:
        path = Path(args.report)
        if not path.is_file():
            raise GitHubError(f"{path}: no drift report; run `make monitor` first")
        report = json.loads(path.read_text())
        mode = resolve_mode(args.mode, args.params)
        github = GitHub(
            env.get("GITHUB_TOKEN", ""),
            env.get("GITHUB_REPOSITORY", ""),
            env.get("GITHUB_API_URL") or "https://api.github.com",
        )
        decision = act(github, report, mode, env.get("RUN_URL") or None)
    except (GitHubError, ValueError, KeyError) as exc:
        print(f"error: monitor-pr: {exc}", file=sys.stderr)
        return 1
    where = f" #{decision.number}" if decision.number else ""
    print(f"monitor-pr ({mode}): {decision.action}{where} — {decision.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
