"""Telling learners: the e-mail about each credential, through an outbox.

A delivery row is written in the same transaction as its credential (so none is lost and none exists without
its credential) and handed to the job queue once that transaction commits; a sweep finds any the queue never got
(a crash between commit and enqueue). Sending claims the row with a lease first, so two workers never send the
same message at once; a failure is retried with growing pauses, a permanent refusal is recorded with its reason.

If a worker dies after the SMTP server took a message but before the row says so, the lease runs out and the
message is sent again with the same Message-ID (mail systems and clients treat it as the same message; the
``.eml`` folder keeps one file). That window is the time between the server's "250" and one UPDATE.

The address is stored sealed (:class:`issuer.vault.Vault`) for "resend", and erased when the credential is
revoked. Nothing here logs an address, a name or a token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlmodel import Session

from issuer import audit
from issuer.db import changed_rows, insert_rows
from issuer.errors import InvalidInput, NotFound
from issuer.models import Credential, Delivery, Provider, table_of

if TYPE_CHECKING:
    from issuer.context import IssuerContext

log = logging.getLogger("issuer.deliveries")

STATES = ("queued", "sending", "sent", "failed")
LEASE = timedelta(minutes=5)
"""How long a worker may take over one message before another may try it."""
BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
"""Pause before each retry (seconds): one minute to twelve hours, about 23 hours in all, then it has failed."""
MAX_ATTEMPTS = len(BACKOFF) + 1


@dataclass(frozen=True)
class Addressed:
    """A credential to tell its learner about, at this address, in this language."""

    credential_id: str
    provider_id: int
    email: str
    language: str = "pl"


def message_id(ctx: IssuerContext, host: str | None = None) -> str:
    """A new Message-ID on the issuer's host (``host``, when the caller has worked it out for many)."""
    return f"<{uuid.uuid4()}@{host or _host(ctx)}>"


def _host(ctx: IssuerContext) -> str:
    return urlsplit(ctx.urls.public_url).hostname or "odznaka"


def queue(ctx: IssuerContext, session: Session, items: Sequence[Addressed]) -> None:
    """Write one queued delivery per item inside the caller's transaction; they go to the job queue once it
    commits."""
    queue_rows(ctx, session, outbox_rows(ctx, items))


