"""Pages a person may land on: the issuer's front page, an achievement's page, pages that are not there (a page
saying so, not JSON), HEAD on any page, and the API docs served without a CDN."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ProviderFixture, issue, path_of
from tests.helpers import EU_ACHIEVEMENT

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_issuers_front_page_names_the_programme_and_its_issuers(
    issuer: TestClient, provider: ProviderFixture
) -> None:
    page = issuer.get("/", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Kompetencje jutra\u00a0– Lublin inspiruje przyszłość" in page.text, "the dash stays with its words"
    assert f'href="{provider.issuer_id}?lang=pl">Wyższa Szkoła Ekonomii i Innowacji</a>' in page.text.replace(
        "\u00a0", " "
    )
    assert 'href="http://verifier.test/?lang=pl"' in page.text


@pytest.mark.parametrize(("lang", "label"), [("pl", "Kryteria przyznania"), ("en", "Criteria"), ("uk", "Критерії")])
def test_an_achievement_has_a_page_and_stays_json_for_machines(
    issuer: TestClient, achievement: dict[str, Any], lang: str, label: str
) -> None:
    page = issuer.get(path_of(achievement["id"]), params={"lang": lang}, headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Podstawy Pythona</h1>" in page.text and label in page.text
    assert f'src="{achievement["id"]}/image"' in page.text
    image = issuer.get(path_of(achievement["id"]) + "/image")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    assert issuer.get(path_of(achievement["id"]), headers={"Accept": "application/json"}).json() == achievement
    assert issuer.get(path_of(achievement["id"])).json() == achievement


@pytest.mark.parametrize("path", ["/no/such/page", "/credentials/nope", "/achievements/nope", "/issuers/nobody"])
def test_a_browser_gets_a_page_for_what_is_not_there(issuer: TestClient, provider: ProviderFixture, path: str) -> None:
    page = issuer.get(path, params={"lang": "uk"}, headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Не знайдено</h1>" in page.text
    machine = issuer.get(path)
    assert machine.status_code == 404 and machine.json()["error"]["code"] == "not_found"


def test_the_api_answers_json_even_to_a_browser(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.get("/api/v1/credentials/nope", headers={**HTML, **provider.headers})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_verifier_shows_its_form_for_what_is_not_there(verifier: TestClient) -> None:
    page = verifier.get("/nothing-here", headers=HTML)
    assert page.status_code == 404 and '<form method="post" action="/verify' in page.text
    assert "Nie ma tu takiej strony" in page.text
    assert verifier.get("/nothing-here").json()["error"]["code"] == "not_found"


def test_head_answers_like_get_without_a_body(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    for client, path in (
        (issuer, path_of(issued["id"])),
        (issuer, "/"),
        (issuer, path_of(issued["links"]["qr_png"])),
        (verifier, "/"),
    ):
        got = client.get(path, headers=HTML)
        head = client.head(path, headers=HTML)
        assert head.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
    assert issuer.head("/no/such/page").status_code == 404


def test_every_anchor_an_alignment_names_is_on_the_achievements_page(
    issuer: TestClient, provider: ProviderFixture
) -> None:
    """EU elements are alignments whose targetUrl points into the achievement's page (#learning-outcome-1, …)."""
    created = issuer.post("/api/v1/achievements", json=EU_ACHIEVEMENT, headers=provider.headers).json()
    page = issuer.get(path_of(created["id"]), headers=HTML).text
    anchors = [
        entry["targetUrl"].split("#", 1)[1]
        for entry in created["alignment"]
        if entry["targetUrl"].startswith(created["id"] + "#")
    ]
    assert "learning-outcome-2" in anchors and "quality-assurance" in anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in page, anchor
