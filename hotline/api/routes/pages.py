"""The pages: the supervisor's wallboard and the agent's desk (static HTML and JS, no
build step). They hold no data: they sign in through the API and use its token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = {
    "/wallboard": STATIC / "wallboard.html",
    "/desk": STATIC / "desk.html",
    "/static/common.js": STATIC / "common.js",
}


def router() -> APIRouter:
    api = APIRouter(tags=["pages"], include_in_schema=False)

    def page(path: Path) -> FileResponse:
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    for url, path in PAGES.items():
        api.add_api_route(url, lambda path=path: page(path), methods=["GET"],
                          response_class=FileResponse)
    return api
