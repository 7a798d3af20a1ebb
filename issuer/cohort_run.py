"""Issuing a confirmed cohort: the job a worker runs.

Rows go in batches, each in three steps:
1. The rows are read and looked up under the duplicate policy; a short transaction reserves status-list indexes
   for those that get a credential, from the list's shuffled pool, so that nobody is handed them meanwhile.
2. The credentials are built, signed and read back with no transaction open, in the signing process beside the
   worker (:mod:`issuer.batch_signing`) or in the worker itself.
3. A second transaction applies the policy again, and that decides (a learner may have received the badge
   meanwhile, say through the API, or from an earlier row of the file), stores the credentials with their audit
   entries and e-mails, and marks every row of the batch done.

One batch is stored (by a helper thread) while the next is signed and the one after it read.

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
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from credentials.jose import Signer
from issuer import audit, batch_signing, deliveries, repository, status_lists
from issuer.context import IssuerContext
from issuer.db import changed_rows, one_of, update_rows
from issuer.issuance import (
    Award,
    CredentialRequest,
    Slot,
    StoredCredential,
    credential_rows,
    recipient_key,
    record_issued,
)
from issuer.models import Achievement, Cohort, CohortRow, Credential, Provider, table_of
from issuer.providers import profile_document

log = logging.getLogger("issuer.cohorts")
BATCH = 1000
"""Rows per batch at most: large enough that signing, not committing, sets the pace."""
FIRST_BATCH = 200
"""Rows in the first batch (and the fewest in any but the last): small, so that signing and storing start at
once."""
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
            pass  # rows were left pending (see issue_pending): go again
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
    """A row that gets a credential: its request and its keyed digests (the duplicate key, the e-mail's)."""

    row: _Pending
    request: CredentialRequest
    key: str
    email_key: str


class _Read(NamedTuple):
    """A batch's rows read: the outcome of those that get no credential, the others' requests, and those the
    duplicate policy turned away (looked at again when the batch is stored)."""

    rows: list[_Pending]
    outcome: dict[int, dict[str, Any]]
    chosen: list[_Chosen]
    turned_away: list[_Chosen]


@dataclass
class _Batch:
    """A batch between its two transactions: every row's outcome so far, the rows that get a credential (with
    what they are signed from: their reserved status-list slots), then the credentials signed for them."""

    rows: list[_Pending]
    signer: Signer
    outcome: dict[int, dict[str, Any]]
    chosen: dict[int, _Chosen]
    turned_away: list[_Chosen]
    to_sign: batch_signing.Batch
    signed: list[tuple[_Chosen, StoredCredential]] = field(default_factory=list)
    outbox: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The e-mail of each signed credential, by its id, ready to be written."""

    @property
    def kid(self) -> str:
        return self.to_sign.kid


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
        self.award = Award.of(achievement)
        self.issuer = profile_document(ctx, provider, with_context=False)
        self.lease = lease
        self._turn = threading.Lock()
        self._left = 0
        """Pending rows not yet read into a batch."""

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
        """Issue every pending row, signing each batch while the one before is stored; returns ``True`` when rows
        are left pending (a batch signed just before a key rotation, or a row the policy let through only when its
        batch was stored)."""
        again = False
        self._left = self._count_pending()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cohort-store") as storer:
            batch = self.reserve(self.read(self.pending(after=None)))
            signing = self.hand_over(batch)
            if batch is not None and signing is None:
                self.sign_here(batch)
            storing: Future[_Stored] | None = None
            while batch is not None:
                # Meanwhile the batch is signed in the signing process (or it was, here), the one before stored.
                upcoming = self.read(self.pending(after=batch.rows[-1].line))
                if storing is not None:
                    again |= _stored(storing, progress)
                # Reserved while nothing is being stored (the two transactions would only queue for each other).
                batch_after = self.reserve(upcoming)
                signing_after = self.hand_over(batch_after)  # the process goes on to it as soon as it is done
                self.take_back(batch, signing)
                storing = storer.submit(self.store, batch)
                if batch_after is not None and signing_after is None:
                    self.sign_here(batch_after)  # while the batch before is stored
                batch, signing = batch_after, signing_after
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
        size = batch_size(self._left, first=after is None)
        with self.ctx.db.read() as session:
            found = [_Pending(line, data) for line, data in session.execute(query.order_by(table.c.line).limit(size))]
        self._left -= len(found)
        return found

    def _count_pending(self) -> int:
        table = table_of(CohortRow)
        query = select(func.count()).where(table.c.cohort_id == self.cohort.id, table.c.state == "pending")
        with self.ctx.db.read() as session:
            return int(session.scalar(query) or 0)

    def read(self, rows: list[_Pending]) -> _Read | None:
        """Each row's request and duplicate key, and the rows the policy lets through (no write transaction: done
        while the batch before is stored)."""
        if not rows:
            return None
        outcome: dict[int, dict[str, Any]] = {}
        candidates = []
        for row in rows:
            try:
                request = batch_signing.request_for(self.achievement.id, row.data or {}, self.cohort.policy)
            except ValidationError as exc:  # checked when the file was read; a rule changed since, say
                problem = exc.errors()[0]
                outcome[row.line] = _not_issuable(str(problem["loc"][-1]), str(problem["msg"]))
                continue
            email = request.recipient.email
            key = recipient_key(self.ctx.recipient_key, self.achievement.id, email)
            candidates.append(_Chosen(row, request, key, self.ctx.vault.email_key(email)))
        # A first look, so that rows the policy turns away are not signed; it is applied again when the batch is
        # stored, and that decides.
        with self.ctx.db.read() as session:
            chosen = self._apply_policy(session, candidates, outcome)
        turned_away = [candidate for candidate in candidates if candidate.row.line in outcome]
        return _Read(rows, outcome, chosen, turned_away)

    def reserve(self, read: _Read | None) -> _Batch | None:
        """The first transaction: status-list slots reserved for the rows that get a credential."""
        if read is None:
            return None
        rows, outcome, chosen, turned_away = read
        now = datetime.now(UTC)
        with self._transaction() as session:
            kid, signer = self.ctx.signer_for(session, self.provider, now)
            slots = (
                status_lists.allocate(self.ctx, session, self.provider, len(chosen), signer, ahead=True)
                if chosen
                else []
            )
        to_sign = batch_signing.Batch(
            self.ctx.urls,
            self.provider_id,
            self.provider.slug,
            kid,
            now,
            self.issuer,
            self.award,
            self.cohort.id,
            self.cohort.policy,
            [
                batch_signing.Row(
                    row.row.line, row.row.data or {}, row.key, row.email_key, _external_id(row.row), Slot.of(*slot)
                )
                for row, slot in zip(chosen, slots, strict=True)
            ],
        )
        return _Batch(rows, signer, outcome, {row.row.line: row for row in chosen}, turned_away, to_sign)

    @staticmethod
    def hand_over(batch: _Batch | None) -> batch_signing.Handed | None:
        """Give the batch to the signing process, if it takes it (see :mod:`issuer.batch_signing`)."""
        return batch_signing.process.hand_over(batch.to_sign, batch.signer) if batch is not None else None

    def take_back(self, batch: _Batch, handed: batch_signing.Handed | None) -> None:
        """Wait for the batch the signing process took (if it did); should it not sign it, sign it here."""
        if handed is None:
            return
        done = batch_signing.process.take_back(handed)
        if done is None:
            self.sign_here(batch)
        else:
            self._take(batch, done)

    def sign_here(self, batch: _Batch) -> None:
        """Sign the batch in this process, with no transaction open."""
        self._take(batch, batch_signing.sign(batch.to_sign, batch.signer))

    def _take(self, batch: _Batch, done: list[batch_signing.Signed | batch_signing.Unsigned]) -> None:
        """The signed credentials, with their e-mails made ready here rather than in the store's transaction."""
        for result in done:
            if isinstance(result, batch_signing.Signed):
                batch.signed.append((batch.chosen[result.line], result.record))
            else:
                batch.outcome[result.line] = _not_issuable(result.field, result.reason)
        mail = deliveries.outbox_rows(
            self.ctx,
            [
                deliveries.Addressed(
                    record.id, self.provider_id, chosen.request.recipient.email, chosen.request.language
                )
                for chosen, record in batch.signed
            ],
        )
        batch.outbox = {row["credential_id"]: row for row in mail}

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

    def store(self, batch: _Batch) -> _Stored:
        """The second transaction: store a signed batch and mark its rows done. Nothing is stored when the
        provider's signing key changed since the batch was signed. A row the policy turned away when it was read
        but lets through now (the credential it pointed to was revoked meanwhile) is left pending for the next
        pass."""
        with self._transaction() as session:
            kid, _ = self.ctx.signer_for(session, self.provider, datetime.now(UTC))
            if kid != batch.kid:
                return _Stored(0, again=True)
            outcome = dict(batch.outcome)
            for candidate in batch.turned_away:
                del outcome[candidate.row.line]
            released = {candidate.row.line for candidate in self._apply_policy(session, batch.turned_away, outcome)}
            kept = {chosen.row.line for chosen in self._apply_policy(session, [c for c, _ in batch.signed], outcome)}
            stored = [(chosen, record) for chosen, record in batch.signed if chosen.row.line in kept]
            records = [record for _, record in stored]
            with credential_rows(session) as rows:
                for record in records:
                    rows.write(vars(record))
            # The audit chain's lock (one for the whole issuer) is taken from here to the commit.
            record_issued(self.ctx, session, self.provider_id, records, self.cohort.created_by)
            deliveries.queue_rows(self.ctx, session, [batch.outbox[record.id] for record in records])
            for chosen, record in stored:
                outcome[chosen.row.line] = {"state": "issued", "credential_id": record.id}
            done = [row for row in batch.rows if row.line not in released]
            update_rows(
                session, table_of(CohortRow), ("cohort_id", "line"), _outcome_rows(self.cohort.id, done, outcome)
            )
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
        return _Stored(len(done), again=bool(released))

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


def batch_size(left: int, *, first: bool) -> int:
    """How many of the ``left`` pending rows the next batch takes: :data:`FIRST_BATCH` first, so that signing
    and storing start at once; then half of what is left, up to :data:`BATCH`, so that the last batch, whose
    storing nothing overlaps, is short; a few left go together. (The rows found may be fewer, if another worker
    took over meanwhile.)"""
    if left <= 2 * FIRST_BATCH:
        return max(1, left)
    return FIRST_BATCH if first else min(BATCH, left // 2)


class _Stored(NamedTuple):
    """What a batch's store did: how many rows it finished, and whether rows are left pending for another pass."""

    rows: int
    again: bool


def _stored(storing: Future[_Stored], progress: Callable[[int], object] | None) -> bool:
    """Wait for a batch's store; tell ``progress`` the rows it finished. ``True`` when rows are left pending."""
    stored = storing.result()
    if stored.rows and progress is not None:
        progress(stored.rows)
    return stored.again


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


def _outcome_rows(cohort_id: str, rows: Sequence[_Pending], outcome: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row's outcome, for one bulk update (an UPDATE per row would cost more than its signature)."""
    return [
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
    ]