def queue_rows(ctx: IssuerContext, session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """:func:`queue` for rows made by :func:`outbox_rows` beforehand (say, by a cohort's worker while the batch
    before is stored)."""
    if not rows:
        return
    insert_rows(session, table_of(Delivery), rows)
    ids = [row["credential_id"] for row in rows]
    session.info.setdefault("after_commit", []).append(lambda: ctx.jobs.deliver_many(ids))


def outbox_rows(ctx: IssuerContext, items: Sequence[Addressed]) -> list[dict[str, Any]]:
    """The queued deliveries of ``items``, the address sealed, ready to be written by :func:`queue_rows`."""
    now = datetime.now(UTC)
    host = _host(ctx)
    return [
        {
            "credential_id": item.credential_id,
            "provider_id": item.provider_id,
            "address": ctx.vault.seal(item.email),
            "language": item.language if item.language in ("pl", "en", "uk") else "pl",
            "state": "queued",
            "attempts": 0,
            "next_attempt_at": now,
            "lease_until": None,
            "last_error": None,
            "message_id": message_id(ctx, host),
            "sends": 0,
            "sent_at": None,
        }
        for item in items
    ]


def resend(ctx: IssuerContext, provider_id: int, credential_id: str, actor: str) -> Delivery:
    """Queue the e-mail again (a new message). Raises :class:`NotFound` for another provider's credential and
    :class:`InvalidInput` when there is no address to send to (never given, or erased on revocation)."""
    with ctx.db.write() as session:
        record = session.get(Credential, credential_id)
        if record is None or record.provider_id != provider_id:
            raise NotFound("There is no such credential for this provider.")
        delivery = session.get(Delivery, credential_id)
        if delivery is None or delivery.address is None:
            raise InvalidInput(
                "There is no e-mail address for this credential (none was given, or it was erased on revocation).",
                fields=[{"field": "email", "message": "no address on record"}],
            )
        if record.revoked_at is not None:
            raise InvalidInput(
                "This credential is revoked; nothing is sent about it.",
                fields=[{"field": "credential", "message": "revoked"}],
            )
        delivery.state = "queued"
        delivery.attempts = 0
        delivery.next_attempt_at = datetime.now(UTC)
        delivery.lease_until = None
        delivery.last_error = None
        delivery.message_id = message_id(ctx)
        session.add(delivery)
        audit.record(
            session,
            actor=actor,
            action="credential.notification_resent",
            subject=ctx.urls.credential(credential_id),
            provider_id=provider_id,
        )
        session.info.setdefault("after_commit", []).append(lambda: ctx.jobs.deliver_many([credential_id]))
    return delivery


def erase(session: Session, credential_ids: Sequence[str]) -> None:
    """Forget the addresses of these credentials (on revocation); a message not yet sent is not sent."""
    if not credential_ids:
        return
    table = table_of(Delivery)
    session.execute(
        update(table)
        .where(table.c.credential_id.in_(list(credential_ids)))
        .where(table.c.state.in_(("queued", "sending")))
        .values(state="failed", last_error="revoked")
    )
    session.execute(update(table).where(table.c.credential_id.in_(list(credential_ids))).values(address=None))


def carry_over(ctx: IssuerContext, session: Session, pairs: Sequence[tuple[str, str]]) -> None:
    """A reissued credential's learner is told about the new copy: its address moves to the new credential."""
    old_ids = [old for old, _ in pairs]
    if not old_ids:
        return
    found = {
        row.credential_id: row
        for row in session.scalars(select(Delivery).where(table_of(Delivery).c.credential_id.in_(old_ids)))
    }
    items = []
    for old, new in pairs:
        delivery = found.get(old)
        if delivery is None or delivery.address is None:
            continue
        email = ctx.vault.open(delivery.address)
        if email is not None:
            items.append(Addressed(new, delivery.provider_id, email, delivery.language))
    erase(session, [old for old, _ in pairs])
    queue(ctx, session, items)


def _claim(ctx: IssuerContext, credential_id: str, now: datetime) -> Delivery | None:
    table = table_of(Delivery)
    with ctx.db.write() as session:
        claimed = changed_rows(
            session.execute(
                update(table)
                .where(
                    table.c.credential_id == credential_id,
                    table.c.state.in_(("queued", "sending")),
                    table.c.next_attempt_at <= now,
                    (table.c.lease_until.is_(None)) | (table.c.lease_until < now),
                )
                .values(state="sending", lease_until=now + LEASE, attempts=table.c.attempts + 1)
            )
        )
        if not claimed:
            return None
        return session.get(Delivery, credential_id)


def deliver(ctx: IssuerContext, credential_id: str) -> str | None:
    """Send one queued message if it is due and nobody else holds it; return its new state (or ``None`` when
    there was nothing to do)."""
    from issuer import mail
    from issuer.letters import letter_for

    now = datetime.now(UTC)
    delivery = _claim(ctx, credential_id, now)
    if delivery is None:
        return None
    email = ctx.vault.open(delivery.address) if delivery.address is not None else None
    with ctx.db.read() as session:
        record = session.get(Credential, credential_id)
        provider = session.get(Provider, delivery.provider_id)
    if email is None or record is None or provider is None or record.revoked_at is not None:
        _finish(
            ctx,
            credential_id,
            delivery.message_id,
            "failed",
            "revoked" if record is not None and record.revoked_at else "no address",
        )
        return "failed"
    try:
        letter = letter_for(ctx, record, delivery.language, resend=delivery.sends > 0)
        message = mail.compose(letter, to=email, sender=ctx.settings.mail_from, message_id=delivery.message_id)
        ctx.mailer.send(message)
    except ValueError as exc:  # the message cannot be made (say, a sender address the settings got wrong)
        _finish(ctx, credential_id, delivery.message_id, "failed", f"message not composed: {type(exc).__name__}")
        log.error("delivery %s not composed: %s", delivery.message_id, type(exc).__name__)
        return "failed"
    except mail.DeliveryFailed as failure:
        if failure.permanent or delivery.attempts >= MAX_ATTEMPTS:
            _finish(ctx, credential_id, delivery.message_id, "failed", failure.reason)
            log.warning("delivery %s failed for good: %s", delivery.message_id, failure.reason)
            return "failed"
        pause = BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
        _finish(
            ctx, credential_id, delivery.message_id, "queued", failure.reason, retry_at=now + timedelta(seconds=pause)
        )
        ctx.jobs.deliver_later(credential_id, pause)
        log.info("delivery %s will be retried in %d s: %s", delivery.message_id, pause, failure.reason)
        return "queued"
    _finish(ctx, credential_id, delivery.message_id, "sent", None, sent_at=datetime.now(UTC))
    return "sent"


def _finish(
    ctx: IssuerContext,
    credential_id: str,
    message: str,
    state: str,
    error: str | None,
    *,
    retry_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record how the attempt at ``message`` (its Message-ID) went. A resend asked for meanwhile has given the
    row a new Message-ID: then only the count of messages sent changes, and the resend stays queued."""
    table = table_of(Delivery)
    values: dict[str, object] = {"state": state, "lease_until": None, "last_error": error and error[:300]}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if sent_at is not None:
        values["sent_at"] = sent_at
        values["sends"] = table.c.sends + 1
    with ctx.db.write() as session:
        this_message = (table.c.credential_id == credential_id) & (table.c.message_id == message)
        if not changed_rows(session.execute(update(table).where(this_message).values(**values))) and sent_at:
            session.execute(update(table).where(table.c.credential_id == credential_id).values(sends=table.c.sends + 1))


def due(ctx: IssuerContext, now: datetime, limit: int = 1000) -> list[str]:
    """Deliveries that should be under way but are not (never handed to the queue, or their worker died)."""
    table = table_of(Delivery)
    with ctx.db.read() as session:
        return list(
            session.scalars(
                select(table.c.credential_id)
                .where(
                    table.c.state.in_(("queued", "sending")),
                    table.c.next_attempt_at <= now,
                    (table.c.lease_until.is_(None)) | (table.c.lease_until < now),
                )
                .limit(limit)
            )
        )
