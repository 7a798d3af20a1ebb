"""The tamper-evident audit log: append-only, each entry's hash commits to the previous one.

Entries hold actions, ids and key ids only: never personal data (no learner names or e-mails, no revocation
reasons, which are free text) and never secrets. ``verify_chain`` recomputes every link and names the first
that does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session

from credentials.hashing import sha256_hex
from issuer import repository
from issuer.models import AuditEntry, table_of, utcnow

_AUDIT_LOCK = 0x6F647A61  # any fixed number; every PostgreSQL transaction that appends takes this lock


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the entry's content, in a canonical JSON form."""
    content = [
        prev_hash,
        entry["at"].isoformat(),
        entry["provider_id"],
        entry["actor"],
        entry["action"],
        entry["subject"],
        entry["details"],
    ]
    return sha256_hex(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in ("at", "provider_id", "actor", "action", "subject", "details")}


class AuditTrail:
    """Appends entries within one transaction, chaining them in memory after reading the last hash once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pending: list[dict[str, Any]] = []
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            # One appender at a time, or two transactions would both chain onto the same last entry.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        self._last_hash = repository.last_audit_hash(session)
        # Entries are written in one statement when the transaction commits (see Database.write).
        session.info.setdefault("before_commit", []).append(self.flush)

    def record(
        self, *, actor: str, action: str, subject: str, provider_id: int | None, details: dict[str, Any] | None = None
    ) -> None:
        entry: dict[str, Any] = {
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "provider_id": provider_id,
            "details": details or {},
            "prev_hash": self._last_hash,
        }
        entry["hash"] = self._last_hash = entry_hash(self._last_hash, entry)
        self._pending.append(entry)

    def flush(self) -> None:
        if self._pending:
            self._session.execute(insert(table_of(AuditEntry)), self._pending)
            self._pending = []


def trail(session: Session) -> AuditTrail:
    """The transaction's audit trail (created on first use)."""
    found = session.info.get("audit_trail")
    if found is None:
        found = session.info["audit_trail"] = AuditTrail(session)
    assert isinstance(found, AuditTrail)
    return found


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    provider_id: int | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append to the hash-chained audit log within the session's transaction."""
    trail(session).record(actor=actor, action=action, subject=subject, provider_id=provider_id, details=details)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken: int | None
    reason: str | None


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Recompute the chain from the first entry; report the first entry whose link does not hold."""
    previous = ""
    count = 0
    last_id = 0
    while True:
        rows = repository.audit_entries_after(session, last_id, batch)
        if not rows:
            return ChainReport(count, None, None)
        for entry in rows:
            assert entry.id is not None
            if entry.prev_hash != previous:
                return ChainReport(count, entry.id, "its prev_hash is not the hash of the entry before it")
            if entry_hash(previous, _content(entry)) != entry.hash:
                return ChainReport(count, entry.id, "its content does not match its hash")
            previous = entry.hash
            count += 1
            last_id = entry.id
