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
from sqlalchemy import func, select
from sqlmodel import Session, col

from credentials.errors import SchemaInvalid
from credentials.schema import validate_achievement
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound, schema_fields
from issuer.models import Achievement, AchievementImage, Credential, Provider
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


def _with_own_image(document: dict[str, Any]) -> dict[str, Any]:
    """The document naming the image this issuer serves for it; refused when that leaves no room in a credential."""
    document = {**document, "image": {"id": image_url(document["id"]), "type": "Image", "caption": document["name"]}}
    if len(json.dumps(document, ensure_ascii=False).encode("utf-8")) > MAX_ACHIEVEMENT_BYTES:
        raise InvalidInput(
            "The achievement has no room left for an image within a credential.",
            fields=[{"field": "image", "message": "shorten the achievement's description or criteria first"}],
        )
    return document


def set_image(
    ctx: IssuerContext, provider: Provider, achievement_id: str, data: bytes, declared_type: str | None, actor: str
) -> Achievement:
    """Clean and keep the provider's image for an achievement; credentials issued from now on name it."""
    media_type, cleaned = clean_image(data, declared_type)
    assert provider.id is not None
    with ctx.db.write() as session:
        record = current_achievement(session, provider.id, achievement_id)
        image = session.get(AchievementImage, achievement_id)
        if image is None:
            image = AchievementImage(achievement_id=achievement_id, media_type=media_type, data=cleaned)
        image.media_type, image.data, image.updated_at = media_type, cleaned, datetime.now(UTC)
        session.add(image)
        record.document = _with_own_image(record.document)
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


def _record(
    achievement_id: str, provider_id: int, document: dict[str, Any], payload: AchievementIn, **version: Any
) -> Achievement:
    return Achievement(
        id=achievement_id,
        provider_id=provider_id,
        document=document,
        eu_micro_credential=payload.microCredential is not None,
        validity_months=payload.validityMonths,
        translations=_translations(payload),
        **version,
    )


def create_achievement(ctx: IssuerContext, provider: Provider, payload: AchievementIn, actor: str) -> Achievement:
    achievement_id = str(uuid.uuid4())
    document = build_achievement(payload, provider, ctx.urls.achievement(achievement_id))
    assert provider.id is not None
    record = _record(achievement_id, provider.id, document, payload)
    with ctx.db.write() as session:
        session.add(record)
        audit.record(
            session, actor=actor, action="achievement.created", subject=document["id"], provider_id=provider.id
        )
    return record


def _translations(payload: AchievementIn) -> dict[str, Any] | None:
    return {lang: words.model_dump(exclude_none=True) for lang, words in (payload.translations or {}).items()} or None


def list_achievements(ctx: IssuerContext, provider_id: int) -> Sequence[Achievement]:
    with ctx.db.read() as session:
        return repository.achievements(session, provider_id)


# Versions. An achievement is never changed in place once saved: every credential embeds the document it was
# issued from, and the public page at the achievement's id must keep describing what those credentials say.
# An edit therefore writes a new achievement (a new id) and archives the old one, which stays readable.

_EU_TEXT_TYPES = {
    "ext:AssessmentType": "assessment",
    "ext:ParticipationForm": "participation",
    "ext:QualityAssurance": "qualityAssurance",
    "ext:Prerequisites": "prerequisites",
    "ext:Supervision": "supervision",
    "ext:Stackability": "stackability",
    "ext:FurtherInformation": "furtherInformation",
}
_EU_TYPES = {"ext:LearningOutcome", "ext:EQF", "ext:PRK", "ext:NotionalWorkload", *_EU_TEXT_TYPES}


def current_achievement(session: Session, provider_id: int, achievement_id: str) -> Achievement:
    """The provider's achievement, if nothing has replaced or archived it: the only kind anything is issued from
    or changed. Raises :class:`NotFound` for another provider's (or no) achievement, :class:`InvalidInput` for an
    archived one (``details["replaced_by"]`` names its newer version, if any)."""
    record = repository.achievement(session, provider_id, achievement_id)
    if record is None:
        raise NotFound(
            "There is no such achievement for this provider.",
            fields=[{"field": "achievement", "message": "not found"}],
        )
    if record.archived_at is not None:
        raise InvalidInput(
            "This achievement is archived; nothing more is issued from it or changed in it.",
            fields=[{"field": "achievement", "message": "archived"}],
            replaced_by=record.replaced_by,
        )
    return record


def get_achievement(ctx: IssuerContext, provider_id: int, achievement_id: str) -> Achievement:
    """Any of the provider's achievements, archived ones too. Raises :class:`NotFound`."""
    with ctx.db.read() as session:
        record = repository.achievement(session, provider_id, achievement_id)
    if record is None:
        raise NotFound("There is no such achievement for this provider.")
    return record


