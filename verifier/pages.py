"""The verifier's pages, for people: the form, and the verdict a QR code opens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from credentials.jose import MAX_TOKEN_BYTES
from verifier.api import get_verifier, run
from verifier.http_errors import json_errors_of_a_page
from verifier.i18n import CHECK_NAMES, TEXT, check_message, language
from verifier.report import Report

MAX_FIELD_CHARS = 2 * MAX_TOKEN_BYTES
"""The most of a pasted value (or uploaded file) that is looked at: a token, or an envelope holding one."""
MAX_UPLOAD_BYTES = 512 * 1024
"""Largest body of the page's form (a pasted token or an uploaded file)."""

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


def page(request: Request, report: Report | None, status: int = 200) -> HTMLResponse:
    lang = language(request)
    checks = []
    if report is not None:
        for check in report.checks:
            checks.append(
                {
                    "id": check.id,
                    "name": CHECK_NAMES[lang].get(check.id, check.id),
                    "status": check.status,
                    "status_text": TEXT[lang][check.status],
                    "code": check.code,
                    "message": check_message(lang, check.code, check.status, check.message),
                }
            )
    context = {
        "t": TEXT[lang],
        "lang": lang,
        "report": report,
        "checks": checks,
        "credential": report.credential if report else None,
        "revocation": report.revocation if report else None,
        "registry_name": report.issuer_name if report else None,
        "insecure_demo": not request.app.state.settings.require_https,
    }
    return templates.TemplateResponse(request, "verify.html", context, status_code=status)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, None)


@router.get(
    "/verify",
    response_model=None,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The verdict."}},
)
async def verify_page(request: Request, credential: str = "") -> Response:
    """What a QR code opens: the verdict as a page (or JSON for ``Accept: application/json``)."""
    if not credential.strip():
        return page(request, None)
    report = await run(get_verifier(request), credential[:MAX_FIELD_CHARS])
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(report.as_dict())
    return page(request, report)


@router.post("/verify", response_class=HTMLResponse, responses=json_errors_of_a_page(400, 413))
async def verify_form(
    request: Request,
    credential: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | str | None, File()] = None,
) -> HTMLResponse:
    """The page's form: a pasted link or token, or an uploaded ``.jwt`` file."""
    value = credential
    if isinstance(file, UploadFile) and file.filename:
        content = await file.read(MAX_FIELD_CHARS + 1)
        value = content.decode("utf-8", "replace")
    elif isinstance(file, str) and file.strip() and not value.strip():
        value = file  # a client that sent the file's text as a plain form field
    if not value.strip():
        return page(request, None)  # nothing pasted or uploaded: the form again
    return page(request, await run(get_verifier(request), value[:MAX_FIELD_CHARS]))
