"""The learner's badge page, worked out from a stored credential: its state today, everything the credential
says, and the ways to share and download it.

A credential that is revoked, or signed with a key its provider reported compromised, keeps its page (an
employer who follows an old link learns what happened) but loses its QR code, sharing and downloads of
artefacts that would present it as current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote, urlencode

from sqlmodel import select

from credentials.eu_elements import EuElement, eu_elements
from credentials.ob3 import summarize, validity_window
from http_edge.language import LOCAL_TIME_ZONE, format_date, parse_moment, relative_days
from issuer import repository
from issuer.achievements import DEFAULT_LANGUAGE, image_url, translated
from issuer.context import IssuerContext
from issuer.i18n import ACHIEVEMENT_TYPES, MESSAGES
from issuer.models import Achievement, Credential, Provider, SigningKey

State = Literal["valid", "expiring", "expired", "not_yet_valid", "revoked", "key_compromised"]
WITHDRAWN: frozenset[State] = frozenset({"revoked", "key_compromised"})
"""States in which the page offers no QR code, sharing or downloads of artefacts."""
EXPIRING_WITHIN = timedelta(days=30)

EU_LABELS = {
    "learning_outcomes": "learning_outcomes",
    "ects": "ects",
    "workload_hours": "workload",
    "eqf_level": "eqf",
    "prk_level": "prk",
    "assessment": "assessment",
    "participation": "participation",
    "quality_assurance": "quality_assurance",
    "prerequisites": "prerequisites",
    "supervision": "supervision",
    "stackability": "stackability",
    "further_information": "further_information",
}
"""The page's label for each EU micro-credential element key."""
EU_ANCHORS = {
    "workload_hours": "workload",
    "assessment": "assessment",
    "participation": "participation",
    "quality_assurance": "quality-assurance",
    "prerequisites": "prerequisites",
    "supervision": "supervision",
    "stackability": "stackability",
    "further_information": "further-information",
}
"""Where on the achievement's page each element is: the alignments' ``targetUrl`` fragments
(``issuer.achievements``; learning outcomes are ``#learning-outcome-<n>``)."""


@dataclass(frozen=True)
class BadgeState:
    state: State
    headline: str
    detail: str | None = None
    reason: str | None = None
    replacement: str | None = None

    @property
    def withdrawn(self) -> bool:
        return self.state in WITHDRAWN

    @property
    def tone(self) -> str:
        return {"valid": "good", "expiring": "good", "expired": "warn", "not_yet_valid": "warn"}.get(self.state, "bad")


def key_compromised(ctx: IssuerContext, record: Credential) -> bool:
    with ctx.db.read() as session:
        key = session.exec(select(SigningKey).where(SigningKey.kid == record.kid)).first()
    return key is not None and key.status == "compromised"


def badge_state(
    ctx: IssuerContext, record: Credential, claims: Mapping[str, Any], lang: str, now: datetime | None = None
) -> BadgeState:
    """The credential's state today, in words: revoked and compromised first, then its dates."""
    t = MESSAGES[lang]
    now = now or datetime.now(UTC)
    replacement = ctx.urls.credential(record.replaced_by) if record.replaced_by else None
    if key_compromised(ctx, record):
        return BadgeState(
            "key_compromised", t["status_compromised"], t["status_compromised_detail"], replacement=replacement
        )
    if record.revoked_at is not None:
        headline = t["status_revoked"].format(date=format_date(record.revoked_at, lang))
        return BadgeState(
            "revoked", headline, t["status_revoked_detail"], record.revocation_reason, replacement=replacement
        )
    valid_from, valid_until = validity_window(dict(claims))
    if valid_until is not None and now >= valid_until:
        detail = t["status_expired_detail"].format(ago=relative_days(valid_until, lang, now))
        return BadgeState("expired", t["status_expired"].format(date=format_date(valid_until, lang)), detail)
    if valid_from is not None and now < valid_from:
        return BadgeState("not_yet_valid", t["status_not_yet_valid"].format(date=format_date(valid_from, lang)))
    if valid_until is None:
        return BadgeState("valid", t["status_valid"], t["status_valid_forever"])
    until = t["status_valid_until"].format(date=format_date(valid_until, lang))
    if valid_until - now <= EXPIRING_WITHIN:
        soon = t["status_expires_soon"].format(ago=relative_days(valid_until, lang, now))
        return BadgeState("expiring", t["status_valid"], f"{until} · {soon}")
    return BadgeState("valid", t["status_valid"], until)


