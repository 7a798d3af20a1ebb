"""The learner's e-mail: what it says in each language, how it is built, and how one delivery attempt ends, against
a real SMTP server in-process (aiosmtpd: plain, STARTTLS, implicit TLS, AUTH) and a folder."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import ssl
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from issuer.mail import (
    DeliveryFailed,
    FolderTransport,
    Letter,
    SmtpTransport,
    compose,
    transport_for,
)

LEARNER = "anna@example.org"
SENDER = "Odznaka <odznaka@example.com>"
MESSAGE_ID = "<7f1c2d9e-5b1a-4c55-9d8e-2f6a0c3b1e47@issuer.test>"
BADGE = b"\x89PNG\r\n\x1a\n" + b"badge image bytes" * 20
PDF = b"%PDF-1.7\n" + b"certificate bytes" * 20

LETTER = Letter(
    language="pl",
    learner_name="Anna Nowak",
    achievement_name="Analiza danych w arkuszu kalkulacyjnym",
    provider_name="Fundacja Wspierania Edukacji",
    page_url="http://issuer.test/credentials/abc123",
    verify_url="http://verifier.test/?url=http%3A%2F%2Fissuer.test%2Fcredentials%2Fabc123",
    valid_until=datetime.date(2030, 6, 30),
    badge_png=BADGE,
    pdf=PDF,
)

IN_EACH_LANGUAGE: dict[str, dict[str, str]] = {
    "pl": {
        "subject": "Twoja odznaka: Analiza danych w arkuszu kalkulacyjnym – Fundacja Wspierania Edukacji",
        "greeting": "Dzień dobry, Anna Nowak!",
        "awarded": "Fundacja Wspierania Edukacji przyznaje Ci odznakę „Analiza danych w arkuszu kalkulacyjnym”.",
        "open": "Zobacz swoją odznakę",
        "valid": "Ważna do 30.06.2030.",
    },
    "en": {
        "subject": "Your badge: Analiza danych w arkuszu kalkulacyjnym – Fundacja Wspierania Edukacji",
        "greeting": "Hello Anna Nowak,",
        "awarded": "Fundacja Wspierania Edukacji has awarded you the badge “Analiza danych w arkuszu kalkulacyjnym”.",
        "open": "Open your badge",
        "valid": "Valid until 30 Jun 2030.",
    },
    "uk": {
        "subject": "Ваш бейдж: Analiza danych w arkuszu kalkulacyjnym – Fundacja Wspierania Edukacji",
        "greeting": "Добрий день, Anna Nowak!",
        "awarded": "Fundacja Wspierania Edukacji присуджує вам бейдж «Analiza danych w arkuszu kalkulacyjnym».",
        "open": "Переглянути бейдж",
        "valid": "Дійсний до 30.06.2030.",
    },
}

ATTACHED = {
    "pl": ("odznaka.png", "certyfikat.pdf"),
    "en": ("badge.png", "certificate.pdf"),
    "uk": ("бейдж.png", "сертифікат.pdf"),
}


# -- an SMTP server in-process -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def quiet_smtp_server() -> Iterator[None]:
    """aiosmtpd logs every command it hears (``RCPT TO:<anna@…>``) at INFO: that is the test server talking, not
    the issuer, and the run's check for personal data in logs would rightly flag it."""
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    yield
    server_log.setLevel(level)


