"""A provider's own badge image (uploaded, cleaned, shown and baked) and achievements in the programme's other
languages (published as related achievements; the learner's page speaks the reader's language, the signed
credential keeps its own)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader

from credentials import jsonld
from credentials.baking import unbake_png
from issuer.context import IssuerContext
from tests.conftest import PLAIN_ACHIEVEMENT, ProviderFixture, add_provider, issue, path_of, payload_of


def png_of(size: tuple[int, int], colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def put_image(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], body: bytes, media_type: str
) -> Any:
    uuid = achievement["id"].rsplit("/", 1)[-1]
    headers = {**provider.headers, "Content-Type": media_type}
    return issuer.put(f"/api/v1/achievements/{uuid}/image", content=body, headers=headers)


def test_an_uploaded_image_is_the_badge_of_credentials_issued_afterwards(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    before = issue(issuer, provider, achievement)
    response = put_image(issuer, provider, achievement, png_of((300, 300)), "image/png")
    assert response.status_code == 200, response.text
    image = response.json()["image"]
    assert image == {"id": f"{achievement['id']}/image", "type": "Image", "caption": "Podstawy Pythona"}
    served = issuer.get(path_of(image["id"]))
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (300, 300)

    after = issue(issuer, provider, achievement, allowDuplicate=True)
    assert payload_of(after["jwt"])["credentialSubject"]["achievement"]["image"] == image
    assert "image" not in payload_of(before["jwt"])["credentialSubject"]["achievement"], "issued ones keep theirs"
    assert issuer.get(path_of(after["id"]) + "/image").content == served.content
    assert issuer.get(path_of(before["id"]) + "/image").headers["content-type"].startswith("image/svg+xml")
    baked = issuer.get(path_of(after["links"]["png"])).content
    assert unbake_png(baked) == after["jwt"]
    assert Image.open(io.BytesIO(baked)).size == (300, 300), "the provider's own image, baked"
    assert 'data-verdict="valid"' in verifier.get("/verify", params={"credential": after["id"]}).text


def test_an_svg_image_is_sanitised(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" onload="alert(1)">'
        b'<script>alert(2)</script><circle cx="100" cy="100" r="90" fill="navy"/>'
        b'<a href="javascript:alert(3)"><text x="10" y="20">x</text></a></svg>'
    )
    response = put_image(issuer, provider, achievement, hostile, "image/svg+xml")
    assert response.status_code == 200, response.text
    served = issuer.get(path_of(response.json()["image"]["id"]))
    assert served.headers["content-type"].startswith("image/svg+xml")
    assert b"<circle" in served.content
    for hostile_part in (b"script", b"onload", b"javascript"):
        assert hostile_part not in served.content
    assert served.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"


@pytest.mark.parametrize(
    ("body", "media_type", "status", "field"),
    [
        (b"GIF89a" + b"\0" * 64, "image/gif", 422, "image"),
        (b"not an image at all", "image/png", 422, "image"),
        (png_of((20, 20)), "image/png", 422, "image"),
        (b"\x89PNG" + b"\0" * (1024 * 1024 + 1), "image/png", 413, None),
    ],
    ids=["gif", "garbage", "too-small", "too-large"],
)
def test_what_is_not_a_usable_image_is_refused_by_name(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    body: bytes,
    media_type: str,
    status: int,
    field: str | None,
) -> None:
    response = put_image(issuer, provider, achievement, body, media_type)
    assert response.status_code == status, response.text
    if field is not None:
        assert [problem["field"] for problem in response.json()["error"]["fields"]] == [field]
    assert "image" not in issuer.get(path_of(achievement["id"])).json()


def test_only_the_achievements_provider_may_set_its_image(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    other = add_provider(ctx, "umcs", name="UMCS")
    reader = add_provider(ctx, "reader", scopes=["issue"], name="Reader")
    assert put_image(issuer, other, achievement, png_of((100, 100)), "image/png").status_code == 404
    assert put_image(issuer, reader, achievement, png_of((100, 100)), "image/png").status_code == 403


TRANSLATED = {
    **PLAIN_ACHIEVEMENT,
    "translations": {
        "en": {
            "name": "Python basics",
            "description": "Writes simple programs in Python.",
            "criteria": {"narrative": "Completing the course and its exercises."},
        },
        "uk": {"name": "Основи Python", "description": "Пише прості програми мовою Python."},
    },
}


@pytest.fixture
def translated(issuer: TestClient, provider: ProviderFixture) -> dict[str, Any]:
    response = issuer.post("/api/v1/achievements", json=TRANSLATED, headers=provider.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_translations_are_published_as_related_achievements(
    issuer: TestClient, provider: ProviderFixture, translated: dict[str, Any]
) -> None:
    assert translated["inLanguage"] == "pl" and "translations" not in translated
    assert translated["related"] == [
        {"id": f"{translated['id']}/translations/en", "type": ["Related"], "inLanguage": "en"},
        {"id": f"{translated['id']}/translations/uk", "type": ["Related"], "inLanguage": "uk"},
    ]
    english = issuer.get(path_of(translated["related"][0]["id"])).json()
    assert english["id"] == f"{translated['id']}/translations/en" and english["inLanguage"] == "en"
    assert (english["name"], english["criteria"]) == ("Python basics", TRANSLATED["translations"]["en"]["criteria"])
    assert english["related"] == [{"id": translated["id"], "type": ["Related"], "inLanguage": "pl"}]
    ukrainian = issuer.get(path_of(translated["related"][1]["id"])).json()
    assert ukrainian["criteria"] == PLAIN_ACHIEVEMENT["criteria"], "criteria not translated stay the original's"
    assert issuer.get(path_of(translated["id"]) + "/translations/de").status_code == 404

    issued = issue(issuer, provider, translated)
    claims = payload_of(issued["jwt"])
    assert claims["credentialSubject"]["achievement"]["name"] == "Podstawy Pythona", "signed in its own language"
    assert jsonld.undefined_terms(claims) == []


@pytest.mark.parametrize(
    ("lang", "name", "note"),
    [
        ("pl", "Podstawy Pythona", False),
        ("en", "Python basics", True),
        ("uk", "Основи Python", True),
    ],
)
def test_the_learners_page_speaks_the_readers_language(
    issuer: TestClient, provider: ProviderFixture, translated: dict[str, Any], lang: str, name: str, note: bool
) -> None:
    issued = issue(issuer, provider, translated)
    page = issuer.get(path_of(issued["id"]), params={"lang": lang}, headers={"Accept": "text/html"}).text
    assert f"<h1>{name}</h1>" in page
    assert f'<meta property="og:title" content="{name}">' in page
    certificate = issuer.get(path_of(issued["links"]["pdf"]), params={"lang": lang})
    text = " ".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(certificate.content)).pages)
    assert name in text, "the certificate speaks the reader's language too"
    assert PdfReader(io.BytesIO(certificate.content)).attachments["credential.jwt"] == [issued["jwt"].encode()]
    notes = ("Oryginał poświadczenia", "original is in another language", "Оригінал посвідчення")
    assert any(words in page for words in notes) == note


def test_a_translation_into_the_original_language_is_refused(issuer: TestClient, provider: ProviderFixture) -> None:
    body = {**TRANSLATED, "inLanguage": "en"}
    response = issuer.post("/api/v1/achievements", json=body, headers=provider.headers)
    assert response.status_code == 422
    assert [problem["field"] for problem in response.json()["error"]["fields"]] == ["translations.en"]
    unknown = {**PLAIN_ACHIEVEMENT, "translations": {"de": {"name": "x", "description": "y"}}}
    response = issuer.post("/api/v1/achievements", json=unknown, headers=provider.headers)
    assert response.status_code == 422 and "translations.de" in response.text


def test_a_providers_logo_is_on_its_profile_and_beside_its_name(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    logo = png_of((120, 120), "crimson")
    response = issuer.put(
        "/api/v1/profile/image", content=logo, headers={**provider.headers, "Content-Type": "image/png"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["image"] == {"id": f"{provider.issuer_id}/image", "type": "Image"}
    served = issuer.get(f"/issuers/{provider.slug}/image")
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (120, 120)

    profile = issuer.get(f"/issuers/{provider.slug}", headers={"Accept": "text/html"}).text
    assert f'src="{provider.issuer_id}/image"' in profile
    issued = issue(issuer, provider, achievement)
    assert payload_of(issued["jwt"])["issuer"]["image"] == {"id": f"{provider.issuer_id}/image", "type": "Image"}
    page = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html"}).text
    assert f'<img class="logo" src="{provider.issuer_id}/image"' in page

    other = add_provider(ctx, "umcs", name="UMCS", image="https://umcs.example/logo.png")
    assert issuer.get("/issuers/umcs/image").status_code == 404
    outside = issuer.get("/issuers/umcs", headers={"Accept": "text/html"}).text
    assert "<img" not in outside, "a logo at an outside address is never loaded by a page"
    refused = issuer.put(
        "/api/v1/profile/image", content=b"<svg", headers={**other.headers, "Content-Type": "image/svg+xml"}
    )
    assert refused.status_code == 422
