"""The words of the e-mail that brings a learner their badge, in Polish, English and Ukrainian.

A provider's name is quoted as it is, in the nominative: every sentence is built so that it reads right whatever
the name is and whatever its grammatical gender (``{provider} przyznaje Ci…``, ``wystawcą jest {provider}``).
"""

from __future__ import annotations

from datetime import date, datetime, time

from http_edge.language import LOCAL_TIME_ZONE, format_date

LANGUAGES = ("pl", "en", "uk")
DEFAULT = "pl"
PROGRAMME = "Kompetencje jutra – Lublin inspiruje przyszłość"

WORDS: dict[str, dict[str, str]] = {
    "pl": {
        "subject": "Twoja odznaka: {achievement} – {provider}",
        "subject_resend": "Przesyłamy ponownie Twoją odznakę: {achievement} – {provider}",
        "greeting": "Dzień dobry, {name}!",
        "greeting_nameless": "Dzień dobry!",
        "awarded": "{provider} przyznaje Ci odznakę „{achievement}”. Gratulujemy!",
        "awarded_resend": "Przesyłamy ponownie Twoją odznakę „{achievement}” – wystawcą jest {provider}.",
        "open": "Zobacz swoją odznakę",
        "valid_until": "Ważna do {date}.",
        "share": "Na stronie odznaki możesz dodać ją do profilu LinkedIn, pobrać certyfikat PDF i pokazać kod QR, "
        "który prowadzi do jej weryfikacji.",
        "pdf_attached": "Certyfikat PDF znajdziesz też w załączniku.",
        "employer": "Pracodawca może potwierdzić autentyczność odznaki pod adresem:",
        "footer": "Tę wiadomość wysłaliśmy automatycznie w imieniu wystawcy odznaki ({provider}) w ramach programu "
        f"„{PROGRAMME}”. Jeśli trafiła do Ciebie przez pomyłkę, możesz ją po prostu zignorować.",
        "badge_alt": "Odznaka „{achievement}”",
    },
    "en": {
        "subject": "Your badge: {achievement} – {provider}",
        "subject_resend": "Your badge, sent again: {achievement} – {provider}",
        "greeting": "Hello {name},",
        "greeting_nameless": "Hello,",
        "awarded": "Congratulations! {provider} has awarded you the badge “{achievement}”.",
        "awarded_resend": "Here is a copy of your badge “{achievement}”, issued by {provider}.",
        "open": "Open your badge",
        "valid_until": "Valid until {date}.",
        "share": "On the badge page you can add it to your LinkedIn profile, download the PDF certificate and show "
        "the QR code that leads to its verification.",
        "pdf_attached": "The PDF certificate is also attached to this e-mail.",
        "employer": "An employer can confirm that the badge is genuine at:",
        "footer": "This message was sent automatically on behalf of the badge's issuer ({provider}) within the "
        f"programme “{PROGRAMME}”. If it reached you by mistake, you can simply ignore it.",
        "badge_alt": "Badge “{achievement}”",
    },
    "uk": {
        "subject": "Ваш бейдж: {achievement} – {provider}",
        "subject_resend": "Повторно надсилаємо ваш бейдж: {achievement} – {provider}",
        "greeting": "Добрий день, {name}!",
        "greeting_nameless": "Добрий день!",
        "awarded": "{provider} присуджує вам бейдж «{achievement}». Щиро вітаємо!",
        "awarded_resend": "Повторно надсилаємо ваш бейдж «{achievement}» — його видавець: {provider}.",
        "open": "Переглянути бейдж",
        "valid_until": "Дійсний до {date}.",
        "share": "На сторінці бейджа ви можете додати його до профілю LinkedIn, завантажити сертифікат PDF і "
        "показати QR-код, який веде до його перевірки.",
        "pdf_attached": "Сертифікат PDF також додано до цього листа.",
        "employer": "Роботодавець може підтвердити справжність бейджа за адресою:",
        "footer": "Цей лист надіслано автоматично від імені видавця бейджа ({provider}) у межах програми "
        f"«{PROGRAMME}». Якщо він потрапив до вас помилково, просто проігноруйте його.",
        "badge_alt": "Бейдж «{achievement}»",
    },
}
"""The e-mail's sentences, by language; ``{name}``, ``{achievement}``, ``{provider}`` and ``{date}`` are filled in."""

FILE_NAMES: dict[str, tuple[str, str]] = {
    "pl": ("odznaka.png", "certyfikat.pdf"),
    "en": ("badge.png", "certificate.pdf"),
    "uk": ("бейдж.png", "сертифікат.pdf"),
}
"""The attachments' names, by language: (badge image, certificate)."""


def language_of(code: str) -> str:
    """The e-mail's language: ``code`` if the programme writes in it, Polish otherwise."""
    return code if code in LANGUAGES else DEFAULT


def valid_until(day: date | None, lang: str) -> str:
    """``Ważna do 30.06.2030.``, ``Valid until 30 Jun 2030.``, ``Дійсний до 30.06.2030.``; ``""`` when open-ended."""
    if day is None:
        return ""
    # Noon in Lublin, so the calendar day stays the same whatever zone format_date states it in.
    moment = datetime.combine(day, time(12), LOCAL_TIME_ZONE)
    return WORDS[lang]["valid_until"].format(date=format_date(moment, lang))
