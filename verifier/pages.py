"""The verifier's pages, for people: the form, and the verdict a QR code opens.

A verdict page answers in its first line what an employer needs (valid, or revoked, expired, forged, …), then
who, what, which provider and when it was checked; the checks themselves are folded under "technical details",
the failing one first.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from credentials.jose import MAX_TOKEN_BYTES
from http_edge.language import format_date, format_moment, negotiate, remember, switch_links, tie_short_words
from verifier import http_errors
from verifier.api import get_verifier, is_link, run
from verifier.http_errors import json_errors_of_a_page
from verifier.i18n import CHECK_NAMES, OUTCOMES, TEXT, UPLOAD_ERRORS, check_message
from verifier.report import Report
from verifier.uploads import MAX_FILE_BYTES, UploadRejected, credential_of_verify_link, extract

MAX_FIELD_CHARS = 2 * MAX_TOKEN_BYTES
"""The most of a pasted value that is looked at: a token, or an envelope holding one."""
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
"""Largest body of the page's form: an uploaded file, a pasted token, and the multipart framing. (A part over
1 MiB passes through an unnamed temporary file, gone when the request ends; nothing of an upload is kept.)"""

TONES = {
    "valid": "good",
    "expired": "warn",
    "not_yet_valid": "warn",
    "suspended": "warn",
    "indeterminate": "neutral",
    "not_a_credential": "neutral",
}
"""The banner's colour and icon by outcome; every other outcome is ``bad``."""
CHECK_ORDER = {"failed": 0, "unknown": 1, "passed": 2, "skipped": 3}

