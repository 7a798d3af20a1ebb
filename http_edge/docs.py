"""The interactive API docs (Swagger UI), served by the app itself: no CDN, so they work offline and behind a
firewall, under a Content-Security-Policy of their own.

Swagger UI's files come from the ``fastapi-offline`` package and are served under ``{path}/assets``. The page
starts with one inline script; instead of loosening every page's policy, this page gets one that allows script
files of its own origin and exactly that script (by its SHA-256), and nothing inline besides.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from credentials.hashing import sha256

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(sha256(script.encode("utf-8"))).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def add_docs(app: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI at ``path`` (create the app with ``docs_url=None, redoc_url=None``)."""
    assets = f"{path}/assets"
    app.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} – API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": False},
    )
    html = bytes(page.body).decode("utf-8")
    headers = {"Content-Security-Policy": _policy(html)}

    @app.api_route(path, methods=["GET", "HEAD"], include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)
