"""The e-mail that brings a learner their badge: composed in their language, delivered by SMTP or into a folder.

One call of :meth:`Transport.send` is one delivery attempt; the job queue retries. A failure says whether trying
again can help (:attr:`DeliveryFailed.permanent`), and its reason is safe to show and log: it never carries the
recipient's address, whatever the server echoes back.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from http_edge.language import LOCAL_TIME_ZONE
from issuer import mail_words
from issuer.errors import IssuerError

log = logging.getLogger("issuer.mail")

REASON_LIMIT = 300
_ADDRESS_SHAPE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")
_MESSAGE_ID = re.compile(r"<([!-;=?-~]+)@([!-;=?-~]+)>")  # printable ASCII without "<", ">", "@" on either side
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class DeliveryFailed(IssuerError):
    """One delivery attempt failed; ``permanent`` means trying again cannot help.

    The reason is cleaned when the exception is made: anything shaped like an e-mail address is cut out, control
    characters become spaces, and it is at most 300 characters long.
    """

    code = "delivery_failed"

    def __init__(self, reason: str, *, permanent: bool) -> None:
        self.permanent = permanent
        self.reason = _clean_reason(reason)
        super().__init__(self.reason, permanent=permanent)


def _clean_reason(reason: str) -> str:
    text = " ".join(_ADDRESS_SHAPE.sub("[address]", reason).split())
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Letter:
    """What the e-mail about one credential says; the recipient's address travels separately."""

    language: str
    learner_name: str
    achievement_name: str
    provider_name: str
    page_url: str
    verify_url: str
    valid_until: date | None
    badge_png: bytes | None
    pdf: bytes | None
    resend: bool = False


@dataclass(frozen=True)
class _Block:
    """One paragraph of the e-mail: ``kind`` is "text", "badge", "button", "link" or "footer"."""

    kind: str
    text: str
    url: str = ""


def compose(letter: Letter, *, to: str, sender: str, message_id: str) -> EmailMessage:
    """The e-mail for ``letter``: plain text and HTML, the badge shown inline, the PDF certificate attached.

    Only ``To`` names the learner (their bare address); the subject names the achievement and the provider.
    Raises :class:`DeliveryFailed` (permanent) if ``to`` is not a single valid address, and ``ValueError`` for a
    malformed ``sender``, ``message_id`` or badge address (the issuer's configuration, not the learner's data).
    """
    lang = mail_words.language_of(letter.language)
    words = mail_words.WORDS[lang]
    match = _MESSAGE_ID.fullmatch(message_id)
    if match is None:
        raise ValueError("the Message-ID must look like <unique@host>")
    values = {
        "name": _one_line(letter.learner_name),
        "achievement": _one_line(letter.achievement_name),
        "provider": _one_line(letter.provider_name),
    }
    subject = words["subject_resend" if letter.resend else "subject"].format(**values)
    badge_cid = f"badge.{match[1]}@{match[2]}"
    blocks = [
        _Block("text", words["greeting" if values["name"] else "greeting_nameless"].format(**values)),
        _Block("text", words["awarded_resend" if letter.resend else "awarded"].format(**values)),
        _Block("badge", words["badge_alt"].format(**values) if letter.badge_png else "", f"cid:{badge_cid}"),
        _Block("button", words["open"], _web_address(letter.page_url)),
        _Block("text", mail_words.valid_until(letter.valid_until, lang)),
        _Block("text", words["share"]),
        _Block("text", words["pdf_attached"] if letter.pdf else ""),
        _Block("link", words["employer"], _web_address(letter.verify_url)),
        _Block("footer", words["footer"].format(**values)),
    ]
    blocks = [block for block in blocks if block.text]

    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = _recipient(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(LOCAL_TIME_ZONE))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders do not answer it
    message.set_content(_plain_text(blocks))
    message.add_alternative(_html(lang, subject, blocks), subtype="html")
    badge_name, pdf_name = mail_words.FILE_NAMES[lang]
    if letter.badge_png:
        html_part = list(message.iter_parts())[-1]  # the alternative's last part is the HTML
        html_part.add_related(
            letter.badge_png, "image", "png", cid=f"<{badge_cid}>", disposition="inline", filename=badge_name
        )
    if letter.pdf:
        message.add_attachment(letter.pdf, "application", "pdf", filename=pdf_name)
    message["Content-Language"] = lang  # last: turning the message multipart moves Content-* headers inward
    return message


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _web_address(url: str) -> str:
    if urlsplit(url).scheme not in ("https", "http") or any(char.isspace() for char in url):
        raise ValueError("a badge address in an e-mail must be an http(s) URL")
    return url


