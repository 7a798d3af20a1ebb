"""The issuer's pages for people: rendered in the reader's language, with the language switch; a browser that
asks for something not here gets a page saying so (an API client gets the JSON error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from http_edge.language import remember, switch_links, tie_short_words
from issuer.i18n import MESSAGES, language

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
templates.env.finalize = tie_short_words


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A page in the reader's language, with the language switch; an explicit choice is remembered."""
    lang = language(request)
    verifier_url = request.app.state.context.urls.verifier_url
    full = {
        **context,
        "t": MESSAGES[lang],
        "lang": lang,
        "languages": switch_links(request),
        "verifier_url": verifier_url,
    }
    response = templates.TemplateResponse(request, template, full, status_code=status, headers=headers)
    remember(request, response)
    return response


def wants_page(request: Request) -> bool:
    """A browser asking for a page (``text/html`` before any JSON type), not a client of the API."""
    return accepts(request, ("text/html",)) is not None and not request.url.path.startswith("/api/")


def accepts(request: Request, types: tuple[str, ...]) -> str | None:
    """The first of ``types`` that the Accept header names (media types compare case-insensitively)."""
    accept = request.headers.get("accept", "").lower()
    return next((media_type for media_type in types if media_type in accept), None)
