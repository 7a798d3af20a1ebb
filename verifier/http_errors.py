"""The verifier's request errors and the one table that maps them to HTTP.

A credential that fails verification is never an error here: it is a normal ``200`` report. These are only for
requests that cannot be read at all. Every error body is ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from http_edge.allow import error_headers


class RequestError(Exception):
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedRequest(RequestError):
    code = "malformed_request"


class InvalidInput(RequestError):
    code = "invalid_input"


HTTP_STATUS: dict[type[RequestError], int] = {MalformedRequest: 400, InvalidInput: 422}
FRAMEWORK_CODES = {400: "malformed_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


async def request_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    return error_response(HTTP_STATUS.get(type(exc), 400), exc.code, exc.message)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = FRAMEWORK_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), error_headers(request, exc))


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    where = ", ".join(".".join(str(part) for part in problem.get("loc", ())) for problem in problems[:3])
    return error_response(422, "invalid_input", f"The request has invalid fields: {where}.")


DESCRIBED = {
    400: "The body cannot be read (not UTF-8, not JSON, not a valid form).",
    413: "The request body is too large.",
    422: "A field is missing or of the wrong type.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a JSON route can return."""
    return {status: {"model": ErrorBody, "description": DESCRIBED[status]} for status in statuses}


def json_errors_of_a_page(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The same for a route whose success is a page: its errors are still JSON (FastAPI would file them under
    the page's media type if given a model)."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return {
        status: {"description": DESCRIBED[status], "content": {"application/json": {"schema": schema}}}
        for status in statuses
    }


def json_body(properties: dict[str, Any], required: list[str], **other: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI ``requestBody`` (a route's ``openapi_extra``) of a JSON object with these ``properties``; ``other``
    adds media types by name (``text_plain={...}`` for ``text/plain``)."""
    content = {"application/json": {"schema": {"type": "object", "properties": properties, "required": required}}}
    content.update({name.replace("_", "/"): {"schema": schema} for name, schema in other.items()})
    return {"requestBody": {"content": content, "required": True}}
