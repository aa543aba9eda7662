"""A stand-in for `gh api` (GitHub CLI) that sends its requests to the fake GitHub on loopback.

The real `gh` talks HTTPS to github.com or a GH_HOST only, so the tests run this instead. It
implements the part of `gh api` the comment module uses, as the GitHub CLI manual documents it
(https://cli.github.com/manual/gh_api), and refuses anything else the way gh does, so a call the
real gh would reject or send differently fails here too:

- the method is GET, or POST once fields or `--input` are given, unless `--method` says;
- with `--method GET` (or with `--input`), `-f/--raw-field` values become query parameters;
  otherwise they form the JSON body; `--input -` sends standard input as the body;
- `--paginate` (GET only) follows `Link: rel=next`; `--slurp` (needs --paginate, not with --jq)
  prints all pages as one JSON array;
- the token comes from GH_TOKEN, else GITHUB_TOKEN, sent as `Authorization: token <token>`;
- a status of 400 or more prints the response body, then `gh: <message> (HTTP <status>)` on
  stderr, and exits 1.

Run as `python fake_gh.py api ...` with FAKE_GH_API_URL set to the fake's base URL.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def parse(argv: list[str]) -> dict:
    if not argv or argv[0] != "api":
        fail(f"fake gh: only `gh api` is faked, got {argv[:1]}")
    options: dict = {"method": None, "fields": [], "paginate": False, "slurp": False}
    options.update(input=None, endpoint=None)
    args = iter(argv[1:])
    for arg in args:
        if arg in ("-X", "--method"):
            options["method"] = next(args)
        elif arg in ("-f", "--raw-field"):
            options["fields"].append(next(args))
        elif arg == "--input":
            options["input"] = next(args)
        elif arg == "--paginate":
            options["paginate"] = True
        elif arg == "--slurp":
            options["slurp"] = True
        elif arg.startswith("-"):
            fail(f"unknown flag: {arg}\n\nUsage:  gh api <endpoint> [flags]")
        elif options["endpoint"] is None:
            options["endpoint"] = arg
        else:
            fail(f"accepts 1 arg(s), received {len(argv) - 1}")
    if options["endpoint"] is None:
        fail("accepts 1 arg(s), received 0")
    if options["slurp"] and not options["paginate"]:
        fail("`--paginate` required when passing `--slurp`")
    if options["paginate"] and (options["method"] or "GET").upper() != "GET":
        fail("the `--paginate` option is not supported for non-GET requests")
    return options


def main() -> None:
    options = parse(sys.argv[1:])
    token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
    if not token:
        fail("gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN variable.", 4)
    fields = dict(field.split("=", 1) for field in options["fields"])
    method = options["method"] or ("POST" if fields or options["input"] else "GET")
    body = None
    query = ""
    if options["input"] is not None:
        source = options["input"]
        body = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        query = urlencode(fields)
    elif method == "GET":
        query = urlencode(fields)
    elif fields:
        body = json.dumps(fields).encode()
    url = f"{os.environ['FAKE_GH_API_URL']}/{options['endpoint'].lstrip('/')}"
    if query:
        url += ("&" if "?" in url else "?") + query
    pages = []
    while url:
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", f"token {token}")
        request.add_header("Accept", "*/*")
        if body is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = json.loads(response.read() or b"null")
                links = response.headers.get("Link") or ""
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            print(text)
            message = (json.loads(text) if text else {}).get("message", error.reason)
            fail(f"gh: {message} (HTTP {error.code})")
        pages.append(payload)
        following = re.search(r'<([^>]+)>;\s*rel="next"', links)
        url = following[1] if options["paginate"] and following else None
    if options["slurp"]:
        print(json.dumps(pages))
    else:
        for page in pages:
            print(json.dumps(page))


if __name__ == "__main__":
    main()
