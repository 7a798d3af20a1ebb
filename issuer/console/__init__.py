"""The provider console: server-rendered pages for training providers' staff and the programme operator."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI, Request, Response

from issuer import errors
from issuer.api import error_responses
from issuer.console.web import (
    FormRejected,
    NotAllowed,
    SignInNeeded,
    language_of,
    page,
    see_other,
    signed_in,
    viewer,
)
from issuer.console.words import WORDS


def routers() -> list[APIRouter]:
    """Every area's pages: each ``issuer/console/*_pages.py`` module's ``router``, sign-in first (its fixed paths
    come before ``/console/{slug}``), then the others by name, the dashboard (``/console/{slug}``) last."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name.endswith("_pages"))
    names.sort(key=lambda name: (name != "auth_pages", name == "dashboard_pages", name))
    return [importlib.import_module(f"{__name__}.{name}").router for name in names]


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    target = exc.next_path if request.method == "GET" else "/console"
    return see_other(f"/console/sign-in?next={target}")


async def _console_error(request: Request, exc: Exception) -> Response:
    """Inside the console an error is a page in the reader's language; elsewhere the issuer's usual answer."""
    assert isinstance(exc, errors.IssuerError)
    if not request.url.path.startswith("/console"):
        return await error_responses.issuer_error(request, exc)
    status = 403 if isinstance(exc, NotAllowed | FormRejected) else error_responses.status_for(exc)
    who = viewer(request) if signed_in(request) is not None else None
    words_key = {403: "error_not_allowed", 404: "error_not_found"}.get(status)
    if isinstance(exc, FormRejected):
        words_key = "error_form_rejected"
    message = WORDS[language_of(request)][words_key] if words_key else exc.message
    return page(request, "console/error.html", {"message": message, "back": "/console"}, who=who, status=status)


def install(app: FastAPI) -> None:
    for router in routers():
        app.include_router(router, include_in_schema=False)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(errors.IssuerError, _console_error)
