"""Polish and English for the issuer's pages: ``?lang=`` wins, then ``Accept-Language``; Polish by default."""

from __future__ import annotations

from starlette.requests import Request

LANGUAGES = ("pl", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "pl": {
        "credential": "Poświadczenie",
        "awarded_to": "Przyznane dla",
        "issued_by": "Wydawca",
        "issued_on": "Data wydania",
        "valid_from": "Ważne od",
        "valid_until": "Ważne do",
        "no_expiry": "bezterminowo",
        "verify": "Sprawdź w weryfikatorze",
        "download_jwt": "Pobierz (.jwt)",
        "qr_alt": "Kod QR prowadzący do weryfikacji poświadczenia",
        "scan": "Zeskanuj telefonem, aby potwierdzić autentyczność.",
        "criteria": "Kryteria",
        "description": "Opis",
        "issuer_profile": "Profil wydawcy",
        "revoked": "To poświadczenie zostało unieważnione",
        "reason": "Powód",
        "replaced_by": "Zobacz nowe wydanie tego poświadczenia",
        "not_found": "Nie znaleziono",
        "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
    },
    "en": {
        "credential": "Credential",
        "awarded_to": "Awarded to",
        "issued_by": "Issued by",
        "issued_on": "Issued on",
        "valid_from": "Valid from",
        "valid_until": "Valid until",
        "no_expiry": "no expiry",
        "verify": "Check at the verifier",
        "download_jwt": "Download (.jwt)",
        "qr_alt": "QR code that opens the verification of this credential",
        "scan": "Scan with a phone to confirm it is genuine.",
        "criteria": "Criteria",
        "description": "Description",
        "issuer_profile": "Issuer profile",
        "revoked": "This credential has been revoked",
        "reason": "Reason",
        "replaced_by": "See the reissued credential",
        "not_found": "Not found",
        "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
    },
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "pl"
