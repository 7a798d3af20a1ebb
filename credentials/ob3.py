"""The Open Badges 3.0 credential as a VC-JWT payload: vocabulary, dates and the JWT claim mapping.

The issuer uses :func:`jwt_claims_for` to add the registered claims; the verifier uses the same function to
check that the claims a token carries are exactly the ones its credential implies.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from credentials.errors import ClaimsMismatch, LegacyFormat

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
CONTEXTS = (VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT)
"""A credential's ``@context``, in the order of the spec's own examples: the extensions context defines
``1EdTechJsonSchemaValidator2019`` (the ``credentialSchema`` type), which no other context does."""
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
OB_SCHEMA_URL = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
OB_SCHEMA_TYPE = "1EdTechJsonSchemaValidator2019"

NUMERIC_DATE_CLAIMS = ("nbf", "exp", "iat")

# RFC 3339 date-time with a mandatory zone, as OB 3.0's DateTimeZ requires.
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


@functools.lru_cache(maxsize=256)
def format_datetime(moment: datetime) -> str:
    """Return ``moment`` as an RFC 3339 UTC date-time with second precision, e.g. ``2026-11-27T10:00:00Z``.

    Remembered: a cohort's credentials share their moments (issued, valid from, until), and strftime is slow."""
    moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


def parse_datetime(value: object) -> datetime:
    """Parse an RFC 3339 date-time that carries a zone. Raises ``ValueError`` for anything else."""
    if not isinstance(value, str):
        raise ValueError(f"not an RFC 3339 date-time with a zone: {str(value)[:40]!r}")
    return _parse_text(value)


