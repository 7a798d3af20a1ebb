"""What every console page shares: who is signed in, which provider's pages they may see, CSRF on every form,
and pages rendered in the reader's language.

Every page of a provider lives under ``/console/{slug}/…``. A staff member sees only their own provider's
pages; any other slug is "not found", exactly as in the API. The programme operator sees every provider and
changes nothing. Sessions are cookies (HttpOnly, SameSite=Lax, Secure under https) naming a server-side
session; each form carries a token bound to that session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from markupsafe import escape
from starlette.datastructures import FormData

from http_edge.language import format_date, format_moment, negotiate, remember, switch_links
from issuer import repository, staff
from issuer.api.pages import templates
from issuer.console.words import WORDS
from issuer.context import IssuerContext
from issuer.errors import IssuerError
from issuer.models import Provider, Staff

_WHITESPACE = re.compile(r"[ \t\n\r]")
SESSION_COOKIE = "odz_console"
DEVICE_COOKIE = "odz_device"
FORM_COOKIE = "odz_form"
"""The double-submit half of the CSRF token on forms shown before sign-in."""
MAX_FORM_BYTES = 64 * 1024


class SignInNeeded(Exception):
    """Raised by a page for someone not signed in: they are sent to the sign-in page and back afterwards."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class NotAllowed(IssuerError):
    """The signed-in person's role does not allow this (a viewer pressing "revoke")."""

    code = "not_allowed"


class FormRejected(IssuerError):
    """A form without a valid CSRF token (sent from elsewhere, or after the session ended)."""

    code = "form_rejected"


def context_of(request: Request) -> IssuerContext:
    ctx: IssuerContext = request.app.state.context
    return ctx


def secure(ctx: IssuerContext) -> bool:
    return ctx.urls.public_url.startswith("https://")


def cookie_name(ctx: IssuerContext, name: str) -> str:
    """Under https the ``__Host-`` prefix: the browser keeps the cookie to this host, path / and https."""
    return f"__Host-{name}" if secure(ctx) else name


def set_cookie(ctx: IssuerContext, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        cookie_name(ctx, name), value, max_age=max_age, path="/", secure=secure(ctx), httponly=True, samesite="lax"
    )


def clear_cookie(ctx: IssuerContext, response: Response, name: str) -> None:
    response.delete_cookie(cookie_name(ctx, name), path="/", secure=secure(ctx), httponly=True, samesite="lax")


