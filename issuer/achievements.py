"""Achievements (badge templates): Open Badges 3.0 fields by their OB names, plus the EU micro-credential check.

A template marked as an EU micro-credential (it carries a ``microCredential`` block) must hold every
mandatory element of Council Recommendation 2022/C 243/02, Annex I. The elements are mapped onto OB 3.0
fields so that any Open Badges viewer shows them; the mapping is documented in ``docs/eu-micro-credentials.md``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from credentials.errors import SchemaInvalid
from credentials.schema import validate_achievement
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound, schema_fields
from issuer.models import Achievement, AchievementImage, Provider
from issuer.uploaded_images import clean_image

MAX_ACHIEVEMENT_BYTES = 6 * 1024
EQF_URL = "https://europass.europa.eu/en/description-eight-eqf-levels"
PRK_URL = "https://kwalifikacje.gov.pl/"


class Criteria(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    narrative: str | None = Field(default=None, max_length=2000)


class MicroCredential(BaseModel):
    """The EU micro-credential elements that a plain OB achievement does not already carry.

    Every field is optional here so that a missing one is reported by name, all at once.
    """

    model_config = ConfigDict(extra="forbid")
    learningOutcomes: list[str] | None = None
    ects: float | None = Field(default=None, gt=0, le=300)
    workloadHours: float | None = Field(default=None, gt=0, le=10_000)
    eqfLevel: int | None = Field(default=None, ge=1, le=8)
    prkLevel: int | None = Field(default=None, ge=1, le=8)
    assessment: str | None = Field(default=None, max_length=1000)
    participation: Literal["online", "onsite", "blended"] | None = None
    qualityAssurance: str | None = Field(default=None, max_length=1000)
    prerequisites: str | None = Field(default=None, max_length=1000)
    supervision: str | None = Field(default=None, max_length=1000)
    stackability: str | None = Field(default=None, max_length=1000)
    furtherInformation: str | None = Field(default=None, max_length=1000)


TRANSLATION_LANGUAGES = ("pl", "en", "uk")
"""The programme's languages, in which an achievement's name, description and criteria may be given."""
DEFAULT_LANGUAGE = "pl"


class Translation(BaseModel):
    """The achievement's words in another language (``translations.en``); the rest of it is the same."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=2000)
    criteria: Criteria | None = None


