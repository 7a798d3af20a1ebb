"""Issuing credentials: build the Open Badges 3.0 credential, validate it, sign it, store it with its audit entry.

A single API request and a whole cohort sign the same way (:class:`CredentialSigner`): each credential gets its
status-list index, its claims and signature, is read back, and goes to the database as it comes, so that a batch
costs little more than its signatures. The API signs inside its write transaction (:func:`sign_and_store`); a
cohort signs between two (:mod:`issuer.cohort_run`). Nothing is handed out before it is committed.
"""

from __future__ import annotations

import calendar
import json
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import Session

from credentials.errors import CredentialError, SchemaInvalid
from credentials.hashing import hash_email, hmac_sha256, sha256, sha256_hex
from credentials.jose import MAX_TOKEN_BYTES, CompactSigner, Profile, Signer, parse_payload
from credentials.ob3 import (
    CONTEXTS,
    CREDENTIAL_TYPES,
    OB_SCHEMA_TYPE,
    OB_SCHEMA_URL,
    check_claims,
    format_datetime,
    is_open_badge,
    jwt_claims_for,
    parse_datetime,
)
from credentials.schema import validate_credential
from credentials.strict_json import first_unrepresentable
from credentials.vcdm import check_data_model
from http_edge.language import LOCAL_TIME_ZONE
from issuer import audit, deliveries, repository, status_lists
from issuer.api_keys import Principal
from issuer.context import IssuerContext
from issuer.db import RowWriter
from issuer.errors import (
    AlreadyIssued,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    schema_fields,
)
from issuer.models import Achievement, Credential, IdempotencyKey, Provider, StatusList, table_of
from issuer.providers import profile_document
from issuer.urls import Urls, last_segment

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    id: str | None = Field(default=None, max_length=500)
    """A URI the learner controls (e.g. a DID); a random ``urn:uuid:`` is used when absent."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.fullmatch(value.strip()):
            raise ValueError("is not an e-mail address")
        return value.strip()

    @field_validator("id")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and (":" not in value or any(char.isspace() for char in value)):
            raise ValueError("must be a URI")
        return value


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CredentialRequest(BaseModel):
    """``POST /api/v1/credentials``."""

    model_config = ConfigDict(extra="forbid")
    achievement: str = Field(min_length=1, max_length=500)
    """The achievement's id (its URL) or the UUID at its end."""
    recipient: Recipient
    narrative: str | None = Field(default=None, max_length=2000)
    evidence: list[dict[str, Any]] | None = Field(default=None, max_length=10)
    result: list[dict[str, Any]] | None = Field(default=None, max_length=10)
    validFrom: AwareDatetime | None = None
    validUntil: AwareDatetime | None = None
    allowDuplicate: bool = False
    """Issue even if this learner already holds an unrevoked credential for the achievement."""
    notify: bool = True
    """E-mail the learner a link to the badge (through the outbox, after the credential is stored)."""
    language: Literal["pl", "en", "uk"] = "pl"
    """The language of that e-mail."""

    @field_validator("validFrom", "validUntil", mode="before")
    @classmethod
    def _day_or_moment(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{text} is not a date in the calendar") from None
            at = time(23, 59, 59) if info.field_name == "validUntil" else time(0, 0)
            return datetime.combine(day, at, LOCAL_TIME_ZONE)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                "write a date (2030-01-01) or a date and time with its zone (2030-01-01T12:00:00Z)"
            ) from None
        if moment.tzinfo is None:
            raise ValueError(
                "a date and time needs its time zone (2030-01-01T12:00:00+01:00, or Z for UTC); "
                "or give the date alone (2030-01-01)"
            )
        return value

    @field_validator("validFrom", "validUntil")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        # Keeps every date printable as RFC 3339 and far from the edges of datetime arithmetic.
        if value is not None and not 1970 <= value.year <= 9000:
            raise ValueError("must be a date between the years 1970 and 9000")
        return value


