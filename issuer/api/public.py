"""What anyone may read: keys, issuer profiles, did:web documents, achievements, credentials and their QR codes."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as FastAPIPath
from starlette.background import BackgroundTask

from credentials.hashing import sha256_hex
from issuer import events, repository
from issuer.api.deps import ContextDep
from issuer.api.error_responses import responses
from issuer.api.pages import accepts, render
from issuer.api.schemas import Health, RevocationStatus
from issuer.badge_page import achievement_context, own_logo, page_context
from issuer.context import IssuerContext
from issuer.errors import NotFound
from issuer.i18n import language
from issuer.models import Credential, Provider
from issuer.providers import (
    description_in,
    did_document,
    get_provider,
    jwks_document,
    key_document,
    profile_document,
)
from issuer.qr import qr_png, qr_svg
from issuer.revocation import revocation_status

# Every public document may find the database unavailable (503).
router = APIRouter(tags=["public"], responses=responses(503))


def document(*media_types: str, description: str = "The document.", cacheable_too: bool = True) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for a document served as ``media_types`` (and 304 when it carries an ETag)."""
    answers: dict[int | str, Any] = {200: {"description": description, "content": {t: {} for t in media_types}}}
    if cacheable_too:
        answers[304] = {"description": "Not modified (If-None-Match matched the ETag)."}
    return answers


MAX_LIST_NUMBER = 2**31 - 1
"""Status lists are numbered 1, 2, 3, …; a larger number would overflow the database's integers."""
JWT_TYPES = ("application/vc+jwt", "application/jwt")
JSON_TYPES = ("application/json", "application/ld+json", "application/vc")


def _etag(body: bytes) -> str:
    return '"' + sha256_hex(body)[:32] + '"'


