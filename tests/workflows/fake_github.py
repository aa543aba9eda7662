"""A tiny fake of the GitHub REST API on loopback that records every call.

It serves the endpoints `modelops.review.pr_comment` uses, with GitHub's pagination (`Link` header),
and can be told to fail the next calls with a given status. The module reaches it through
`fake_gh.py`, which stands in for the `gh api` command the real module runs.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


@dataclass
class State:
    repository: str = "acme/models"
    default_branch: str = "main"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=lambda: {"main": "a" * 40})
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # statuses for the next calls, in order
    next_id: int = 1000
    commits: int = 0

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


class FakeGitHub:
    """Start with `with FakeGitHub() as api:`; `api.url` is the API base, `api.state` the data."""

    def __init__(self, token: str = "test-token"):
        self.state = State()
        self.token = token
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                state = fake.state
                state.calls.append(
                    Call(method, parts.path, parse_qs(parts.query), body,
                         self.headers.get("Authorization"))
                )  # fmt: skip
                if state.failures:
                    status = state.failures.pop(0)
                    return self._send(status, {"message": f"fake failure {status}"})
                # GitHub's REST API accepts `token <token>` (what `gh api` sends) and
                # `Bearer <token>` (what a requests client sends) alike
                if self.headers.get("Authorization") not in (
                    f"token {fake.token}",
                    f"Bearer {fake.token}",
                ):
                    return self._send(401, {"message": "Bad credentials"})
                route = fake.route(method, parts.path, parse_qs(parts.query), body)
                self._send(*route)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

            def do_PUT(self):
                self._handle("PUT")

        return Handler

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any):
        state = self.state
        repo = f"/repos/{state.repository}"
        if not path.startswith(repo):
            return 404, {"message": "Not Found"}
        rest = path[len(repo) :]
        if rest == "" and method == "GET":
            return 200, {"full_name": state.repository, "default_branch": state.default_branch}
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(m[1])
            if method == "GET":
                return self.page(state.comments.get(number, []), query, path)
            if method == "POST":
                comment = self.new_comment(body["body"])
                state.comments.setdefault(number, []).append(comment)
                return 201, comment
        if (m := re.fullmatch(r"/issues/comments/(\d+)", rest)) and method == "PATCH":
            for comments in state.comments.values():
                for comment in comments:
                    if comment["id"] == int(m[1]):
                        comment["body"] = body["body"]
                        return 200, comment
            return 404, {"message": "Not Found"}
        if rest == "/pulls" and method == "GET":
            head = query.get("head", [""])[0]
            return 200, [p for p in state.pulls if p["head"]["label"] == head]
        if (m := re.fullmatch(r"/git/ref/heads/(.+)", rest)) and method == "GET":
            if m[1] in state.refs:
                return 200, {"ref": f"refs/heads/{m[1]}", "object": {"sha": state.refs[m[1]]}}
            return 404, {"message": "Not Found"}
        if rest == "/git/refs" and method == "POST":
            state.refs[body["ref"].removeprefix("refs/heads/")] = body["sha"]
            return 201, {"ref": body["ref"], "object": {"sha": body["sha"]}}
        if m := re.fullmatch(r"/contents/(.+)", rest):
            branch = query.get("ref", [None])[0] or (body or {}).get("branch")
            key = (branch, m[1])
            if method == "GET":
                if key in state.files:
                    return 200, {"sha": f"blob-{m[1]}", "path": m[1]}
                return 404, {"message": "Not Found"}
            if method == "PUT":
                if branch not in state.refs:
                    return 404, {"message": "Branch not found"}
                if key in state.files and body.get("sha") != f"blob-{m[1]}":
                    return 409, {"message": "sha does not match"}
                import base64

                state.files[key] = base64.b64decode(body["content"])
                state.commits += 1
                return 201, {"commit": {"sha": f"{state.commits:040x}"}}
        return 404, {"message": "Not Found"}

    def new_comment(self, text: str) -> dict[str, Any]:
        self.state.next_id += 1
        number = self.state.next_id
        return {
            "id": number,
            "body": text,
            "user": {"login": "github-actions[bot]", "type": "Bot"},
            "html_url": f"https://github.test/{self.state.repository}/issues#c{number}",
        }

    def page(self, items: list, query: dict[str, list[str]], path: str):
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            headers["Link"] = f'<{self.url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, chunk, headers