@dataclass(frozen=True)
class Draft:
    """A credential built but not yet given its status entry, claims and signature."""

    credential_id: str
    document: dict[str, Any]
    achievement_id: str | None
    """The achievement it was issued from; ``None`` for a credential posted whole (``/credentials/issue``)."""
    recipient_key: str
    learner_name: str | None = None
    email_key: str | None = None
    external_id: str | None = None
    cohort_id: str | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a credential's status is kept: its status list (database id and number) and its index on it."""

    list_id: int
    number: int
    index: int

    @classmethod
    def of(cls, listed: StatusList, index: int) -> Slot:
        assert listed.id is not None
        return cls(listed.id, listed.number, index)


@dataclass(frozen=True)
class StoredCredential:
    """A credential row as written (plain data: building ORM objects for a whole cohort costs more than signing)."""

    id: str
    provider_id: int
    achievement_id: str | None
    kid: str
    jwt: str
    recipient_key: str
    issued_at: datetime
    valid_until: datetime | None
    status_list_id: int | None
    status_index: int | None
    learner_name: str | None = None
    email_key: str | None = None
    external_id: str | None = None
    cohort_id: str | None = None

    @classmethod
    def of(cls, record: Credential) -> StoredCredential:
        return cls(**{field: getattr(record, field) for field in cls.__dataclass_fields__})


@dataclass(frozen=True)
class IssuedCredential:
    record: StoredCredential
    replayed: bool = False


def request_fingerprint(request: CredentialRequest) -> str:
    body = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return sha256_hex(body.encode("utf-8"))


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus whole calendar months; the day is clamped to the target month's length."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def recipient_key(key: bytes, achievement_id: str, email: str) -> str:
    """The duplicate guard: HMAC of the SHA-256 of achievement and normalised e-mail under the server's key.

    Keyed, so that nobody holding the database can test a list of likely addresses against it.
    """
    digest = sha256(f"{achievement_id}\n{email.strip().lower()}".encode())
    return hmac_sha256(key, digest).hex()


def build_credential(
    *,
    credential_url: str,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    request: CredentialRequest,
    issued_at: datetime,
    salt: str,
    validity_months: int | None = None,
) -> dict[str, Any]:
    """Return the OB 3.0 credential without status and JWT claims (added when signing). Pure: no I/O, no clock."""
    valid_from = request.validFrom or issued_at
    recipient = request.recipient
    subject: dict[str, Any] = {
        "id": recipient.id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": hash_email(recipient.email, salt),
                "salt": salt,
            },
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": recipient.name,
            },
        ],
        "achievement": achievement,
    }
    if request.narrative:
        subject["narrative"] = request.narrative
    if request.result:
        subject["result"] = [{"type": ["Result"], **entry} for entry in request.result]
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": credential_url,
        "type": list(CREDENTIAL_TYPES),
        "name": achievement["name"],
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
    }
    valid_until = request.validUntil
    if valid_until is None and validity_months is not None:
        valid_until = add_months(valid_from, validity_months)
    if valid_until is not None:
        credential["validUntil"] = format_datetime(valid_until)
    credential["awardedDate"] = format_datetime(issued_at)
    credential["credentialSubject"] = subject
    if request.evidence:
        credential["evidence"] = [{"type": ["Evidence"], **entry} for entry in request.evidence]
    credential["credentialSchema"] = [{"id": OB_SCHEMA_URL, "type": OB_SCHEMA_TYPE}]
    return credential


def draft_of(
    ctx: IssuerContext,
    issuer: dict[str, Any],
    achievement: Achievement,
    request: CredentialRequest,
    issued_at: datetime,
    *,
    key: str | None = None,
    external_id: str | None = None,
    cohort_id: str | None = None,
) -> Draft:
    """The credential ``request`` asks for, built and ready to sign; ``key`` is its duplicate guard when the
    caller has worked it out already."""
    return build_draft(
        ctx.urls,
        issuer,
        Award.of(achievement),
        request,
        issued_at,
        key=key or recipient_key(ctx.recipient_key, achievement.id, request.recipient.email),
        email_key=ctx.vault.email_key(request.recipient.email),
        external_id=external_id,
        cohort_id=cohort_id,
    )


@dataclass(frozen=True)
class Award:
    """What a credential takes from its achievement (plain data, which may cross to a signing process)."""

    id: str
    document: dict[str, Any]
    validity_months: int | None

    @classmethod
    def of(cls, achievement: Achievement) -> Award:
        return cls(achievement.id, achievement.document, achievement.validity_months)


