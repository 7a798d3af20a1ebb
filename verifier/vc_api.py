"""The W3C VC-API verifying interface: ``POST /credentials/verify`` and ``POST /presentations/verify``, thin
adapters over the same pipeline.

It takes ``{"verifiableCredential": <EnvelopedVerifiableCredential>, "options": {...}}`` (option keys this
verifier does not use are ignored) and answers a VC-API ``VerificationResult``. *valid* is ``verified: true``;
*invalid* is ``verified: false`` with a problem per failed check; *indeterminate* is ``verified: false`` too,
with an explicit problem saying the credential could not be confirmed (never ``true``). A request whose envelope
is not one answers 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from verifier.api import get_verifier
from verifier.envelope import MalformedEnvelope, unwrap_envelope
from verifier.http_errors import json_body, responses
from verifier.presentation import SCHEMA as PRESENTATION_SCHEMA
from verifier.presentation import UNSIGNED, MalformedPresentation, verify_presentation
from verifier.report import Report

router = APIRouter(tags=["W3C VC-API"])

VC_DM = "https://www.w3.org/TR/vc-data-model#"
PROBLEM_TYPES = {
    "malformed": VC_DM + "PARSING_ERROR",
    "header_not_allowed": VC_DM + "CRYPTOGRAPHIC_SECURITY_ERROR",
    "unsupported_algorithm": VC_DM + "CRYPTOGRAPHIC_SECURITY_ERROR",
    "unknown_key": VC_DM + "CRYPTOGRAPHIC_SECURITY_ERROR",
    "bad_signature": VC_DM + "CRYPTOGRAPHIC_SECURITY_ERROR",
    "key_compromised": VC_DM + "CRYPTOGRAPHIC_SECURITY_ERROR",
    "claims_mismatch": VC_DM + "MALFORMED_VALUE_ERROR",
    "legacy_format": VC_DM + "MALFORMED_VALUE_ERROR",
    "schema_invalid": VC_DM + "MALFORMED_VALUE_ERROR",
}
"""Codes with a VC Data Model error type; the others are named in this verifier's own namespace."""
INDETERMINATE = "urn:odznaka:verification:indeterminate"
PROBLEM = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["type", "title", "detail"],
}
RESULT = {
    "type": "object",
    "properties": {
        "verified": {"type": "boolean"},
        "problemDetails": {"type": "array", "items": PROBLEM},
        "errors": {"type": "array", "items": PROBLEM},
        "warnings": {"type": "array", "items": PROBLEM},
        "results": {"type": "object"},
        "checks": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["verified", "problemDetails"],
}


def problem(code: str, title: str, detail: str) -> dict[str, str]:
    return {"type": PROBLEM_TYPES.get(code, f"urn:odznaka:verification:{code}"), "title": title, "detail": detail}


def verification_result(report: Report) -> dict[str, Any]:
    """The VC-API VerificationResult of a report."""
    problems = [
        problem(check.code, f"{check.id} check {check.status}", check.message)
        for check in report.checks
        if check.status in ("failed", "unknown")
    ]
    if report.verdict == "indeterminate":
        problems.insert(
            0, problem("indeterminate", "could not be confirmed", "Some checks could not be carried out now.")
        )
        problems[0]["type"] = INDETERMINATE
    passed = {check.id: check.status == "passed" for check in report.checks}
    return {
        "verified": report.verdict == "valid",
        "problemDetails": problems,
        "errors": problems,
        "warnings": [],
        "results": {
            "proof": [{"verified": passed.get("signature", False)}],
            "credentialSchema": [{"verified": passed.get("schema", False)}],
            "credentialStatus": [{"verified": passed.get("status", False)}],
            "validFrom": {"verified": passed.get("validity", False)},
            "validUntil": {"verified": passed.get("validity", False)},
        },
        "checks": [check.as_dict() for check in report.checks],
    }


OPTIONS = {"type": "object", "description": "Accepted; unused keys are ignored."}


async def _request_holding(request: Request, field: str, what: str) -> dict[str, Any] | JSONResponse:
    """The request's JSON object, holding ``field`` (and ``options``, if any, as an object); or the 400."""
    try:
        document = await request.json()
    except (ValueError, RecursionError):
        return _bad(f'Send JSON {{"{field}": {what}}}.')
    if not isinstance(document, dict) or field not in document:
        return _bad(f"The request has no {field}.")
    if not isinstance(document.get("options", {}), dict):
        return _bad("The options must be a JSON object.")
    return document


def _bad(detail: str) -> JSONResponse:
    found = problem("malformed", "malformed request", detail)
    return JSONResponse({"verified": False, "problemDetails": [found], "errors": [found], "warnings": []}, 400)


@router.post(
    "/credentials/verify",
    response_model=None,
    responses={
        200: {
            "description": "The VerificationResult (verified or not).",
            "content": {"application/json": {"schema": RESULT}},
        },
        400: {"description": "Not an enveloped credential.", "content": {"application/json": {"schema": RESULT}}},
        **responses(413),
    },
    openapi_extra=json_body(
        {
            "verifiableCredential": {
                "type": "object",
                "description": "An EnvelopedVerifiableCredential (data:application/vc+jwt,…).",
                "properties": {
                    "@context": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"const": "https://www.w3.org/ns/credentials/v2"},
                    },
                    "type": {"const": "EnvelopedVerifiableCredential"},
                    "id": {"type": "string", "pattern": "^data:application/(vc\\+)?jwt,"},
                },
                "required": ["@context", "type", "id"],
            },
            "options": OPTIONS,
        },
        ["verifiableCredential"],
    ),
)
async def verify_credential(request: Request) -> JSONResponse:
    """Verify an enveloped credential and answer a VC-API VerificationResult."""
    document = await _request_holding(request, "verifiableCredential", "<EnvelopedVerifiableCredential>")
    if isinstance(document, JSONResponse):
        return document
    try:
        token = unwrap_envelope(document["verifiableCredential"])
    except MalformedEnvelope as exc:
        return _bad(str(exc))
    report = await get_verifier(request).verify(token)
    return JSONResponse(verification_result(report))