def _recipient(to: str) -> str:
    """``to`` as one bare address, its domain in ASCII (IDNA); a non-ASCII local part is refused (no SMTPUTF8)."""
    try:
        address = Address(addr_spec=to.strip())
        domain = address.domain.encode("idna").decode("ascii")
    except (ValueError, IndexError, HeaderParseError):  # the parser's defects are ValueErrors
        raise DeliveryFailed("the recipient's address is not valid", permanent=True) from None
    if not address.username or not domain:
        raise DeliveryFailed("the recipient's address is not valid", permanent=True)
    return f"{address.username}@{domain}"


def _plain_text(blocks: list[_Block]) -> str:
    shown = {
        "text": "{text}",
        "badge": "",  # the image is for the HTML; a text reader finds it on the badge page
        "button": "{text}:\n{url}",
        "link": "{text}\n{url}",
        "footer": "-- \n{text}",
    }
    paragraphs = (shown[block.kind].format(text=block.text, url=block.url) for block in blocks)
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph) + "\n"


_HTML_BLOCKS = {
    "text": '<p style="margin:0 0 16px">{text}</p>',
    "badge": '<p style="margin:0 0 16px;text-align:center"><img src="{url}" alt="{text}" width="160" '
    'style="width:160px;max-width:100%;height:auto;border:0"></p>',
    "button": '<p style="margin:8px 0 24px"><a href="{url}" style="display:inline-block;padding:12px 20px;'
    'background:#0b5cad;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:bold">{text}</a></p>',
    "link": '<p style="margin:0 0 16px">{text} <a href="{url}" style="color:#0b5cad">{url}</a></p>',
    "footer": '<hr style="border:0;border-top:1px solid #d0d0d0;margin:24px 0 16px">\n'
    '<p style="margin:0;font-size:13px;color:#555555">{text}</p>',
}

_HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body style="margin:0;padding:24px 16px;background:#ffffff;color:#1a1a1a;font-family:Arial,Helvetica,sans-serif;\
font-size:16px;line-height:1.5">
<div style="max-width:560px;margin:0 auto">
{blocks}
</div>
</body>
</html>
"""


def _html(lang: str, subject: str, blocks: list[_Block]) -> str:
    """A plain, self-contained page: inline styles only, no scripts, no remote images, nothing that tracks."""
    rendered = "\n".join(
        _HTML_BLOCKS[block.kind].format(text=escape(block.text), url=escape(block.url)) for block in blocks
    )
    return _HTML_PAGE.format(lang=lang, title=escape(subject), blocks=rendered)


class Transport(Protocol):
    """Where composed e-mails go."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` once; raises :class:`DeliveryFailed`."""


class SmtpTransport:
    """Hands e-mails to an SMTP server.

    ``smtp://host:25`` talks plain SMTP and never upgrades on its own; ``smtp+starttls://user:pass@host:587``
    requires STARTTLS before anything else is said; ``smtps://user:pass@host:465`` speaks TLS from the first byte.
    User and password are percent-decoded; on ``smtp://`` they travel unencrypted, which suits only a relay on the
    same host or network. The server's certificate is checked against the system's trust store
    unless an ``ssl_context`` is given.
    """

    def __init__(self, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError("the SMTP address must be smtp://, smtp+starttls:// or smtps://host[:port]")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or _DEFAULT_PORTS[parts.scheme]
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password or "")
        self.timeout = timeout
        self._ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:  # never the password
        return f"SmtpTransport({self.scheme}://{self.host}:{self.port})"

    def send(self, message: EmailMessage) -> None:
        try:
            self._deliver(message)
        except DeliveryFailed as failure:
            log.warning("e-mail %s not delivered (%s): %s", message["Message-ID"], _kind(failure), failure.reason)
            raise
        log.info("e-mail %s handed to %s:%s", message["Message-ID"], self.host, self.port)

    def _deliver(self, message: EmailMessage) -> None:
        sender, recipients = _envelope(message)
        try:
            client = self._connect()
            try:
                self._prepare(client)
                client.send_message(message, from_addr=sender, to_addrs=recipients)
            finally:
                _close(client)
        except (smtplib.SMTPException, OSError) as error:  # smtplib's errors and ssl's are OSErrors too
            raise _classify(error, self) from None  # the original may quote the address; it stays out of tracebacks

    def _connect(self) -> smtplib.SMTP:
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._ssl_context)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _prepare(self, client: smtplib.SMTP) -> None:
        client.ehlo()
        if self.scheme == "smtp+starttls":
            if not client.has_extn("starttls"):
                raise DeliveryFailed(
                    f"{self.host}:{self.port} does not offer STARTTLS, which smtp+starttls:// requires",
                    permanent=False,
                )
            client.starttls(context=self._ssl_context)
            client.ehlo()
        if self._username is not None:
            if not client.has_extn("auth"):
                raise DeliveryFailed(f"{self.host}:{self.port} does not offer authentication (AUTH)", permanent=False)
            client.login(self._username, self._password)


