"""Polish and English for the verifier's page. Check messages are translated by their stable code."""

from __future__ import annotations

from starlette.requests import Request

LANGUAGES = ("pl", "en")

TEXT: dict[str, dict[str, str]] = {
    "pl": {
        "title": "Weryfikacja poświadczenia",
        "valid": "Poświadczenie jest ważne",
        "invalid": "Poświadczenie jest nieważne",
        "indeterminate": "Nie udało się potwierdzić poświadczenia",
        "valid_lead": "Podpis, wydawca i daty zostały sprawdzone.",
        "invalid_lead": "Nie ufaj temu poświadczeniu. Powód poniżej.",
        "indeterminate_lead": "Część sprawdzeń nie mogła zostać wykonana. Spróbuj ponownie później.",
        "checks": "Sprawdzenia",
        "learner": "Osoba",
        "achievement": "Osiągnięcie",
        "issuer": "Wydawca",
        "issued": "Data wydania",
        "valid_until": "Ważne do",
        "no_expiry": "bezterminowo",
        "paste": "Wklej link lub token (JWT)",
        "upload": "albo wgraj plik .jwt",
        "submit": "Sprawdź",
        "home_lead": "Zeskanuj kod QR aparatem telefonu, wklej link albo token, lub wgraj plik poświadczenia.",
        "another": "Sprawdź inne poświadczenie",
        "passed": "zaliczone",
        "failed": "niezaliczone",
        "skipped": "pominięte",
        "unknown": "nieustalone",
        "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
        "revoked": "Unieważnione",
        "reason": "powód",
        "replaced_by": "Zastąpione przez",
        "registry": "Rejestr",
        "insecure_demo": "Tryb demonstracyjny: weryfikator łączy się z wydawcami bez HTTPS. Nie do użytku na co dzień.",
    },
    "en": {
        "title": "Credential verification",
        "valid": "The credential is valid",
        "invalid": "The credential is not valid",
        "indeterminate": "The credential could not be confirmed",
        "valid_lead": "Signature, issuer and dates have been checked.",
        "invalid_lead": "Do not rely on this credential. The reason is below.",
        "indeterminate_lead": "Some checks could not be carried out. Try again later.",
        "checks": "Checks",
        "learner": "Learner",
        "achievement": "Achievement",
        "issuer": "Issuer",
        "issued": "Issued on",
        "valid_until": "Valid until",
        "no_expiry": "no expiry",
        "paste": "Paste a link or a token (JWT)",
        "upload": "or upload a .jwt file",
        "submit": "Verify",
        "home_lead": "Scan the QR code with a phone camera, paste a link or a token, or upload the credential file.",
        "another": "Verify another credential",
        "passed": "passed",
        "failed": "failed",
        "skipped": "skipped",
        "unknown": "unknown",
        "programme": "Kompetencje jutra – Lublin inspiruje przyszłość",
        "revoked": "Revoked",
        "reason": "reason",
        "replaced_by": "Replaced by",
        "registry": "Registry",
        "insecure_demo": "Demo mode: this verifier contacts issuers without HTTPS. Do not rely on it in production.",
    },
}

CHECK_NAMES: dict[str, dict[str, str]] = {
    "pl": {
        "retrieval": "Pobranie",
        "format": "Format",
        "header": "Nagłówek",
        "issuer": "Wydawca",
        "key": "Klucz",
        "signature": "Podpis",
        "claims": "Zgodność danych",
        "schema": "Schemat Open Badges 3.0",
        "validity": "Okres ważności",
        "status": "Status (unieważnienie)",
        "internal": "Weryfikator",
    },
    "en": {
        "retrieval": "Retrieval",
        "format": "Format",
        "header": "Header",
        "issuer": "Issuer",
        "key": "Key",
        "signature": "Signature",
        "claims": "Claims",
        "schema": "Open Badges 3.0 schema",
        "validity": "Validity period",
        "status": "Status (revocation)",
        "internal": "Verifier",
    },
}

# Polish sentences by code; the English sentence from the pipeline is used where none is listed.
POLISH: dict[str, str] = {
    "ok": "Sprawdzenie zakończone pomyślnie.",
    "not_checked": "Nie sprawdzano, bo wcześniejsze sprawdzenie nie powiodło się.",
    "no_status_list": "Poświadczenie nie ma listy statusów unieważnień.",
    "malformed": "To nie jest poprawny token JWS (JWT).",
    "unsupported_algorithm": "Algorytm podpisu jest niedozwolony lub nie pasuje do klucza.",
    "header_not_allowed": "Nagłówek tokenu zawiera niedozwolone pola.",
    "untrusted_issuer": "Wydawca nie jest na liście zaufanych wydawców.",
    "unknown_key": "Wydawca nie publikuje klucza, którym podpisano token.",
    "keys_unavailable": "Nie udało się pobrać kluczy wydawcy.",
    "bad_signature": "Podpis się nie zgadza: token zmieniono lub sfałszowano.",
    "claims_mismatch": "Dane w tokenie nie zgadzają się z treścią poświadczenia.",
    "legacy_format": "To token w starym formacie VC 1.1 (pole 'vc'), którego nie akceptujemy.",
    "schema_invalid": "Poświadczenie nie jest zgodne ze schematem Open Badges 3.0.",
    "expired": "Poświadczenie wygasło.",
    "not_yet_valid": "Poświadczenie nie jest jeszcze ważne.",
    "status_unavailable": "Podpis i wydawca zweryfikowane; nie udało się sprawdzić statusu unieważnienia.",
    "revoked": "Wydawca unieważnił to poświadczenie.",
    "suspended": "Wydawca zawiesił to poświadczenie.",
    "key_compromised": "Klucz, którym podpisano poświadczenie, został zgłoszony jako przejęty; nie można mu ufać.",
    "registry_unavailable": "Nie udało się odczytać rejestru zaufanych wydawców.",
    "not_found": "Wydawca nie ma takiego poświadczenia.",
    "credential_unavailable": "Nie udało się pobrać poświadczenia od wydawcy.",
    "unsupported_context": "Poświadczenie jest w nieznanej tu wersji Open Badges; nie da się go sprawdzić.",
    "unsupported_link": "To nie jest link do poświadczenia zaufanego wydawcy (…/credentials/<id>).",
    "internal_error": "Błąd wewnętrzny weryfikatora; spróbuj ponownie później.",
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


def check_message(lang: str, code: str, status: str, english: str) -> str:
    if lang == "pl":
        if status == "passed" and code == "ok":
            return POLISH["ok"]
        return POLISH.get(code, english)
    return english
