"""The learner's e-mail: written with the credential, sent by the queue to a real SMTP server in-process (or into
the mail folder), retried with backoff, refused for good when the server says so, erased on revocation, carried to
a reissued copy, sent again on request, and never a name, an address or a token in a log line.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from issuer import deliveries
from issuer.context import IssuerContext
from issuer.errors import InvalidInput
from issuer.mail import file_name
from issuer.models import Credential, Delivery, table_of
from issuer.providers import get_provider
from issuer.settings import IssuerSettings
from tests.conftest import TOKEN_SHAPE, ProviderFixture, issue

PROVIDER_NAME = "Wyższa Szkoła Ekonomii i Innowacji"
SUBJECTS = {
    "pl": f"Twoja odznaka: Podstawy Pythona – {PROVIDER_NAME}",
    "en": f"Your badge: Podstawy Pythona – {PROVIDER_NAME}",
    "uk": f"Ваш бейдж: Podstawy Pythona – {PROVIDER_NAME}",
}
RESENT_SUBJECT = f"Przesyłamy ponownie Twoją odznakę: Podstawy Pythona – {PROVIDER_NAME}"
PERSONAL = ("osoba", "anna nowak", "anna@", "@example.org")
SLACK = 20
"""Seconds a check of "when" may run after the moment it checks (a loaded machine renders PDFs slowly)."""


# -- an SMTP server in-process, and what the module checks around every test ----------------------------------------


@pytest.fixture(autouse=True)
def nothing_personal_logged(ctx: IssuerContext) -> Iterator[list[str]]:
    """Collect every log line of the test (INFO and up; the SMTP test server's own chatter and the test client's
    request lines left out) and fail the test if one names a learner, an address or holds a token, or if a
    delivery's recorded error holds an address."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.name.startswith(("mail.log", "httpx")):
                lines.append(self.format(record))

    handler = Keep(logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)  # aiosmtpd logs "RCPT TO:<…>": the server, not the issuer
    logging.getLogger().addHandler(handler)
    yield lines
    logging.getLogger().removeHandler(handler)
    server_log.setLevel(level)
    leaks = [line for line in lines if any(word in line.lower() for word in PERSONAL) or TOKEN_SHAPE.search(line)]
    assert leaks == []
    assert [delivery.last_error for delivery in all_deliveries(ctx) if "@" in (delivery.last_error or "")] == []