router = APIRouter(tags=["pages for people"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
templates.env.finalize = tie_short_words


def _headline(lang: str, report: Report) -> tuple[str, str]:
    """The banner's words: the outcome, with the date that makes it specific where there is one."""
    outcome = report.outcome
    headline, meaning = OUTCOMES[lang][outcome]
    credential = report.credential or {}
    dates = {
        "revoked": (report.revocation or {}).get("revokedAt"),
        "expired": credential.get("validUntil"),
        "not_yet_valid": credential.get("validFrom"),
    }
    date = format_date(dates.get(outcome), lang)
    headline = headline.replace("{date}", date).replace("  ", " ").strip()
    return headline, meaning


def _status_line(lang: str, report: Report) -> str:
    t = TEXT[lang]
    status = next((check for check in report.checks if check.id == "status"), None)
    if report.revocation and report.revocation.get("revokedAt"):
        return t["revoked_on"].format(date=format_date(report.revocation["revokedAt"], lang))
    if status is None:
        return t["status_unknown"]
    if status.status == "passed":
        return t["not_revoked"]
    if status.code == "no_status_list":
        return t["no_status"]
    if status.status == "failed":
        return check_message(lang, status.id, status.code, status.status, status.message)
    return t["status_unknown"]


def _permalink(request: Request, value: str, report: Report, lang: str) -> str:
    """A link that verifies the same credential again: by its link when it has one; a pasted token goes in the
    fragment (``/#credential=…``), which browsers never send, so it stays out of every log."""
    link = value.strip() if is_link(value.strip()) else None
    credential_id = (report.credential or {}).get("id")
    if link is None and isinstance(credential_id, str) and is_link(credential_id) and report.verdict == "valid":
        link = credential_id  # the issuer publishes it: verifying by its link fetches that very copy
    base = str(request.base_url).rstrip("/")
    if link is not None:
        return f"{base}/verify?{urlencode({'credential': link, 'lang': lang})}"
    return f"{base}/?{urlencode({'lang': lang})}#{urlencode({'credential': value.strip()})}"


def _report_download(report: Report, request: Request) -> str:
    """The report as a ``data:`` URL that the page's download link saves as a JSON file."""
    body = {**report.as_dict(), "verifier": str(request.base_url).rstrip("/")}
    encoded = base64.b64encode(json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")).decode("ascii")
    return f"data:application/json;charset=utf-8;base64,{encoded}"


def verdict_view(request: Request, report: Report, value: str, lang: str) -> dict[str, Any]:
    """What the verdict page shows, worked out here so the template only lays it out."""
    t = TEXT[lang]
    headline, meaning = _headline(lang, report)
    checks = [
        {
            "id": check.id,
            "name": CHECK_NAMES[lang].get(check.id, check.id),
            "status": check.status,
            "status_text": t[check.status],
            "code": check.code,
            "message": check_message(lang, check.id, check.code, check.status, check.message),
        }
        for check in sorted(report.checks, key=lambda check: CHECK_ORDER[check.status])
    ]
    credential = report.credential
    revocation = report.revocation or {}
    replaced_by = revocation.get("replacedBy")
    return {
        "outcome": report.outcome,
        "tone": TONES.get(report.outcome, "bad"),
        "headline": headline,
        "meaning": meaning,
        "credential": credential,
        "issued": format_date((credential or {}).get("awardedDate") or (credential or {}).get("validFrom"), lang),
        "valid_until": format_date((credential or {}).get("validUntil"), lang),
        "trust_line": t["accredited"].format(name=report.issuer_name) if report.issuer_name else t["trusted"],
        "status_line": _status_line(lang, report),
        "reason": revocation.get("reason"),
        "replaced_by": replaced_by,
        "replacement_link": f"/verify?{urlencode({'credential': replaced_by, 'lang': lang})}" if replaced_by else None,
        "checked_at": t["checked_at"].format(when=format_moment(report.checked_at, lang)),
        "checks": checks,
        "permalink": _permalink(request, value, report, lang),
        "report_download": _report_download(report, request),
    }


def page(
    request: Request,
    report: Report | None = None,
    *,
    value: str = "",
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    lang = negotiate(request)
    context = {
        "t": TEXT[lang],
        "lang": lang,
        "languages": switch_links(request),
        "verdict": verdict_view(request, report, value, lang) if report is not None else None,
        "report": report,
        "problem": problem,
        "verifier_url": str(request.base_url).rstrip("/"),
        "insecure_demo": not request.app.state.settings.require_https,
    }
    response = templates.TemplateResponse(request, "verify.html", context, status_code=status)
    if report is not None:
        response.headers["Cache-Control"] = "no-store"  # a verdict is of its moment
    remember(request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request)


@router.get(
    "/verify",
    response_model=None,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The verdict."}},
)
async def verify_page(request: Request, credential: str = "") -> Response:
    """What a QR code opens: the verdict as a page (or JSON for ``Accept: application/json``)."""
    if not credential.strip():
        return page(request)
    value = credential[:MAX_FIELD_CHARS]
    report = await run(get_verifier(request), value)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(report.as_dict(), headers={"Cache-Control": "no-store"})
    return page(request, report, value=value)


@router.post("/verify", response_class=HTMLResponse, responses=json_errors_of_a_page(400, 413))
async def verify_form(
    request: Request,
    credential: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | str | None, File()] = None,
) -> HTMLResponse:
    """The page's form: a pasted link or token, or an uploaded file (a photo or screenshot of the QR code, a baked
    PNG or SVG badge, the PDF certificate, a ``.jwt`` or ``.json`` file)."""
    value = credential
    # The parsed part is Starlette's UploadFile, of which FastAPI's is a subclass used only for the annotation.
    if isinstance(file, StarletteUploadFile) and file.filename:
        data = await file.read(MAX_FILE_BYTES + 1)
        try:
            # Decoding a photo is CPU work: off the event loop.
            value = (await run_in_threadpool(extract, data, file.filename, file.content_type)).value
        except UploadRejected as exc:
            lang = negotiate(request)
            problem = f"{TEXT[lang]['upload_problem']}. {UPLOAD_ERRORS[lang].get(exc.code, exc.message)}"
            return page(request, problem=problem, status=400)
    elif isinstance(file, str) and file.strip() and not value.strip():
        value = file  # a client that sent the file's text as a plain form field
    if not value.strip():
        return page(request)  # nothing pasted or uploaded: the form again
    # The camera scanner submits what the QR code says, which may be a verifier link: verify what it names.
    value = credential_of_verify_link(value.strip())[:MAX_FIELD_CHARS]
    return page(request, await run(get_verifier(request), value), value=value)


async def http_error(request: Request, exc: Exception) -> Response:
    """A browser that asks for a page that is not here gets the form, saying so; anyone else the JSON error."""
    assert isinstance(exc, StarletteHTTPException)
    accept = request.headers.get("accept", "")
    if exc.status_code == 404 and "text/html" in accept and not request.url.path.startswith("/api/"):
        return page(request, problem=TEXT[negotiate(request)]["no_such_page"], status=404)
    return await http_errors.http_error(request, exc)
