"""``issuer staff``: the programme operator invites a provider's first owner (and operators), lists a provider's
console accounts and disables one. Everything else about staff happens in the console itself."""

from __future__ import annotations

from typing import Annotated

import typer

from issuer.cli_support import context as _context
from issuer.cli_support import fail as _fail
from issuer.context import IssuerContext
from issuer.errors import IssuerError, NotFound
from issuer.models import Staff, utcnow
from issuer.providers import get_provider
from issuer.staff import PROVIDER_ROLES, disable, invite, list_staff, staff_by_email

staff_app = typer.Typer(help="Console accounts: invite, list, disable.", no_args_is_help=True)

ACTOR = "cli"


def _print_invitation(ctx: IssuerContext, email: str, link: str) -> None:
    staff = staff_by_email(ctx, email)
    expires = staff.invitation_expires if staff is not None else None
    typer.echo(f"invitation for {email}; send this link to them alone, it works once:")
    typer.echo(link)
    if expires is not None:
        typer.echo(f"expires {expires:%Y-%m-%d %H:%M} UTC")


@staff_app.command("add")
def staff_add(
    slug: str,
    email: str,
    role: Annotated[str, typer.Option(help=f"One of {', '.join(PROVIDER_ROLES)}.")] = "owner",
    language: Annotated[str, typer.Option(help="Language of the console for them: pl, en or uk.")] = "pl",
) -> None:
    """Invite someone to a provider's console; prints the one-time link (inviting again renews it)."""
    ctx = _context()
    try:
        link = invite(ctx, provider_slug=slug, email=email, role=role, actor=ACTOR, language=language)
    except IssuerError as exc:
        raise _fail(exc) from exc
    _print_invitation(ctx, email, link)


@staff_app.command("add-operator")
def staff_add_operator(
    email: str,
    language: Annotated[str, typer.Option(help="Language of the console for them: pl, en or uk.")] = "pl",
) -> None:
    """Invite a programme operator: reads every provider's console, changes nothing."""
    ctx = _context()
    try:
        link = invite(ctx, provider_slug=None, email=email, role="operator", actor=ACTOR, language=language)
    except IssuerError as exc:
        raise _fail(exc) from exc
    _print_invitation(ctx, email, link)


def _state(staff: Staff) -> str:
    if staff.disabled_at is not None:
        return "disabled"
    if staff.password_hash is not None:
        return "active"
    if staff.invitation_expires is not None and staff.invitation_expires > utcnow():
        return "invited"
    return "invitation expired"


@staff_app.command("list")
def staff_list(slug: str) -> None:
    """List a provider's console accounts: e-mail, name, role, second factor, state."""
    ctx = _context()
    try:
        provider = get_provider(ctx, slug)
    except IssuerError as exc:
        raise _fail(exc) from exc
    people = list_staff(ctx, provider.id)
    if not people:
        typer.echo(f"{slug} has no console accounts; invite an owner with `issuer staff add {slug} EMAIL`.")
        return
    for staff in people:
        second_factor = "2FA on" if staff.totp_secret is not None else "2FA off"
        typer.echo(f"{staff.email}  {staff.name or '-'}  {staff.role}  {second_factor}  {_state(staff)}")


@staff_app.command("disable")
def staff_disable(email: str) -> None:
    """Disable a console account (its sessions end at once), even a provider's last owner."""
    ctx = _context()
    try:
        staff = staff_by_email(ctx, email)
        if staff is None or staff.id is None:
            raise NotFound("There is no console account with that address.")
        changed = disable(ctx, staff.id, provider_id=staff.provider_id, actor=ACTOR, keep_owner=False)
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"{staff.email}: disabled" if changed else f"{staff.email}: was already disabled")
