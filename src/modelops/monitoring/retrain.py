"""Turn a drift report into ONE retrain pull request (or ONE issue), never a pile of them.

`make monitor-pr` after `make monitor`: reads `reports/monitor/drift.json` and
- no drift (or no verdict): does nothing;
- drift, and an open drift PR/issue exists: updates its body (the latest figures), never a
  second one;
- drift, none open, but one with the same fingerprint was closed without merging: silenced —
  a person decided this drift needs no retrain; it is raised again only when the drift changes
  (another feature, another test, another unseen category: `drift.fingerprint`);
- otherwise opens one.

With labelled data configured (`data.source` is the output of a DVC import: `refresh.py`), it
refreshes that data in this checkout (`dvc update`), reruns the pipeline (`dvc repro`) and opens
a pull request from the branch `modelops/retrain` whose ONE commit carries every tracked file
that changed (the import's new hash, `dvc.lock`, metrics, a re-inferred contract) and
`monitor/retrain.json` (the drift summary and fingerprint): CI reruns the pipeline on it, and the
sticky report and the champion/challenger gate decide whether the retrained model ships. When
the source has nothing new since the last run it waits (no pull request to retrain on the same
data). Without labelled data (synthetic `data.source: null`, or a plain file nothing refreshes)
there is nothing to retrain on, so it opens an issue.

Settings from the environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, MONITOR_MODE
(auto|pr|issue), RUN_URL (the monitor run, linked from the body).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from modelops.monitoring.refresh import (
    LabelledSource,
    Prepared,
    RefreshError,
    find_labelled_source,
    prepare,
)
from modelops.monitoring.report import markdown

MARKER = "<!-- modelops-drift fingerprint={} -->"
MARKER_PATTERN = re.compile(r"<!-- modelops-drift fingerprint=([0-9a-f]*) -->")
BRANCH = "modelops/retrain"
LABEL = "modelops-drift"
REQUEST_FILE = "monitor/retrain.json"
TITLE = "Retrain: the live model's inputs drifted"
ISSUE_TITLE = "Drift: the live model's inputs no longer look like its training data"
COMMIT_MESSAGE = "monitor: retrain on refreshed labelled data (drift detected by make monitor)"


class GitHubError(RuntimeError):
    """A GitHub API call failed; the message names the call and the likely reason."""


@dataclass(frozen=True)
class Decision:
    """What to do with a drift report, and on which PR/issue."""

    action: str  # nothing | update | silenced | open | waiting (no new labels yet)
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


def body_of(
    report: Mapping[str, Any],
    mode: str,
    run_url: str | None,
    prepared: Prepared | None = None,
    source: LabelledSource | None = None,
) -> str:
    """The PR/issue text: the marker, the drift summary, what the data refresh did, what next."""
    marker = MARKER.format(report["fingerprint"])
    if mode == "pr":
        where = f"`{source.data_source}` (a DVC import of `{source.origin}`)" if source else "data"
        if prepared is None:
            refreshed = (
                f"The labelled source {where} has no new version since the last pipeline run "
                "(`dvc update` changed nothing): this pull request waits for new labels."
            )
        else:
            changed = ", ".join(f"`{path}`" for path in sorted(prepared.files))
            refreshed = (
                f"The monitor refreshed the labelled source {where} with `dvc update` and reran "
                f"the pipeline (`dvc repro`) on it; the commit carries {changed}."
            )
            if prepared.pipeline_error:
                refreshed += (
                    "\n\n`dvc repro` failed in the monitor's run (CI's report says why):\n"
                    f"```\n{prepared.pipeline_error}\n```"
                )
        next_step = (
            f"{refreshed}\n\nCI reruns the pipeline on this branch: the sticky report shows the "
            "retrained candidates' metrics, and the champion/challenger gate decides whether the "
            "retrained model ships. Close it without merging to silence this drift until it "
            "changes."
        )
    else:
        next_step = (
            "No refreshable labelled source is configured (`data.source` is null, or no DVC "
            "import provides it), so there is nothing to retrain on: collect labels for recent "
            "traffic, import them (`dvc import-url <url> data/external/labels.csv`), point "
            "`data.source` at them and run the pipeline. Close this issue to silence this drift "
            "until it changes."
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

    def open_pull_request(self, title: str, body: str, files: Mapping[str, str | None]) -> int:
        """Point BRANCH at one commit of `files` on the default branch, open the PR."""
        base = self.call("GET", "")["default_branch"]
        self.point_branch(self.commit_on(base, files))
        pull = self.call(
            "POST", "/pulls", json={"title": title, "head": BRANCH, "base": base, "body": body}
        )
        return int(pull["number"])

    def rebuild_branch(self, files: Mapping[str, str | None]) -> bool:
        """Replace BRANCH by one new commit of `files` on the default branch.

        Only while its head is the monitor's own commit: a person who pushed to the retrain
        branch (e.g. raising `select.max_regression`) keeps their work; False then.
        """
        head = self.call("GET", f"/git/ref/heads/{BRANCH}", expect_missing=True)
        if head is not None:
            commit = self.call("GET", f"/git/commits/{head['object']['sha']}")
            if not str(commit.get("message", "")).startswith(COMMIT_MESSAGE):
                return False
        base = self.call("GET", "")["default_branch"]
        self.point_branch(self.commit_on(base, files))
        return True

    def commit_on(self, branch: str, files: Mapping[str, str | None]) -> str:
        """One commit of `files` (None deletes) on top of `branch`'s head (Git Data API)."""
        parent = self.call("GET", f"/git/ref/heads/{branch}")["object"]["sha"]
        tree = self.call("GET", f"/git/commits/{parent}")["tree"]["sha"]
        entries = [
            {"path": path, "mode": "100644", "type": "blob"}
            | ({"content": text} if text is not None else {"sha": None})
            for path, text in sorted(files.items())
        ]
        new_tree = self.call("POST", "/git/trees", json={"base_tree": tree, "tree": entries})
        commit = self.call(
            "POST",
            "/git/commits",
            json={"message": COMMIT_MESSAGE, "tree": new_tree["sha"], "parents": [parent]},
        )
        return str(commit["sha"])

    def point_branch(self, sha: str) -> None:
        """Create BRANCH at `sha`, or move it there (a leftover branch of a closed PR)."""
        if self.call("GET", f"/git/ref/heads/{BRANCH}", expect_missing=True) is None:
            self.call("POST", "/git/refs", json={"ref": f"refs/heads/{BRANCH}", "sha": sha})
        else:
            self.call("PATCH", f"/git/refs/heads/{BRANCH}", json={"sha": sha, "force": True})