PRESENTATION_RESULT = {
    "type": "object",
    "properties": {
        "verified": {"type": "boolean"},
        "credentialResults": {"type": "array", "items": RESULT},
        "problemDetails": {"type": "array", "items": PROBLEM},
        "errors": {"type": "array", "items": PROBLEM},
        "warnings": {"type": "array", "items": PROBLEM},
    },
    "required": ["verified", "credentialResults", "problemDetails"],
}


@router.post(
    "/presentations/verify",
    response_model=None,
    responses={
        200: {
            "description": "A VerificationResult per credential; verified when every one is.",
            "content": {"application/json": {"schema": PRESENTATION_RESULT}},
        },
        400: {"description": "Not a presentation.", "content": {"application/json": {"schema": RESULT}}},
        **responses(413),
    },
    openapi_extra=json_body(
        {"verifiablePresentation": PRESENTATION_SCHEMA, "options": OPTIONS}, ["verifiablePresentation"]
    ),
)
async def verify_presentation_vc_api(request: Request) -> JSONResponse:
    """Verify each credential of a presentation; ``verified`` only when every one is. The presentation has no
    proof of its own (a learner holds no key): a warning says so."""
    document = await _request_holding(request, "verifiablePresentation", "<VerifiablePresentation>")
    if isinstance(document, JSONResponse):
        return document
    try:
        reports = await verify_presentation(get_verifier(request), document["verifiablePresentation"])
    except MalformedPresentation as exc:
        return _bad(str(exc))
    results = [verification_result(report) for report in reports]
    problems = [
        {**found, "detail": f"Credential {position}: {found['detail']}"}
        for position, result in enumerate(results, start=1)
        for found in result["problemDetails"]
    ]
    warning = {"type": "urn:odznaka:verification:presentation_unsigned", "title": "no proof", "detail": UNSIGNED}
    body = {
        "verified": all(result["verified"] for result in results),
        "credentialResults": results,
        "problemDetails": problems,
        "errors": problems,
        "warnings": [warning],
    }
    return JSONResponse(body)
