"""The learner's artefacts: the badge image, baked badges (PNG and SVG carrying the credential), the PDF
certificate, the Open Graph card, the credential's JSON, and the short link its QR code holds.

Artefacts that present a credential as current (the baked badges, the certificate, the card) are gone (410) once
it is revoked or its key compromised; its JSON and JWT stay, since verifiers and wallets need them to learn why.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.background import BackgroundTask

from credentials.baking import bake_png, bake_svg
from credentials.ob3 import summarize
from credentials.short_ids import expand
from http_edge.language import LOCAL_TIME_ZONE, negotiate, parse_moment
from issuer import events, repository
from issuer.achievements import translated
from issuer.api.deps import ContextDep
from issuer.api.error_responses import responses
from issuer.api.public import cacheable, credential_record, document, json_bytes
from issuer.artwork import artwork_png, artwork_svg
from issuer.badge_page import BadgeState, badge_state, translation
from issuer.card import og_card_png
from issuer.certificate import CertificateStatus, Language, certificate_pdf, content_from_credential
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound, Withdrawn
from issuer.models import AchievementImage, Credential, Provider, ProviderImage
from issuer.providers import get_provider
from issuer.uploaded_images import clean_image
from issuer.urls import last_segment

router = APIRouter(tags=["public"], responses=responses(503))

made_card = functools.lru_cache(maxsize=512)(og_card_png)
made_certificate = functools.lru_cache(maxsize=128)(certificate_pdf)
"""Cards and certificates take 0.1–0.3 s of CPU each (``make bench``): one made is kept for the next reader
(a certificate's content includes the day's date and the credential's state, so a change makes a new one)."""

ARTEFACT_MAX_AGE = 300
"""Seconds a browser may keep an artefact: a revocation shows within minutes on every copy served."""
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""An image opened on its own (an uploaded SVG is sanitised, and this makes sure): no script, no fetch."""


def _language(request: Request) -> Language:
    lang = negotiate(request)
    return lang if lang in ("pl", "en", "uk") else "pl"  # type: ignore[return-value]


def _current(ctx: IssuerContext, credential_id: str, lang: str = "en") -> tuple[Credential, dict[str, Any], BadgeState]:
    """The credential, its claims and its state today, unless it is withdrawn."""
    record = credential_record(ctx, credential_id)
    claims = record.claims()
    state = badge_state(ctx, record, claims, lang)
    if state.withdrawn:
        raise Withdrawn("The credential is revoked or no longer trustworthy; its page says why.")
    return record, claims, state


def _achievement(claims: Mapping[str, Any]) -> Mapping[str, Any]:
    subject = claims.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    return achievement if isinstance(achievement, Mapping) else {}


def own_image(ctx: IssuerContext, claims: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """The achievement's own image: the one its provider uploaded here, or one the credential carries as a
    ``data:`` URL (PNG, JPEG or SVG, cleaned as an upload would be); ``None`` when it has none, or names it only
    by an outside address, which is never fetched."""
    image = _achievement(claims).get("image")
    reference = image.get("id") if isinstance(image, Mapping) else image
    if not isinstance(reference, str):
        return None
    if reference.startswith(ctx.urls.achievement("")) and reference.endswith("/image"):
        with ctx.db.read() as session:
            stored = session.get(AchievementImage, last_segment(reference.removesuffix("/image")))
        return (stored.media_type, stored.data) if stored is not None else None
    return _image_of_data_url(reference) if reference.startswith("data:") else None


@functools.lru_cache(maxsize=64)
def _image_of_data_url(reference: str) -> tuple[str, bytes] | None:
    """A ``data:`` URL's image, cleaned once (decoding and re-encoding it costs far more than a page)."""
    header, _, data = reference.partition(",")
    try:
        raw = base64.b64decode(data, validate=True) if header.endswith(";base64") else data.encode("utf-8")
        return clean_image(raw, header.removeprefix("data:").split(";")[0] or None)
    except (binascii.Error, InvalidInput):
        return None  # a credential from elsewhere with an unusable image: the generated artwork stands in


def _names(claims: Mapping[str, Any]) -> tuple[str, str, str]:
    summary = summarize(claims)
    achievement_id = summary["achievement"]["id"] or summary["id"] or ""
    return achievement_id, summary["achievement"]["name"] or "", summary["issuer"]["name"] or ""


def badge_svg(ctx: IssuerContext, claims: Mapping[str, Any]) -> bytes:
    found = own_image(ctx, claims)
    if found is not None and found[0] == "image/svg+xml":
        return found[1]
    return artwork_svg(*_names(claims))


def badge_png(ctx: IssuerContext, claims: Mapping[str, Any]) -> bytes:
    found = own_image(ctx, claims)
    if found is not None and found[0] == "image/png":
        return found[1]
    return artwork_png(*_names(claims))


def _image(request: Request, media_type: str, body: bytes) -> Response:
    """An image, cacheable, under a policy that lets it run nothing if it is opened on its own."""
    response = cacheable(request, body, media_type, ARTEFACT_MAX_AGE)
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    return response


def _attachment(body: bytes, media_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-cache"}
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/credentials/{credential_id}/image",
    responses={**document("image/svg+xml", "image/png", description="The badge's image."), **responses(404)},
    response_class=Response,
)
def credential_image(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    """The achievement's image, or the generated artwork (SVG) when it has none."""
    claims = credential_record(ctx, credential_id).claims()
    found = own_image(ctx, claims)
    media_type, body = found if found is not None else ("image/svg+xml", artwork_svg(*_names(claims)))
    return _image(request, media_type, body)


@router.get(
    "/credentials/{credential_id}/card.png",
    responses={
        **document("image/png", description="The 1200×630 card a shared link unfurls as."),
        **responses(404, 410),
    },
    response_class=Response,
)
def card(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    """The Open Graph card: the badge, its name, the provider and the issue date (never the learner)."""
    _, claims, _ = _current(ctx, credential_id)
    achievement_id, achievement_name, provider_name = _names(claims)
    summary = summarize(claims)
    issued = parse_moment(summary["awardedDate"] or summary["validFrom"]) or datetime.now(UTC)
    body = made_card(
        achievement_id=achievement_id,
        achievement_name=achievement_name,
        provider_name=provider_name,
        issued_on=issued.astimezone(LOCAL_TIME_ZONE).date(),
        lang=_language(request),
        badge_png=badge_png(ctx, claims),
    )
    return cacheable(request, body, "image/png", ARTEFACT_MAX_AGE)


@router.get(
    "/credentials/{credential_id}/badge.png",
    responses={**document("image/png", description="The badge with the credential baked in."), **responses(404, 410)},
    response_class=Response,
)
def baked_png(credential_id: str, ctx: ContextDep) -> Response:
    """The badge as a PNG carrying the compact JWS in an ``openbadgecredential`` iTXt chunk (OB 3.0 baking)."""
    record, claims, _ = _current(ctx, credential_id)
    return _attachment(bake_png(badge_png(ctx, claims), record.jwt), "image/png", f"{record.id}.png")


@router.get(
    "/credentials/{credential_id}/badge.svg",
    responses={
        **document("image/svg+xml", description="The badge with the credential baked in."),
        **responses(404, 410),
    },
    response_class=Response,
)
def baked_svg(credential_id: str, ctx: ContextDep) -> Response:
    """The badge as an SVG carrying the compact JWS in an ``openbadges:credential`` element (OB 3.0 baking)."""
    record, claims, _ = _current(ctx, credential_id)
    return _attachment(bake_svg(badge_svg(ctx, claims), record.jwt), "image/svg+xml", f"{record.id}.svg")


@router.get(
    "/credentials/{credential_id}/certificate.pdf",
    responses={**document("application/pdf", description="The printable certificate."), **responses(404, 410)},
    response_class=Response,
)
def certificate(credential_id: str, request: Request, ctx: ContextDep) -> Response:
    """An A4 certificate in the reader's language (``?lang=pl|en|uk``) with the QR code and the credential
    attached as ``credential.jwt``."""
    lang = _language(request)
    record, claims, state = _current(ctx, credential_id, lang)
    return _attachment(certificate_of(ctx, record, claims, state, lang), "application/pdf", f"{record.id}.pdf")


def certificate_of(
    ctx: IssuerContext, record: Credential, claims: dict[str, Any], state: BadgeState, lang: Language
) -> bytes:
    """The PDF certificate of a credential that is not withdrawn, in ``lang``."""
    today = datetime.now(UTC).astimezone(LOCAL_TIME_ZONE).date()
    ended = parse_moment(claims.get("validUntil"))
    status = (
        CertificateStatus("expired", today, ended.astimezone(LOCAL_TIME_ZONE).date())
        if state.state == "expired" and ended is not None
        else CertificateStatus("valid", today)
    )
    content = content_from_credential(
        claims,
        lang=lang,
        status=status,
        verify_url=ctx.urls.short(record.id),
        jws=record.jwt,
        badge_png=badge_png(ctx, claims),
    )
    words = translation(ctx, record, _achievement(claims), lang)
    if words is not None:
        # The provider's own translation, as the learner's page shows it; the attached credential stays as signed.
        criteria = words.get("criteria") or {}
        content = dataclasses.replace(
            content,
            achievement_name=words["name"],
            description=words["description"],
            criteria=criteria.get("narrative") or content.criteria,
        )
    return made_certificate(content)


@router.get(
    "/credentials/{credential_id}/credential.jwt",
    responses={**document("application/vc+jwt", cacheable_too=False), **responses(404)},
    response_class=Response,
)
def credential_jwt(credential_id: str, ctx: ContextDep) -> Response:
    """The signed credential (compact JWS) as a file."""
    record = credential_record(ctx, credential_id)
    return _attachment(record.jwt.encode("ascii"), "application/vc+jwt", f"{record.id}.jwt")


@router.get(
    "/credentials/{credential_id}/credential.json",
    responses={**document("application/json", cacheable_too=False), **responses(404)},
    response_class=Response,
)
def credential_json(credential_id: str, ctx: ContextDep) -> Response:
    """The Open Badges 3.0 credential as JSON (the claims of its JWT), as a file."""
    record = credential_record(ctx, credential_id)
    return _attachment(json_bytes(record.claims()), "application/json", f"{record.id}.json")


@router.get(
    "/q/{reference}",
    status_code=303,
    responses={303: {"description": "To the verifier's page for the credential."}, **responses(404)},
    response_class=RedirectResponse,
)
def short_link(reference: str, ctx: ContextDep) -> RedirectResponse:
    """What a QR code holds: a short link that leads to the verifier's verdict on the credential."""
    credential_id = expand(reference)
    if credential_id is None:
        raise NotFound("There is no such credential.")
    record = credential_record(ctx, credential_id)
    return RedirectResponse(
        ctx.urls.verify(record.id),
        status_code=303,
        headers={"Cache-Control": "no-cache"},
        background=BackgroundTask(events.count, ctx, record.id, "verified"),
    )


@router.post("/credentials/{credential_id}/shared", status_code=204, include_in_schema=False)
def shared(credential_id: str, ctx: ContextDep, to: str = "") -> Response:
    """Counts a click on "Add to LinkedIn" or "Share on LinkedIn" (the links' ``ping``); nothing about who."""
    record = credential_record(ctx, credential_id)
    background = BackgroundTask(events.count, ctx, record.id, "linkedin") if to == "linkedin" else None
    return Response(status_code=204, background=background)


@router.get(
    "/achievements/{achievement_id}/image",
    responses={**document("image/png", "image/svg+xml", description="The achievement's image."), **responses(404)},
    response_class=Response,
)
def achievement_image(achievement_id: str, request: Request, ctx: ContextDep) -> Response:
    """The image the provider uploaded for the achievement, or the generated artwork (SVG) when there is none."""
    with ctx.db.read() as session:
        stored = session.get(AchievementImage, achievement_id)
        found = repository.public_achievement(session, achievement_id) if stored is None else None
        provider = session.get(Provider, found.provider_id) if found is not None else None
    if stored is not None:
        media_type, body = stored.media_type, stored.data
    elif found is not None and provider is not None:
        media_type, body = "image/svg+xml", artwork_svg(found.document["id"], found.document["name"], provider.name)
    else:
        raise NotFound("There is no such achievement.")
    return _image(request, media_type, body)


@router.get(
    "/achievements/{achievement_id}/translations/{lang}",
    responses={**document("application/json", description="The achievement in another language."), **responses(404)},
    response_class=Response,
)
def achievement_translation(achievement_id: str, lang: str, request: Request, ctx: ContextDep) -> Response:
    """The achievement in ``lang``, as OB 3.0 publishes a translation: an Achievement with ``inLanguage``,
    related to the original."""
    with ctx.db.read() as session:
        found = repository.public_achievement(session, achievement_id)
    document = translated(found, lang) if found is not None else None
    if document is None:
        raise NotFound("There is no such translation of this achievement.")
    return cacheable(request, json_bytes(document), "application/json", ctx.settings.jwks_max_age)


@router.get(
    "/issuers/{slug}/image",
    responses={**document("image/png", "image/svg+xml", description="The provider's logo."), **responses(404)},
    response_class=Response,
)
def provider_logo(slug: str, request: Request, ctx: ContextDep) -> Response:
    provider = get_provider(ctx, slug)
    with ctx.db.read() as session:
        stored = session.get(ProviderImage, provider.id)
    if stored is None:
        raise NotFound("The provider has no logo.")
    return _image(request, stored.media_type, stored.data)
