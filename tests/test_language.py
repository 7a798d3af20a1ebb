"""Which language a page speaks (``?lang=``, then the cookie that choice leaves, then Accept-Language by its
q-values), how its switch links keep the rest of the address, and how dates read in each language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_edge.language import format_date, format_moment, from_accept_language, relative_days
from issuer.i18n import ACHIEVEMENT_TYPES, MESSAGES
from tests.conftest import ProviderFixture, issue
from verifier.i18n import CHECK_NAMES, OUTCOMES, TEXT, UPLOAD_ERRORS
from verifier.i18n import MESSAGES as CHECK_MESSAGES


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        ("de-DE,de;q=0.9,en;q=0.5,pl;q=0.7", "pl"),
        ("en;q=0.3, uk;q=0.8", "uk"),
        ("pl;q=0, en", "en"),
        ("EN-gb", "en"),
        ("fr, de", None),
        ("uk;q=abc, en;q=0.1", "en"),
        ("", None),
    ],
)
def test_accept_language_by_its_q_values(header: str, expected: str | None) -> None:
    assert from_accept_language(header) == expected


def test_a_chosen_language_is_remembered(verifier: TestClient) -> None:
    chosen = verifier.get("/", params={"lang": "uk"}, headers={"Accept-Language": "en"})
    assert '<html lang="uk">' in chosen.text
    assert "lang=uk" in chosen.headers["set-cookie"] and "httponly" in chosen.headers["set-cookie"].lower()
    later = verifier.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="uk">' in later.text, "the cookie outranks the browser's header"
    verifier.cookies.clear()
    assert '<html lang="en">' in verifier.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="pl">' in verifier.get("/", headers={"Accept-Language": "fr"}).text


@pytest.fixture
def issued_link(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> str:
    return str(issue(issuer, provider, achievement)["id"])


def test_the_language_switch_keeps_the_address(verifier: TestClient, issued_link: str) -> None:
    page = verifier.get("/verify", params={"credential": issued_link, "lang": "en"})
    for lang in ("pl", "en", "uk"):
        assert (
            f'href="/verify?credential={issued_link.replace(":", "%3A").replace("/", "%2F")}&amp;lang={lang}"'
            in page.text
        )


def test_dates_in_each_language() -> None:
    moment = datetime(2026, 11, 29, 13, 3, tzinfo=UTC)  # 14:03 in Lublin
    assert [format_date(moment, lang) for lang in ("pl", "en", "uk")] == ["29.11.2026", "29 Nov 2026", "29.11.2026"]
    assert format_moment("2026-11-29T13:03:00Z", "pl") == "29.11.2026 14:03"
    assert format_date("not a date", "pl") == "" and format_date(None, "en") == ""
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert relative_days("2026-11-26T12:00:00Z", "pl", now) == "3 dni temu"
    assert relative_days("2026-11-28T12:00:00Z", "pl", now) == "1 dzień temu"
    assert relative_days("2026-12-04T12:00:00Z", "pl", now) == "za 5 dni"
    assert relative_days("2026-12-20T12:00:00Z", "uk", now) == "через 21 день"
    assert relative_days("2026-12-01T12:00:00Z", "uk", now) == "через 2 дні"
    assert relative_days("2026-11-17T12:00:00Z", "uk", now) == "12 днів тому"
    assert relative_days("2026-11-29T20:00:00Z", "en", now) == "today"


def test_every_language_has_every_word() -> None:
    for table in (TEXT, OUTCOMES, CHECK_NAMES, UPLOAD_ERRORS, MESSAGES, ACHIEVEMENT_TYPES):
        keys = {lang: set(words) for lang, words in table.items()}
        assert set(keys) == {"pl", "en", "uk"}
        assert keys["pl"] == keys["en"] == keys["uk"], {lang: keys["pl"] ^ found for lang, found in keys.items()}
    assert set(CHECK_MESSAGES["pl"]) == set(CHECK_MESSAGES["uk"])