def type_name(value: object, lang: str) -> str | None:
    """An OB 3.0 ``achievementType`` in the reader's words (``Course`` is *Kurs*); one not listed as it is."""
    text = _text(value)
    return ACHIEVEMENT_TYPES[lang].get(text, text.removeprefix("ext:")) if text else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _url(value: object) -> str | None:
    """Only http(s) links become links on the page."""
    text = _text(value)
    return text if text and text.startswith(("https://", "http://")) else None


def skills(achievement: Mapping[str, Any]) -> list[dict[str, str | None]]:
    """Alignments to skills and frameworks (ESCO, DigComp, …): every alignment but the EU elements' own."""
    found = []
    for entry in achievement.get("alignment") or ():
        if not isinstance(entry, Mapping) or str(entry.get("targetType", "")).startswith("ext:"):
            continue
        name = _text(entry.get("targetName"))
        if name:
            found.append(
                {
                    "name": name,
                    "url": _url(entry.get("targetUrl")),
                    "framework": _text(entry.get("targetFramework")),
                    "code": _text(entry.get("targetCode")),
                }
            )
    return found


def eu_rows(elements: list[EuElement], lang: str) -> list[dict[str, Any]]:
    """The EU elements as label and value(s), worded for ``lang``."""
    t = MESSAGES[lang]
    rows = []
    for element in elements:
        values = list(element.values)
        if element.key == "workload_hours":
            values = [t["hours"].format(n=value) for value in values]
        elif element.key == "participation":
            values = [t.get(f"participation_{value}", value) for value in values]
        anchor = EU_ANCHORS.get(element.key)
        rows.append({"key": element.key, "label": t[EU_LABELS[element.key]], "values": values, "anchor": anchor})
    return rows


def evidence(claims: Mapping[str, Any]) -> list[dict[str, str | None]]:
    entries = claims.get("evidence")
    return [
        {
            "name": _text(entry.get("name")) or _text(entry.get("description")) or _url(entry.get("id")),
            "url": _url(entry.get("id")),
            "narrative": _text(entry.get("narrative")),
        }
        for entry in (entries if isinstance(entries, list) else ())
        if isinstance(entry, Mapping)
    ]


def results(subject: Mapping[str, Any]) -> list[str]:
    found = []
    for entry in subject.get("result") or ():
        if isinstance(entry, Mapping) and (value := _text(entry.get("value"))):
            found.append(value)
    return found


def linkedin_add_url(summary: Mapping[str, Any], page_url: str, credential_id: str) -> str:
    """LinkedIn's "Add licence or certification" form, filled in (issue and expiry by month and year)."""
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": summary["achievement"]["name"] or "",
        "organizationName": summary["issuer"]["name"] or "",
        "certUrl": page_url,
        "certId": credential_id,
    }
    for prefix, value in (
        ("issue", summary["awardedDate"] or summary["validFrom"]),
        ("expiration", summary["validUntil"]),
    ):
        moment = parse_moment(value)
        if moment is not None:
            local = moment.astimezone(LOCAL_TIME_ZONE)
            params[f"{prefix}Year"] = str(local.year)
            params[f"{prefix}Month"] = str(local.month)
    return "https://www.linkedin.com/profile/add?" + urlencode(params, quote_via=quote)


def share_links(summary: Mapping[str, Any], page_url: str, credential_id: str, lang: str) -> dict[str, str]:
    t = MESSAGES[lang]
    name = summary["achievement"]["name"] or ""
    subject = t["email_subject"].format(name=name)
    body = t["email_body"].format(name=name, provider=summary["issuer"]["name"] or "", link=page_url)
    return {
        "linkedin_add": linkedin_add_url(summary, page_url, credential_id),
        "linkedin_share": "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": page_url}),
        "email": "mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote),
    }


