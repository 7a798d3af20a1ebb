"""Cohorts: a participant file read and checked row by row, previewed, confirmed, then issued by a job.

Nothing is issued before the preview is confirmed. The same file uploaded again for the same achievement finds
its first cohort instead of making a second. A confirmed cohort is issued by a worker (:mod:`issuer.cohort_run`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from credentials.hashing import sha256_hex
from http_edge.language import LOCAL_TIME_ZONE
from issuer import audit, repository
from issuer.cohort_file import FileRejected, Problem, Row, export_csv, read_sheet
from issuer.context import IssuerContext
from issuer.db import insert_rows
from issuer.errors import InvalidInput, NotFound
from issuer.issuance import recipient_key
from issuer.models import Achievement, Cohort, CohortRow, Provider, table_of

log = logging.getLogger("issuer.cohorts")
POLICIES = ("skip", "allow", "refuse")
"""For a learner who already holds the achievement: skip the row, issue another, or fail the row."""


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
