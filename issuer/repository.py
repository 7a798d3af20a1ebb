"""Every query the issuer makes, in one place."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from issuer.db import one_of
from issuer.models import (
    Achievement,
    ApiKey,
    AuditEntry,
    Credential,
    IdempotencyKey,
    Provider,
    SigningKey,
    StatusIndexPool,
    StatusList,
    table_of,
)

PUBLISHED_KEY_STATUSES = ("pending", "active", "retired", "compromised")


def provider_by_slug(session: Session, slug: str) -> Provider | None:
    return session.exec(select(Provider).where(Provider.slug == slug)).first()


def provider_by_id(session: Session, provider_id: int) -> Provider | None:
    return session.get(Provider, provider_id)


def providers(session: Session) -> Sequence[Provider]:
    return session.exec(select(Provider).order_by(col(Provider.slug))).all()


def api_key_by_hash(session: Session, key_hash: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()


def api_keys(session: Session, provider_id: int) -> Sequence[ApiKey]:
    query = select(ApiKey).where(ApiKey.provider_id == provider_id).order_by(col(ApiKey.created_at), col(ApiKey.id))
    return session.exec(query).all()


def signing_keys(session: Session, provider_id: int | None = None) -> Sequence[SigningKey]:
    query = select(SigningKey).where(col(SigningKey.status).in_(PUBLISHED_KEY_STATUSES))
    if provider_id is not None:
        query = query.where(SigningKey.provider_id == provider_id)
    return session.exec(query.order_by(col(SigningKey.id))).all()


def active_signing_key(session: Session, provider_id: int, now: datetime) -> SigningKey | None:
    """The key that signs now: the most recently activated one, unless it is compromised.

    Retirement is for good: compromising the current key never hands signing back to a key it replaced.
    """
    query = (
        select(SigningKey)
        .where(SigningKey.provider_id == provider_id)
        .where(col(SigningKey.activates_at) <= now)
        .order_by(col(SigningKey.activates_at).desc(), col(SigningKey.id).desc())
    )
    newest = session.exec(query).first()
    return newest if newest is not None and newest.status == "active" else None


def achievement(session: Session, provider_id: int, achievement_id: str) -> Achievement | None:
    found = session.get(Achievement, achievement_id)
    return found if found is not None and found.provider_id == provider_id else None


def public_achievement(session: Session, achievement_id: str) -> Achievement | None:
    return session.get(Achievement, achievement_id)


def achievements(session: Session, provider_id: int) -> Sequence[Achievement]:
    query = select(Achievement).where(Achievement.provider_id == provider_id)
    return session.exec(query.order_by(col(Achievement.created_at))).all()


def credential(session: Session, credential_id: str) -> Credential | None:
    return session.get(Credential, credential_id)


def provider_credential(session: Session, provider_id: int, credential_id: str) -> Credential | None:
    found = session.get(Credential, credential_id)
    return found if found is not None and found.provider_id == provider_id else None


def provider_credentials(session: Session, provider_id: int, limit: int, offset: int) -> Sequence[Credential]:
    query = (
        select(Credential)
        .where(Credential.provider_id == provider_id)
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
        .limit(limit)
        .offset(offset)
    )
    return session.exec(query).all()


def unrevoked_credentials(
    session: Session, provider_id: int, *, kid: str | None = None, ids: Sequence[str] | None = None
) -> list[Credential]:
    """The provider's unrevoked credentials, optionally only those signed with ``kid`` or with these ids."""
    query = select(Credential).where(Credential.provider_id == provider_id, col(Credential.revoked_at).is_(None))
    if kid is not None:
        query = query.where(Credential.kid == kid)
    if ids is not None:
        query = query.where(col(Credential.id).in_(ids))
    return list(session.exec(query.order_by(col(Credential.issued_at))).all())


