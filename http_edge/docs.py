"""The interactive API docs (Swagger UI) under a Content-Security-Policy of their own.

Swagger UI comes from a CDN and starts with one inline script. Instead of loosening every page's policy, this
page gets one that allows exactly that CDN and that script (by its SHA-256), and nothing inline besides.
"""

from __future__ import annotations

import base64
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from credentials.hashing import sha256

CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _policy(html: str) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(sha256(script.encode("utf-8"))).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'none'; script-src {CDN} {hashes}; style-src {CDN}; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def add_docs(app: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI at ``path`` (create the app with ``docs_url=None, redoc_url=None``)."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} – API")
    html = bytes(page.body).decode("utf-8")
    headers = {"Content-Security-Policy": _policy(html)}

    @app.get(path, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)
