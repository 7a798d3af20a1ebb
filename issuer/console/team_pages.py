"""The provider's team in the console: who may sign in and in which role; the owner invites (the one-time link is
shown once, to be passed on), changes roles and disables accounts. The programme operator may look."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from issuer import staff
from issuer.console.team_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    Viewer,
    context_of,
    done_url,
    form_of,
    language_of,
    may_look,
    page,
    see_other,
)
from issuer.console.words import add
from issuer.errors import AlreadyExists, InvalidInput, NotFound
from issuer.invitation_mail import send_invitation
from issuer.models import Staff, utcnow

add(WORDS)
router = APIRouter()


@dataclass(frozen=True)
class Member:
    staff: Staff
    state: str
    """active, disabled, invited or invitation_expired."""

    @property
    def tone(self) -> str:
        return {"active": "good", "disabled": "neutral", "invited": "warn"}.get(self.state, "bad")


def _state(member: Staff) -> str:
    if member.disabled_at is not None:
        return "disabled"
    if member.password_hash is None:
        expires = member.invitation_expires
        return "invited" if expires is not None and utcnow() < expires else "invitation_expired"
    return "active"


def _team_page(
    request: Request,
    who: Viewer,
    *,
    problems: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    error: str | None = None,
    invited: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    members = [Member(member, _state(member)) for member in staff.list_staff(context_of(request), who.provider_id)]
    context: dict[str, Any] = {
        "members": members,
        "roles": staff.PROVIDER_ROLES,
        "problems": problems or {},
        "values": values or {"email": "", "role": "issuer"},
        "error": error,
        "invited": invited,
    }
    return page(request, "console/team.html", context, who=who, section="staff", status=status)


@router.get("/console/{slug}/staff")
def team(request: Request, who: ProviderViewer) -> Response:
    may_look(who, "manage_staff")
    return _team_page(request, who)


@router.post("/console/{slug}/staff")
async def invite(request: Request, who: ProviderViewer) -> Response:
    """Invite someone: the answer shows the one-time link, the only time it is shown."""
    form = await form_of(request, who)
    who.require("manage_staff")
    email = str(form.get("email") or "").strip()[:320]
    role = str(form.get("role") or "")[:20]
    problems: dict[str, str] = {}
    try:
        link = staff.invite(
            context_of(request),
            provider_slug=who.slug,
            email=email,
            role=role,
            actor=who.actor,
            language=language_of(request),
        )
    except InvalidInput as exc:
        for field in exc.fields:
            name = field.get("field")
            if name in ("email", "role"):
                problems[name] = f"team_error_{name}"
    except AlreadyExists:
        problems["email"] = "team_error_exists"
    if problems:
        return _team_page(request, who, problems=problems, values={"email": email, "role": role}, status=422)
    ctx = context_of(request)
    member = staff.staff_by_email(ctx, email)
    sent = await run_in_threadpool(
        send_invitation,
        ctx,
        to=email.lower(),
        link=link,
        role=role,
        provider_name=who.provider.name if who.provider else None,
        expires=member.invitation_expires if member else None,
        language=language_of(request),
    )
    return _team_page(request, who, invited={"email": email.lower(), "link": link, "sent": sent})


@router.post("/console/{slug}/staff/{staff_id}/role")
async def change_role(request: Request, who: ProviderViewer, staff_id: str) -> Response:
    form = await form_of(request, who)
    who.require("manage_staff")
    role = str(form.get("role") or "")[:20]
    try:
        staff.change_role(context_of(request), _member_id(staff_id), role, provider_id=who.provider_id, actor=who.actor)
    except NotFound:
        return _team_page(request, who, error="team_error_not_member", status=404)
    except InvalidInput as exc:
        last_owner = any(field.get("message") == "last_owner" for field in exc.fields)
        return _team_page(request, who, error="team_error_last_owner" if last_owner else "team_error_role", status=422)
    return see_other(done_url(f"/console/{who.slug}/staff", "team_role_changed"))


@router.post("/console/{slug}/staff/{staff_id}/disable")
async def disable(request: Request, who: ProviderViewer, staff_id: str) -> Response:
    await form_of(request, who)
    who.require("manage_staff")
    try:
        changed = staff.disable(context_of(request), _member_id(staff_id), provider_id=who.provider_id, actor=who.actor)
    except NotFound:
        return _team_page(request, who, error="team_error_not_member", status=404)
    except InvalidInput:
        return _team_page(request, who, error="team_error_last_owner", status=422)
    return see_other(done_url(f"/console/{who.slug}/staff", "team_disabled" if changed else "team_already_disabled"))


def _member_id(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise NotFound("There is no such staff member here.")
    return int(text)
