"""Database tables. Private keys are never stored here: only their public JWK and file reference."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, Index, LargeBinary, Table, Text, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from credentials.encoding import b64url_decode


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Provider(SQLModel, table=True):
    """A training provider: one issuer id, one profile, its own keys, achievements and credentials."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    description: str | None = Field(default=None, sa_column=Column(Text))
    """What the provider says about itself, in Polish (the programme's language)."""
    descriptions: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The same in the programme's other languages: ``{"en": …, "uk": …}``."""
    image: str | None = Field(default=None, max_length=2000)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=100)
    key_algorithm: str = Field(default="RS256", max_length=10)
    """What its new keys sign with: RS256, ES256 or EdDSA (chosen when it is added, changed on rotation)."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    prefix: str = Field(max_length=16)
    """The first characters of the key, shown in listings so an operator can tell keys apart."""
    key_hash: str = Field(unique=True, max_length=64)
    scopes: str = Field(max_length=200)
    """Space-separated permissions: issue, revoke, manage."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SigningKey(SQLModel, table=True):
    __tablename__ = "signing_key"

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    kid: str = Field(unique=True, max_length=100)
    alg: str = Field(max_length=10)
    status: str = Field(default="active", max_length=12)
    """pending → active → retired (still published) → compromised."""
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activates_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    """A key is published at once but signs only from this moment, so verifiers see it before they meet it."""
    compromised_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Achievement(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """The Open Badges 3.0 ``Achievement`` as embedded in credentials."""
    eu_micro_credential: bool = False
    validity_months: int | None = None
    """Credentials of this achievement expire this many months after their validFrom."""
    translations: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """``{"en": {"name": …, "description": …, "criteria": {"narrative": …}}, "uk": …}``: the provider's own
    translations, published as related achievements; credentials keep the original language."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = 1
    previous_id: str | None = Field(default=None, max_length=36)
    """The version this one replaced: an edit writes a new achievement, so issued credentials keep theirs."""
    replaced_by: str | None = Field(default=None, max_length=36)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when replaced by a new version or archived: nothing more is issued from it; its page stays."""


class ProviderImage(SQLModel, table=True):
    """A provider's logo as it uploaded it, cleaned like an achievement's image."""

    __tablename__ = "provider_image"

    provider_id: int = Field(primary_key=True, foreign_key="provider.id")
    media_type: str = Field(max_length=40)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AchievementImage(SQLModel, table=True):
    """The image a provider uploaded for an achievement, cleaned (PNG re-encoded, SVG sanitised)."""

    __tablename__ = "achievement_image"

    achievement_id: str = Field(primary_key=True, foreign_key="achievement.id", max_length=36)
    media_type: str = Field(max_length=40)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusList(SQLModel, table=True):
    """One provider's Bitstring Status List (revocation); ``jwt`` is the signed list as served."""

    __tablename__ = "status_list"
    __table_args__ = (UniqueConstraint("provider_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    number: int
    length: int
    allocated: int = 0
    """Indexes handed out so far."""
    pool_start: int | None = None
    """``allocated`` when the pool of free indexes (:class:`StatusIndexPool`) was built; ``None`` before."""
    jwt: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusIndexPool(SQLModel, table=True):
    """A list's indexes in the random order they are handed out, in chunks: the next index is one lookup away,
    however full the list (``StatusList.allocated`` is the position of the next one)."""

    __tablename__ = "status_index_pool"

    status_list_id: int = Field(foreign_key="status_list.id", primary_key=True)
    chunk: int = Field(primary_key=True)
    indexes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """Little-endian unsigned 32-bit indexes, positions ``chunk * CHUNK`` onwards."""


class Credential(SQLModel, table=True):
    __table_args__ = (
        # Also serves every query by provider alone (a provider's credentials, its dashboards).
        Index("ix_credential_duplicate", "provider_id", "recipient_key"),
        # A list's revoked entries, without reading every credential on it; a credential enters it when revoked,
        # so issuing one costs this index nothing.
        Index(
            "ix_credential_revoked",
            "status_list_id",
            "status_index",
            postgresql_where=text("revoked_at IS NOT NULL"),
            sqlite_where=text("revoked_at IS NOT NULL"),
        ),
        # An index is never handed out twice, whatever the race.
        UniqueConstraint("status_list_id", "status_index"),
        Index("ix_credential_email_key", "provider_id", "email_key"),
        # Also serves every query by achievement (always asked within a provider).
        Index("ix_credential_external_id", "provider_id", "achievement_id", "external_id"),
    )

    id: str = Field(primary_key=True, max_length=36)
    provider_id: int = Field(foreign_key="provider.id")
    achievement_id: str | None = Field(default=None, foreign_key="achievement.id")
    """The achievement it was issued from; ``None`` for a credential posted whole through ``/credentials/issue``."""
    kid: str = Field(max_length=100)
    jwt: str = Field(sa_column=Column(Text, nullable=False))
    recipient_key: str = Field(max_length=64)
    """HMAC (server secret) of the SHA-256 of achievement + normalised e-mail: finds accidental re-issues without
    storing the address, and without letting anyone holding the database test guessed addresses against it."""
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revocation_reason: str | None = Field(default=None, max_length=500)
    status_list_id: int | None = Field(default=None, foreign_key="status_list.id")
    status_index: int | None = None
    replaced_by: str | None = Field(default=None, max_length=36)
    """Set when the credential was reissued (e.g. after a key compromise): the id of the new copy."""
    learner_name: str | None = Field(default=None, max_length=200)
    """The name in the credential, for the console's search (the token holds it anyway)."""
    email_key: str | None = Field(default=None, max_length=64)
    """HMAC (server secret) of the normalised e-mail: the console finds a learner's credentials by address."""
    external_id: str | None = Field(default=None, max_length=200)
    """The provider's own learner id from a cohort file, for its duplicate policy and its search."""
    cohort_id: str | None = Field(default=None, max_length=36, index=True)

    def claims(self) -> dict[str, Any]:
        """The payload of the token this issuer signed and stored itself (so no signature check is needed)."""
        payload: dict[str, Any] = json.loads(b64url_decode(self.jwt.split(".")[1], "payload"))
        return payload


class IdempotencyKey(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("provider_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int = Field(foreign_key="provider.id")
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    credential_id: str = Field(foreign_key="credential.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Append-only record of what changed: actions and ids only, never personal data or secrets."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    """1, 2, 3, … without gaps: a missing entry shows even where ids skip (PostgreSQL sequences do)."""
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=50)
    subject: str = Field(max_length=300)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64, unique=True)
    """HMAC (audit key) over ``seq``, ``prev_hash`` and this entry's content: editing, removing or inserting an
    entry breaks the chain, and only the holder of the server secret can compute a new link."""
    keyed: bool = True
    """False for entries written before the chain was keyed (plain SHA-256 links); none may follow a keyed one."""


class Delivery(SQLModel, table=True):
    """The e-mail telling a learner about a credential: an outbox entry written in the credential's own
    transaction, sent by the job queue. The address is kept, encrypted under the server secret, for "resend"
    until the credential is revoked."""

    credential_id: str = Field(primary_key=True, foreign_key="credential.id", max_length=36)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    address: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """The e-mail address sealed by the vault (AES-256-GCM, key derived from the server secret); ``None`` once
    erased."""
    language: str = Field(default="pl", max_length=5)
    state: str = Field(default="queued", max_length=10)
    """queued → sending → sent; or failed (attempts used up, or the server refused the address for good)."""
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    message_id: str = Field(max_length=200)
    """One Message-ID per send request: a message retried after a crash keeps it, so it reads as the same one."""
    sends: int = 0
    """How many messages went out (the first, then each resend)."""
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CredentialEvent(SQLModel, table=True):
    """How often something happened to a credential (page opened, shared, verified): counts, never who."""

    __tablename__ = "credential_event"

    credential_id: str = Field(primary_key=True, foreign_key="credential.id", max_length=36)
    event: str = Field(primary_key=True, max_length=20)
    count: int = 0


class Cohort(SQLModel, table=True):
    """One uploaded participant file for one achievement: previewed, then confirmed and issued by a job."""

    __table_args__ = (UniqueConstraint("provider_id", "achievement_id", "file_hash"),)

    id: str = Field(primary_key=True, max_length=36)
    provider_id: int = Field(foreign_key="provider.id", index=True)
    achievement_id: str = Field(foreign_key="achievement.id")
    file_hash: str = Field(max_length=64)
    """SHA-256 of the file: the same file uploaded again finds this cohort instead of issuing twice."""
    filename: str = Field(max_length=255)
    policy: str = Field(default="skip", max_length=10)
    """For a learner who already holds the achievement: skip, allow (issue again) or refuse (the row fails)."""
    state: str = Field(default="preview", max_length=10)
    """preview → queued → running → done; cancelled (never confirmed)."""
    total: int = 0
    issued: int = 0
    failed: int = 0
    skipped: int = 0
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """A worker holds the cohort until then; a crashed worker's lease runs out and another resumes it."""


class CohortRow(SQLModel, table=True):
    __tablename__ = "cohort_row"

    cohort_id: str = Field(primary_key=True, foreign_key="cohort.id", max_length=36)
    line: int = Field(primary_key=True)
    """The row number as the spreadsheet shows it (the header is row 1)."""
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The row's values; the e-mail is dropped from here once the row is issued (its delivery holds it)."""
    state: str = Field(default="pending", max_length=10)
    """pending, invalid (found at preview), issued, skipped, failed."""
    errors: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """``[{"field": "email", "message": …}]`` in the words of the column the file used."""
    credential_id: str | None = Field(default=None, max_length=36)


class Staff(SQLModel, table=True):
    """A person who signs in to the console: one provider's owner, issuer or viewer, or a programme operator
    (no provider; reads every provider's console)."""

    id: int | None = Field(default=None, primary_key=True)
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True)
    email: str = Field(unique=True, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=10)
    password_hash: str | None = Field(default=None, max_length=200)
    """argon2id; ``None`` until the invitation is accepted."""
    totp_secret: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """The TOTP secret sealed by the vault; ``None`` without a second factor."""
    totp_last_step: int | None = None
    """The last time step whose code was accepted: a code works once."""
    invitation_hash: str | None = Field(default=None, max_length=64, unique=True)
    invitation_expires: datetime | None = Field(default=None, sa_type=UTCDateTime)
    language: str = Field(default="pl", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    second_factor: bool = False
    """False while a password was right but the TOTP code is still to come."""


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for bulk statements that skip per-row ORM work."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table