class AchievementIn(BaseModel):
    """``POST /api/v1/achievements``: Open Badges 3.0 ``Achievement`` fields by their OB names."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=2000)
    criteria: Criteria
    achievementType: str | None = None
    alignment: list[dict[str, Any]] | None = None
    creditsAvailable: float | None = Field(default=None, ge=0)
    fieldOfStudy: str | None = None
    humanCode: str | None = None
    image: str | dict[str, Any] | None = None
    inLanguage: str | None = None
    resultDescription: list[dict[str, Any]] | None = None
    specialization: str | None = None
    tag: list[str] | None = None
    version: str | None = None
    microCredential: MicroCredential | None = None
    validityMonths: int | None = Field(default=None, ge=1, le=600)
    """Credentials of this achievement expire this many months after they become valid (e.g. 24)."""
    translations: dict[Literal["pl", "en", "uk"], Translation] | None = None
    """Name, description and criteria in the programme's other languages; credentials keep the original
    (``inLanguage``, Polish when not given) and link each translation as a related achievement."""


def _alignment(
    target_type: str, name: str, url: str, code: str | None = None, framework: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": ["Alignment"], "targetType": target_type, "targetName": name, "targetUrl": url}
    if code is not None:
        entry["targetCode"] = code
    if framework is not None:
        entry["targetFramework"] = framework
    return entry


def missing_micro_credential_elements(block: MicroCredential, provider: Provider) -> list[dict[str, str]]:
    """Name every mandatory EU element that is absent; title and learner come from elsewhere."""
    missing = []

    def need(field: str, why: str) -> None:
        missing.append({"field": field, "message": f"required for an EU micro-credential: {why}"})

    if not block.learningOutcomes or not all(outcome.strip() for outcome in block.learningOutcomes):
        need("microCredential.learningOutcomes", "learning outcomes")
    if block.ects is None and block.workloadHours is None:
        need("microCredential.ects", "notional workload (ECTS, or workloadHours)")
    if block.eqfLevel is None:
        need("microCredential.eqfLevel", "EQF level")
    if provider.country == "PL" and block.prkLevel is None:
        need("microCredential.prkLevel", "PRK level for a Polish issuer")
    if not (block.assessment or "").strip():
        need("microCredential.assessment", "type of assessment")
    if block.participation is None:
        need("microCredential.participation", "form of participation (online, onsite or blended)")
    if not (block.qualityAssurance or "").strip():
        need("microCredential.qualityAssurance", "type of quality assurance")
    if not provider.country:
        need("issuer.address.addressCountry", "country of the issuer (set it on the provider profile)")
    return missing


def _micro_credential_alignments(block: MicroCredential, achievement_url: str) -> list[dict[str, Any]]:
    entries = [
        _alignment("ext:LearningOutcome", outcome.strip(), f"{achievement_url}#learning-outcome-{number}")
        for number, outcome in enumerate(block.learningOutcomes or (), start=1)
    ]
    if block.eqfLevel is not None:
        entries.append(
            _alignment(
                "ext:EQF",
                f"EQF level {block.eqfLevel}",
                EQF_URL,
                str(block.eqfLevel),
                "European Qualifications Framework",
            )
        )
    if block.prkLevel is not None:
        entries.append(
            _alignment(
                "ext:PRK", f"PRK level {block.prkLevel}", PRK_URL, str(block.prkLevel), "Polska Rama Kwalifikacji"
            )
        )
    if block.workloadHours is not None:
        hours = f"{block.workloadHours:f}".rstrip("0").rstrip(".")
        entries.append(
            _alignment("ext:NotionalWorkload", f"{hours} hours", f"{achievement_url}#workload", f"PT{hours}H")
        )
    texts = (
        ("ext:AssessmentType", "assessment", block.assessment),
        ("ext:ParticipationForm", "participation", block.participation),
        ("ext:QualityAssurance", "quality-assurance", block.qualityAssurance),
        ("ext:Prerequisites", "prerequisites", block.prerequisites),
        ("ext:Supervision", "supervision", block.supervision),
        ("ext:Stackability", "stackability", block.stackability),
        ("ext:FurtherInformation", "further-information", block.furtherInformation),
    )
    for target_type, anchor, value in texts:
        if value:
            code = value if target_type == "ext:ParticipationForm" else None
            entries.append(_alignment(target_type, value.strip(), f"{achievement_url}#{anchor}", code))
    return entries


def build_achievement(payload: AchievementIn, provider: Provider, achievement_url: str) -> dict[str, Any]:
    """Return the OB 3.0 ``Achievement``. Raises :class:`InvalidInput` naming each missing or invalid field."""
    document: dict[str, Any] = {"id": achievement_url, "type": ["Achievement"]}
    fields = payload.model_dump(exclude_none=True, exclude={"microCredential", "validityMonths", "translations"})
    if isinstance(fields.get("image"), str):
        fields["image"] = {"id": fields["image"], "type": "Image"}
    elif isinstance(fields.get("image"), dict):
        fields["image"] = {"type": "Image", **fields["image"]}
    for entry in fields.get("alignment", ()):
        entry.setdefault("type", ["Alignment"])
    if not (payload.criteria.id or payload.criteria.narrative):
        raise InvalidInput(
            "The achievement cannot be created.",
            fields=[{"field": "criteria", "message": "give criteria.narrative or criteria.id"}],
        )
    document.update(fields)
    if payload.translations:
        original = payload.inLanguage or DEFAULT_LANGUAGE
        if original in payload.translations:
            raise InvalidInput(
                "The achievement cannot be created.",
                fields=[{"field": f"translations.{original}", "message": f"the achievement is itself in {original}"}],
            )
        document["inLanguage"] = original
        document["related"] = [
            {"id": translation_url(achievement_url, lang), "type": ["Related"], "inLanguage": lang}
            for lang in sorted(payload.translations)
        ]
    block = payload.microCredential
    if block is not None:
        missing = missing_micro_credential_elements(block, provider)
        if missing:
            raise InvalidInput(
                "An EU micro-credential must carry every mandatory element; some are missing.",
                fields=missing,
            )
        document.setdefault("achievementType", "MicroCredential")
        if block.ects is not None:
            document["creditsAvailable"] = block.ects
        document["alignment"] = [*document.get("alignment", []), *_micro_credential_alignments(block, achievement_url)]
    try:
        validate_achievement(document)
    except SchemaInvalid as exc:
        raise InvalidInput(
            "The achievement does not match the Open Badges 3.0 schema.", fields=schema_fields(exc.errors)
        ) from exc
    size = len(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    if size > MAX_ACHIEVEMENT_BYTES:
        # Every credential embeds the achievement; it must leave room within the verifier's token limit.
        raise InvalidInput(
            f"The achievement is {size} bytes as JSON; at most {MAX_ACHIEVEMENT_BYTES} fit into a credential.",
            fields=[
                {"field": name, "message": "shorten it"}
                for name in ("description", "criteria", "alignment")
                if name in document
            ],
        )
    return document


def translation_url(achievement_url: str, lang: str) -> str:
    return f"{achievement_url}/translations/{lang}"


def image_url(achievement_url: str) -> str:
    return f"{achievement_url}/image"


def translated(record: Achievement, lang: str) -> dict[str, Any] | None:
    """The achievement as a related achievement in ``lang`` (OB 3.0 ``related`` with ``inLanguage``): the
    original with the provider's translated name, description and criteria; ``None`` when there is none."""
    words = (record.translations or {}).get(lang)
    if not words:
        return None
    document = {name: value for name, value in record.document.items() if name != "related"}
    original = {"id": record.document["id"], "type": ["Related"], "inLanguage": document.get("inLanguage")}
    document.update(
        id=translation_url(record.document["id"], lang),
        name=words["name"],
        description=words["description"],
        inLanguage=lang,
        related=[original],
    )
    if words.get("criteria"):
        document["criteria"] = words["criteria"]
    return document