class Inbox:
    """An aiosmtpd handler keeping what it accepts; ``refuse`` answers a command with a reply of our choosing."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.envelopes: list[Envelope] = []
        self.encrypted: list[bool] = []
        self.refuse = refuse or {}

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "MAIL" in self.refuse:
            return self.refuse["MAIL"]
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "RCPT" in self.refuse:
            return self.refuse["RCPT"].format(address=address)  # some servers echo the address back
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if "DATA" in self.refuse:
            return self.refuse["DATA"]
        self.envelopes.append(envelope)
        assert server.transport is not None
        self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
        return "250 OK"

    def only_message(self) -> EmailMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].original_content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: Inbox, **options: Any) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 for the block; yields its port and always stops it."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts the throwaway certificate and nothing else."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def letter_email(letter: Letter = LETTER) -> EmailMessage:
    return compose(letter, to=LEARNER, sender=SENDER, message_id=MESSAGE_ID)


def body(message: EmailMessage, subtype: str) -> str:
    """The message's text (``plain``) or HTML (``html``) body, with plain ``\\n`` line ends (the wire has CRLF)."""
    part = message.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def failure_of(transport: SmtpTransport | FolderTransport) -> DeliveryFailed:
    """How one attempt to deliver the sample e-mail fails."""
    with pytest.raises(DeliveryFailed) as caught:
        transport.send(letter_email())
    return caught.value


# -- what the e-mail says ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["pl", "en", "uk"])
def test_the_email_arrives_once_in_the_learners_language(lang: str) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        SmtpTransport(f"smtp://127.0.0.1:{port}").send(letter_email(replace(LETTER, language=lang)))

    expected = IN_EACH_LANGUAGE[lang]
    assert [envelope.rcpt_tos for envelope in inbox.envelopes] == [[LEARNER]]
    assert inbox.envelopes[0].mail_from == "odznaka@example.com"
    received = inbox.only_message()
    assert received["Subject"] == expected["subject"]
    assert received["Message-ID"] == MESSAGE_ID
    assert received["To"] == LEARNER
    assert received["From"] == SENDER
    assert received["Content-Language"] == lang
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Date"].datetime.tzinfo is not None
    text = body(received, "plain")
    html = body(received, "html")
    for shown in (text, html):
        assert expected["greeting"] in shown
        assert expected["awarded"] in shown
        assert expected["open"] in shown
        assert expected["valid"] in shown
        assert "Kompetencje jutra – Lublin inspiruje przyszłość" in shown
    assert f"{expected['open']}:\n{LETTER.page_url}" in text
    assert LETTER.verify_url in text
    assert f'<html lang="{lang}">' in html
    attachments = {part.get_filename(): part.get_content() for part in received.walk() if part.get_filename()}
    assert attachments == dict(zip(ATTACHED[lang], (BADGE, PDF), strict=True))


def test_the_polish_email_reads_as_a_whole() -> None:
    text = body(letter_email(), "plain")
    assert text == (
        "Dzień dobry, Anna Nowak!\n\n"
        "Fundacja Wspierania Edukacji przyznaje Ci odznakę „Analiza danych w arkuszu kalkulacyjnym”. Gratulujemy!\n\n"
        f"Zobacz swoją odznakę:\n{LETTER.page_url}\n\n"
        "Ważna do 30.06.2030.\n\n"
        "Na stronie odznaki możesz dodać ją do profilu LinkedIn, pobrać certyfikat PDF i pokazać kod QR, który "
        "prowadzi do jej weryfikacji.\n\n"
        "Certyfikat PDF znajdziesz też w załączniku.\n\n"
        f"Pracodawca może potwierdzić autentyczność odznaki pod adresem:\n{LETTER.verify_url}\n\n"
        "-- \n"
        "Tę wiadomość wysłaliśmy automatycznie w imieniu wystawcy odznaki (Fundacja Wspierania Edukacji) w ramach "
        "programu „Kompetencje jutra – Lublin inspiruje przyszłość”. Jeśli trafiła do Ciebie przez pomyłkę, możesz ją "
        "po prostu zignorować.\n"
    )


@pytest.mark.parametrize(("lang", "greeting"), [("pl", "Dzień dobry!\n"), ("en", "Hello,\n"), ("uk", "Добрий день!\n")])
def test_a_learner_without_a_name_is_greeted_without_one(lang: str, greeting: str) -> None:
    assert body(letter_email(replace(LETTER, language=lang, learner_name=" ")), "plain").startswith(greeting)


def test_a_language_the_programme_does_not_write_in_becomes_polish() -> None:
    message = letter_email(replace(LETTER, language="de"))
    assert message["Content-Language"] == "pl"
    assert message["Subject"] == IN_EACH_LANGUAGE["pl"]["subject"]