@dataclass
class Sink:
    """An SMTP server's handler that keeps what it accepts; ``reply`` answers RCPT instead (``{address}`` is the
    recipient, as some servers echo it), ``during_data`` runs while a message is being accepted."""

    envelopes: list[Envelope] = field(default_factory=list)
    reply: str | None = None
    recipients_tried: int = 0
    during_data: Callable[[], None] | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.recipients_tried += 1
        if self.reply is not None:
            return self.reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.during_data is not None:
            self.during_data()
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"

    def messages(self) -> list[EmailMessage]:
        found = []
        for envelope in self.envelopes:
            assert isinstance(envelope.original_content, bytes)
            parsed = message_from_bytes(envelope.original_content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found


@dataclass
class Mailbox:
    sink: Sink
    ctx: IssuerContext
    """A context on the test's database and queue whose e-mails go to the sink by SMTP."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox(issuer_settings: IssuerSettings, ctx: IssuerContext) -> Iterator[Mailbox]:
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sending = IssuerContext.from_settings(
        issuer_settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}", "mail_from": "odznaka@issuer.test"})
    )
    try:
        yield Mailbox(sink, sending)
    finally:
        sending.close()
        controller.stop()


# -- helpers -------------------------------------------------------------------------------------------------------


def delivery_of(ctx: IssuerContext, credential_id: str) -> Delivery:
    with ctx.db.read() as session:
        found = session.get(Delivery, credential_id)
    assert found is not None
    return found


def all_deliveries(ctx: IssuerContext) -> list[Delivery]:
    with ctx.db.read() as session:
        return list(session.scalars(select(Delivery)))


def set_delivery(ctx: IssuerContext, credential_id: str, **values: Any) -> None:
    table = table_of(Delivery)
    with ctx.db.write() as session:
        session.execute(update(table).where(table.c.credential_id == credential_id).values(**values))


def uuid_of(issued: dict[str, Any]) -> str:
    return str(issued["id"].rsplit("/", 1)[-1])


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def seconds_from_now(moment: datetime) -> float:
    return (utc(moment) - datetime.now(UTC)).total_seconds()


def eml_files(ctx: IssuerContext) -> list[Path]:
    return sorted(ctx.settings.mail_folder.glob("*.eml"))


def read_eml(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def plain_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


# -- sending ---------------------------------------------------------------------------------------------------------


def test_a_cohort_of_twenty_gets_twenty_emails_one_per_learner_in_their_language(
    mailbox: Mailbox, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    languages = {5: "en", 6: "uk"}
    rows = [{"name": f"Osoba {n}", "email": f"osoba{n}@example.org"} for n in range(20)]
    for n, lang in languages.items():
        rows[n]["language"] = lang
    body = {"achievement": achievement["id"], "rows": rows}
    response = issuer.post("/api/v1/cohorts", json=body, headers=provider.headers)
    assert response.status_code == 202, response.text
    mailbox.ctx.jobs.drain()

    messages = mailbox.sink.messages()
    assert len(messages) == 20
    assert sorted(rcpt for envelope in mailbox.sink.envelopes for rcpt in envelope.rcpt_tos) == sorted(
        row["email"] for row in rows
    )
    sent = {delivery.message_id: delivery for delivery in all_deliveries(ctx)}
    assert len(sent) == 20 and {delivery.state for delivery in sent.values()} == {"sent"}
    for message in messages:
        n = int(str(message["To"]).removeprefix("osoba").split("@")[0])
        lang = languages.get(n, "pl")
        assert (message["Subject"], message["Content-Language"]) == (SUBJECTS[lang], lang)
        delivery = sent[message["Message-ID"]]
        assert (delivery.language, delivery.sends, delivery.attempts) == (lang, 1, 1)
        text = plain_text(message)
        assert f"Osoba {n}" in text  # their own badge, not a neighbour's
        assert f"{mailbox.ctx.urls.credential(delivery.credential_id)}?from=mail" in text
        assert delivery.address is not None and b"example.org" not in delivery.address
        assert mailbox.ctx.vault.open(delivery.address) == f"osoba{n}@example.org"


def test_the_api_writes_in_the_language_asked_and_not_at_all_without_notify(
    mailbox: Mailbox, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    told = issue(issuer, provider, achievement, language="uk")
    quiet = {"name": "Osoba Cicha", "email": "cicha@example.org"}
    silent = issue(issuer, provider, achievement, recipient=quiet, notify=False)
    german = {"achievement": achievement["id"], "recipient": quiet, "language": "de"}
    unknown = issuer.post("/api/v1/credentials", json=german, headers=provider.headers)
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["field"] == "language"
    mailbox.ctx.jobs.drain()
    [message] = mailbox.sink.messages()
    assert (message["To"], message["Subject"]) == ("anna@example.org", SUBJECTS["uk"])
    assert [delivery.credential_id for delivery in all_deliveries(ctx)] == [uuid_of(told)]
    assert uuid_of(silent) not in plain_text(message)


def test_a_greylisting_server_gets_the_message_again_after_the_first_pause(
    mailbox: Mailbox, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    mailbox.sink.reply = "451 4.7.1 <{address}>: Recipient address rejected: Greylisted, try again later"
    credential_id = uuid_of(issue(issuer, provider, achievement))
    mailbox.ctx.jobs.drain()

    waiting = delivery_of(ctx, credential_id)
    assert (waiting.state, waiting.attempts, waiting.lease_until) == ("queued", 1, None)
    assert deliveries.BACKOFF[0] - SLACK < seconds_from_now(waiting.next_attempt_at) <= deliveries.BACKOFF[0]
    assert waiting.last_error is not None and waiting.last_error.startswith("451") and "@" not in waiting.last_error
    [retry] = mailbox.ctx.jobs.huey.scheduled()
    assert (retry.name, retry.args) == ("deliver", ([credential_id],))
    assert deliveries.BACKOFF[0] - SLACK < seconds_from_now(retry.eta) <= deliveries.BACKOFF[0] + 1
    assert mailbox.sink.envelopes == []

    mailbox.sink.reply = None  # the pause is over and the server takes it
    set_delivery(ctx, credential_id, next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    mailbox.ctx.jobs.sweep()
    mailbox.ctx.jobs.drain()
    assert len(mailbox.sink.envelopes) == 1
    assert delivery_of(ctx, credential_id).state == "sent"
    mailbox.ctx.jobs.huey.execute(retry)  # the scheduled retry, when its time comes, finds nothing to do
    assert len(mailbox.sink.envelopes) == 1


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient {address} not found by SMTP address lookup",
        "550 5.1.1 {address}... User unknown",
    ],
)
def test_a_mailbox_that_does_not_exist_fails_for_good_with_the_reason_and_no_address(
    reply: str,
    mailbox: Mailbox,
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    ctx: IssuerContext,
) -> None:
    mailbox.sink.reply = reply
    credential_id = uuid_of(issue(issuer, provider, achievement))
    mailbox.ctx.jobs.drain()
    failed = delivery_of(ctx, credential_id)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None and failed.last_error.startswith("550 5.1.1")
    assert "@" not in failed.last_error and "anna" not in failed.last_error.lower()
    assert mailbox.ctx.jobs.huey.scheduled() == [] and mailbox.ctx.jobs.pending() == 0
    mailbox.ctx.jobs.sweep()
    assert mailbox.ctx.jobs.drain() == 0
    assert mailbox.sink.recipients_tried == 1


def test_after_the_last_of_its_attempts_a_message_has_failed(
    mailbox: Mailbox, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    mailbox.sink.reply = "451 4.3.0 <{address}>: Temporary lookup failure"
    credential_id = uuid_of(issue(issuer, provider, achievement))
    mailbox.ctx.jobs.drain()
    for attempt in range(1, deliveries.MAX_ATTEMPTS):
        waiting = delivery_of(ctx, credential_id)
        assert (waiting.state, waiting.attempts) == ("queued", attempt)
        pause = deliveries.BACKOFF[attempt - 1]
        assert pause - SLACK < seconds_from_now(waiting.next_attempt_at) <= pause, f"pause after attempt {attempt}"
        set_delivery(ctx, credential_id, next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))  # time passes
        mailbox.ctx.jobs.sweep()
        mailbox.ctx.jobs.drain()
    scheduled = len(mailbox.ctx.jobs.huey.scheduled())

    final = delivery_of(ctx, credential_id)
    assert (final.state, final.attempts) == ("failed", deliveries.MAX_ATTEMPTS)
    assert final.last_error is not None and final.last_error.startswith("451") and "@" not in final.last_error
    assert mailbox.sink.recipients_tried == deliveries.MAX_ATTEMPTS and mailbox.sink.envelopes == []
    assert scheduled == deliveries.MAX_ATTEMPTS - 1, "no retry is scheduled after the last attempt"
    mailbox.ctx.jobs.sweep()
    assert mailbox.ctx.jobs.drain() == 0


# -- crashes ---------------------------------------------------------------------------------------------------------


def test_an_email_whose_job_was_lost_between_commit_and_enqueue_is_found_by_the_sweep_and_sent_once(
    issuer_settings: IssuerSettings,
    mailbox: Mailbox,
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    ctx: IssuerContext,
) -> None:
    credential_id = uuid_of(issue(issuer, provider, achievement))
    queue_files = list(issuer_settings.data_dir.glob("queue.db*"))
    assert queue_files, "the job went to the queue file"
    for path in queue_files:  # the machine died: the queue, and the job in it, are gone
        path.unlink()

    after = IssuerContext.from_settings(mailbox.ctx.settings)  # the next worker, on a new queue file
    try:
        assert after.jobs.pending() == 0
        after.jobs.sweep()
        after.jobs.drain()
        after.jobs.sweep()
        after.jobs.drain()
    finally:
        after.close()
    assert len(mailbox.sink.envelopes) == 1
    assert delivery_of(ctx, credential_id).state == "sent"


def test_a_message_left_sending_by_a_dead_worker_is_sent_again_with_the_same_message_id_once_its_lease_ends(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    credential_id = uuid_of(issue(issuer, provider, achievement))
    ctx.jobs.drain()
    [written] = eml_files(ctx)
    message_id = delivery_of(ctx, credential_id).message_id
    assert written.name == f"{file_name(message_id)}.eml"

    # The worker died after the mail folder (or server) took the message and before the row said so.
    lease = datetime.now(UTC) + timedelta(minutes=1)
    set_delivery(ctx, credential_id, state="sending", lease_until=lease, sent_at=None, sends=0)
    ctx.jobs.sweep()
    assert ctx.jobs.pending() == 0, "its lease still holds"

    set_delivery(ctx, credential_id, lease_until=datetime.now(UTC) - timedelta(seconds=1))
    ctx.jobs.sweep()
    ctx.jobs.drain()
    again = delivery_of(ctx, credential_id)
    assert (again.state, again.message_id, again.sends) == ("sent", message_id, 1)
    assert eml_files(ctx) == [written]
    assert read_eml(written)["Message-ID"] == message_id


# -- revocation, reissue, resend -------------------------------------------------------------------------------------


def test_revoking_erases_the_address_and_a_message_not_yet_sent_is_never_sent(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    sent_first = uuid_of(issue(issuer, provider, achievement))
    ctx.jobs.drain()
    second = {"name": "Osoba Druga", "email": "druga@example.org"}
    waiting = uuid_of(issue(issuer, provider, achievement, recipient=second))
    for credential_id in (sent_first, waiting):
        response = issuer.post(f"/api/v1/credentials/{credential_id}/revoke", headers=provider.headers)
        assert response.status_code == 200, response.text

    ctx.jobs.sweep()
    ctx.jobs.drain()
    assert len(eml_files(ctx)) == 1
    was_sent, never_sent = delivery_of(ctx, sent_first), delivery_of(ctx, waiting)
    assert (was_sent.address, was_sent.state) == (None, "sent")
    assert (never_sent.address, never_sent.state, never_sent.last_error) == (None, "failed", "revoked")
    provider_id = get_provider(ctx, provider.slug).id
    assert provider_id is not None
    with pytest.raises(InvalidInput):
        deliveries.resend(ctx, provider_id, waiting, "test")


def test_a_reissued_credential_is_announced_to_the_same_address_for_the_new_copy(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext, issuer_cli: Any
) -> None:
    old = uuid_of(issue(issuer, provider, achievement, language="en"))
    ctx.jobs.drain()
    result = issuer_cli("credentials", "reissue", provider.slug, "--credential", old)
    assert result.exit_code == 0, result.output
    with ctx.db.read() as session:
        replaced = session.get(Credential, old)
    assert replaced is not None and replaced.replaced_by is not None
    new = replaced.replaced_by

    ctx.jobs.drain()
    files = eml_files(ctx)
    assert len(files) == 2
    announcement = read_eml(ctx.settings.mail_folder / f"{file_name(delivery_of(ctx, new).message_id)}.eml")
    assert (announcement["To"], announcement["Subject"]) == ("anna@example.org", SUBJECTS["en"])
    assert ctx.urls.credential(new) in plain_text(announcement)
    assert delivery_of(ctx, old).address is None
    assert delivery_of(ctx, new).state == "sent"


def test_resend_queues_a_new_message_with_a_new_message_id(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    credential_id = uuid_of(issue(issuer, provider, achievement))
    ctx.jobs.drain()
    first = delivery_of(ctx, credential_id).message_id
    provider_id = get_provider(ctx, provider.slug).id
    assert provider_id is not None

    deliveries.resend(ctx, provider_id, credential_id, "test")
    queued = delivery_of(ctx, credential_id)
    assert queued.state == "queued" and queued.message_id != first
    ctx.jobs.drain()
    again = delivery_of(ctx, credential_id)
    assert (again.state, again.sends, again.message_id) == ("sent", 2, queued.message_id)
    subjects = sorted(str(read_eml(path)["Subject"]) for path in eml_files(ctx))
    assert subjects == sorted([SUBJECTS["pl"], RESENT_SUBJECT])

    other = IssuerContext.from_settings(ctx.settings)
    try:
        with pytest.raises(Exception) as refused:
            deliveries.resend(other, provider_id + 1, credential_id, "test")
        assert getattr(refused.value, "code", None) == "not_found"
    finally:
        other.close()


def test_a_resend_asked_for_while_the_first_message_is_being_sent_is_not_lost(
    mailbox: Mailbox, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    """The coordinator clicks "send again" at the moment the server is taking the first message."""
    credential_id = uuid_of(issue(issuer, provider, achievement))
    provider_id = get_provider(ctx, provider.slug).id
    assert provider_id is not None

    def coordinator_clicks_resend() -> None:
        mailbox.sink.during_data = None
        deliveries.resend(mailbox.ctx, provider_id, credential_id, "test")

    mailbox.sink.during_data = coordinator_clicks_resend
    mailbox.ctx.jobs.drain()
    mailbox.ctx.jobs.sweep()
    mailbox.ctx.jobs.drain()
    message_ids = [message["Message-ID"] for message in mailbox.sink.messages()]
    assert len(message_ids) == 2, "the message asked for again was never sent"
    assert message_ids[1] == delivery_of(ctx, credential_id).message_id != message_ids[0]
