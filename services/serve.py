"""Serve the classifier over HTTP in one process: `python -m services.serve [--host H] [--port P]`.

What the container image runs (and `make serve`). `bentoml serve` first loads the service in an
arbiter process only to spawn a worker that loads it all again: ~0.8 s of a ~2.8 s cold start
here (`make bench-serve`). With one worker, which is what Lambda and a one-core container want,
this runs the same ASGI app (`Classifier.to_asgi()`, as BentoML's worker and the Lambda handler do)
directly under uvicorn. With MODELOPS_WORKERS > 1 it hands over to `bentoml serve`, whose arbiter
runs the workers and merges their Prometheus metrics.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; the port defaults to $PORT, then 3000."""
    parser = argparse.ArgumentParser(prog="python -m services.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "3000")),
        help="TCP port (default: $PORT, else 3000)",
    )
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port} is not a TCP port (1-65535)")
    return args


def workers() -> int:
    """MODELOPS_WORKERS as a positive integer, or exit naming the bad value."""
    raw = os.environ.get("MODELOPS_WORKERS", "1")
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"error: MODELOPS_WORKERS={raw!r} must be a positive integer")
    return int(raw)


UNKNOWN_PATH = "/unknown-path"


class BoundedPaths:
    """ASGI wrapper: every path the service does not serve reaches it as `UNKNOWN_PATH`.

    BentoML labels its Prometheus metrics with the request's path, so each distinct unknown path
    became a label of its own (3,000 404s grew /metrics from 8 KB to 12.7 MB, never freed). The
    answer does not change (404 Not Found); the labels stay bounded: the routes, the page's
    and Swagger UI's files, and one label for everything else.
    """

    def __init__(self, app: Any) -> None:
        from modelops.serving.answers import ROUTES
        from modelops.serving.page import ASSETS, DOCS_PAGE

        self.app = app
        self.known = (
            frozenset(ROUTES)
            | {f"/web/{path.name}" for path in ASSETS.iterdir() if path.is_file()}
            | {f"/{name}" for name in re.findall(r"\./(static_content/[\w.-]+)", DOCS_PAGE)}
        )

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Pass the request on, its path replaced when it is not one the service serves."""
        if scope["type"] == "http" and scope["path"] not in self.known:
            scope = {**scope, "path": UNKNOWN_PATH, "raw_path": UNKNOWN_PATH.encode()}
        await self.app(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    """Run the server until it is stopped."""
    args = parse_args(argv)
    if workers() > 1:
        bentoml = os.path.join(os.path.dirname(sys.executable), "bentoml")
        os.execv(bentoml, [bentoml, "serve", "services.classifier:Classifier",
                           "--host", args.host, "--port", str(args.port)])  # fmt: skip

    from services.speedups import defer_unused_imports, no_gc_while_loading

    defer_unused_imports()  # BentoML modules for other kinds of service: not this one
    with no_gc_while_loading():
        import uvicorn

        from services.bentoml_private import configure_server_logging, server_context

        # As BentoML's own worker does before it builds the app (bentoml is pinned in uv.lock).
        configure_server_logging()
        server_context.service_type = "entry_service"
        from services.classifier import Classifier

        server_context.service_name = Classifier.name
        app = BoundedPaths(Classifier.to_asgi(is_main=True))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        backlog=2048,
        log_config=None,  # BentoML's logging, configured above
        access_log=False,  # MODELOPS_ACCESS_LOG=1 adds BentoML's access-log middleware instead
        server_header=False,
    )


if __name__ == "__main__":
    main()