@pytest.mark.parametrize(
    ("lang", "subject", "sentence"),
    [
        ("pl", "Przesyłamy ponownie Twoją odznakę: ", "Przesyłamy ponownie Twoją odznakę „Analiza"),
        ("en", "Your badge, sent again: ", "Here is a copy of your badge “Analiza"),
        ("uk", "Повторно надсилаємо ваш бейдж: ", "Повторно надсилаємо ваш бейдж «Analiza"),
    ],
)
def test_a_resend_says_it_is_sent_again(lang: str, subject: str, sentence: str) -> None:
    message = letter_email(replace(LETTER, language=lang, resend=True))
    assert message["Subject"].startswith(subject)
    assert sentence in body(message, "plain")
    assert IN_EACH_LANGUAGE[lang]["awarded"] not in body(message, "plain")


def test_an_open_ended_badge_states_no_validity_and_missing_files_are_not_promised() -> None:
    message = letter_email(replace(LETTER, valid_until=None, pdf=None, badge_png=None))
    text = body(message, "plain")
    html = body(message, "html")
    assert "Ważna" not in text
    assert "Ważna" not in html
    assert "załączniku" not in text
    assert "cid:" not in html
    assert [part.get_filename() for part in message.walk() if part.get_filename()] == []


def test_the_html_escapes_names_and_loads_nothing_from_outside() -> None:
    hostile = replace(
        LETTER,
        learner_name='<script>alert("x")</script> Anna Nowak',
        achievement_name='Excel" onmouseover="alert(1)',
        provider_name="Fundacja <b>&</b> Spółka",
    )
    html = body(letter_email(hostile), "html")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Anna Nowak" in html
    assert "<script" not in html.lower()
    assert 'alt="Odznaka „Excel&quot; onmouseover=&quot;alert(1)”"' in html
    assert "Fundacja &lt;b&gt;&amp;&lt;/b&gt; Spółka" in html
    assert "<img" in html
    assert all(source.startswith("cid:") for source in _attribute_values(html, "src"))
    assert "<link" not in html
    assert "url(" not in html


def _attribute_values(html: str, name: str) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in html.split(f' {name}="')[1:]]


def test_the_badge_is_shown_inline_from_the_email_itself() -> None:
    message = letter_email()
    html = body(message, "html")
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    content_id = image["Content-ID"]
    assert content_id.startswith("<")
    assert content_id.endswith(">")
    assert f'src="cid:{content_id[1:-1]}"' in html
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == BADGE
    [pdf] = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert pdf.get_content_disposition() == "attachment"
    assert pdf.get_filename() == "certyfikat.pdf"
    assert pdf.get_content() == PDF


def test_no_header_but_to_names_the_learner() -> None:
    raw = letter_email().as_bytes()
    received = message_from_bytes(raw, policy=policy.default)
    headers = [(name, str(value)) for part in received.walk() for name, value in part.items()]
    assert ("To", LEARNER) in headers
    for name, value in headers:
        if name != "To":
            assert "anna" not in value.lower(), name
    top_block = raw.split(b"\r\n\r\n", 1)[0].lower()
    assert top_block.count(b"anna") == 1  # in To, and nowhere else even encoded


@pytest.mark.parametrize(
    "address",
    ["not an address", "anna@", "@example.org", "anna@example.org, boss@example.org", "anna@example.org\r\nBcc: x@y.z"],
)
def test_an_address_that_cannot_be_written_to_is_a_permanent_failure(address: str) -> None:
    with pytest.raises(DeliveryFailed) as caught:
        compose(LETTER, to=address, sender=SENDER, message_id=MESSAGE_ID)
    assert caught.value.permanent
    assert caught.value.reason == "the recipient's address is not valid"


def test_a_domain_in_any_script_is_written_in_ascii() -> None:
    assert compose(LETTER, to="anna@łódź.example", sender=SENDER, message_id=MESSAGE_ID)["To"].isascii()