def read_cookie(request: Request, name: str) -> str | None:
    return request.cookies.get(cookie_name(context_of(request), name))


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and the provider whose pages they are looking at."""

    staff: Staff
    session_token: str
    provider: Provider | None
    csrf: str

    @property
    def actor(self) -> str:
        return f"staff:{self.staff.id}"

    @property
    def provider_id(self) -> int:
        assert self.provider is not None and self.provider.id is not None
        return self.provider.id

    @property
    def slug(self) -> str:
        assert self.provider is not None
        return self.provider.slug

    @property
    def operator(self) -> bool:
        return self.staff.role == "operator"

    def can(self, action: str) -> bool:
        return staff.can(self.staff, action)

    def require(self, action: str) -> None:
        if not self.can(action):
            raise NotAllowed("Your role does not allow this.")


def signed_in(request: Request) -> tuple[Staff, str] | None:
    """The staff member of this browser's session (past the second factor), and the session's token."""
    token = read_cookie(request, SESSION_COOKIE)
    if not token:
        return None
    found = staff.session(context_of(request), token)
    if found is None:
        return None
    member, session = found
    if not session.second_factor:
        return None
    return member, token


def _viewer(request: Request, provider: Provider | None) -> Viewer:
    found = signed_in(request)
    if found is None:
        raise SignInNeeded(request.url.path)
    member, token = found
    return Viewer(member, token, provider, staff.csrf_token(context_of(request), token))


def viewer(request: Request) -> Viewer:
    """The signed-in person, on a page that belongs to no provider (their account, the operator's list)."""
    return _viewer(request, None)


def provider_viewer(request: Request, slug: str) -> Viewer:
    """The signed-in person on ``slug``'s pages: its own staff, or the programme operator; anyone else is told
    the page does not exist."""
    ctx = context_of(request)
    with ctx.db.read() as session:
        provider = repository.provider_by_slug(session, slug)
    found = _viewer(request, provider)
    member = found.staff
    if provider is None or (member.role != "operator" and member.provider_id != provider.id):
        from issuer.errors import NotFound

        raise NotFound("There is no such page.")
    return found


async def form_of(request: Request, who: Viewer, *, files: int = 0) -> FormData:
    """The posted form (with up to ``files`` uploaded files), once its CSRF token proves it came from this
    session's own page."""
    form = await request.form(max_files=files, max_fields=200)
    if not staff.check_csrf(context_of(request), who.session_token, str(form.get("csrf") or "")):
        raise FormRejected("This form has expired or did not come from the console; open the page again.")
    return form


def language_of(request: Request) -> str:
    return negotiate(request)


def words(lang: str) -> Mapping[str, str]:
    return WORDS[lang]


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    who: Viewer | None = None,
    status: int = 200,
    section: str | None = None,
) -> Response:
    """A console page in the reader's language; never cached, never framed."""
    lang = language_of(request)
    full = {
        **context,
        "t": WORDS[lang],
        "lang": lang,
        "languages": switch_links(request),
        "who": who,
        "section": section,
        "date": lambda value: format_date(value, lang),
        "moment": lambda value: format_moment(value, lang),
        "quote": quote,
        "notice": done_notice(request, lang),
    }
    response = templates.TemplateResponse(request, template, full, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    remember(request, response)
    return response


def see_other(location: str) -> Response:
    """After a form: back to a page by GET (the browser's reload never posts twice)."""
    return Response(status_code=303, headers={"Location": location, "Cache-Control": "no-store"})


def done_url(path: str, code: str, count: int | None = None) -> str:
    """``path`` with what was just done, by code (``saved``, ``revoked``): the next page says it in the reader's
    words. Only codes travel in the address, so no link can make the console say something of its own."""
    joiner = "&" if "?" in path else "?"
    extra = f"&n={count}" if count is not None else ""
    return f"{path}{joiner}done={quote(code)}{extra}"


def done_notice(request: Request, lang: str) -> str | None:
    """The sentence for the ``done`` code in the address, if it is one of ours."""
    code = request.query_params.get("done", "")
    text = WORDS[lang].get(f"done_{code}") if code.isidentifier() else None
    if text is None:
        return None
    count = request.query_params.get("n", "")
    return text.format(n=int(count)) if count.isdigit() and len(count) < 7 else text.replace("{n}", "").strip()


ProviderViewer = Annotated[Viewer, Depends(provider_viewer)]
"""A page of one provider (``/console/{slug}/…``)."""
AnyViewer = Annotated[Viewer, Depends(viewer)]
"""A page of no provider (one's account, the operator's list of providers)."""


def may_look(who: Viewer, action: str) -> None:
    """Pages of the provider's management (keys, team): its staff who may do ``action``, and the operator."""
    if not who.operator:
        who.require(action)


class Typed:
    """Text exactly as the person typed it, for a form field's value: escaped, with its spaces and line breaks as
    character references.

    Pages tie one-letter words to the next with a no-break space (Jinja's ``finalize``, run on every value and
    again on a macro's whole output); that is typesetting for reading and must not change what the form sends
    back, nor join the lines of a list. The browser reads ``&#32;`` as the space it was, and ``finalize`` finds
    no space to replace.
    """

    __slots__ = ("text",)

    def __init__(self, text: object) -> None:
        self.text = "" if text is None else str(text)

    def __html__(self) -> str:
        return _WHITESPACE.sub(lambda found: f"&#{ord(found.group())};", str(escape(self.text)))

    def __str__(self) -> str:
        return self.text


templates.env.filters["typed"] = Typed