def _envelope(message: EmailMessage) -> tuple[str, list[str]]:
    sender = message["From"].addresses[0].addr_spec
    recipients = [address.addr_spec for address in message["To"].addresses]
    return sender, recipients


def _close(client: smtplib.SMTP) -> None:
    # Once the server has accepted the message, a failed QUIT must not turn into a retry (a second copy).
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _kind(failure: DeliveryFailed) -> str:
    return "permanent" if failure.permanent else "temporary"


def _server_said(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}"


def _classify(error: OSError, transport: SmtpTransport) -> DeliveryFailed:
    """What one failed attempt means: permanent only when the server refuses the recipient or the message for
    good (a 5xx); everything else (the network, TLS, our own credentials or sender) is worth another try."""
    where = f"{transport.host}:{transport.port}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (0, b"refused"))
        return DeliveryFailed(_server_said(code, text), permanent=code >= 500)
    if isinstance(error, smtplib.SMTPSenderRefused):
        # Refusing our From is about the issuer's configuration, not the learner: retried, so it stays visible
        # in the console until someone fixes mail_from, instead of silently failing every learner for good.
        return DeliveryFailed(f"sender refused: {_server_said(error.smtp_code, error.smtp_error)}", permanent=False)
    if isinstance(error, smtplib.SMTPDataError):
        # After DATA a 5xx refuses this very message (too large, taken for spam): sending it again will not help.
        return DeliveryFailed(
            f"message refused: {_server_said(error.smtp_code, error.smtp_error)}", permanent=error.smtp_code >= 500
        )
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return DeliveryFailed(
            f"authentication failed: {_server_said(error.smtp_code, error.smtp_error)}", permanent=False
        )
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return DeliveryFailed(f"{where} closed the connection: {error}", permanent=False)
    if isinstance(error, smtplib.SMTPResponseException):
        return DeliveryFailed(_server_said(error.smtp_code, error.smtp_error), permanent=False)
    if isinstance(error, ssl.SSLCertVerificationError):
        return DeliveryFailed(f"TLS with {where}: certificate not trusted ({error.verify_message})", permanent=False)
    if isinstance(error, ssl.SSLError):
        return DeliveryFailed(f"TLS with {where} failed: {error.reason or error}", permanent=False)
    if isinstance(error, ConnectionRefusedError):
        return DeliveryFailed(f"connection to {where} refused", permanent=False)
    if isinstance(error, TimeoutError):
        return DeliveryFailed(f"{where} did not answer within {transport.timeout:g} s", permanent=False)
    if isinstance(error, socket.gaierror):
        return DeliveryFailed(f"{transport.host} not found: {error.strerror}", permanent=False)
    return DeliveryFailed(f"{where}: {error}", permanent=False)


class FolderTransport:
    """Writes each e-mail to ``<folder>/<Message-ID>.eml`` (the local stand-in for SMTP).

    Files are readable by the owner only and written whole or not at all; the same Message-ID writes the same
    file, so a retried e-mail is still one file.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        path = self.folder / f"{file_name(message['Message-ID'])}.eml"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")  # mode 0600
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(message.as_bytes(policy=policy.SMTP))
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            failure = DeliveryFailed(f"cannot write to the mail folder: {error.strerror or error}", permanent=False)
            log.warning("e-mail %s not written (temporary): %s", message["Message-ID"], failure.reason)
            raise failure from None
        log.info("e-mail %s written to %s", message["Message-ID"], path.name)


def file_name(message_id: str | None) -> str:
    """The file name for a Message-ID: the id without its brackets, anything unsafe in a file name percent-encoded
    (so two ids never share a name, and none is hidden or climbs out of the folder)."""
    name = quote(str(message_id or "").strip().removeprefix("<").removesuffix(">"), safe="@-_+")
    if not name:
        raise ValueError("an e-mail without a Message-ID cannot be written to the mail folder")
    return "%2E" + name[1:] if name.startswith(".") else name


def transport_for(smtp_url: str | None, folder: Path) -> Transport:
    """The SMTP server at ``smtp_url``, or ``folder`` when none is configured."""
    return SmtpTransport(smtp_url) if smtp_url else FolderTransport(folder)