def set_image(
    ctx: IssuerContext, provider: Provider, achievement_id: str, data: bytes, declared_type: str | None, actor: str
) -> Achievement:
    """Clean and keep the provider's image for an achievement; credentials issued from now on name it."""
    media_type, cleaned = clean_image(data, declared_type)
    assert provider.id is not None
    with ctx.db.write() as session:
        record = repository.achievement(session, provider.id, achievement_id)
        if record is None:
            raise NotFound("There is no such achievement for this provider.")
        image = session.get(AchievementImage, achievement_id)
        if image is None:
            image = AchievementImage(achievement_id=achievement_id, media_type=media_type, data=cleaned)
        image.media_type, image.data, image.updated_at = media_type, cleaned, datetime.now(UTC)
        session.add(image)
        document = {
            **record.document,
            "image": {"id": image_url(record.document["id"]), "type": "Image", "caption": record.document["name"]},
        }
        if len(json.dumps(document, ensure_ascii=False).encode("utf-8")) > MAX_ACHIEVEMENT_BYTES:
            raise InvalidInput(
                "The achievement has no room left for an image within a credential.",
                fields=[{"field": "image", "message": "shorten the achievement's description or criteria first"}],
            )
        record.document = document
        session.add(record)
        audit.record(
            session,
            actor=actor,
            action="achievement.image_set",
            subject=record.document["id"],
            provider_id=provider.id,
            details={"media_type": media_type, "bytes": len(cleaned)},
        )
    return record


def create_achievement(ctx: IssuerContext, provider: Provider, payload: AchievementIn, actor: str) -> Achievement:
    achievement_id = str(uuid.uuid4())
    document = build_achievement(payload, provider, ctx.urls.achievement(achievement_id))
    assert provider.id is not None
    record = Achievement(
        id=achievement_id,
        provider_id=provider.id,
        document=document,
        eu_micro_credential=payload.microCredential is not None,
        validity_months=payload.validityMonths,
        translations={lang: words.model_dump(exclude_none=True) for lang, words in (payload.translations or {}).items()}
        or None,
    )
    with ctx.db.write() as session:
        session.add(record)
        audit.record(
            session, actor=actor, action="achievement.created", subject=document["id"], provider_id=provider.id
        )
    return record


def list_achievements(ctx: IssuerContext, provider_id: int) -> Sequence[Achievement]:
    with ctx.db.read() as session:
        return repository.achievements(session, provider_id)
