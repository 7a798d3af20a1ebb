"""The employer's verdict page: one banner that names what happened, in the reader's language, with the date
that makes it specific; who, what and when below it; the checks folded, the failing one first; a permalink and a
report. One test per outcome."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient

from issuer.context import IssuerContext
from issuer.key_lifecycle import compromise
from issuer.reissue import reissue
from tests.conftest import ProviderFixture, b64u_json, issue

LUBLIN = ZoneInfo("Europe/Warsaw")


def verdict(client: TestClient, value: str, lang: str = "pl") -> dict[str, Any]:
    """The page for ``value`` (a link or a token, as the QR code or the form gives it), taken apart."""
    if value.startswith("http"):
        response = client.get("/verify", params={"credential": value, "lang": lang})
    else:
        response = client.post(f"/verify?lang={lang}", data={"credential": value})
    assert response.status_code == 200, response.text
    html = response.text
    heading = re.search(r'<h1 id="verdict" data-verdict="(\w+)" data-outcome="(\w+)">([^<]*)</h1>', html)
    assert heading, html
    statuses = re.findall(r'<li data-check="\w+" data-status="(\w+)">', html)
    permalink = re.search(r'id="permalink" type="text" readonly value="([^"]*)"', html)
    return {
        "verdict": heading.group(1),
        "outcome": heading.group(2),
        "headline": unescape(heading.group(3)),
        "statuses": statuses,
        "text": " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()),
        "permalink": unescape(permalink.group(1)) if permalink else None,
        "html": html,
    }


def day(moment: str | datetime, pattern: str = "%d.%m.%Y") -> str:
    when = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return when.astimezone(LUBLIN).strftime(pattern)


def revoke(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any], reason: str) -> dict[str, Any]:
    uuid = issued["id"].rsplit("/", 1)[-1]
    response = issuer.post(f"/api/v1/credentials/{uuid}/revoke", json={"reason": reason}, headers=provider.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_valid_says_so_and_who_what_and_when(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    with time_machine.travel(datetime(2031, 3, 4, 13, 5, tzinfo=UTC), tick=False):
        found = verdict(verifier, issued["id"])
    assert (found["verdict"], found["outcome"], found["headline"]) == ("valid", "valid", "Ważne")
    for said in ("Anna Nowak", "Podstawy Pythona", "Wyższa Szkoła Ekonomii i Innowacji", "Sprawdzono 04.03.2031 14:05"):
        assert said in found["text"], said
    assert "nie zostało unieważnione" in found["text"]
    assert set(found["statuses"]) == {"passed"}
    assert '<details class="card checks"' in found["html"] and "<details open" not in found["html"]
    assert (
        found["permalink"]
        == f"http://verifier.test/verify?credential={issued['id'].replace(':', '%3A').replace('/', '%2F')}&lang=pl"
    )


def test_revoked_names_the_date_and_the_reason(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    body = revoke(issuer, provider, issued, "Plagiat pracy końcowej")
    for lang, words in (("pl", "Unieważnione"), ("en", "Revoked on"), ("uk", "Анульоване")):
        found = verdict(verifier, issued["id"], lang)
        assert found["outcome"] == "revoked"
        pattern = "%-d %b %Y" if lang == "en" else "%d.%m.%Y"
        assert found["headline"] == f"{words} {day(body['revokedAt'], pattern)}", found["headline"]
        assert "Plagiat pracy końcowej" in found["text"]
        assert found["statuses"][0] == "failed", "the failing check comes first"


def test_expired_is_genuine_and_still_checked_for_revocation(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id])
    issued = issue(issuer, provider, achievement, validUntil="2030-06-30")
    with time_machine.travel(datetime(2030, 7, 3, tzinfo=UTC), tick=False):
        found = verdict(verifier, issued["id"])
    assert (found["verdict"], found["outcome"]) == ("invalid", "expired")
    assert found["headline"] == "Wygasło 30.06.2030 (autentyczne, ale nieaktualne)"
    assert "nie zostało unieważnione" in found["text"], "the revocation status is still told"
    revoke(issuer, provider, issued, "Wydane przez pomyłkę")
    fresh = verifier_factory([provider.issuer_id])  # no status list cached from before the revocation
    with time_machine.travel(datetime(2030, 7, 3, tzinfo=UTC), tick=False):
        assert verdict(fresh, issued["id"])["outcome"] == "revoked", "a revocation outranks an expiry"


def test_a_forged_token_is_called_forged(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    header, payload, signature = issue(issuer, provider, achievement)["jwt"].split(".")
    claims = b64u_json(payload)
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Grzegorz Brzęczyszczykiewicz"
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    token = f"{header}.{changed}.{signature}"
    found = verdict(verifier, token, "en")
    assert (found["outcome"], found["headline"]) == ("forged", "Forged or altered — do not rely on it")
    assert "Grzegorz" not in found["text"], "what a forgery claims is not shown as fact"
    assert found["statuses"][0] == "failed"
    assert token not in found["permalink"].split("#")[0], "a pasted token stays out of the address"
    assert found["permalink"].startswith("http://verifier.test/?lang=en#credential=")


def test_an_issuer_off_the_trust_list_is_unknown(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    stranger = verifier_factory(["https://someone-else.example/issuers/x"])
    found = verdict(stranger, issued["jwt"], "uk")
    assert (found["outcome"], found["headline"]) == ("untrusted", "Невідомий видавець — не покладайтеся на нього")


def test_a_compromised_key_points_to_the_reissued_copy(
    issuer: TestClient,
    verifier: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    issued = issue(issuer, provider, achievement)
    kid = b64u_json(issued["jwt"].split(".")[0])["kid"]
    compromise(ctx, provider.slug, kid)
    found = verdict(verifier, issued["jwt"])
    assert found["outcome"] == "key_compromised"
    assert "nową kopię" not in found["text"], "not reissued yet"
    [copy] = reissue(ctx, provider.slug, kid=kid)
    found = verdict(verifier, issued["jwt"])
    assert found["headline"] == "Niewiarygodne — klucz wystawcy został przejęty"
    new_copy = f"{issued['id'].rsplit('/', 1)[0]}/{copy.new_id}"
    link = re.search(
        r'<a href="(/verify\?credential=[^"]+)">Sprawdź nową kopię</a>', found["html"].replace("\u00a0", " ")
    )
    assert link, found["html"]
    assert verdict(verifier, new_copy)["outcome"] == "valid"


def test_what_is_not_a_credential_or_not_there(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture
) -> None:
    assert verdict(verifier, "to nie jest token")["outcome"] == "not_a_credential"
    missing = verdict(
        verifier, f"{provider.issuer_id.rsplit('/issuers/', 1)[0]}/credentials/{'0' * 8}-0000-0000-0000-{'0' * 12}"
    )
    assert (missing["outcome"], missing["headline"]) == ("not_found", "Nie ma takiego poświadczenia")


def test_an_issuer_that_cannot_be_reached_is_not_called_a_forger(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the issuer is down", request=request)

    cut_off = verifier_factory([provider.issuer_id], transport=httpx.MockTransport(down))
    found = verdict(cut_off, issued["jwt"])
    assert (found["verdict"], found["outcome"]) == ("indeterminate", "indeterminate")
    assert found["headline"] == "Nie można teraz sprawdzić — prosimy spróbować później"
    assert "nie znaczy, że poświadczenie jest fałszywe" in found["text"]


def test_the_report_can_be_downloaded_and_printed(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    found = verdict(verifier, issued["id"], "en")
    encoded = re.search(
        r'href="data:application/json;charset=utf-8;base64,([^"]+)" download="odznaka-report.json"', found["html"]
    )
    assert encoded
    report = json.loads(base64.b64decode(encoded.group(1)))
    assert (report["verdict"], report["outcome"], report["verifier"]) == ("valid", "valid", "http://verifier.test")
    assert datetime.fromisoformat(report["checkedAt"].replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(minutes=1)
    assert "anna@example.org" not in json.dumps(report)
    assert 'class="print-only receipt-title">Verification receipt' in found["html"]


BAD_UPLOADS = {
    "corrupt-pdf": (
        "certificate.pdf",
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n",
        "application/pdf",
    ),
    "svg-with-script": (
        "badge.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="5"/></svg>',
        "image/svg+xml",
    ),
    "svg-entity-bomb": (
        "badge.svg",
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        "image/svg+xml",
    ),
    "truncated-png": ("badge.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "image/png"),
    "png-named-jwt": ("credential.jwt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "application/octet-stream"),
    "empty": ("credential.json", b"", "application/json"),
    "broken-json": ("credential.json", b'{"id": "http://x", "id": 2', "application/json"),
}


@pytest.mark.parametrize("name", BAD_UPLOADS)
def test_a_bad_upload_is_answered_on_the_form(verifier: TestClient, name: str) -> None:
    """Corrupt, hostile or empty files: a sentence on the form (400), never a 500, never anything executed."""
    filename, body, media_type = BAD_UPLOADS[name]
    response = verifier.post("/verify?lang=en", files={"file": (filename, body, media_type)})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert 'role="alert"' in response.text and "<form" in response.text
    else:
        assert 'data-verdict="invalid"' in response.text  # read as text, it is no credential
    assert "<script>alert(1)</script>" not in response.text
