"""The e-mail that brings an invited person their one-time link to the console.

Sent at once through the issuer's mail transport (SMTP, or the ``.eml`` folder), not through the outbox: the
link is a secret that works once, so it is never written to the queue or the database. When it cannot be sent,
the page that made it shows it, for the inviter to pass on another way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from http_edge.language import format_moment
from issuer.mail import DeliveryFailed

if TYPE_CHECKING:
    from issuer.context import IssuerContext

WORDS = {
    "pl": {
        "subject": "Zaproszenie do panelu organizatora: {provider}",
        "body": (
            "Dzień dobry,\n\n"
            "zapraszamy Cię do panelu organizatora „{provider}” w programie „Kompetencje jutra – Lublin inspiruje "
            "przyszłość” (rola: {role}). W panelu wydaje się odznaki uczestnikom szkoleń.\n\n"
            "Aby ustawić hasło i się zalogować, otwórz ten link (działa jeden raz, do {expires}):\n{link}\n\n"
            "Jeśli nie spodziewasz się tego zaproszenia, zignoruj tę wiadomość.\n"
        ),
        "owner": "właściciel",
        "issuer": "wystawca",
        "viewer": "podgląd",
        "operator": "operator programu",
        "programme": "wszyscy organizatorzy",
    },
    "en": {
        "subject": "Invitation to the provider console: {provider}",
        "body": (
            "Hello,\n\n"
            "you are invited to the console of “{provider}” in the programme “Kompetencje jutra – Lublin inspiruje "
            "przyszłość” (role: {role}). The console is where badges are issued to course participants.\n\n"
            "To choose your password and sign in, open this link (it works once, until {expires}):\n{link}\n\n"
            "If you did not expect this invitation, ignore this message.\n"
        ),
        "owner": "owner",
        "issuer": "issuer",
        "viewer": "viewer",
        "operator": "programme operator",
        "programme": "all providers",
    },
    "uk": {
        "subject": "Запрошення до панелі організатора: {provider}",
        "body": (
            "Вітаємо!\n\n"
            "Запрошуємо вас до панелі організатора «{provider}» у програмі «Kompetencje jutra – Lublin inspiruje "
            "przyszłość» (роль: {role}). У панелі видають бейджі учасникам навчання.\n\n"
            "Щоб установити пароль і увійти, відкрийте це посилання (воно діє один раз, до {expires}):\n{link}\n\n"
            "Якщо ви не очікували цього запрошення, просто проігноруйте лист.\n"
        ),
        "owner": "власник",
        "issuer": "видавець",
        "viewer": "перегляд",
        "operator": "оператор програми",
        "programme": "усі організатори",
    },
}


def send_invitation(
    ctx: IssuerContext,
    *,
    to: str,
    link: str,
    role: str,
    provider_name: str | None,
    expires: datetime | None,
    language: str,
) -> bool:
    """Send the link; ``True`` when the mail server (or folder) took it. Never raises for a delivery failure."""
    words = WORDS.get(language, WORDS["pl"])
    provider = provider_name or words["programme"]
    message = EmailMessage()
    message["From"] = ctx.settings.mail_from
    message["To"] = to
    message["Subject"] = words["subject"].format(provider=provider)
    message["Date"] = format_datetime(datetime.now().astimezone())
    host = urlsplit(ctx.urls.public_url).hostname or "odznaka"
    message["Message-ID"] = f"<{uuid.uuid4()}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = language if language in WORDS else "pl"
    message.set_content(
        words["body"].format(
            provider=provider,
            role=words.get(role, role),
            link=link,
            expires=format_moment(expires, language) if expires else "—",
        )
    )
    try:
        ctx.mailer.send(message)
    except (DeliveryFailed, ValueError):
        return False
    return True
