"""The tamper-evident audit log: append-only, each entry keyed to the one before it.

Entries hold actions, ids and key ids only: never personal data (no learner names or e-mails, no revocation
reasons, which are free text) and never secrets.

Each entry carries a sequence number and an HMAC, under a key derived from the server secret (kept outside the
database), over its content and the previous entry's MAC. Someone with the database but not the secret can
therefore neither edit an entry and re-chain the rest nor append a forged one. What a chain alone cannot show,
a shortened or emptied log, is caught by the checkpoint (:mod:`issuer.audit_checkpoint`): after every commit
that appends, the newest sequence number and MAC are written, keyed, to a file outside the database.
Entries written before the chain was keyed (plain SHA-256) are still checked; the first keyed entry seals them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text
from sqlmodel import Session

from credentials.hashing import hmac_sha256, sha256_hex
from issuer import audit_checkpoint, repository
from issuer.db import insert_rows
from issuer.errors import ConfigurationError
from issuer.models import AuditEntry, table_of, utcnow

_AUDIT_LOCK = 0x6F647A61  # any fixed number; every PostgreSQL transaction that appends takes this lock
KEY_PURPOSE = "odznaka audit chain v1"


@dataclass(frozen=True)
class AuditSeal:
    """The audit key (derived from the server secret) and where the checkpoint outside the database lives."""

    key: bytes
    checkpoint: Path


def _canonical(content: list[Any]) -> bytes:
    """Compact JSON with sorted keys and unescaped Unicode: what links each entry to the chain. For text, integers,
    booleans, null, lists and maps with text keys, orjson writes the very bytes the standard library writes,
    several times faster; anything else (a float, whose exponent it writes differently, a subclass, an integer
    beyond 64 bits, a cycle) is left to the standard library, which writes it or refuses it as it always has."""
    if _plain(content):
        try:
            return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            pass
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _plain(content: Any) -> bool:
    """Whether ``content`` holds nothing but values of exactly those types (and no container twice)."""
    seen: set[int] = set()
    waiting = [content]
    while waiting:
        item = waiting.pop()
        kind = type(item)
        if item is None or kind is str or kind is int or kind is bool:
            continue
        if kind is not dict and kind is not list and kind is not tuple:
            return False
        if id(item) in seen:
            return False
        seen.add(id(item))
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            waiting.extend(item.values())
        else:
            waiting.extend(item)
    return True


def _fields(entry: Mapping[str, Any]) -> list[Any]:
    return [
        entry["at"].isoformat(),
        entry["provider_id"],
        entry["actor"],
        entry["action"],
        entry["subject"],
        entry["details"],
    ]


def entry_mac(key: bytes, prev_hash: str, entry: Mapping[str, Any]) -> str:
    """HMAC-SHA256 over the sequence number, the previous entry's MAC and this entry's content."""
    return hmac_sha256(key, _canonical([entry["seq"], prev_hash, *_fields(entry)])).hex()


def legacy_entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 link of entries written before the chain was keyed."""
    return sha256_hex(_canonical([prev_hash, *_fields(entry)]))


def content_of(entry: AuditEntry) -> dict[str, Any]:
    names = ("seq", "at", "provider_id", "actor", "action", "subject", "details")
    return {name: getattr(entry, name) for name in names}


class AuditTrail:
    """Appends entries within one transaction, chaining them in memory after reading the last entry once."""

    def __init__(self, session: Session, seal: AuditSeal) -> None:
        self._session = session
        self._seal = seal
        self._pending: list[dict[str, Any]] = []
        self._written = False
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":
            # One appender at a time, or two transactions would both chain onto the same last entry.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        self._last_seq, self._last_hash = repository.last_audit_link(session)
        # Entries are written in one statement just before the transaction commits, and the checkpoint just after
        # (see Database.write), so the checkpoint never names an entry that was rolled back.
        session.info.setdefault("before_commit", []).append(self.flush)
        session.info.setdefault("after_commit", []).append(self.checkpoint)

    def record(
        self, *, actor: str, action: str, subject: str, provider_id: int | None, details: dict[str, Any] | None = None
    ) -> None:
        self._last_seq += 1
        entry: dict[str, Any] = {
            "seq": self._last_seq,
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "provider_id": provider_id,
            "details": details or {},
            "prev_hash": self._last_hash,
            "keyed": True,
        }
        entry["hash"] = self._last_hash = entry_mac(self._seal.key, self._last_hash, entry)
        self._pending.append(entry)

    def flush(self) -> None:
        if self._pending:
            insert_rows(self._session, table_of(AuditEntry), self._pending)
            self._pending = []
            self._written = True

    def checkpoint(self) -> None:
        if self._written:
            audit_checkpoint.advance(self._seal, self._last_seq, self._last_hash)


def trail(session: Session) -> AuditTrail:
    """The transaction's audit trail (created on first use). Raises :class:`ConfigurationError` without a seal."""
    found = session.info.get("audit_trail")
    if found is None:
        seal = session.info.get("audit_seal")
        if not isinstance(seal, AuditSeal):
            raise ConfigurationError("The audit log can only be written through Database.write() with its seal.")
        found = session.info["audit_trail"] = AuditTrail(session, seal)
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
    """Append to the keyed, hash-chained audit log within the session's transaction."""
    trail(session).record(actor=actor, action=action, subject=subject, provider_id=provider_id, details=details)