def input_of(record: Achievement) -> AchievementIn:
    """What was asked for to make ``record``: the reverse of :func:`build_achievement`, from which an edit starts
    (the EU elements read back from their alignments, the image left out: each version serves its own)."""
    document = record.document
    computed = ("alignment", "creditsAvailable", "image", "microCredential", "validityMonths", "translations")
    fields: dict[str, Any] = {
        name: document[name] for name in AchievementIn.model_fields if name in document and name not in computed
    }
    own_image = image_url(document["id"])
    image = document.get("image")
    if image is not None and not (isinstance(image, dict) and image.get("id") == own_image):
        fields["image"] = image
    block: dict[str, Any] = {}
    alignment = []
    for entry in document.get("alignment") or ():
        target_type = entry.get("targetType")
        if not record.eu_micro_credential or target_type not in _EU_TYPES:
            alignment.append(entry)
        elif target_type == "ext:LearningOutcome":
            block.setdefault("learningOutcomes", []).append(entry["targetName"])
        elif target_type == "ext:EQF":
            block["eqfLevel"] = int(entry["targetCode"])
        elif target_type == "ext:PRK":
            block["prkLevel"] = int(entry["targetCode"])
        elif target_type == "ext:NotionalWorkload":
            block["workloadHours"] = float(entry["targetCode"].removeprefix("PT").removesuffix("H"))
        elif target_type == "ext:ParticipationForm":
            block["participation"] = entry["targetCode"]
        else:
            block[_EU_TEXT_TYPES[target_type]] = entry["targetName"]
    if alignment:
        fields["alignment"] = alignment
    if record.eu_micro_credential:
        block["ects"] = document.get("creditsAvailable")
        fields["microCredential"] = block
    elif "creditsAvailable" in document:
        fields["creditsAvailable"] = document["creditsAvailable"]
    fields["validityMonths"] = record.validity_months
    fields["translations"] = record.translations or None
    return AchievementIn.model_validate(fields)


def revise_achievement(
    ctx: IssuerContext, provider: Provider, achievement_id: str, payload: AchievementIn, actor: str
) -> Achievement:
    """Save an edit as the next version: a new achievement (new id, ``version + 1``, ``previous_id``) with the old
    one's image, while the old one is archived and points to it. Credentials issued before keep the version they
    embed. Raises :class:`InvalidInput` naming each refused field, or when the old version is already archived;
    :class:`NotFound` for an achievement the provider does not have."""
    assert provider.id is not None
    new_id = str(uuid.uuid4())
    document = build_achievement(payload, provider, ctx.urls.achievement(new_id))
    with ctx.db.write(serialize_on=provider.id) as session:
        old = current_achievement(session, provider.id, achievement_id)
        image = session.get(AchievementImage, old.id)
        if image is not None:
            document = _with_own_image(document)
        record = _record(new_id, provider.id, document, payload, version=old.version + 1, previous_id=old.id)
        session.add(record)
        session.flush()  # the new row exists before its image refers to it
        if image is not None:
            session.add(AchievementImage(achievement_id=new_id, media_type=image.media_type, data=image.data))
        old.replaced_by, old.archived_at = new_id, datetime.now(UTC)
        session.add(old)
        audit.record(
            session,
            actor=actor,
            action="achievement.versioned",
            subject=document["id"],
            provider_id=provider.id,
            details={"previous": old.document["id"], "version": record.version},
        )
    return record


def archive_achievement(ctx: IssuerContext, provider: Provider, achievement_id: str, actor: str) -> Achievement:
    """Stop issuing from an achievement; its page and the credentials issued from it stay as they are. Archiving
    an archived one changes nothing. Raises :class:`NotFound`."""
    assert provider.id is not None
    with ctx.db.write(serialize_on=provider.id) as session:
        record = repository.achievement(session, provider.id, achievement_id)
        if record is None:
            raise NotFound("There is no such achievement for this provider.")
        if record.archived_at is None:
            record.archived_at = datetime.now(UTC)
            session.add(record)
            audit.record(
                session,
                actor=actor,
                action="achievement.archived",
                subject=record.document["id"],
                provider_id=provider.id,
            )
    return record


def earlier_versions(ctx: IssuerContext, record: Achievement) -> list[Achievement]:
    """The versions ``record`` replaced, newest first."""
    found: list[Achievement] = []
    with ctx.db.read() as session:
        previous = record.previous_id
        while previous is not None and len(found) < 1000:  # bounded, whatever the data says
            older = repository.achievement(session, record.provider_id, previous)
            if older is None:
                break
            found.append(older)
            previous = older.previous_id
    return found


def issued_counts(ctx: IssuerContext, provider_id: int) -> dict[str, int]:
    """How many credentials were issued from each of the provider's achievements (revoked ones included)."""
    query = (
        select(col(Credential.achievement_id), func.count())
        .where(col(Credential.provider_id) == provider_id, col(Credential.achievement_id).is_not(None))
        .group_by(col(Credential.achievement_id))
    )
    with ctx.db.read() as session:
        return {achievement_id: int(count) for achievement_id, count in session.execute(query).all()}
