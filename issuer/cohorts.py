"""Cohorts: a participant file read and checked row by row, previewed, confirmed, then issued by a job.

Nothing is issued before the preview is confirmed. The same file uploaded again for the same achievement finds
its first cohort instead of making a second. A confirmed cohort is issued in batches, each one transaction that
signs and stores the batch's credentials, queues their e-mails and marks the rows done, so a worker that dies
leaves every row either issued (with its credential) or pending; the next worker, after the lease runs out,
goes on from the first pending row and issues nothing twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from credentials.hashing import sha256_hex
from http_edge.language import LOCAL_TIME_ZONE
from issuer import audit, deliveries, repository
from issuer.cohort_file import FileRejected, Problem, Row, export_csv, read_sheet
from issuer.context import IssuerContext
from issuer.db import changed_rows, insert_rows, update_rows
from issuer.errors import InvalidInput, NotFound
from issuer.issuance import CredentialRequest, Signing, draft_of, recipient_key
from issuer.models import Achievement, Cohort, CohortRow, Credential, Provider, table_of
from issuer.providers import profile_document

log = logging.getLogger("issuer.cohorts")
POLICIES = ("skip", "allow", "refuse")
"""For a learner who already holds the achievement: skip the row, issue another, or fail the row."""
BATCH = 1000
"""Rows per transaction: large enough that signing, not committing, sets the pace."""
LEASE = timedelta(minutes=2)
"""A worker holds a cohort this long past its last batch; after that another worker may take it over."""
OUTCOMES = ("issued", "skipped", "failed")


@dataclass(frozen=True)
class Submitter:
    """Who uploads and confirms: a provider and the actor the audit log names (``staff:7``, ``api-key:odz_…``)."""

    provider: Provider
    actor: str

    @property
    def provider_id(self) -> int:
        assert self.provider.id is not None
        return self.provider.id


class UnusableFile(InvalidInput):
    """The whole file cannot be used; ``problem`` says why in each language."""

    def __init__(self, problem: Problem) -> None:
        message = problem.message("en")
        super().__init__(message, fields=[{"field": "file", "message": message, "code": problem.code}])
        self.problem = problem


@dataclass(frozen=True)
class Upload:
    cohort: Cohort
    existing: bool
    """True when this file had been uploaded before: the first cohort is returned, nothing new is made."""


def _today() -> date:
    return datetime.now(UTC).astimezone(LOCAL_TIME_ZONE).date()


def _row_data(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "email": row.email,
        "external_id": row.external_id,
        "narrative": row.narrative,
        "evidence_url": row.evidence_url,
        "result": row.result,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "language": row.language,
    }


def _problem_data(problem: Problem) -> dict[str, Any]:
    return {"field": problem.field, "column": problem.column, "code": problem.code, "params": problem.params}


def problem_of(line: int, data: dict[str, Any]) -> Problem:
    return Problem(line, data.get("field"), data.get("column"), data["code"], dict(data.get("params") or {}))


def upload(
    ctx: IssuerContext,
    submitter: Submitter,
    achievement_id: str,
    data: bytes,
    filename: str,
    *,
    policy: str = "skip",
) -> Upload:
    """Read and check the file and keep it as a cohort awaiting confirmation.

    Raises :class:`NotFound` for an achievement the provider does not own (or that is archived) and
    :class:`InvalidInput` for a file that cannot be used at all (its message names why) or an unknown policy.
    """
    if policy not in POLICIES:
        raise InvalidInput(
            "Unknown duplicate policy.", fields=[{"field": "policy", "message": f"choose {', '.join(POLICIES)}"}]
        )
    with ctx.db.read() as session:
        achievement = _achievement(session, submitter.provider_id, achievement_id)
    file_hash = sha256_hex(data)
    with ctx.db.read() as session:
        found = _by_hash(session, submitter.provider_id, achievement.id, file_hash)
    if found is not None:
        return Upload(found, existing=True)
    try:
        sheet = read_sheet(data, filename, today=_today())
    except FileRejected as rejected:
        raise UnusableFile(rejected.problem) from rejected
    cohort = Cohort(
        id=str(uuid.uuid4()),
        provider_id=submitter.provider_id,
        achievement_id=achievement.id,
        file_hash=file_hash,
        filename=filename[:255] or "cohort.csv",
        policy=policy,
        total=sheet.total,
        created_by=submitter.actor,
    )
    problems: dict[int, list[dict[str, Any]]] = {}
    for problem in sheet.problems:
        if problem.line is not None:
            problems.setdefault(problem.line, []).append(_problem_data(problem))
    rows = [
        {"cohort_id": cohort.id, "line": row.line, "data": _row_data(row), "state": "pending", "errors": None}
        for row in sheet.rows
    ] + [
        {"cohort_id": cohort.id, "line": line, "data": None, "state": "invalid", "errors": errors}
        for line, errors in problems.items()
    ]
    with ctx.db.write(serialize_on=submitter.provider_id) as session:
        found = _by_hash(session, submitter.provider_id, achievement.id, file_hash)
        if found is not None:  # the same file, uploaded twice at once
            return Upload(found, existing=True)
        session.add(cohort)
        session.flush()
        if rows:
            insert_rows(session, table_of(CohortRow), rows)
        audit.record(
            session,
            actor=submitter.actor,
            action="cohort.uploaded",
            subject=f"cohort:{cohort.id}",
            provider_id=submitter.provider_id,
            details={"achievement": achievement.id, "rows": sheet.total, "invalid": len(problems)},
        )
    return Upload(cohort, existing=False)


def _achievement(session: Session, provider_id: int, reference: str) -> Achievement:
    found = repository.achievement(session, provider_id, reference.rstrip("/").rsplit("/", 1)[-1])
    if found is None or found.archived_at is not None:
        raise NotFound(
            "There is no such achievement for this provider (or it was archived or replaced by a new version).",
            fields=[{"field": "achievement", "message": "not found"}],
        )
    return found


def _by_hash(session: Session, provider_id: int, achievement_id: str, file_hash: str) -> Cohort | None:
    query = select(Cohort).where(
        col(Cohort.provider_id) == provider_id,
        col(Cohort.achievement_id) == achievement_id,
        col(Cohort.file_hash) == file_hash,
    )
    return session.scalars(query).first()


def get(ctx: IssuerContext, provider_id: int | None, cohort_id: str) -> Cohort:
    """The cohort; ``provider_id=None`` for the programme operator. Raises :class:`NotFound` otherwise."""
    with ctx.db.read() as session:
        cohort = session.get(Cohort, cohort_id)
    if cohort is None or (provider_id is not None and cohort.provider_id != provider_id):
        raise NotFound("There is no such cohort for this provider.")
    return cohort


def cohorts(ctx: IssuerContext, provider_id: int | None, limit: int = 50) -> list[Cohort]:
    query = select(Cohort).order_by(col(Cohort.created_at).desc()).limit(limit)
    if provider_id is not None:
        query = query.where(col(Cohort.provider_id) == provider_id)
    with ctx.db.read() as session:
        return list(session.scalars(query))


def confirm(ctx: IssuerContext, submitter: Submitter, cohort_id: str, policy: str | None = None) -> Cohort:
    """Start issuing a previewed cohort (its valid rows; the invalid ones are reported as failed). Confirming
    a cohort that is already under way or done changes nothing."""
    if policy is not None and policy not in POLICIES:
        raise InvalidInput(
            "Unknown duplicate policy.", fields=[{"field": "policy", "message": f"choose {', '.join(POLICIES)}"}]
        )
    with ctx.db.write(serialize_on=submitter.provider_id) as session:
        cohort = _own(session, submitter, cohort_id)
        if cohort.state not in ("preview", "cancelled"):
            return cohort
        invalid = session.scalar(
            select(func.count()).where(col(CohortRow.cohort_id) == cohort_id, col(CohortRow.state) == "invalid")
        )
        cohort.state = "queued"
        cohort.policy = policy or cohort.policy
        cohort.confirmed_at = datetime.now(UTC)
        cohort.failed = int(invalid or 0)
        session.add(cohort)
        audit.record(
            session,
            actor=submitter.actor,
            action="cohort.confirmed",
            subject=f"cohort:{cohort.id}",
            provider_id=submitter.provider_id,
            details={"policy": cohort.policy},
        )
        session.info.setdefault("after_commit", []).append(lambda: ctx.jobs.run_cohort(cohort_id))
    return cohort


def _own(session: Session, submitter: Submitter, cohort_id: str) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or cohort.provider_id != submitter.provider_id:
        raise NotFound("There is no such cohort for this provider.")
    return cohort


def cancel(ctx: IssuerContext, submitter: Submitter, cohort_id: str) -> Cohort:
    """Drop a cohort still in preview (the same file may then be uploaded again and confirmed)."""
    with ctx.db.write() as session:
        cohort = _own(session, submitter, cohort_id)
        if cohort.state == "preview":
            cohort.state = "cancelled"
            session.add(cohort)
            audit.record(
                session,
                actor=submitter.actor,
                action="cohort.cancelled",
                subject=f"cohort:{cohort.id}",
                provider_id=submitter.provider_id,
            )
    return cohort


def stalled(ctx: IssuerContext, now: datetime) -> list[str]:
    """Confirmed cohorts that no worker holds: never picked up, or left by a worker that stopped."""
    query = select(col(Cohort.id)).where(
        col(Cohort.state).in_(("queued", "running")),
        (col(Cohort.lease_until).is_(None)) | (col(Cohort.lease_until) < now),
    )
    with ctx.db.read() as session:
        return list(session.scalars(query))


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


class _Pending(NamedTuple):
    """A row waiting to be issued (read as plain values: ORM objects for a batch cost more than their rows)."""

    line: int
    data: dict[str, Any] | None


def _pending(session: Session, cohort_id: str) -> list[_Pending]:
    table = table_of(CohortRow)
    query = (
        select(table.c.line, table.c.data)
        .where(table.c.cohort_id == cohort_id, table.c.state == "pending")
        .order_by(table.c.line)
        .limit(BATCH)
    )
    return [_Pending(line, data) for line, data in session.execute(query)]


class _LeaseLost(Exception):
    """Another worker took the cohort over (this one's lease ran out): this one stops, changing nothing."""


class _Refused(Exception):
    """One row would make a credential the schema or the size limit refuses."""

    def __init__(self, row: _Pending, failure: InvalidInput) -> None:
        super().__init__(failure.message)
        self.row = row
        self.failure = failure


def _renew(session: Session, cohort_id: str, lease: datetime) -> datetime:
    """Inside a batch's transaction: prove the lease is still this worker's and extend it, or raise
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


def run(ctx: IssuerContext, cohort_id: str, progress: Callable[[int], object] | None = None) -> None:
    """Issue the cohort's pending rows, batch by batch; returns when none is left or another worker holds it.
    ``progress`` is told how many rows each batch finished."""
    lease = _claim(ctx, cohort_id)
    if lease is None:
        return
    with ctx.db.read() as session:
        cohort = session.get(Cohort, cohort_id)
        assert cohort is not None
        provider = session.get(Provider, cohort.provider_id)
        achievement = session.get(Achievement, cohort.achievement_id)
    assert provider is not None and provider.id is not None and achievement is not None
    issuer = profile_document(ctx, provider, with_context=False)
    try:
        while True:
            with ctx.db.read() as session:
                rows = _pending(session, cohort_id)
            if not rows:
                _finish(ctx, cohort, provider.id, lease)
                return
            try:
                lease = _issue_batch(ctx, cohort, provider, achievement, issuer, rows, lease)
                finished = len(rows)
            except _Refused as refused:
                # That row fails; the batch is tried again without it (the failed transaction left nothing).
                lease = _fail_row(ctx, cohort_id, refused, lease)
                finished = 1
            if progress is not None:
                progress(finished)
    except _LeaseLost:
        log.warning("cohort %s: another worker took over after this one's lease ran out", cohort_id)


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


def _not_issuable(field: str | None, reason: str) -> dict[str, Any]:
    return {
        "state": "failed",
        "errors": [{"field": field, "column": None, "code": "not_issuable", "params": {"reason": reason}}],
    }


def _issue_batch(
    ctx: IssuerContext,
    cohort: Cohort,
    provider: Provider,
    achievement: Achievement,
    issuer: dict[str, Any],
    rows: Sequence[_Pending],
    lease: datetime,
) -> datetime:
    """Issue one batch in one transaction; returns the renewed lease."""
    assert provider.id is not None
    now = datetime.now(UTC)
    outcome: dict[int, dict[str, Any]] = {}
    requests: dict[int, CredentialRequest] = {}
    for index, row in enumerate(rows):
        try:
            requests[index] = _request(achievement, row.data or {}, cohort.policy)
        except ValidationError as exc:  # checked when the file was read; a rule changed since, say
            problem = exc.errors()[0]
            outcome[row.line] = _not_issuable(str(problem["loc"][-1]), str(problem["msg"]))
    keys = {
        index: recipient_key(ctx.recipient_key, achievement.id, request.recipient.email)
        for index, request in requests.items()
    }
    with ctx.db.write(serialize_on=provider.id) as session:
        lease = _renew(session, cohort.id, lease)
        held = repository.unrevoked_with_recipient_keys(session, provider.id, list(keys.values()))
        external = [found for index in requests if (found := _external_id(rows[index])) is not None]
        held_external = _held_external(session, provider.id, achievement.id, external)
        chosen: list[int] = []
        for index, key in keys.items():
            row = rows[index]
            external_id = _external_id(row)
            existing = held.get(key) or (held_external.get(external_id) if external_id else None)
            if existing is None or cohort.policy == "allow":
                chosen.append(index)
            elif cohort.policy == "skip":
                outcome[row.line] = {"state": "skipped", "credential_id": existing}
            else:
                outcome[row.line] = {
                    "state": "failed",
                    "errors": [{"field": "email", "column": None, "code": "already_issued", "params": {}}],
                    "credential_id": existing,
                }
        # Each credential is built just before it is signed and dropped after: a batch never sits in memory as
        # documents.
        addressed = []
        if chosen:
            with Signing(ctx, session, provider, len(chosen), now, cohort.created_by) as signing:
                for index in chosen:
                    request = requests[index]
                    draft = draft_of(
                        ctx,
                        issuer,
                        achievement,
                        request,
                        now,
                        key=keys[index],
                        external_id=_external_id(rows[index]),
                        cohort_id=cohort.id,
                    )
                    try:
                        record = signing.sign(draft)
                    except InvalidInput as failure:
                        raise _Refused(rows[index], failure) from failure
                    outcome[rows[index].line] = {"state": "issued", "credential_id": record.id}
                    addressed.append(
                        deliveries.Addressed(record.id, provider.id, request.recipient.email, request.language)
                    )
        deliveries.queue(ctx, session, addressed)
        _record_outcomes(session, cohort.id, rows, outcome)
        table = table_of(Cohort)
        tally = {state: sum(1 for value in outcome.values() if value["state"] == state) for state in OUTCOMES}
        session.execute(
            update(table)
            .where(table.c.id == cohort.id)
            .values(
                issued=table.c.issued + tally["issued"],
                skipped=table.c.skipped + tally["skipped"],
                failed=table.c.failed + tally["failed"],
            )
        )
    return lease


def _external_id(row: _Pending) -> str | None:
    value = (row.data or {}).get("external_id")
    return str(value) if value else None


def _held_external(session: Session, provider_id: int, achievement_id: str, external: list[str]) -> dict[str, str]:
    if not external:
        return {}
    query = select(col(Credential.external_id), col(Credential.id)).where(
        col(Credential.provider_id) == provider_id,
        col(Credential.achievement_id) == achievement_id,
        col(Credential.external_id).in_(external),
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


def _fail_row(ctx: IssuerContext, cohort_id: str, refused: _Refused, lease: datetime) -> datetime:
    fields = refused.failure.fields or []
    field = str(fields[0].get("field", "")) if fields else ""
    message = str(fields[0].get("message", refused.failure.message)) if fields else refused.failure.message
    row = refused.row
    table = table_of(CohortRow)
    with ctx.db.write() as session:
        lease = _renew(session, cohort_id, lease)
        session.execute(
            update(table)
            .where(table.c.cohort_id == cohort_id, table.c.line == row.line, table.c.state == "pending")
            .values(
                **_not_issuable(field or None, message),
                data={key: value for key, value in (row.data or {}).items() if key != "email"},
            )
        )
        cohort_table = table_of(Cohort)
        session.execute(
            update(cohort_table).where(cohort_table.c.id == cohort_id).values(failed=cohort_table.c.failed + 1)
        )
    return lease


def _finish(ctx: IssuerContext, cohort: Cohort, provider_id: int, lease: datetime) -> None:
    table = table_of(Cohort)
    with ctx.db.write() as session:
        finished = changed_rows(
            session.execute(
                update(table)
                .where(table.c.id == cohort.id, table.c.state == "running", table.c.lease_until == lease)
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
                provider_id=provider_id,
                details={"issued": current.issued, "failed": current.failed, "skipped": current.skipped},
            )


@dataclass(frozen=True)
class RowView:
    line: int
    state: str
    name: str | None
    credential_id: str | None
    problems: list[Problem]


def row_views(
    ctx: IssuerContext, cohort_id: str, *, states: Sequence[str] | None = None, limit: int | None = None
) -> list[RowView]:
    query = select(CohortRow).where(col(CohortRow.cohort_id) == cohort_id).order_by(col(CohortRow.line))
    if states:
        query = query.where(col(CohortRow.state).in_(list(states)))
    if limit is not None:
        query = query.limit(limit)
    with ctx.db.read() as session:
        found = list(session.scalars(query))
    return [
        RowView(
            row.line,
            row.state,
            (row.data or {}).get("name"),
            row.credential_id,
            [problem_of(row.line, problem) for problem in row.errors or []],
        )
        for row in found
    ]


def counts(ctx: IssuerContext, cohort_id: str) -> dict[str, int]:
    """Rows by state: pending, invalid, issued, skipped, failed."""
    query = (
        select(col(CohortRow.state), func.count())
        .where(col(CohortRow.cohort_id) == cohort_id)
        .group_by(col(CohortRow.state))
    )
    with ctx.db.read() as session:
        found = {state: int(number) for state, number in session.execute(query)}
    return {state: found.get(state, 0) for state in ("pending", "invalid", "issued", "skipped", "failed")}


def already_held(ctx: IssuerContext, cohort: Cohort) -> int:
    """How many pending rows name a learner who already holds the achievement (what the policy will decide)."""
    with ctx.db.read() as session:
        pending = list(
            session.scalars(
                select(CohortRow).where(col(CohortRow.cohort_id) == cohort.id, col(CohortRow.state) == "pending")
            )
        )
        keys = [
            recipient_key(ctx.recipient_key, cohort.achievement_id, str(row.data["email"]))
            for row in pending
            if row.data and row.data.get("email")
        ]
        held = repository.unrevoked_with_recipient_keys(session, cohort.provider_id, keys) if keys else {}
    return len(held)


RESULT_COLUMNS = {
    "pl": ("Wiersz", "Imię i nazwisko", "Wynik", "Link do odznaki", "Link do weryfikacji", "Błąd"),
    "en": ("Row", "Name", "Outcome", "Badge link", "Verification link", "Error"),
    "uk": ("Рядок", "Ім'я та прізвище", "Результат", "Посилання на бейдж", "Посилання для перевірки", "Помилка"),
}
OUTCOME_WORDS = {
    "pl": {
        "issued": "wydano",
        "skipped": "pominięto (już ma)",
        "failed": "błąd",
        "invalid": "błąd",
        "pending": "w toku",
    },
    "en": {
        "issued": "issued",
        "skipped": "skipped (already holds it)",
        "failed": "failed",
        "invalid": "failed",
        "pending": "pending",
    },
    "uk": {
        "issued": "видано",
        "skipped": "пропущено (вже має)",
        "failed": "помилка",
        "invalid": "помилка",
        "pending": "в роботі",
    },
}


def result_csv(ctx: IssuerContext, cohort_id: str, language: str = "pl") -> bytes:
    """Every row's outcome, for Excel: its credential's links or why it was not issued."""
    lang = language if language in RESULT_COLUMNS else "pl"

    def lines() -> Iterator[Sequence[object]]:
        yield RESULT_COLUMNS[lang]
        for row in row_views(ctx, cohort_id):
            link = ctx.urls.credential(row.credential_id) if row.credential_id else ""
            verify = ctx.urls.short(row.credential_id) if row.credential_id and row.state == "issued" else ""
            error = " ".join(problem.message(lang) for problem in row.problems)
            yield (row.line, row.name or "", OUTCOME_WORDS[lang][row.state], link, verify, error)

    return export_csv(lines())