# -- how a delivery attempt ends -----------------------------------------------------------------------------------


def test_a_mailbox_that_does_not_exist_is_permanent_and_the_reason_hides_the_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = Inbox(refuse={"RCPT": "550 5.1.1 <{address}>: mailbox unavailable"})
    with caplog.at_level(logging.INFO, logger="issuer.mail"), smtp_server(inbox) as port:
        failure = failure_of(SmtpTransport(f"smtp://127.0.0.1:{port}"))
    assert failure.permanent
    assert failure.reason.startswith("550 5.1.1")
    assert "mailbox unavailable" in failure.reason
    assert "anna" not in failure.reason
    assert "anna" not in str(failure)
    assert inbox.envelopes == []
    assert [record.getMessage() for record in caplog.records] == [
        f"e-mail {MESSAGE_ID} not delivered (permanent): {failure.reason}"
    ]


def test_a_greylisting_server_is_temporary() -> None:
    with smtp_server(Inbox(refuse={"RCPT": "451 4.7.1 greylisted, try again later"})) as port:
        failure = failure_of(SmtpTransport(f"smtp://127.0.0.1:{port}"))
    assert not failure.permanent
    assert failure.reason == "451 4.7.1 greylisted, try again later"


def test_a_refused_sender_is_our_configuration_and_temporary() -> None:
    with smtp_server(Inbox(refuse={"MAIL": "553 5.7.1 sender not allowed"})) as port:
        failure = failure_of(SmtpTransport(f"smtp://127.0.0.1:{port}"))
    assert not failure.permanent
    assert failure.reason == "sender refused: 553 5.7.1 sender not allowed"


def test_a_message_refused_after_data_is_permanent() -> None:
    with smtp_server(Inbox(refuse={"DATA": "554 5.6.0 message content rejected"})) as port:
        failure = failure_of(SmtpTransport(f"smtp://127.0.0.1:{port}"))
    assert failure.permanent
    assert failure.reason == "message refused: 554 5.6.0 message content rejected"


def test_a_closed_port_is_temporary() -> None:
    port = free_port()
    failure = failure_of(SmtpTransport(f"smtp://127.0.0.1:{port}", timeout=5))
    assert not failure.permanent
    assert failure.reason == f"connection to 127.0.0.1:{port} refused"


def test_starttls_required_but_not_offered_is_temporary() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        failure = failure_of(SmtpTransport(f"smtp+starttls://127.0.0.1:{port}"))
    assert not failure.permanent
    assert failure.reason == f"127.0.0.1:{port} does not offer STARTTLS, which smtp+starttls:// requires"
    assert inbox.envelopes == []


def test_plain_smtp_does_not_upgrade_on_its_own(server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls) as port:
        SmtpTransport(f"smtp://127.0.0.1:{port}").send(letter_email())
    assert inbox.encrypted == [False]
    assert inbox.only_message()["Message-ID"] == MESSAGE_ID


