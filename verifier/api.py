"""The verifier's JSON API, for machines: ``POST /api/v1/verify``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from verifier.envelope import MalformedEnvelope, token_of, unwrap_envelope
from verifier.http_errors import InvalidInput, MalformedRequest, json_body, responses
from verifier.pipeline import Verifier
from verifier.presentation import SCHEMA as PRESENTATION_SCHEMA
from verifier.presentation import UNSIGNED, MalformedPresentation, summary, verify_presentation
from verifier.report import Report

router = APIRouter()


class CheckOut(BaseModel):
    id: str
    status: Literal["passed", "failed", "skipped", "unknown"]
    code: str
    message: str


class ReportOut(BaseModel):
    """A verdict and every check, each with a stable code and a sentence; ``credential`` once it was read."""

    verdict: Literal["valid", "invalid", "indeterminate"]
    checks: list[CheckOut]
    credential: dict[str, Any] | None


def get_verifier(request: Request) -> Verifier:
    verifier: Verifier = request.app.state.verifier
    return verifier


def is_link(value: str) -> bool:
    return value.startswith(("http://", "https://"))


async def run(verifier: Verifier, value: str | Mapping[str, Any]) -> Report:
    """Verify a compact JWS, an EnvelopedVerifiableCredential (its JSON, its text or its data: URL), or the
    credential behind a link."""
    try:
        if isinstance(value, Mapping):
            token = unwrap_envelope(value)
        else:
            value = value.strip()
            if is_link(value):
                return await verifier.verify_reference(value)
            token = token_of(value)
    except MalformedEnvelope as exc:
        report = Report()
        report.failed("format", "malformed", str(exc))
        return report.skip_rest()
    return await verifier.verify(token)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    "/api/v1/verify",
    response_model=None,
    responses={
        200: {"model": ReportOut, "description": "The report (an invalid credential is a normal 200)."},
        **responses(400, 413, 422),
    },
    openapi_extra=json_body(
        {
            "credential": {
                "oneOf": [
                    {"type": "string", "description": "A compact VC-JWT, a link, or a data: URL."},
                    {"type": "object", "description": "An EnvelopedVerifiableCredential."},
                ]
            }
        },
        ["credential"],
        text_plain={"type": "string"},
    ),
)
async def verify_api(request: Request) -> JSONResponse:
    """Verify a compact VC-JWT (or a link to one). Invalid credentials are a normal ``200`` answer."""
    body = await request.body()  # at most the app's body limit: larger requests are refused before reading
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("The request body is not UTF-8.") from exc
    if media_type == "text/plain":
        value: Any = text
    else:
        try:
            document = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise MalformedRequest('Send JSON {"credential": "<JWT>"} or a bare token as text/plain.') from exc
        value = document.get("credential") if isinstance(document, dict) else None
        if not isinstance(value, str | dict):
            raise InvalidInput("The field 'credential' must hold the JWT, a link, or an EnvelopedVerifiableCredential.")
    report = await run(get_verifier(request), value)
    return JSONResponse(report.as_dict())


class PresentationOut(BaseModel):
    """Each credential's report, in the presentation's order, with a summary of the verdicts and outcomes."""

    summary: dict[str, Any]
    credentials: list[ReportOut]
    warnings: list[str]


@router.post(
    "/api/v1/presentations/verify",
    response_model=None,
    responses={
        200: {"model": PresentationOut, "description": "A report per credential (invalid ones are a normal 200)."},
        **responses(400, 413, 422),
    },
    openapi_extra=json_body({"presentation": PRESENTATION_SCHEMA}, ["presentation"]),
)
async def verify_presentation_api(request: Request) -> JSONResponse:
    """Verify every credential of a presentation (a learner's profile, say), each on its own."""
    try:
        document = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest('Send JSON {"presentation": <VerifiablePresentation>}.') from exc
    if not isinstance(document, dict) or "presentation" not in document:
        raise InvalidInput("The field 'presentation' must hold a VerifiablePresentation.")
    try:
        reports = await verify_presentation(get_verifier(request), document["presentation"])
    except MalformedPresentation as exc:
        raise InvalidInput(str(exc)) from exc
    body = {
        "summary": summary(reports),
        "credentials": [report.as_dict() for report in reports],
        "warnings": [UNSIGNED],
    }
    return JSONResponse(body)