def own_logo(issuer: object, issuer_id: str | None) -> str | None:
    """The issuer's logo when it is the one this issuer serves (an outside address is never loaded by a page)."""
    image = _mapping(issuer).get("image")
    reference = _mapping(image).get("id") if isinstance(image, Mapping) else image
    return reference if issuer_id and reference == f"{issuer_id}/image" else None


def translation(
    ctx: IssuerContext, record: Credential, achievement: Mapping[str, Any], lang: str
) -> dict[str, Any] | None:
    """The provider's translation of the achievement's name, description and criteria into ``lang``, when the
    credential is in another language and the provider gave one; the credential itself stays as signed."""
    if record.achievement_id is None or achievement.get("inLanguage", DEFAULT_LANGUAGE) == lang:
        return None
    with ctx.db.read() as session:
        stored = repository.public_achievement(session, record.achievement_id)
    words = (stored.translations or {}).get(lang) if stored is not None else None
    return dict(words) if words else None


def page_context(ctx: IssuerContext, record: Credential, lang: str) -> dict[str, Any]:
    """Everything the learner's page shows."""
    claims = record.claims()
    summary = summarize(claims)
    subject = _mapping(claims.get("credentialSubject"))
    achievement = _mapping(subject.get("achievement"))
    criteria = _mapping(achievement.get("criteria"))
    links = ctx.urls.links(record.id)
    words = translation(ctx, record, achievement, lang)
    if words is not None:
        summary = {**summary, "achievement": {**summary["achievement"], **words}}
        criteria = _mapping(words.get("criteria")) or criteria
    tags = [tag for tag in achievement.get("tag") or () if isinstance(tag, str)]
    return {
        "claims": claims,
        "summary": summary,
        "state": badge_state(ctx, record, claims, lang),
        "issued_on": format_date(summary["awardedDate"] or summary["validFrom"], lang),
        "valid_until": format_date(summary["validUntil"], lang),
        "criteria": _text(criteria.get("narrative")),
        "criteria_url": _url(criteria.get("id")),
        "achievement_type": type_name(achievement.get("achievementType"), lang),
        "skills": skills(achievement),
        "eu": eu_rows(eu_elements(achievement), lang),
        "tags": tags,
        "evidence": evidence(claims),
        "results": results(subject),
        "description": summary["achievement"]["description"],
        "narrative": _text(subject.get("narrative")),
        "translated": words is not None,
        "links": links,
        "image_url": f"{links['page']}/image",
        "card_url": f"{links['page']}/card.png",
        "share": share_links(summary, links["page"], links["page"], lang),
        "issuer_url": summary["issuer"]["id"],
        "issuer_logo": own_logo(claims.get("issuer"), summary["issuer"]["id"]),
    }


def achievement_context(ctx: IssuerContext, record: Achievement, provider: Provider, lang: str) -> dict[str, Any]:
    """What an achievement's own page shows: what a badge of it says, in the reader's language where the
    provider translated it."""
    document = translated(record, lang) if record.document.get("inLanguage", DEFAULT_LANGUAGE) != lang else None
    shown = document or record.document
    criteria = _mapping(shown.get("criteria"))
    return {
        "achievement": shown,
        "achievement_type": type_name(shown.get("achievementType"), lang),
        "translated": document is not None,
        "provider": provider,
        "issuer_url": ctx.urls.issuer_id(provider.slug),
        "image_url": image_url(record.document["id"]),
        "description": _text(shown.get("description")),
        "criteria": _text(criteria.get("narrative")),
        "criteria_url": _url(criteria.get("id")),
        "skills": skills(record.document),
        "eu": eu_rows(eu_elements(record.document), lang),
        "tags": [tag for tag in record.document.get("tag") or () if isinstance(tag, str)],
        "evidence": [],
        "results": [],
        "narrative": None,
    }
