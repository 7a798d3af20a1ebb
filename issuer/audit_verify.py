"""``issuer audit verify``: the chain, the checkpoint, and revocations reconciled with the status lists.

Every disagreement is named, not only the first: a keyed link that does not verify, a gap in the sequence, an
unkeyed entry after keyed ones, a checkpoint the log no longer reaches, and any credential whose revocation,
status bit and audit entries do not tell the same story (a revocation cleared in the database shows here even
though its bit stays set in the served list).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session

from credentials import status_list
from issuer import audit_checkpoint, repository
from issuer.audit import AuditSeal, content_of, entry_mac, legacy_entry_hash
from issuer.models import AuditEntry, StatusList
from issuer.status_lists import published_bits
from issuer.urls import last_segment

BATCH = 5000
ISSUED = ("credential.issued",)
REVOKED = ("credential.revoked", "credential.reissued")
MAX_NAMED = 50
"""Problems of one kind listed one by one; beyond this they are counted."""


@dataclass
class AuditReport:
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, seal: AuditSeal) -> AuditReport:
    """Check everything this module checks; an empty ``problems`` list means the log and the lists agree."""
    report = AuditReport()
    head = _check_chain(session, seal, report)
    _check_checkpoint(session, seal, report, head)
    _reconcile(session, report)
    return report


def _check_chain(session: Session, seal: AuditSeal, report: AuditReport) -> tuple[int, str, bool]:
    """Walk the entries in sequence order; return the newest (seq, MAC) and whether any entry was keyed."""
    previous_seq, previous_hash, keyed_seen = 0, "", False
    while True:
        rows = repository.audit_entries_after(session, previous_seq, BATCH)
        if not rows:
            return previous_seq, previous_hash, keyed_seen
        for entry in rows:
            _check_entry(entry, previous_seq, previous_hash, keyed_seen, seal, report)
            keyed_seen = keyed_seen or entry.keyed
            previous_seq, previous_hash = entry.seq, entry.hash
            report.entries += 1


def _check_entry(
    entry: AuditEntry, previous_seq: int, previous_hash: str, keyed_seen: bool, seal: AuditSeal, report: AuditReport
) -> None:
    where = f"audit entry {entry.seq}"
    if entry.seq != previous_seq + 1:
        report.problems.append(f"{where}: entries {previous_seq + 1}–{entry.seq - 1} are missing")
    if entry.prev_hash != previous_hash:
        report.problems.append(f"{where}: it does not follow on from the entry before it (the chain is broken)")
    content = content_of(entry)
    if entry.keyed:
        if entry_mac(seal.key, entry.prev_hash, content) != entry.hash:
            report.problems.append(f"{where}: its MAC does not verify (edited, or not written by this service)")
    elif keyed_seen:
        report.problems.append(f"{where}: an unkeyed entry after keyed ones (inserted without the server secret)")
    elif legacy_entry_hash(entry.prev_hash, content) != entry.hash:
        report.problems.append(f"{where}: its content does not match its hash")


def _check_checkpoint(session: Session, seal: AuditSeal, report: AuditReport, head: tuple[int, str, bool]) -> None:
    head_seq, _head_hash, keyed_seen = head
    try:
        checkpoint = audit_checkpoint.read(seal)
    except audit_checkpoint.CheckpointInvalid as exc:
        report.problems.append(f"checkpoint: {exc}")
        return
    if checkpoint is None:
        if keyed_seen:
            report.problems.append(
                f"checkpoint: {seal.checkpoint} is missing, though keyed entries exist (deleted or moved?)"
            )
        return
    if head_seq < checkpoint.seq:
        report.problems.append(
            f"checkpoint: it names entry {checkpoint.seq} (of {checkpoint.at}), but the log ends at entry "
            f"{head_seq}: entries were deleted from the end"
        )
        return
    named = repository.audit_entry_at(session, checkpoint.seq)
    if named is None or named.hash != checkpoint.hash:
        report.problems.append(
            f"checkpoint: entry {checkpoint.seq} is not the one the checkpoint of {checkpoint.at} recorded "
            "(the log was rewritten)"
        )


def _reconcile(session: Session, report: AuditReport) -> None:
    """Credentials, their status bits and their audit entries must tell the same story."""
    issued = {last_segment(subject) for _, subject in repository.audit_subjects(session, ISSUED)}
    revoked_in_log = {last_segment(subject) for _, subject in repository.audit_subjects(session, REVOKED)}
    lists = {listed.id: listed for listed in _all_lists(session) if listed.id is not None}
    bits: dict[int, bytes] = {}
    for row_id, listed in lists.items():
        try:
            bits[row_id] = bytes(published_bits(listed))
        except (ValueError, KeyError, TypeError, status_list.StatusListError):
            report.problems.append(f"status list {listed.number} of provider {listed.provider_id}: cannot be read")
    found: dict[str, list[str]] = defaultdict(list)
    held: dict[int, set[int]] = defaultdict(set)
    known = set()
    for credential_id, list_id, index, revoked in repository.credential_states(session):
        known.add(credential_id)
        bit_set = None
        if list_id is not None and index is not None:
            held[list_id].add(index)
            if list_id in bits:
                bit_set = status_list.bit(bits[list_id], index)
        if credential_id not in issued:
            found["no issuance entry in the audit log"].append(credential_id)
        if revoked and credential_id not in revoked_in_log:
            found["revoked in the database without a revocation entry in the audit log"].append(credential_id)
        if credential_id in revoked_in_log and not revoked:
            found["the audit log records its revocation, but the database says it is not revoked"].append(credential_id)
        if revoked and bit_set is False:
            found["revoked, but its status bit is clear: verifiers would call it valid"].append(credential_id)
        if not revoked and bit_set is True:
            found["its status bit is set, but the database says it is not revoked"].append(credential_id)
    for credential_id in sorted((issued | revoked_in_log) - known):
        found["named in the audit log, but the database no longer holds it"].append(credential_id)
    for row_id, bitstring in bits.items():
        orphans = [index for index in _set_bits(bitstring) if index not in held[row_id]]
        if orphans:
            listed = lists[row_id]
            found[f"status list {listed.number} of provider {listed.provider_id}: bits set for no credential"].extend(
                str(index) for index in orphans
            )
    for problem, subjects in found.items():
        shown = ", ".join(subjects[:MAX_NAMED]) + (
            f" and {len(subjects) - MAX_NAMED} more" if len(subjects) > MAX_NAMED else ""
        )
        report.problems.append(f"{problem}: {shown}")


def _all_lists(session: Session) -> list[StatusList]:
    return [
        listed
        for provider in repository.providers(session)
        if provider.id
        for listed in repository.status_lists(session, provider.id)
    ]


def _set_bits(bitstring: bytes) -> list[int]:
    return [
        byte_index * 8 + offset
        for byte_index, byte in enumerate(bitstring)
        if byte
        for offset in range(8)
        if byte & (0x80 >> offset)
    ]