def build_draft(
    urls: Urls,
    issuer: dict[str, Any],
    award: Award,
    request: CredentialRequest,
    issued_at: datetime,
    *,
    key: str,
    email_key: str,
    external_id: str | None = None,
    cohort_id: str | None = None,
) -> Draft:
    """:func:`draft_of` once the keyed digests (the duplicate guard ``key``, the ``email_key``) are worked out:
    needs no secret."""
    credential_id = str(uuid.uuid4())
    document = build_credential(
        credential_url=urls.credential(credential_id),
        issuer=issuer,
        achievement=award.document,
        request=request,
        issued_at=issued_at,
        salt=secrets.token_hex(16),
        validity_months=award.validity_months,
    )
    return Draft(
        credential_id,
        document,
        award.id,
        key,
        learner_name=request.recipient.name,
        email_key=email_key,
        external_id=external_id,
        cohort_id=cohort_id,
    )


def _check_dates(request: CredentialRequest, row: int | None) -> None:
    if request.validUntil is not None and request.validUntil <= (request.validFrom or datetime.now(UTC)):
        field = "validUntil" if row is None else f"rows[{row}].validUntil"
        raise InvalidInput(
            "validUntil must be later than validFrom (or now).",
            fields=[{"field": field, "message": "must be later than validFrom"}],
        )


def issue_credentials(
    ctx: IssuerContext,
    principal: Principal,
    requests: Sequence[CredentialRequest],
    *,
    idempotency_key: str | None = None,
) -> list[IssuedCredential]:
    """Issue one credential per request, all or nothing.

    Raises :class:`NotFound` for an achievement the provider does not own, :class:`AlreadyIssued` for a
    learner who already holds it (unless ``allowDuplicate``), :class:`IdempotencyConflict` when the key was
    used with a different body, and :class:`InvalidInput` when the result fails the OB 3.0 schema.
    """
    principal.require("issue")
    provider = principal.provider
    provider_id = principal.provider_id
    fingerprint = request_fingerprint(requests[0]) if idempotency_key and len(requests) == 1 else None
    now = datetime.now(UTC)
    with ctx.db.read() as session:
        if idempotency_key is not None:
            replay = _replay(session, provider_id, idempotency_key, fingerprint)
            if replay is not None:
                return [replay]
        achievements: dict[str, Achievement] = {}
        for row, request in enumerate(requests):
            _check_dates(request, row if len(requests) > 1 else None)
            reference = last_segment(request.achievement)
            if reference not in achievements:
                found = repository.achievement(session, provider_id, reference)
                where = "achievement" if len(requests) == 1 else f"rows[{row}].achievement"
                if found is None:
                    raise NotFound(
                        "There is no such achievement for this provider.",
                        fields=[{"field": where, "message": "not found"}],
                    )
                if found.archived_at is not None:
                    replaced = f" by {ctx.urls.achievement(found.replaced_by)}" if found.replaced_by else ""
                    raise InvalidInput(
                        f"This achievement was archived{replaced}; nothing more is issued from it.",
                        fields=[{"field": where, "message": "archived"}],
                    )
                achievements[reference] = found
    issuer = profile_document(ctx, provider, with_context=False)

    drafts = [
        draft_of(ctx, issuer, achievements[last_segment(request.achievement)], request, now) for request in requests
    ]

    with ctx.db.write(serialize_on=provider_id) as session:
        if idempotency_key is not None:
            # Re-checked under the lock: a concurrent request with the same key may have won.
            replay = _replay(session, provider_id, idempotency_key, fingerprint)
            if replay is not None:
                return [replay]
        _refuse_duplicates(session, ctx.urls, provider_id, requests, drafts)
        records = sign_and_store(ctx, session, provider, drafts, now, principal.actor)
        deliveries.queue(
            ctx,
            session,
            [
                deliveries.Addressed(record.id, provider_id, request.recipient.email, request.language)
                for record, request in zip(records, requests, strict=True)
                if request.notify
            ],
        )
        if idempotency_key is not None:
            session.add(
                IdempotencyKey(
                    provider_id=provider_id,
                    key=idempotency_key,
                    request_hash=fingerprint or "",
                    credential_id=records[0].id,
                )
            )
    return [IssuedCredential(record) for record in records]


