"""The issuer ASGI application and the one table that turns domain errors into HTTP answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from issuer import errors
from issuer.api import public, v1
from issuer.context import IssuerContext
from issuer.settings import IssuerSettings, get_settings

log = logging.getLogger("issuer")

HTTP_STATUS: dict[type[errors.IssuerError], int] = {
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.AlreadyIssued: 409,
    errors.IdempotencyConflict: 422,
    errors.InvalidInput: 422,
    errors.ConfigurationError: 503,
}


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(details)
    return {"error": body}


def _status_for(error: errors.IssuerError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


async def _issuer_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.IssuerError)
    status = _status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, exc.message, exc.fields, **exc.details), status, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "header", "path")]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or "body"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return JSONResponse(error_body("malformed_request", "The request body is not valid JSON."), 400)
    fields = [{"field": _field_name(tuple(problem["loc"])), "message": str(problem["msg"])} for problem in problems]
    return JSONResponse(error_body("invalid_input", "The request has invalid fields.", fields), 422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse(error_body("internal_error", "Something went wrong on our side."), 500)


def create_app(settings: IssuerSettings | None = None, context: IssuerContext | None = None) -> FastAPI:
    """Build the issuer app. Refuses to start (raises ``ConfigurationError``) if a signing key cannot be loaded."""
    ctx = context or IssuerContext.from_settings(settings or get_settings())
    ctx.load_signing_keys()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if context is None:
            ctx.close()

    app = FastAPI(
        title="Odznaka issuer",
        description="Issues Open Badges 3.0 credentials as VC-JWT, with keys, profiles and QR codes.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.context = ctx
    app.add_exception_handler(errors.IssuerError, _issuer_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(v1.router)
    app.include_router(public.router)
    return app
