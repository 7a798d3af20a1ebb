"""The PDF certificate's words in Polish, English and Ukrainian, and how it states a date."""

from __future__ import annotations

from datetime import date

LABELS: dict[str, dict[str, str]] = {
    "pl": {
        "certificate": "Certyfikat",
        "certifies": "Zaświadcza się, że",
        "awarded": "uzyskał(a) poświadczenie",
        "issued_by": "Wystawca",
        "issued_on": "Data wystawienia",
        "valid_until": "Ważne do",
        "no_expiry": "bezterminowo",
        "criteria": "Kryteria",
        "eu_heading": "Elementy mikropoświadczenia UE",
        "learning_outcomes": "Efekty uczenia się",
        "ects": "Punkty ECTS",
        "workload_hours": "Nakład pracy",
        "hours": "{value} godz.",
        "eqf_level": "Poziom ERK (EQF)",
        "prk_level": "Poziom PRK",
        "assessment": "Rodzaj oceny",
        "participation": "Forma udziału",
        "online": "online",
        "onsite": "stacjonarna",
        "blended": "hybrydowa",
        "quality_assurance": "Zapewnianie jakości",
        "prerequisites": "Wymagania wstępne",
        "supervision": "Nadzór i weryfikacja tożsamości",
        "stackability": "Możliwość łączenia",
        "further_information": "Dodatkowe informacje",
        "status_valid": "Stan na {as_of}: poświadczenie ważne",
        "status_expired": "Stan na {as_of}: poświadczenie wygasło {since}",
        "status_revoked": "Stan na {as_of}: poświadczenie unieważnione {since}",
        "reason": "Powód: {reason}",
        "verify_heading": "Jak sprawdzić ten certyfikat",
        "verify_text": "Zeskanuj kod QR telefonem albo otwórz adres pod kodem: weryfikator sprawdzi podpis cyfrowy "
        "wystawcy i aktualny stan poświadczenia. Plik PDF zawiera też samo podpisane poświadczenie "
        "(credential.jwt, Open Badges 3.0), które można przesłać do weryfikatora.",
        "page": "Strona {page} z {pages}",
    },
    "en": {
        "certificate": "Certificate",
        "certifies": "This is to certify that",
        "awarded": "has been awarded",
        "issued_by": "Issued by",
        "issued_on": "Date of issue",
        "valid_until": "Valid until",
        "no_expiry": "no expiry",
        "criteria": "Criteria",
        "eu_heading": "EU micro-credential elements",
        "learning_outcomes": "Learning outcomes",
        "ects": "ECTS credits",
        "workload_hours": "Notional workload",
        "hours": "{value} hours",
        "eqf_level": "EQF level",
        "prk_level": "PRK level (Poland)",
        "assessment": "Type of assessment",
        "participation": "Form of participation",
        "online": "online",
        "onsite": "on-site",
        "blended": "blended",
        "quality_assurance": "Quality assurance",
        "prerequisites": "Prerequisites",
        "supervision": "Supervision and identity verification",
        "stackability": "Stackability",
        "further_information": "Further information",
        "status_valid": "Status on {as_of}: the credential is valid",
        "status_expired": "Status on {as_of}: the credential expired on {since}",
        "status_revoked": "Status on {as_of}: the credential was revoked on {since}",
        "reason": "Reason: {reason}",
        "verify_heading": "How to check this certificate",
        "verify_text": "Scan the QR code with a phone or open the address under it: the verifier checks the "
        "issuer's digital signature and the credential's current status. This PDF also carries the signed "
        "credential itself (credential.jwt, Open Badges 3.0), which can be uploaded to the verifier.",
        "page": "Page {page} of {pages}",
    },
    "uk": {
        "certificate": "Сертифікат",
        "certifies": "Цим засвідчується, що",
        "awarded": "отримав(-ла) посвідчення",
        "issued_by": "Видавець",
        "issued_on": "Дата видачі",
        "valid_until": "Дійсне до",
        "no_expiry": "безстроково",
        "criteria": "Критерії",
        "eu_heading": "Елементи мікрокваліфікації ЄС",
        "learning_outcomes": "Результати навчання",
        "ects": "Кредити ECTS",
        "workload_hours": "Навчальне навантаження",
        "hours": "{value} год",
        "eqf_level": "Рівень ЄРК (EQF)",
        "prk_level": "Рівень ПРК (Польща)",
        "assessment": "Форма оцінювання",
        "participation": "Форма участі",
        "online": "онлайн",
        "onsite": "очна",
        "blended": "змішана",
        "quality_assurance": "Забезпечення якості",
        "prerequisites": "Попередні вимоги",
        "supervision": "Нагляд і перевірка особи",
        "stackability": "Можливість поєднання",
        "further_information": "Додаткова інформація",
        "status_valid": "Стан на {as_of}: посвідчення чинне",
        "status_expired": "Стан на {as_of}: строк дії посвідчення закінчився {since}",
        "status_revoked": "Стан на {as_of}: посвідчення анульовано {since}",
        "reason": "Причина: {reason}",
        "verify_heading": "Як перевірити цей сертифікат",
        "verify_text": "Відскануйте QR-код телефоном або відкрийте адресу під ним: служба перевірки звірить "
        "цифровий підпис видавця і покаже поточний стан посвідчення. Цей PDF також містить саме підписане "
        "посвідчення (credential.jwt, Open Badges 3.0), яке можна завантажити до служби перевірки.",
        "page": "Сторінка {page} з {pages}",
    },
}
"""The certificate's words, by language; the keys of EU elements are those of :data:`credentials.eu_elements.KEYS`."""

_MONTHS = {
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "en": "January February March April May June July August September October November December",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
}
_YEAR_SUFFIX = {"pl": " r.", "en": "", "uk": " р."}


def long_date(day: date, lang: str) -> str:
    """``29 listopada 2026 r.``, ``29 November 2026`` or ``29 листопада 2026 р.``: the date as a document states it."""
    month = _MONTHS[lang].split()[day.month - 1]
    return f"{day.day} {month} {day.year}{_YEAR_SUFFIX[lang]}"