def _replay(session: Any, provider_id: int, key: str, fingerprint: str | None) -> IssuedCredential | None:
    record = repository.idempotency_record(session, provider_id, key)
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request body.",
            fields=[{"field": "Idempotency-Key", "message": "already used with a different body"}],
        )
    credential = repository.credential(session, record.credential_id)
    assert credential is not None
    return IssuedCredential(StoredCredential.of(credential), replayed=True)


def _refuse_duplicates(
    session: Any, urls: Urls, provider_id: int, requests: Sequence[CredentialRequest], records: Sequence[Draft]
) -> None:
    wanted = [
        record.recipient_key for request, record in zip(requests, records, strict=True) if not request.allowDuplicate
    ]
    existing = repository.unrevoked_with_recipient_keys(session, provider_id, wanted)
    seen: dict[str, int] = {}
    for row, (request, record) in enumerate(zip(requests, records, strict=True)):
        if request.allowDuplicate:
            continue
        where = "recipient.email" if len(requests) == 1 else f"rows[{row}].recipient.email"
        if record.recipient_key in existing:
            raise AlreadyIssued(
                "This learner already holds an unrevoked credential for this achievement; "
                "send allowDuplicate: true to issue another.",
                fields=[{"field": where, "message": "already issued"}],
                credential=urls.credential(existing[record.recipient_key]),
            )
        if record.recipient_key in seen:
            raise AlreadyIssued(
                f"Rows {seen[record.recipient_key]} and {row} issue the same achievement to the same learner.",
                fields=[{"field": where, "message": "duplicate row"}],
            )
        seen[record.recipient_key] = row


def _unrepresentable(document: dict[str, Any], prefix: str) -> InvalidInput:
    """Name the NaN or infinity (say, in an achievement stored before such values were refused) that stopped the
    credential from being written: JSON cannot carry it, so no verifier could read the credential back."""
    path = first_unrepresentable(document) or "(root)"
    field = f"{prefix}.{path}" if prefix else path
    return InvalidInput(
        "The credential would carry a number JSON cannot represent (NaN or infinity).",
        fields=[{"field": field, "message": "not a finite number"}],
    )


def _read_back(document: dict[str, Any], payload: bytes, profile: Profile, prefix: str) -> None:
    """Read the signed payload back as a verifier will (strict JSON, then the claims) before anything is stored or
    handed out: nothing our own verifier would call malformed leaves the issuer. (The header, the same for every
    credential a key signs, was checked when the key's signer was made.)

    When a quick parse gives back the very document that was signed, the strict one has nothing to refuse: it
    refuses a member name written twice, which :func:`credentials.strict_json.dumps` never writes (or the two
    would differ), and NaN or infinity, which it never writes at all. Otherwise the strict parse decides."""
    try:
        try:
            same = orjson.loads(payload) == document
        except orjson.JSONDecodeError:
            same = False
        check_claims(document if same else parse_payload(payload), profile)
    except CredentialError as exc:
        raise InvalidInput(
            "The signed credential would not be readable by a verifier.",
            fields=[{"field": prefix or "credential", "message": exc.message}],
        ) from exc


