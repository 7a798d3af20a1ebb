"""The audit checkpoint: the newest entry's sequence number and MAC, keyed, in a file outside the database.

A keyed chain cannot show that its newest entries were deleted, or that the whole log was emptied: what is left
still verifies. The checkpoint can: it is written after every commit that appends (only ever forwards, so a
slower worker never moves it back), and ``issuer audit verify`` demands that the entry it names is still there,
unchanged. Its MAC stops anyone without the server secret from writing an older or invented one. Keep it on
storage the database's administrators cannot rewrite, or copy it elsewhere regularly.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from credentials.hashing import hmac_sha256

if TYPE_CHECKING:
    from issuer.audit import AuditSeal

VERSION = 1
log = logging.getLogger("issuer.audit")


class CheckpointInvalid(Exception):
    """The checkpoint file exists but cannot be read, or its MAC does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str


def _mac(key: bytes, seq: int, entry_hash: str, at: str) -> str:
    content = json.dumps([VERSION, seq, entry_hash, at], separators=(",", ":")).encode()
    return hmac_sha256(key, content).hex()


def read(seal: AuditSeal) -> Checkpoint | None:
    """The checkpoint, or ``None`` when there is none yet. Raises :class:`CheckpointInvalid`."""
    try:
        raw = seal.checkpoint.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointInvalid(f"the checkpoint {seal.checkpoint} cannot be read ({exc.strerror})") from exc
    try:
        document: Any = json.loads(raw)
        seq, entry_hash, at, mac = document["seq"], document["hash"], document["at"], document["mac"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(f"the checkpoint {seal.checkpoint} is not a checkpoint file") from exc
    if not (isinstance(seq, int) and isinstance(entry_hash, str) and isinstance(at, str) and isinstance(mac, str)):
        raise CheckpointInvalid(f"the checkpoint {seal.checkpoint} is not a checkpoint file")
    if _mac(seal.key, seq, entry_hash, at) != mac:
        raise CheckpointInvalid(f"the checkpoint {seal.checkpoint} was not written with this server secret")
    return Checkpoint(seq, entry_hash, at)


@contextmanager
def _locked(seal: AuditSeal) -> Iterator[None]:
    """Serialise writers of the checkpoint (several workers may append at once)."""
    seal.checkpoint.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(seal.checkpoint.with_name(seal.checkpoint.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock_fd)


def advance(seal: AuditSeal, seq: int, entry_hash: str) -> None:
    """Record ``seq``/``entry_hash`` as the newest entry, unless the file already names a newer one.

    The new file replaces the old atomically.
    """
    with _locked(seal):
        try:
            current = read(seal)
        except CheckpointInvalid:
            # Overwriting it would hide whatever it was hiding: leave it for `issuer audit verify` to report,
            # and for an operator to replace with `issuer audit reseal` once the log has been examined.
            log.warning("the audit checkpoint is invalid and was not advanced; run `issuer audit verify`")
            return
        if current is not None and current.seq >= seq:
            return
        _write(seal, seq, entry_hash)


def reseal(seal: AuditSeal, seq: int, entry_hash: str) -> None:
    """Replace the checkpoint with one naming ``seq``/``entry_hash``, whatever it says now (an operator's act)."""
    with _locked(seal):
        _write(seal, seq, entry_hash)


def _write(seal: AuditSeal, seq: int, entry_hash: str) -> None:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    body = {"version": VERSION, "seq": seq, "hash": entry_hash, "at": at, "mac": _mac(seal.key, seq, entry_hash, at)}
    staged = seal.checkpoint.with_name(seal.checkpoint.name + ".new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staged, seal.checkpoint)
