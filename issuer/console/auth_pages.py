"""Signing in and out, accepting an invitation, and one's own account (the second factor)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from issuer import repository, staff
from issuer.console.auth_words import WORDS
from issuer.console.web import (
    DEVICE_COOKIE,
    FORM_COOKIE,
    SESSION_COOKIE,
    AnyViewer,
    FormRejected,
    clear_cookie,
    context_of,
    done_url,
    form_of,
    language_of,
    page,
    read_cookie,
    see_other,
    set_cookie,
    signed_in,
)
from issuer.console.words import add
from issuer.errors import AlreadyExists, InvalidInput, NotFound

add(WORDS)
router = APIRouter()
DEVICE_MAX_AGE = 365 * 24 * 3600
_BASE32 = re.compile(r"[A-Z2-7]{16,64}")


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path of this site only (never an open redirect)."""
    if not value:
        return "/console"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/console") or "\\" in value:
        return "/console"
    return value


def _anonymous_form(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A form shown before sign-in, with its double-submit CSRF pair."""
    ctx = context_of(request)
    cookie, field = staff.anonymous_csrf(ctx)
    response = page(request, template, {**context, "form_token": field}, status=status)
    set_cookie(ctx, response, FORM_COOKIE, cookie, max_age=3600)
    return response


async def _anonymous_post(request: Request) -> Any:
    form = await request.form(max_files=0, max_fields=20)
    cookie = read_cookie(request, FORM_COOKIE) or ""
    if not staff.check_anonymous_csrf(context_of(request), cookie, str(form.get("csrf") or "")):
        raise FormRejected("This form has expired or did not come from the console; open the page again.")
    return form


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/console")
def console_home(request: Request) -> Response:
    found = signed_in(request)
    if found is None:
        return see_other("/console/sign-in")
    member, _ = found
    if member.role == "operator":
        return see_other("/console/providers")
    ctx = context_of(request)
    with ctx.db.read() as session:
        provider = repository.provider_by_id(session, member.provider_id) if member.provider_id else None
    return see_other(f"/console/{provider.slug}" if provider else "/console/account")


@router.get("/console/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    if signed_in(request) is not None:
        return see_other(_safe_next(next))
    return _anonymous_form(request, "console/sign_in.html", {"next": _safe_next(next)})


@router.post("/console/sign-in")
async def sign_in_post(request: Request) -> Response:
    ctx = context_of(request)
    form = await _anonymous_post(request)
    email = str(form.get("email") or "").strip()[:320]
    password = str(form.get("password") or "")[:1024]
    target = _safe_next(str(form.get("next") or ""))
    result = await run_in_threadpool(  # argon2id takes 64 MiB and a fair share of a second: not on the loop
        staff.sign_in,
        ctx,
        email=email,
        password=password,
        client=_client(request),
        device=read_cookie(request, DEVICE_COOKIE),
    )
    lang = language_of(request)
    if result.outcome == "ok" and result.session:
        response = see_other(target)
        set_cookie(ctx, response, SESSION_COOKIE, result.session)
        if result.device:
            set_cookie(ctx, response, DEVICE_COOKIE, result.device, max_age=DEVICE_MAX_AGE)
        return response
    if result.outcome == "needs_second_factor" and result.session:
        response = see_other(f"/console/sign-in/code?next={target}")
        set_cookie(ctx, response, SESSION_COOKIE, result.session)
        return response
    if result.outcome == "locked":
        minutes = max(1, -(-(result.retry_after or 60) // 60))
        error = WORDS[lang]["auth_locked"].format(minutes=minutes)
        status = 429
    else:
        error = WORDS[lang]["auth_failed"]
        status = 401
    return _anonymous_form(
        request, "console/sign_in.html", {"next": target, "error": error, "email": email}, status=status
    )


@router.get("/console/sign-in/code")
def code_page(request: Request, next: str | None = None) -> Response:
    token = read_cookie(request, SESSION_COOKIE)
    if not token or staff.pending_session(context_of(request), token) is None:
        return see_other("/console/sign-in")
    return _anonymous_form(request, "console/code.html", {"next": _safe_next(next)})


@router.post("/console/sign-in/code")
async def code_post(request: Request) -> Response:
    ctx = context_of(request)
    form = await _anonymous_post(request)
    token = read_cookie(request, SESSION_COOKIE)
    target = _safe_next(str(form.get("next") or ""))
    member = staff.pending_session(ctx, token) if token else None
    if token is None or member is None:
        return see_other("/console/sign-in")
    code = "".join(str(form.get("code") or "").split())[:12]
    if staff.complete_second_factor(ctx, token, code):
        response = see_other(target)
        set_cookie(ctx, response, DEVICE_COOKIE, staff.issue_device_cookie(ctx, member), max_age=DEVICE_MAX_AGE)
        return response
    if staff.pending_session(ctx, token) is None:  # too many wrong codes: the waiting session has ended
        return see_other("/console/sign-in")
    error = WORDS[language_of(request)]["auth_code_wrong"]
    return _anonymous_form(request, "console/code.html", {"next": target, "error": error}, status=401)


@router.post("/console/sign-out")
async def sign_out(request: Request) -> Response:
    ctx = context_of(request)
    token = read_cookie(request, SESSION_COOKIE)
    response = see_other("/console/sign-in")
    if token:
        form = await request.form(max_files=0, max_fields=5)
        if staff.check_csrf(ctx, token, str(form.get("csrf") or "")):
            staff.end_session(ctx, token)
        clear_cookie(ctx, response, SESSION_COOKIE)
    return response


@router.get("/console/invitation/{token}")
def invitation_page(token: str, request: Request) -> Response:
    member = staff.invitation(context_of(request), token)
    if member is None:
        return page(request, "console/invitation_gone.html", {}, status=404)
    return _anonymous_form(request, "console/invitation.html", {"member": member, "token": token})


@router.post("/console/invitation/{token}")
async def invitation_post(token: str, request: Request) -> Response:
    ctx = context_of(request)
    form = await _anonymous_post(request)
    member = staff.invitation(ctx, token)
    if member is None:
        return page(request, "console/invitation_gone.html", {}, status=404)
    name = str(form.get("name") or "").strip()
    password = str(form.get("password") or "")
    repeated = str(form.get("password_again") or "")
    lang = language_of(request)
    problems: dict[str, str] = {}
    if password != repeated:
        problems["password_again"] = WORDS[lang]["auth_passwords_differ"]
    else:
        try:
            member = await run_in_threadpool(staff.accept_invitation, ctx, token, name=name, password=password)
        except InvalidInput as exc:
            for field in exc.fields:
                code = str(field.get("message", ""))
                problems[str(field.get("field"))] = WORDS[lang].get(f"auth_policy_{code}", code)
    if problems:
        context = {"member": member, "token": token, "problems": problems, "name": name}
        return _anonymous_form(request, "console/invitation.html", context, status=422)
    session_token = staff.start_session(ctx, member, second_factor_done=True)
    response = see_other(done_url("/console/account", "joined"))
    set_cookie(ctx, response, SESSION_COOKIE, session_token)
    set_cookie(ctx, response, DEVICE_COOKIE, staff.issue_device_cookie(ctx, member), max_age=DEVICE_MAX_AGE)
    return response


@router.get("/console/account")
def account(request: Request, who: AnyViewer) -> Response:
    return page(request, "console/account.html", {}, who=who, section="account")


@router.post("/console/account/second-factor")
async def second_factor_start(request: Request, who: AnyViewer) -> Response:
    ctx = context_of(request)
    await form_of(request, who)
    assert who.staff.id is not None
    secret, uri = staff.begin_totp(ctx, who.staff.id)
    context = {"secret": secret, "qr": staff.totp_qr_svg(uri)}
    return page(request, "console/second_factor.html", context, who=who, section="account")


@router.post("/console/account/second-factor/confirm")
async def second_factor_confirm(request: Request, who: AnyViewer) -> Response:
    ctx = context_of(request)
    form = await form_of(request, who)
    assert who.staff.id is not None
    secret = str(form.get("secret") or "")[:64]
    code = "".join(str(form.get("code") or "").split())[:12]
    try:
        confirmed = staff.confirm_totp(ctx, who.staff.id, secret, code)
    except AlreadyExists:
        return see_other("/console/account")
    if confirmed:
        return see_other(done_url("/console/account", "second_factor_on"))
    if not _BASE32.fullmatch(secret):
        return see_other("/console/account")
    uri = pyotp.TOTP(secret).provisioning_uri(name=who.staff.email, issuer_name=staff.TOTP_ISSUER)
    context = {"secret": secret, "qr": staff.totp_qr_svg(uri), "error": WORDS[language_of(request)]["auth_code_wrong"]}
    return page(request, "console/second_factor.html", context, who=who, section="account", status=422)


@router.post("/console/account/second-factor/off")
async def second_factor_off(request: Request, who: AnyViewer) -> Response:
    ctx = context_of(request)
    form = await form_of(request, who)
    assert who.staff.id is not None
    code = "".join(str(form.get("code") or "").split())[:12]
    if not staff.verify_totp(ctx, who.staff, code):
        context = {"off_error": WORDS[language_of(request)]["auth_code_wrong"]}
        return page(request, "console/account.html", context, who=who, section="account", status=422)
    try:
        staff.disable_totp(ctx, who.staff.id, provider_id=who.staff.provider_id, actor=who.actor)
    except NotFound:
        return see_other("/console/account")
    return see_other(done_url("/console/account", "second_factor_off"))
