"""The ``Allow`` header of a 405 answer, listing every method the path has (not only the first route's).

Starlette answers a method a path does not take with the methods of the first route that matched the path, while
the same path may have further routes for other methods. This module works out the whole list from the app's own
OpenAPI document, so the header says exactly what the document says.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException


def _regex(template: str) -> re.Pattern[str]:
    """``/credentials/{id}/status`` → a pattern matching that path with any one segment for ``{id}``."""
    parts = [
        "[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part) for part in template.split("/")
    ]
    return re.compile("^" + "/".join(parts) + "$")


def _patterns(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    found = getattr(app.state, "allow_patterns", None)
    if found is None:
        found = []
        for template, operations in app.openapi().get("paths", {}).items():
            methods = sorted(method.upper() for method in operations if method.isalpha())
            found.append((_regex(template), methods))
        app.state.allow_patterns = found
    return found


def error_headers(request: Request, exc: HTTPException) -> dict[str, str]:
    """The headers of the framework's error answer, with the full ``Allow`` on a 405."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (allow := allowed_methods(request.app, request.url.path)):
        headers["Allow"] = allow
    return headers


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """``GET, POST`` for ``path``, from the OpenAPI document; ``None`` when the document has no such path."""
    exact: set[str] = set()
    templated: set[str] = set()
    for pattern, listed in _patterns(app):
        if pattern.match(path):
            (templated if "[^/]+" in pattern.pattern else exact).update(listed)
    # A path the document names as it is (/credentials/issue) is that path, not an instance of a template
    # (/credentials/{credential_id}) that happens to match it.
    methods = exact or templated
    return ", ".join(sorted(methods)) if methods else None