class CredentialSigner:
    """Makes drafts into signed credentials with one key, touching no database (so it may run with no
    transaction open).

    :meth:`sign` gives a draft its status entry and JWT claims, checks it against the Open Badges schema (or, for
    any other credential, the VC 2.0 data model), signs it and reads it back. ``profile`` ``"ob3"`` signs Open
    Badges VC-JWTs (``typ: JWT``, with the registered claims beside the credential); ``"vc-jose-cose"`` signs the
    credential alone as ``typ: vc+jwt``.
    """

    def __init__(
        self,
        urls: Urls,
        provider_id: int,
        slug: str,
        kid: str,
        signer: Signer,
        now: datetime,
        profile: Profile = "ob3",
    ) -> None:
        self._urls = urls
        self._provider_id = provider_id
        self._slug = slug
        self._now = now
        self.kid = kid
        self._jws = CompactSigner(signer, profile)

    def sign(self, draft: Draft, slot: Slot, prefix: str = "") -> StoredCredential:
        """The signed credential of ``draft`` at its status-list ``slot``; ``prefix`` (``rows[3]``) is put before
        the fields an :class:`InvalidInput` names."""
        document = dict(draft.document)
        entry = status_lists.status_entry(self._urls, self._slug, slot.number, slot.index)
        # A credential posted whole (VC-API) may bring status entries of its own: ours is added beside them.
        given = document.get("credentialStatus")
        document["credentialStatus"] = (
            entry if given is None else [*(given if isinstance(given, list) else [given]), entry]
        )
        if self._jws.profile == "ob3":
            document.update(jwt_claims_for(document))
        try:
            if is_open_badge(document):
                validate_credential(document)
            else:
                check_data_model(document)
            token, payload = self._jws.sign(document)  # strict JSON: a NaN or infinity raises ValueError
        except SchemaInvalid as exc:
            raise InvalidInput(exc.message, fields=schema_fields(exc.errors, prefix)) from exc
        except ValueError as exc:
            raise _unrepresentable(document, prefix) from exc
        if len(token) > MAX_TOKEN_BYTES:
            raise _too_long(document, len(token), prefix)
        _read_back(document, payload, self._jws.profile, prefix)
        valid_until = document.get("validUntil")
        return StoredCredential(
            id=draft.credential_id,
            provider_id=self._provider_id,
            achievement_id=draft.achievement_id,
            kid=self.kid,
            jwt=token,
            recipient_key=draft.recipient_key,
            issued_at=self._now,
            valid_until=parse_datetime(valid_until) if valid_until else None,
            status_list_id=slot.list_id,
            status_index=slot.index,
            learner_name=draft.learner_name,
            email_key=draft.email_key,
            external_id=draft.external_id,
            cohort_id=draft.cohort_id,
        )


def record_issued(
    ctx: IssuerContext, session: Session, provider_id: int, records: Sequence[StoredCredential], actor: str
) -> None:
    """The audit entry of each credential stored in this transaction."""
    for record in records:
        audit.record(
            session,
            actor=actor,
            action="credential.issued",
            subject=ctx.urls.credential(record.id),
            provider_id=provider_id,
            details={"achievement": record.achievement_id, "kid": record.kid},
        )


def credential_rows(session: Session) -> RowWriter:
    """Where signed credentials go: the credential table, one row per :class:`StoredCredential`."""
    return RowWriter(session, table_of(Credential), list(StoredCredential.__dataclass_fields__))


def _too_long(document: dict[str, Any], length: int, prefix: str) -> InvalidInput:
    subject = document.get("credentialSubject", {})
    present = [name for name in ("narrative", "result") if name in subject] + ["evidence"] * ("evidence" in document)
    return InvalidInput(
        f"The signed credential would be {length} bytes; verifiers accept at most {MAX_TOKEN_BYTES}.",
        fields=[
            {"field": f"{prefix}.{name}" if prefix else name, "message": "shorten it"}
            for name in present or ["achievement"]
        ],
    )


def sign_and_store(
    ctx: IssuerContext,
    session: Session,
    provider: Provider,
    drafts: Sequence[Draft],
    now: datetime,
    actor: str,
    profile: Profile = "ob3",
) -> list[StoredCredential]:
    """Give each draft a status-list index and sign it (see :class:`CredentialSigner`), then store it with its
    audit entry, within the caller's serialized write transaction. Raises :class:`InvalidInput`, naming the row
    (``rows[i]``) when there are several, if one would not match the schema, which rolls the whole batch back."""
    assert provider.id is not None
    kid, signer = ctx.signer_for(session, provider, now)
    credentials = CredentialSigner(ctx.urls, provider.id, provider.slug, kid, signer, now, profile)
    slots = status_lists.allocate(ctx, session, provider, len(drafts), signer)
    records = []
    # Each is handed to the database as it is signed: on PostgreSQL the server stores it while the next is signed.
    with credential_rows(session) as rows:
        for row, (draft, (listed, index)) in enumerate(zip(drafts, slots, strict=True)):
            record = credentials.sign(draft, Slot.of(listed, index), "" if len(drafts) == 1 else f"rows[{row}]")
            rows.write(vars(record))
            records.append(record)
    record_issued(ctx, session, provider.id, records, actor)
    return records
