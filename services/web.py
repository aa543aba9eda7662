"""The page at `/` (try the model in a browser) and Swagger UI at `/docs`, on the service's app.

Separate GET routes: nothing here runs on a /predict request. The page is rendered from the
model card on each request (a few hundred microseconds), so it always shows the model served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from modelops.serving.page import ASSETS, DOCS_PAGE, render_page


def page_routes(
    card: Callable[[], dict[str, Any] | None],
    error: Callable[[], str | None],
    max_instances: int,
) -> list[BaseRoute]:
    """`/` (the page), `/docs` (Swagger UI) and `/web/*` (the page's assets), for the service.

    Args:
        card: returns the model card, or None when no model is loaded.
        error: returns why no model is loaded.
        max_instances: rows per request the service accepts (the page's CSV chunk size).

    """

    def page(request: Request) -> HTMLResponse:
        current = card()
        return HTMLResponse(
            render_page(current, max_instances, error()),
            status_code=200 if current is not None else 503,
        )

    def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    return [
        Route("/", page, methods=["GET"]),
        Route("/docs", docs, methods=["GET"]),
        Mount("/web", StaticFiles(directory=ASSETS), name="web"),
    ]