def reject_everyone(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


def test_failed_authentication_is_temporary() -> None:
    with smtp_server(Inbox(), authenticator=reject_everyone, auth_require_tls=False) as port:
        failure = failure_of(SmtpTransport(f"smtp://mailer:wrong@127.0.0.1:{port}"))
    assert not failure.permanent
    assert failure.reason.startswith("authentication failed: 535")
    assert "wrong" not in failure.reason


def test_user_and_password_are_percent_decoded() -> None:
    heard: list[tuple[bytes, bytes]] = []

    def accept(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        heard.append((data.login, data.password))
        return AuthResult(success=True)

    inbox = Inbox()
    with smtp_server(inbox, authenticator=accept, auth_require_tls=False) as port:
        SmtpTransport(f"smtp://mailer%2Blublin:p%40ss%3Aw%20rd@127.0.0.1:{port}").send(letter_email())
    assert heard == [(b"mailer+lublin", b"p@ss:w rd")]
    assert len(inbox.envelopes) == 1


def test_starttls_with_a_trusted_certificate_delivers(server_tls: ssl.SSLContext, trusting: ssl.SSLContext) -> None:
    inbox = Inbox()
    with smtp_server(inbox, tls_context=server_tls, require_starttls=True) as port:
        SmtpTransport(f"smtp+starttls://127.0.0.1:{port}", ssl_context=trusting).send(letter_email())
    assert inbox.encrypted == [True]
    assert inbox.only_message()["Message-ID"] == MESSAGE_ID


def test_implicit_tls_with_a_trusted_certificate_delivers(server_tls: ssl.SSLContext, trusting: ssl.SSLContext) -> None:
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=server_tls) as port:
        SmtpTransport(f"smtps://127.0.0.1:{port}", ssl_context=trusting).send(letter_email())
    assert inbox.encrypted == [True]
    assert inbox.only_message()["Message-ID"] == MESSAGE_ID


@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_an_untrusted_certificate_is_refused_and_temporary(scheme: str, server_tls: ssl.SSLContext) -> None:
    inbox = Inbox()
    tls = {"tls_context": server_tls} if scheme == "smtp+starttls" else {"ssl_context": server_tls}
    with smtp_server(inbox, **tls) as port:
        failure = failure_of(SmtpTransport(f"{scheme}://127.0.0.1:{port}"))
    assert not failure.permanent
    assert failure.reason.startswith(f"TLS with 127.0.0.1:{port}: certificate not trusted")
    assert inbox.envelopes == []


def test_a_failure_reason_is_short_and_never_carries_an_address() -> None:
    failure = DeliveryFailed(
        "550 <Anna.Nowak+x@Example.ORG> and jan@example.org\r\nrefused " + "x" * 500, permanent=True
    )
    assert failure.reason.startswith("550 <[address]> and [address] refused x")
    assert len(failure.reason) == 300
    assert "@" not in failure.reason


def test_the_transport_does_not_show_its_password() -> None:
    transport = SmtpTransport("smtps://mailer:s3cret@smtp.example.com")
    assert "s3cret" not in repr(transport)
    assert (transport.host, transport.port) == ("smtp.example.com", 465)


@pytest.mark.parametrize(
    ("url", "port"), [("smtp://mx.example.com", 25), ("smtp+starttls://u:p@mx.example.com", 587), ("smtps://mx", 465)]
)
def test_default_ports(url: str, port: int) -> None:
    assert SmtpTransport(url).port == port


@pytest.mark.parametrize("url", ["http://mx.example.com", "smtp://", "smtps:///nohost"])
def test_an_smtp_address_that_is_not_one_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpTransport(url)


# -- the folder --------------------------------------------------------------------------------------------------


def test_the_folder_keeps_one_private_file_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    transport = transport_for(None, folder)
    assert isinstance(transport, FolderTransport)

    transport.send(letter_email())
    transport.send(letter_email(replace(LETTER, resend=True)))  # a retry or a resend under the same Message-ID

    [written] = list(folder.iterdir())
    assert written.name == "7f1c2d9e-5b1a-4c55-9d8e-2f6a0c3b1e47@issuer.test.eml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    parsed = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == MESSAGE_ID
    assert parsed["Subject"].startswith("Przesyłamy ponownie")
    assert body(parsed, "plain").startswith("Dzień dobry, Anna Nowak!")

    transport.send(compose(LETTER, to=LEARNER, sender=SENDER, message_id="<../../escape@issuer.test>"))
    assert sorted(path.name for path in folder.iterdir()) == [
        "%2E.%2F..%2Fescape@issuer.test.eml",
        written.name,
    ]


def test_a_folder_that_cannot_be_written_is_temporary(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    failure = failure_of(FolderTransport(blocked))
    assert not failure.permanent
    assert failure.reason.startswith("cannot write to the mail folder")


def test_a_configured_smtp_address_gives_smtp(tmp_path: Path) -> None:
    transport = transport_for("smtp+starttls://u:p@smtp.example.com", tmp_path)
    assert isinstance(transport, SmtpTransport)
    assert transport.port == 587
