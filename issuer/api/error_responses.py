"""The one table that turns errors into HTTP answers, and the answers themselves.

Every error body has the same shape, ``{"error": {"code", "message", "fields"?}}``, whether it comes from a route,
from request validation, from the framework (404, 405, 413) or from the edge (401, 429 before the body is read).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from http_edge.allow import error_headers
from issuer import errors
from issuer.api.pages import render, wants_page

log = logging.getLogger("issuer")

RETRY_AFTER_UNAVAILABLE = 5
"""Seconds a client is asked to wait when the database cannot be reached."""

HTTP_STATUS: dict[type[errors.IssuerError], int] = {
    errors.MalformedRequest: 400,
    errors.RefusedCredential: 400,
    errors.NotAuthenticated: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.AlreadyExists: 409,
    errors.AlreadyIssued: 409,
    errors.Withdrawn: 410,
    errors.IdempotencyConflict: 422,
    errors.InvalidInput: 422,
    errors.ConfigurationError: 503,
}

FRAMEWORK_CODES = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] | None = None
    model_config = {"extra": "allow"}


class ErrorBody(BaseModel):
    """Every error answer: a stable machine-readable ``code``, a sentence, and the fields at fault if any."""

    error: ErrorDetail


def error_body(code: str, message: str, fields: list[dict[str, str]] | None = None, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(details)
    return {"error": body}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any
) -> JSONResponse:
    return JSONResponse(error_body(code, message, **details), status, headers=headers)


def unavailable() -> JSONResponse:
    return error_response(
        503,
        "service_unavailable",
        "The database cannot be reached right now; nothing was changed. Try again shortly.",
        headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
    )


def status_for(error: errors.IssuerError) -> int:
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def not_found_page(request: Request) -> Response:
    return render(request, "not_found.html", {}, status=404)


async def issuer_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.IssuerError)
    status = status_for(exc)
    if status == 404 and wants_page(request):
        return not_found_page(request)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, exc.message, exc.fields, **exc.details), status, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "header", "path")]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or "body"


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return JSONResponse(error_body("malformed_request", "The request body is not valid JSON."), 400)
    fields = [{"field": _field_name(tuple(problem["loc"])), "message": _message(problem)} for problem in problems]
    return JSONResponse(error_body("invalid_input", "The request has invalid fields.", fields), 422)


def _message(problem: Any) -> str:
    """Pydantic's message, without the "Value error, " it puts before the sentences our validators write."""
    if problem.get("type") == "value_error" and "error" in problem.get("ctx", {}):
        return str(problem["ctx"]["error"])
    return str(problem["msg"])


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and wants_page(request):
        return not_found_page(request)
    code = FRAMEWORK_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=error_headers(request, exc))


async def database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The class name only: a driver's message can quote the statement and its parameters (names, e-mails).
    log.warning("database unavailable: %s", type(exc).__name__)
    return unavailable()


async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Where it happened, not what it said: an exception's message may quote a learner's data.
    log.error("unexpected error: %s\n%s", type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
    return JSONResponse(error_body("internal_error", "Something went wrong on our side."), 500)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can return, each with the error body's schema."""
    described = {
        400: "The request body is not valid JSON, or not strict JSON (NaN, Infinity, a repeated member).",
        401: "No API key, or not a valid one.",
        403: "The API key lacks the scope this needs.",
        404: "Not found (anything of another provider is not found either).",
        409: "It exists already.",
        410: "The credential is revoked or its signing key compromised: the artefact is no longer offered.",
        413: "The request body is too large.",
        422: "A field is invalid; ``fields`` names each one.",
        429: "Too many failed authentications from this client or for this key; see Retry-After.",
        503: "The database cannot be reached right now; see Retry-After.",
    }
    return {status: {"model": ErrorBody, "description": described[status]} for status in statuses}