@functools.lru_cache(maxsize=1024)
def _parse_text(value: str) -> datetime:
    """Remembered: a cohort's credentials share their dates, and each is read when signed and again when read back
    (an error is not remembered, and a datetime cannot be changed by whoever is handed it)."""
    if not _DATETIME.fullmatch(value):
        raise ValueError(f"not an RFC 3339 date-time with a zone: {value[:40]!r}")
    text = value.upper().replace("Z", "+00:00")
    if "." in text:  # fromisoformat takes at most microseconds
        head, _, rest = text.partition(".")
        digits, zone = rest[:-6], rest[-6:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    return datetime.fromisoformat(text)


def numeric_date(moment: datetime) -> int:
    """Return the JWT NumericDate (whole seconds since the epoch) for ``moment``."""
    return math.floor(moment.timestamp())


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """Return the credential's issuer id (``issuer`` may be a URI or a Profile object)."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return str(subject["id"])
    return None


def jwt_claims_for(credential: Mapping[str, Any]) -> dict[str, Any]:
    """Return the registered JWT claims that OB 3.0 §8.2 derives from a credential.

    ``iss`` = issuer id, ``jti`` = id, ``sub`` = credentialSubject.id, ``nbf`` = validFrom and ``exp`` =
    validUntil, each only when the credential has the field. Raises ``ValueError`` for unreadable dates.
    """
    claims: dict[str, Any] = {}
    if (iss := issuer_id(credential)) is not None:
        claims["iss"] = iss
    if isinstance(credential.get("id"), str):
        claims["jti"] = credential["id"]
    if (sub := subject_id(credential)) is not None:
        claims["sub"] = sub
    if "validFrom" in credential:
        claims["nbf"] = numeric_date(parse_datetime(credential["validFrom"]))
    if "validUntil" in credential:
        claims["exp"] = numeric_date(parse_datetime(credential["validUntil"]))
    return claims


def _is_numeric_date(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**53  # a huge integer is no date (and would overflow float arithmetic)
    return isinstance(value, float) and math.isfinite(value)


OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})


OB_CONTEXT_SHAPE = re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json")
KNOWN_OB_CONTEXTS = frozenset(
    {
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        *(f"https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.{patch}.json" for patch in range(4)),
    }
)
"""The Open Badges 3.0 context versions this package knows (3.0.0 to 3.0.3, and the unversioned alias). The
official schema's pattern admits any ``context-3.x.y.json``; a version published after this code cannot be
checked by it, so a verifier must not call such a credential valid."""


def unknown_ob_context(credential: Mapping[str, Any]) -> str | None:
    """The credential's Open Badges context URL if it is shaped like one but is not a version known here."""
    contexts = credential.get("@context")
    for context in contexts if isinstance(contexts, list) else []:
        if isinstance(context, str) and OB_CONTEXT_SHAPE.fullmatch(context) and context not in KNOWN_OB_CONTEXTS:
            return context
    return None


def is_open_badge(credential: Mapping[str, Any]) -> bool:
    """Whether the credential says it is an Open Badges 3.0 credential, by its ``type`` or by naming an Open
    Badges context: either way it is held to the Open Badges rules and schema."""
    types = credential.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    contexts = credential.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    return any(item in OB_TYPES for item in types) or any(
        isinstance(context, str) and OB_CONTEXT_SHAPE.fullmatch(context) for context in contexts
    )


def check_claims(claims: Mapping[str, Any], profile: str) -> None:
    """Check that the JWT claims are well typed and agree with the credential they carry.

    ``profile`` is ``"ob3"`` (``typ: JWT`` or no ``typ``: ``iss``, ``nbf`` and ``jti`` required, and ``sub``
    whenever ``credentialSubject`` has an ``id``) or ``"vc-jose-cose"`` (``typ: vc+jwt``: no ``vc`` or ``vp``
    claim). A claim without its credential field (``exp`` without ``validUntil``, ``nbf`` without ``validFrom``)
    is allowed and judged by itself. An Open Badges credential's ``credentialSubject`` must have an ``id`` or an
    ``identifier``. Raises :class:`LegacyFormat` for a VC 1.1 JWT and :class:`ClaimsMismatch` for anything else.
    """
    if "vc" in claims and "@context" not in claims:
        raise LegacyFormat(
            "This is a VC Data Model 1.1 JWT (the credential sits in a 'vc' claim); "
            "only Open Badges 3.0 on VC Data Model 2.0 is accepted."
        )
    if profile == "vc-jose-cose":
        for name in ("vc", "vp"):
            if name in claims:
                raise ClaimsMismatch(f"A vc+jwt carries the credential itself, never a '{name}' claim.", claim=name)
    for name in NUMERIC_DATE_CLAIMS:
        if name in claims and not _is_numeric_date(claims[name]):
            raise ClaimsMismatch(f"The claim '{name}' must be a NumericDate (a number).", claim=name)
    for name in ("iss", "jti", "sub"):
        if name in claims and not isinstance(claims[name], str):
            raise ClaimsMismatch(f"The claim '{name}' must be a string.", claim=name)
    try:
        expected = jwt_claims_for(claims)
    except ValueError as exc:
        raise ClaimsMismatch(f"A credential date cannot be read: {exc}.") from exc
    required = ["iss", "nbf", "jti"] + (["sub"] if "sub" in expected else []) if profile == "ob3" else []
    for name in required:
        if name not in claims:
            raise ClaimsMismatch(f"The claim '{name}' is required in an Open Badges VC-JWT.", claim=name)
    if "iss" not in expected:
        raise ClaimsMismatch("The credential names no issuer id.", claim="iss")
    subject = claims.get("credentialSubject")
    if is_open_badge(claims) and isinstance(subject, Mapping) and "id" not in subject and "identifier" not in subject:
        raise ClaimsMismatch("The credentialSubject has neither an id nor an identifier.", claim="credentialSubject")
    for name in ("iss", "jti", "sub", "nbf", "exp"):
        if name in claims and name not in expected:
            if name in ("nbf", "exp"):
                continue  # no validFrom / validUntil: the claim is judged by itself (see validity_window)
            raise ClaimsMismatch(f"The claim '{name}' has no counterpart in the credential.", claim=name)
        if name not in claims:
            # exp must accompany validUntil, or a JWT library would never see the expiry.
            if name == "exp" and profile == "ob3" and "exp" in expected:
                raise ClaimsMismatch("validUntil is set but the exp claim is missing.", claim="exp")
            continue
        actual = math.floor(claims[name]) if name in ("nbf", "exp") else claims[name]
        if actual != expected[name]:
            raise ClaimsMismatch(f"The claim '{name}' does not match the credential.", claim=name)


def validity_window(credential: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Return (validFrom, validUntil) as datetimes; ``None`` where absent. Where a field is absent, the JWT claim
    (``nbf``, ``exp``) stands in for it. Raises ``ValueError``."""
    valid_from = credential.get("validFrom")
    valid_until = credential.get("validUntil")
    return (
        parse_datetime(valid_from) if valid_from is not None else _numeric(credential.get("nbf")),
        parse_datetime(valid_until) if valid_until is not None else _numeric(credential.get("exp")),
    )


def _numeric(value: object) -> datetime | None:
    """A NumericDate as a datetime; one beyond the years datetime holds is clamped to its first or last moment."""
    if not _is_numeric_date(value):
        return None
    assert isinstance(value, int | float)
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, ValueError, OSError):
        return datetime.max.replace(tzinfo=UTC) if value > 0 else datetime.min.replace(tzinfo=UTC)


def learner_name(credential: Mapping[str, Any]) -> str | None:
    """Return the learner's name: a plain ``name`` identifier, or a ``name`` on the subject."""
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return None
    for entry in subject.get("identifier") or ():
        if (
            isinstance(entry, Mapping)
            and entry.get("identityType") == "name"
            and entry.get("hashed") is False
            and isinstance(entry.get("identityHash"), str)
        ):
            return str(entry["identityHash"])
    name = subject.get("name")
    return name if isinstance(name, str) else None


def summarize(credential: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a person needs to see: issuer, achievement, learner name and dates."""
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
    if not isinstance(achievement, Mapping):
        achievement = {}

    def text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    return {
        "id": text(credential.get("id")),
        "issuer": {
            "id": issuer_id(credential),
            "name": text(issuer.get("name")) if isinstance(issuer, Mapping) else None,
        },
        "achievement": {
            "id": text(achievement.get("id")),
            "name": text(achievement.get("name")),
            "description": text(achievement.get("description")),
            "achievementType": text(achievement.get("achievementType")),
        },
        "learner": {"name": learner_name(credential)},
        "validFrom": text(credential.get("validFrom")),
        "validUntil": text(credential.get("validUntil")),
        "awardedDate": text(credential.get("awardedDate")),
    }
