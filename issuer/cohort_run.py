"""Issuing a confirmed cohort: the job a worker runs.

Rows go in batches, each in three steps:
1. A short transaction applies the duplicate policy and reserves status-list indexes for the rows that get a
   credential, from the list's shuffled pool, so that nobody is handed them meanwhile.
2. The credentials are built, signed and read back with no transaction open.
3. A second transaction applies the policy again (a learner may have received the badge meanwhile, say through
   the API), stores the credentials with their audit entries and e-mails, and marks every row of the batch done.

A helper thread stores one batch while the next is signed: the database's work (on PostgreSQL another process,
on SQLite code that runs outside Python's lock) overlaps the signing.

A worker that dies leaves every row either issued (its credential stored in the transaction that marked it) or
pending. Indexes reserved for a batch that was never stored stay unused, which costs nothing: the list's bit
stays 0 and no credential names it. The next worker, once the lease has run out, goes on from the first pending
row and issues nothing twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlmodel import Session, col

from credentials.jose import Signer
from issuer import audit, deliveries, repository, status_lists
from issuer.context import IssuerContext
from issuer.db import changed_rows, one_of, update_rows
from issuer.errors import InvalidInput
from issuer.issuance import (
    CredentialRequest,
    CredentialSigner,
    StoredCredential,
    credential_rows,
    draft_of,
    recipient_key,
    record_issued,
)
from issuer.models import Achievement, Cohort, CohortRow, Credential, Provider, StatusList, table_of
from issuer.providers import profile_document

log = logging.getLogger("issuer.cohorts")
BATCH = 1000
"""Rows per batch: large enough that signing, not committing, sets the pace."""
LEASE = timedelta(minutes=2)
"""A worker holds a cohort this long past its last transaction; after that another worker may take it over."""
OUTCOMES = ("issued", "skipped", "failed")


def stalled(ctx: IssuerContext, now: datetime) -> list[str]:
    """Confirmed cohorts that no worker holds: never picked up, or left by a worker that stopped."""
    query = select(col(Cohort.id)).where(
        col(Cohort.state).in_(("queued", "running")),
        (col(Cohort.lease_until).is_(None)) | (col(Cohort.lease_until) < now),
    )
    with ctx.db.read() as session:
        return list(session.scalars(query))


def run(ctx: IssuerContext, cohort_id: str, progress: Callable[[int], object] | None = None) -> None:
    """Issue the cohort's pending rows, batch by batch; returns when none is left or another worker holds it.
    ``progress`` is told how many rows each batch finished."""
    lease = _claim(ctx, cohort_id)
    if lease is None:
        return
    job = _Job.load(ctx, cohort_id, lease)
    try:
        while job.issue_pending(progress):
            pass  # a batch was not stored (the signing key changed meanwhile): its rows are pending, go again
        job.finish()
    except _LeaseLost:
        log.warning("cohort %s: another worker took over after this one's lease ran out", cohort_id)


def _claim(ctx: IssuerContext, cohort_id: str) -> datetime | None:
    """Take the cohort for this worker; returns the lease (its end, which is also this worker's token), or
    ``None`` when it is done or another worker holds it."""
    now = datetime.now(UTC)
    lease = now + LEASE
    table = table_of(Cohort)
    with ctx.db.write() as session:
        claimed = changed_rows(
            session.execute(
                update(table)
                .where(
                    table.c.id == cohort_id,
                    table.c.state.in_(("queued", "running")),
                    (table.c.lease_until.is_(None)) | (table.c.lease_until < now),
                )
                .values(state="running", lease_until=lease)
            )
        )
    return lease if claimed else None


class _LeaseLost(Exception):
    """Another worker took the cohort over (this one's lease ran out): this one stops, changing nothing."""


class _Pending(NamedTuple):
    """A row waiting to be issued (read as plain values: ORM objects for a batch cost more than their rows)."""

    line: int
    data: dict[str, Any] | None


class _Chosen(NamedTuple):
    """A row that gets a credential: its request and its duplicate key."""

    row: _Pending
    request: CredentialRequest
    key: str


@dataclass
class _Batch:
    """A batch between its two transactions: every row's outcome so far, the rows that get a credential with
    their reserved status-list slots, then the credentials signed for them."""

    rows: list[_Pending]
    now: datetime
    kid: str
    signer: Signer
    outcome: dict[int, dict[str, Any]]
    chosen: list[_Chosen]
    slots: list[tuple[StatusList, int]]
    signed: list[tuple[_Chosen, StoredCredential]] = field(default_factory=list)


class _Job:
    """One worker's run of one cohort. Its transactions (the main thread's and the storing thread's) take
    turns, each proving and extending the lease."""

    def __init__(
        self, ctx: IssuerContext, cohort: Cohort, provider: Provider, achievement: Achievement, lease: datetime
    ) -> None:
        assert provider.id is not None
        self.ctx = ctx
        self.cohort = cohort
        self.provider = provider
        self.provider_id = provider.id
        self.achievement = achievement
        self.issuer = profile_document(ctx, provider, with_context=False)
        self.lease = lease
        self._turn = threading.Lock()

    @classmethod
    def load(cls, ctx: IssuerContext, cohort_id: str, lease: datetime) -> _Job:
        with ctx.db.read() as session:
            cohort = session.get(Cohort, cohort_id)
            assert cohort is not None
            provider = session.get(Provider, cohort.provider_id)
            achievement = session.get(Achievement, cohort.achievement_id)
        assert provider is not None and achievement is not None
        return cls(ctx, cohort, provider, achievement, lease)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._turn:
            with self.ctx.db.write(serialize_on=self.provider_id) as session:
                renewed = _renew(session, self.cohort.id, self.lease)
                yield session
            self.lease = renewed

    def issue_pending(self, progress: Callable[[int], object] | None) -> bool:
        """Issue every pending row, signing each batch while the one before is stored; returns ``True`` when a
        batch was not stored and its rows are still pending."""
        again = False
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cohort-store") as storer:
            batch = self.prepare(self.pending(after=None))
            storing: Future[tuple[bool, int]] | None = None
            while batch is not None:
                self.sign(batch)  # meanwhile, the batch before is stored
                if storing is not None:
                    again |= _stored(storing, progress)
                # Prepared while nothing is being stored (the two transactions would only queue for each other).
                upcoming = self.prepare(self.pending(after=batch.rows[-1].line))
                storing = storer.submit(self.store, batch)
                batch = upcoming
            if storing is not None:
                again |= _stored(storing, progress)
        return again

    def pending(self, after: int | None) -> list[_Pending]:
        """The next batch of pending rows: those after line ``after`` (the batch before may still be storing)."""
        table = table_of(CohortRow)
        query = select(table.c.line, table.c.data).where(
            table.c.cohort_id == self.cohort.id, table.c.state == "pending"
        )
        if after is not None:
            query = query.where(table.c.line > after)
        with self.ctx.db.read() as session:
            found = session.execute(query.order_by(table.c.line).limit(BATCH))
            return [_Pending(line, data) for line, data in found]

    def prepare(self, rows: list[_Pending]) -> _Batch | None:
        """The first transaction: each row decided by the policy, status-list slots reserved for those that
        get a credential."""
        if not rows:
            return None
        now = datetime.now(UTC)
        outcome: dict[int, dict[str, Any]] = {}
        candidates = []
        for row in rows:
            try:
                request = _request(self.achievement, row.data or {}, self.cohort.policy)
            except ValidationError as exc:  # checked when the file was read; a rule changed since, say
                problem = exc.errors()[0]
                outcome[row.line] = _not_issuable(str(problem["loc"][-1]), str(problem["msg"]))
                continue
            key = recipient_key(self.ctx.recipient_key, self.achievement.id, request.recipient.email)
            candidates.append(_Chosen(row, request, key))
        with self._transaction() as session:
            chosen = self._apply_policy(session, candidates, outcome)
            kid, signer = self.ctx.signer_for(session, self.provider, now)
            slots = (
                status_lists.allocate(self.ctx, session, self.provider, len(chosen), signer, ahead=True)
                if chosen
                else []
            )
        return _Batch(rows, now, kid, signer, outcome, chosen, slots)

    def sign(self, batch: _Batch) -> None:
        """Sign the chosen rows' credentials, with no transaction open; a row that cannot be signed fails alone."""
        credentials = CredentialSigner(self.ctx, self.provider, batch.kid, batch.signer, batch.now)
        for chosen, slot in zip(batch.chosen, batch.slots, strict=True):
            # Built just before it is signed, and dropped after: a batch never sits in memory as documents.
            draft = draft_of(
                self.ctx,
                self.issuer,
                self.achievement,
                chosen.request,
                batch.now,
                key=chosen.key,
                external_id=_external_id(chosen.row),
                cohort_id=self.cohort.id,
            )
            try:
                record = credentials.sign(draft, slot)
            except InvalidInput as failure:  # too large to sign, say
                named = (failure.fields or [{}])[0]
                where = str(named["field"]) if named.get("field") else None
                batch.outcome[chosen.row.line] = _not_issuable(where, str(named.get("message", failure.message)))
                continue
            batch.signed.append((chosen, record))

    def _apply_policy(
        self, session: Session, candidates: Sequence[_Chosen], outcome: dict[int, dict[str, Any]]
    ) -> list[_Chosen]:
        """The candidates that get a credential; the others' outcome (skipped, or failed) goes into ``outcome``."""
        if self.cohort.policy == "allow" or not candidates:
            return list(candidates)
        held = repository.unrevoked_with_recipient_keys(session, self.provider_id, [found.key for found in candidates])
        external = [found for candidate in candidates if (found := _external_id(candidate.row)) is not None]
        held_external = _held_external(session, self.provider_id, self.achievement.id, external)
        chosen = []
        for candidate in candidates:
            external_id = _external_id(candidate.row)
            existing = held.get(candidate.key) or (held_external.get(external_id) if external_id else None)
            if existing is None:
                chosen.append(candidate)
            elif self.cohort.policy == "skip":
                outcome[candidate.row.line] = {"state": "skipped", "credential_id": existing}
            else:
                outcome[candidate.row.line] = {
                    "state": "failed",
                    "errors": [{"field": "email", "column": None, "code": "already_issued", "params": {}}],
                    "credential_id": existing,
                }
        return chosen

    def store(self, batch: _Batch) -> tuple[bool, int]:
        """The second transaction: store a signed batch and mark its rows done. Returns whether it was stored
        (not when the provider's signing key changed since it was signed) and how many rows it had."""
        with self._transaction() as session:
            kid, _ = self.ctx.signer_for(session, self.provider, datetime.now(UTC))
            if kid != batch.kid:
                return False, len(batch.rows)
            outcome = dict(batch.outcome)
            kept = {chosen.row.line for chosen in self._apply_policy(session, [c for c, _ in batch.signed], outcome)}
            stored = [(chosen, record) for chosen, record in batch.signed if chosen.row.line in kept]
            with credential_rows(session) as rows:
                for _, record in stored:
                    rows.write(vars(record))
            records = [record for _, record in stored]
            record_issued(self.ctx, session, self.provider_id, records, self.cohort.created_by)
            deliveries.queue(
                self.ctx,
                session,
                [
                    deliveries.Addressed(
                        record.id, self.provider_id, chosen.request.recipient.email, chosen.request.language
                    )
                    for chosen, record in stored
                ],
            )
            for chosen, record in stored:
                outcome[chosen.row.line] = {"state": "issued", "credential_id": record.id}
            _record_outcomes(session, self.cohort.id, batch.rows, outcome)
            table = table_of(Cohort)
            tally = {state: sum(1 for value in outcome.values() if value["state"] == state) for state in OUTCOMES}
            session.execute(
                update(table)
                .where(table.c.id == self.cohort.id)
                .values(
                    issued=table.c.issued + tally["issued"],
                    skipped=table.c.skipped + tally["skipped"],
                    failed=table.c.failed + tally["failed"],
                )
            )
        return True, len(batch.rows)

    def finish(self) -> None:
        table = table_of(Cohort)
        cohort = self.cohort
        with self._turn, self.ctx.db.write() as session:
            finished = changed_rows(
                session.execute(
                    update(table)
                    .where(table.c.id == cohort.id, table.c.state == "running", table.c.lease_until == self.lease)
                    .values(state="done", finished_at=datetime.now(UTC), lease_until=None)
                )
            )
            if finished:
                current = session.get(Cohort, cohort.id)
                assert current is not None
                audit.record(
                    session,
                    actor=cohort.created_by,
                    action="cohort.finished",
                    subject=f"cohort:{cohort.id}",
                    provider_id=self.provider_id,
                    details={"issued": current.issued, "failed": current.failed, "skipped": current.skipped},
                )


def _stored(storing: Future[tuple[bool, int]], progress: Callable[[int], object] | None) -> bool:
    """Wait for a batch's store; tell ``progress`` its rows. ``True`` when it was not stored."""
    stored, rows = storing.result()
    if stored and progress is not None:
        progress(rows)
    return not stored


def _renew(session: Session, cohort_id: str, lease: datetime) -> datetime:
    """Inside one of the run's transactions: prove the lease is still this worker's and extend it, or raise
    :class:`_LeaseLost`. Writers of one provider run one after another, so nobody can take it over meanwhile."""
    table = table_of(Cohort)
    renewed = datetime.now(UTC) + LEASE
    held = changed_rows(
        session.execute(
            update(table)
            .where(table.c.id == cohort_id, table.c.state == "running", table.c.lease_until == lease)
            .values(lease_until=renewed)
        )
    )
    if not held:
        raise _LeaseLost
    return renewed


def _request(achievement: Achievement, data: dict[str, Any], policy: str) -> CredentialRequest:
    body: dict[str, Any] = {
        "achievement": achievement.id,
        "recipient": {"name": data["name"], "email": data["email"]},
        "allowDuplicate": policy == "allow",
        "language": data.get("language") or "pl",
    }
    if data.get("narrative"):
        body["narrative"] = data["narrative"]
    if data.get("evidence_url"):
        body["evidence"] = [{"id": data["evidence_url"]}]
    if data.get("result"):
        body["result"] = [{"value": data["result"]}]
    if data.get("valid_until"):
        body["validUntil"] = data["valid_until"]
    return CredentialRequest.model_validate(body)


def _not_issuable(where: str | None, reason: str) -> dict[str, Any]:
    return {
        "state": "failed",
        "errors": [{"field": where, "column": None, "code": "not_issuable", "params": {"reason": reason}}],
    }


def _external_id(row: _Pending) -> str | None:
    value = (row.data or {}).get("external_id")
    return str(value) if value else None


def _held_external(session: Session, provider_id: int, achievement_id: str, external: list[str]) -> dict[str, str]:
    if not external:
        return {}
    query = select(col(Credential.external_id), col(Credential.id)).where(
        col(Credential.provider_id) == provider_id,
        col(Credential.achievement_id) == achievement_id,
        one_of(session, table_of(Credential).c.external_id, external),
        col(Credential.revoked_at).is_(None),
    )
    return {str(external_id): credential_id for external_id, credential_id in session.execute(query)}


def _record_outcomes(
    session: Session, cohort_id: str, rows: Sequence[_Pending], outcome: dict[int, dict[str, Any]]
) -> None:
    """Every row's outcome in one bulk update (an UPDATE per row would cost more than its signature)."""
    update_rows(
        session,
        table_of(CohortRow),
        ("cohort_id", "line"),
        [
            {
                "cohort_id": cohort_id,
                "line": row.line,
                "state": outcome[row.line]["state"],
                "credential_id": outcome[row.line].get("credential_id"),
                "errors": outcome[row.line].get("errors"),
                # The e-mail goes: the delivery holds it, sealed, for as long as it is needed.
                "data": {key: value for key, value in (row.data or {}).items() if key != "email"},
            }
            for row in rows
        ],
    )
