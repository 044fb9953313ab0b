"""The pages: the landing page, the supervisor's wallboard, the agent's desk (static HTML
and JS, no build step), and the OpenAPI documentation. They hold no data: they sign in
through the API and use its token.

Swagger UI and ReDoc are served from the installed ``fastapi-offline`` package, never a
CDN: the hotline runs on isolated networks.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_URL = "/static/docs"
PAGES = {
    "/": STATIC / "index.html",
    "/wallboard": STATIC / "wallboard.html",
    "/desk": STATIC / "desk.html",
    "/inbox": STATIC / "inbox.html",
    "/dispatch": STATIC / "dispatch.html",
    "/static/common.js": STATIC / "common.js",
    "/static/casework.js": STATIC / "casework.js",
    f"{DOCS_URL}/swagger-ui-bundle.js": DOCS_ASSETS / "swagger-ui-bundle.js",
    f"{DOCS_URL}/swagger-ui.css": DOCS_ASSETS / "swagger-ui.css",
    f"{DOCS_URL}/redoc.standalone.js": DOCS_ASSETS / "redoc.standalone.js",
    f"{DOCS_URL}/favicon.png": DOCS_ASSETS / "favicon.png",
}
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def router(title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    api = APIRouter(tags=["pages"], include_in_schema=False)

    def page(path: Path) -> FileResponse:
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    for url, path in PAGES.items():
        api.add_api_route(url, lambda path=path: page(path), methods=["GET"],
                          response_class=FileResponse)

    @api.get("/docs", response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - API",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{DOCS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_URL}/favicon.png")

    @api.get(OAUTH2_REDIRECT, response_class=HTMLResponse)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - API",
                              redoc_js_url=f"{DOCS_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{DOCS_URL}/favicon.png",
                              with_google_fonts=False)

    return api