def unrevoked_with_recipient_keys(session: Session, provider_id: int, recipient_keys: Sequence[str]) -> dict[str, str]:
    """Map each recipient key that already has an unrevoked credential to that credential's id."""
    if not recipient_keys:
        return {}
    query = (
        select(Credential.recipient_key, Credential.id)
        .where(Credential.provider_id == provider_id)
        .where(one_of(session, table_of(Credential).c.recipient_key, recipient_keys))
        .where(col(Credential.revoked_at).is_(None))
    )
    return {key: credential_id for key, credential_id in session.exec(query).all()}


def current_status_list(session: Session, provider_id: int) -> StatusList | None:
    query = select(StatusList).where(StatusList.provider_id == provider_id).order_by(col(StatusList.number).desc())
    return session.exec(query).first()


def status_list(session: Session, provider_id: int, number: int) -> StatusList | None:
    query = select(StatusList).where(StatusList.provider_id == provider_id, StatusList.number == number)
    return session.exec(query).first()


def status_lists(session: Session, provider_id: int) -> list[StatusList]:
    query = select(StatusList).where(StatusList.provider_id == provider_id).order_by(col(StatusList.number))
    return list(session.exec(query).all())


def used_status_indexes(session: Session, status_list_id: int, among: Collection[int] | None = None) -> set[int]:
    """Indexes of the list already handed out (only those ``among`` the given ones, when given)."""
    query = select(Credential.status_index).where(Credential.status_list_id == status_list_id)
    if among is not None:
        query = query.where(col(Credential.status_index).in_(among))
    return {index for index in session.exec(query).all() if index is not None}


def revoked_status_indexes(session: Session, status_list_id: int) -> list[int]:
    query = (
        select(Credential.status_index)
        .where(Credential.status_list_id == status_list_id)
        .where(col(Credential.revoked_at).is_not(None))
    )
    return [index for index in session.exec(query).all() if index is not None]


def last_audit_link(session: Session) -> tuple[int, str]:
    """The newest audit entry's sequence number and MAC; ``(0, "")`` for an empty log."""
    query = select(AuditEntry.seq, AuditEntry.hash).order_by(col(AuditEntry.seq).desc()).limit(1)
    found = session.exec(query).first()
    return (found[0], found[1]) if found else (0, "")


def audit_entries_after(session: Session, after_seq: int, limit: int) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(col(AuditEntry.seq) > after_seq).order_by(col(AuditEntry.seq)).limit(limit)
    return session.exec(query).all()


def audit_entry_at(session: Session, seq: int) -> AuditEntry | None:
    return session.exec(select(AuditEntry).where(AuditEntry.seq == seq)).first()


def audit_subjects(session: Session, actions: Collection[str]) -> list[tuple[str, str]]:
    """``(action, subject)`` of every audit entry with one of ``actions``."""
    query = select(AuditEntry.action, AuditEntry.subject).where(col(AuditEntry.action).in_(actions))
    return [(action, subject) for action, subject in session.exec(query).all()]


def credential_states(session: Session) -> list[tuple[str, int | None, int | None, bool]]:
    """``(id, status_list_id, status_index, revoked)`` of every credential."""
    query = select(Credential.id, Credential.status_list_id, Credential.status_index, Credential.revoked_at)
    return [(cid, list_id, index, revoked is not None) for cid, list_id, index, revoked in session.exec(query).all()]


def pool_chunks(session: Session, status_list_id: int, first: int, last: int) -> dict[int, bytes]:
    """Chunks ``first``..``last`` of a list's index pool, by chunk number."""
    query = select(StatusIndexPool.chunk, StatusIndexPool.indexes).where(
        StatusIndexPool.status_list_id == status_list_id,
        col(StatusIndexPool.chunk) >= first,
        col(StatusIndexPool.chunk) <= last,
    )
    return {chunk: indexes for chunk, indexes in session.exec(query).all()}


def has_pool(session: Session, status_list_id: int) -> bool:
    query = select(StatusIndexPool.chunk).where(StatusIndexPool.status_list_id == status_list_id).limit(1)
    return session.exec(query).first() is not None


def idempotency_record(session: Session, provider_id: int, key: str) -> IdempotencyKey | None:
    query = select(IdempotencyKey).where(IdempotencyKey.provider_id == provider_id, IdempotencyKey.key == key)
    return session.exec(query).first()
