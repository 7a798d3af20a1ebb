"""What the e-mail to a learner carries: the names, the links, the baked badge and the PDF certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from credentials.baking import bake_png
from credentials.ob3 import summarize
from http_edge.language import LOCAL_TIME_ZONE, parse_moment
from issuer.api.badge import badge_png, certificate_of
from issuer.badge_page import badge_state
from issuer.certificate import Language
from issuer.mail import Letter
from issuer.models import Credential

if TYPE_CHECKING:
    from issuer.context import IssuerContext


def letter_for(ctx: IssuerContext, record: Credential, language: str, *, resend: bool = False) -> Letter:
    """The letter about ``record`` in ``language`` (pl, en or uk)."""
    lang = cast(Language, language if language in ("pl", "en", "uk") else "pl")
    claims = record.claims()
    summary = summarize(claims)
    state = badge_state(ctx, record, claims, lang)
    ends = parse_moment(claims.get("validUntil"))
    return Letter(
        language=lang,
        learner_name=record.learner_name or summary["learner"]["name"] or "",
        achievement_name=summary["achievement"]["name"] or "",
        provider_name=summary["issuer"]["name"] or "",
        page_url=f"{ctx.urls.credential(record.id)}?from=mail",
        verify_url=ctx.urls.short(record.id),
        valid_until=ends.astimezone(LOCAL_TIME_ZONE).date() if ends is not None else None,
        badge_png=bake_png(badge_png(ctx, claims), record.jwt),
        pdf=None if state.withdrawn else certificate_of(ctx, record, claims, state, lang),
        resend=resend,
    )