def request_text(report: Mapping[str, Any]) -> str:
    """`monitor/retrain.json` on the retrain branch: why it was opened, as sorted JSON."""
    request = {
        "fingerprint": report["fingerprint"],
        "drifted_features": list(report["drifted_features"]),
        "prediction_drift": bool(report["prediction"]["drift"]),
        "reference_model": report["reference"]["model"],
        "window": {"first": report["window"]["first"], "last": report["window"]["last"]},
    }
    return json.dumps(request, indent=2, sort_keys=True) + "\n"


def resolve_mode(mode: str, source: LabelledSource | None) -> str:
    """`pr` when a refreshable labelled source is configured, else `issue` (for auto)."""
    if mode not in ("auto", "pr", "issue"):
        raise GitHubError(f"MONITOR_MODE={mode!r}: expected auto, pr or issue")
    if mode == "pr" and source is None:
        raise GitHubError(
            "MONITOR_MODE=pr needs labelled data to retrain on: data.source must be the output "
            "of a committed DVC import (dvc import-url <url> data/external/labels.csv)"
        )
    if mode == "auto":
        return "pr" if source else "issue"
    return mode


def act(
    github: GitHub,
    report: Mapping[str, Any],
    mode: str,
    run_url: str | None,
    refresh: Callable[[], Prepared | None] | None = None,
    source: LabelledSource | None = None,
) -> Decision:
    """Decide and do it; return what was done (with the PR/issue number).

    In `pr` mode `refresh` refreshes the labelled data and reruns the pipeline (refresh.prepare):
    a new pull request carries what it changed; without new data there is none to open.
    """
    decision = decide(report, github.drift_items(mode) if report.get("drift") else [])
    if decision.action in ("nothing", "silenced"):
        return decision
    if mode != "pr":
        body = body_of(report, mode, run_url)
        if decision.number is not None:
            github.update(decision.number, body)
            return decision
        return Decision("open", github.open_issue(ISSUE_TITLE, body), decision.reason)
    if refresh is None:
        raise GitHubError("pr mode needs the labelled source to refresh")
    prepared = refresh()
    body = body_of(report, mode, run_url, prepared, source)
    files = None if prepared is None else {**prepared.files, REQUEST_FILE: request_text(report)}
    if decision.number is not None:
        reason = decision.reason
        if files is not None:
            if github.rebuild_branch(files):
                reason += "; its branch now carries the newly refreshed data"
            else:
                reason += "; new labels, but a person pushed to its branch: left as it is"
                body += (
                    "\n**New labels arrived** since this branch was built, but it has commits "
                    "that are not the monitor's: rebase it, or close it to get a fresh one.\n"
                )
        github.update(decision.number, body)
        return Decision("update", decision.number, reason)
    if files is None:
        return Decision(
            "waiting", reason="drift, but the labelled source has no new version: no retrain yet"
        )
    return Decision("open", github.open_pull_request(TITLE, body, files), decision.reason)


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
        params = Path(args.params)
        root = params.resolve().parent
        source = find_labelled_source(root, params)
        mode = resolve_mode(args.mode, source)
        github = GitHub(
            env.get("GITHUB_TOKEN", ""),
            env.get("GITHUB_REPOSITORY", ""),
            env.get("GITHUB_API_URL") or "https://api.github.com",
        )
        decision = act(
            github,
            report,
            mode,
            env.get("RUN_URL") or None,
            refresh=partial(prepare, root, source) if source else None,
            source=source,
        )
    except (GitHubError, RefreshError, ValueError, KeyError) as exc:
        print(f"error: monitor-pr: {exc}", file=sys.stderr)
        return 1
    where = f" #{decision.number}" if decision.number else ""
    print(f"monitor-pr ({mode}): {decision.action}{where} — {decision.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
