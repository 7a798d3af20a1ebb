"""What the console looks up about a provider's issued credentials and its audit log: the search behind the list
and its CSV export, the state of each credential, and the names that turn audit entries into readable lines.

Every query here is bound to one provider: a credential, staff member or audit entry of another is never found.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from issuer.models import AuditEntry, Cohort, Credential, Delivery, SigningKey, Staff

Status = Literal["active", "revoked", "expired"]
STATUSES: tuple[Status, ...] = ("active", "revoked", "expired")
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """A search of the issued credentials; every field left empty matches everything."""

    name: str = ""
    """Part of the learner's name, in any letter case."""
    email_key: str | None = None
    """:meth:`issuer.vault.Vault.email_key` of the address typed: the address itself is never kept."""
    achievement_id: str | None = None
    issued_from: datetime | None = None
    """Issued at or after this moment."""
    issued_before: datetime | None = None
    """Issued before this moment (the day after the last day asked for, at midnight in Lublin)."""
    status: Status | None = None
    cohort_id: str | None = None


@dataclass(frozen=True)
class Found:
    credential: Credential
    delivery: Delivery | None
    """The e-mail to the learner; ``None`` when none was asked for."""


def status_of(record: Credential, now: datetime) -> Status:
    """Revoked before all else, then expired by its ``validUntil``; otherwise active."""
    if record.revoked_at is not None:
        return "revoked"
    if record.valid_until is not None and record.valid_until <= now:
        return "expired"
    return "active"


def search(
    session: Session, provider_id: int, filters: Filters, now: datetime, *, limit: int, offset: int
) -> tuple[list[Found], int]:
    """One page of matches, newest first, and how many match in all."""
    where = _conditions(session, provider_id, filters, now)
    total = session.exec(select(func.count()).select_from(Credential).where(*where)).one()
    query = (
        select(Credential, Delivery)
        .join(Delivery, col(Delivery.credential_id) == col(Credential.id), isouter=True)
        .where(*where)
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
        .limit(limit)
        .offset(offset)
    )
    return [Found(record, delivery) for record, delivery in session.exec(query).all()], int(total)


def every(session: Session, provider_id: int, filters: Filters, now: datetime) -> list[Found]:
    """All matches, newest first (the CSV export)."""
    query = (
        select(Credential, Delivery)
        .join(Delivery, col(Delivery.credential_id) == col(Credential.id), isouter=True)
        .where(*_conditions(session, provider_id, filters, now))
        .order_by(col(Credential.issued_at).desc(), col(Credential.id))
    )
    return [Found(record, delivery) for record, delivery in session.exec(query).all()]


def _conditions(session: Session, provider_id: int, filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [col(Credential.provider_id) == provider_id]
    if filters.name.strip():
        pattern = "%" + _escape_like(filters.name.strip().casefold()) + "%"
        where.append(_folded(session, col(Credential.learner_name)).like(pattern, escape="\\"))
    if filters.email_key is not None:
        where.append(col(Credential.email_key) == filters.email_key)
    if filters.achievement_id is not None:
        where.append(col(Credential.achievement_id) == filters.achievement_id)
    if filters.issued_from is not None:
        where.append(col(Credential.issued_at) >= filters.issued_from)
    if filters.issued_before is not None:
        where.append(col(Credential.issued_at) < filters.issued_before)
    if filters.cohort_id is not None:
        where.append(col(Credential.cohort_id) == filters.cohort_id)
    if filters.status == "revoked":
        where.append(col(Credential.revoked_at).is_not(None))
    elif filters.status == "expired":
        where.append(col(Credential.revoked_at).is_(None))
        where.append(col(Credential.valid_until) <= now)
    elif filters.status == "active":
        where.append(col(Credential.revoked_at).is_(None))
        where.append(or_(col(Credential.valid_until).is_(None), col(Credential.valid_until) > now))
    return where


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


def _folded(session: Session, column: Any) -> Any:
    """The column in lower case, Polish and Ukrainian letters included. SQLite's own ``lower()`` knows only ASCII
    (``Łucja`` would not match ``łucja``), so on SQLite the connection gets Python's ``casefold`` for the query."""
    if session.get_bind().dialect.name != "sqlite":
        return func.lower(column)
    connection: Any = session.connection().connection.dbapi_connection
    connection.create_function("odznaka_fold", 1, _fold, deterministic=True)
    return func.odznaka_fold(column)


def compromised_kids(session: Session, provider_id: int) -> set[str]:
    """The provider's keys reported compromised: credentials signed with them cannot be trusted."""
    query = select(SigningKey.kid).where(SigningKey.provider_id == provider_id, SigningKey.status == "compromised")
    return set(session.exec(query).all())


def credential_names(session: Session, provider_id: int, ids: Collection[str]) -> dict[str, str | None]:
    """Which of ``ids`` are the provider's credentials, with their learners' names."""
    if not ids:
        return {}
    query = select(Credential.id, Credential.learner_name).where(
        Credential.provider_id == provider_id, col(Credential.id).in_(list(ids))
    )
    return {credential_id: name for credential_id, name in session.exec(query).all()}


def delivery(session: Session, credential_id: str) -> Delivery | None:
    return session.get(Delivery, credential_id)


def cohort(session: Session, provider_id: int, cohort_id: str) -> Cohort | None:
    found = session.get(Cohort, cohort_id)
    return found if found is not None and found.provider_id == provider_id else None


def staff_names(session: Session, provider_id: int, ids: Collection[int]) -> dict[int, str]:
    """The names (or, before they joined, the addresses) of those of ``ids`` who are the provider's staff."""
    if not ids:
        return {}
    query = select(Staff.id, Staff.name, Staff.email).where(
        Staff.provider_id == provider_id, col(Staff.id).in_(list(ids))
    )
    return {staff_id: name or email for staff_id, name, email in session.exec(query).all() if staff_id is not None}


def audit_entries(
    session: Session, provider_id: int, action: str | None, *, limit: int, offset: int
) -> tuple[Sequence[AuditEntry], int]:
    """One page of the provider's audit entries (optionally of one action), newest first, and how many in all."""
    where: list[ColumnElement[bool]] = [col(AuditEntry.provider_id) == provider_id]
    if action is not None:
        where.append(col(AuditEntry.action) == action)
    total = session.exec(select(func.count()).select_from(AuditEntry).where(*where)).one()
    query = select(AuditEntry).where(*where).order_by(col(AuditEntry.seq).desc()).limit(limit).offset(offset)
    return session.exec(query).all(), int(total)


def audit_actions(session: Session, provider_id: int) -> list[str]:
    """The actions that occur in the provider's audit entries, for the filter."""
    query = select(AuditEntry.action).where(AuditEntry.provider_id == provider_id).distinct()
    return sorted(session.exec(query).all())