def cacheable(
    request: Request, body: bytes, media_type: str, max_age: int, vary: dict[str, str] | None = None
) -> Response:
    """A response with ``Cache-Control`` and ``ETag`` that answers a matching ``If-None-Match`` with 304."""
    etag = _etag(body)
    headers = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag, **(vary or {})}
    wanted = {tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


VARY = {"Vary": "Accept"}


@router.get("/", response_class=Response, include_in_schema=False)
def home(request: Request, ctx: ContextDep) -> Response:
    """The issuer's front page, for a person who arrives at its address: the programme and its issuers."""
    with ctx.db.read() as session:
        providers = [{"name": p.name, "url": ctx.urls.issuer_id(p.slug)} for p in repository.providers(session)]
    return render(request, "home.html", {"providers": providers})


@router.get("/healthz")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/.well-known/jwks.json", responses=document("application/jwk-set+json"), response_class=Response)
def jwks(request: Request, ctx: ContextDep) -> Response:
    """Every public key on this host; each JWK carries ``kid``, ``alg``, ``use`` and its issuer in ``iss``."""
    return cacheable(request, json_bytes(jwks_document(ctx)), "application/jwk-set+json", ctx.settings.jwks_max_age)


@router.get(
    "/issuers/{slug}",
    responses={**document("application/json", "text/html", description="The Profile, or its page."), **responses(404)},
    response_class=Response,
)
def issuer_profile(slug: str, request: Request, ctx: ContextDep) -> Response:
    provider = get_provider(ctx, slug)
    profile = profile_document(ctx, provider, with_context=True)
    if accepts(request, ("text/html",)):
        logo = own_logo(profile, profile["id"])
        lang = language(request)
        description = description_in(provider, lang)
        said_in = lang if description and description != provider.description else "pl"
        context = {"profile": profile, "logo": logo, "description": description, "description_lang": said_in}
        return render(request, "profile.html", context, headers=VARY)
    return cacheable(request, json_bytes(profile), "application/json", ctx.settings.jwks_max_age, VARY)


@router.get(
    "/issuers/{slug}/keys/{thumbprint}",
    responses={**document("application/jwk+json", description="The key's one public JWK."), **responses(404)},
    response_class=Response,
)
def issuer_key(slug: str, thumbprint: str, request: Request, ctx: ContextDep) -> Response:
    """A signing key at its own URL, which is the ``kid`` of everything it signs (OB 3.0 §8.2)."""
    jwk = key_document(ctx, get_provider(ctx, slug), thumbprint)
    return cacheable(request, json_bytes(jwk), "application/jwk+json", ctx.settings.jwks_max_age)


@router.get(
    "/issuers/{slug}/did.json",
    responses={**document("application/did+json"), **responses(404)},
    response_class=Response,
)
def issuer_did(slug: str, request: Request, ctx: ContextDep) -> Response:
    document = did_document(ctx, get_provider(ctx, slug))
    return cacheable(request, json_bytes(document), "application/did+json", ctx.settings.jwks_max_age)


@router.get(
    "/achievements/{achievement_id}",
    responses={**document("application/json"), **responses(404)},
    response_class=Response,
)
def achievement(achievement_id: str, request: Request, ctx: ContextDep) -> Response:
    with ctx.db.read() as session:
        found = repository.public_achievement(session, achievement_id)
        provider = session.get(Provider, found.provider_id) if found is not None else None
    if found is None or provider is None:
        raise NotFound("There is no such achievement.")
    if accepts(request, ("text/html",)) and not accepts(request, JSON_TYPES):
        context = achievement_context(ctx, found, provider, language(request))
        return render(request, "achievement.html", context, headers=VARY)
    return cacheable(request, json_bytes(found.document), "application/json", ctx.settings.jwks_max_age, VARY)


def credential_record(ctx: IssuerContext, credential_id: str) -> Credential:
    with ctx.db.read() as session:
        record = repository.credential(session, credential_id)
    if record is None:
        raise NotFound("There is no such credential.")
    return record


@router.get(
    "/credentials/{credential_id}",
    responses={
        **document(
            "text/html",
            "application/json",
            "application/vc+jwt",
            "application/jwt",
            description="The learner's page, the credential's JSON, or its JWT, by Accept.",
            cacheable_too=False,
        ),
        **responses(404),
    },
    response_class=Response,
)
def credential(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    """The credential: its JWT (``Accept: application/vc+jwt``), JSON, or the learner's public page."""
    record = credential_record(ctx, credential_id)
    headers = {"Cache-Control": "no-cache", **VARY}
    media_type = accepts(request, JWT_TYPES)
    if media_type is not None:
        return Response(record.jwt, media_type=media_type, headers=headers)
    claims = record.claims()
    if accepts(request, JSON_TYPES):
        return Response(json_bytes(claims), media_type="application/json", headers=headers)
    response = render(request, "credential.html", page_context(ctx, record, language(request)), headers=headers)
    if request.query_params.get("from") == "mail":
        response.background = BackgroundTask(events.count, ctx, record.id, "opened")
    return response


@router.get("/credentials/{credential_id}/status", responses=responses(404), response_model=RevocationStatus)
def credential_status(credential_id: str, ctx: ContextDep) -> Response:
    """The credential's public record of revocation: revoked or not, when, why, and what replaced it."""
    record = credential_record(ctx, credential_id)
    body = json_bytes({"id": ctx.urls.credential(record.id), **revocation_status(ctx, record)})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-cache"})


@router.get(
    "/status/{slug}/{number}",
    responses={**document("application/vc+jwt", description="The signed status list."), **responses(404)},
    response_class=Response,
)
def status_list(
    slug: str, number: Annotated[int, FastAPIPath(ge=1, le=MAX_LIST_NUMBER)], request: Request, ctx: ContextDep
) -> Response:
    """A signed BitstringStatusListCredential (VC-JWT), cacheable for ``ISSUER_STATUS_LIST_TTL`` seconds."""
    provider = get_provider(ctx, slug)
    assert provider.id is not None
    with ctx.db.read() as session:
        listed = repository.status_list(session, provider.id, number)
    if listed is None:
        raise NotFound("There is no such status list.")
    return cacheable(request, listed.jwt.encode("ascii"), "application/vc+jwt", ctx.settings.status_list_ttl)


@router.get(
    "/credentials/{credential_id}/qr.png",
    responses={**document("image/png", description="The QR code of the verify link."), **responses(404)},
    response_class=Response,
)
def credential_qr_png(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    record = credential_record(ctx, credential_id)
    return cacheable(request, qr_png(ctx.urls.short(record.id)), "image/png", 86400)


@router.get(
    "/credentials/{credential_id}/qr.svg",
    responses={**document("image/svg+xml", description="The QR code of the verify link."), **responses(404)},
    response_class=Response,
)
def credential_qr_svg(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    record = credential_record(ctx, credential_id)
    return cacheable(request, qr_svg(ctx.urls.short(record.id)), "image/svg+xml", 86400)
