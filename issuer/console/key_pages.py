"""The provider's API keys in the console: the list, a new key (shown once, on the page that answers the form,
never again), and revoking. The owner manages them; the programme operator may look."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from issuer import api_keys, repository
from issuer.console.key_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    Viewer,
    context_of,
    done_url,
    form_of,
    may_look,
    page,
    see_other,
)
from issuer.console.words import add
from issuer.errors import InvalidInput, NotFound

add(WORDS)
router = APIRouter()


def _keys_page(
    request: Request,
    who: Viewer,
    *,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    with ctx.db.read() as session:
        keys = list(repository.api_keys(session, who.provider_id))
    keys.reverse()  # newest first
    context: dict[str, Any] = {"keys": keys, "scopes": api_keys.SCOPES, "problems": problems or {}, "error": error}
    return page(request, "console/api_keys.html", context, who=who, section="api_keys", status=status)


@router.get("/console/{slug}/api-keys")
def key_list(request: Request, who: ProviderViewer) -> Response:
    may_look(who, "manage_api_keys")
    return _keys_page(request, who)


@router.post("/console/{slug}/api-keys")
async def key_create(request: Request, who: ProviderViewer) -> Response:
    """Create a key and show it, this once: only its digest is kept."""
    form = await form_of(request, who)
    who.require("manage_api_keys")
    scopes = [scope for scope in api_keys.SCOPES if scope in form.getlist("scope")]
    if not scopes:
        return _keys_page(request, who, problems={"scope": "keys_error_scope"}, status=422)
    secret = api_keys.create_api_key(context_of(request), who.slug, scopes, actor=who.actor)
    context = {"secret": secret, "scopes": scopes}
    return page(request, "console/api_keys_created.html", context, who=who, section="api_keys")


@router.post("/console/{slug}/api-keys/revoke")
async def key_revoke(request: Request, who: ProviderViewer) -> Response:
    form = await form_of(request, who)
    who.require("manage_api_keys")
    prefix = str(form.get("prefix") or "")[: api_keys.PREFIX_LENGTH]
    try:
        changed = api_keys.revoke_api_key(context_of(request), who.slug, prefix, actor=who.actor)
    except NotFound:
        return _keys_page(request, who, error="keys_error_not_found", status=404)
    except InvalidInput:
        return _keys_page(request, who, error="keys_error_ambiguous", status=422)
    return see_other(done_url(f"/console/{who.slug}/api-keys", "keys_revoked" if changed else "keys_already_revoked"))
