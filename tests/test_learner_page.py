"""The learner's badge page and what it offers: everything the credential says, its state today, sharing to
LinkedIn and by link, the Open Graph card, and the downloads (JSON, JWT, baked PNG and SVG, the PDF certificate),
each of which the verifier accepts back; and what a revoked or compromised badge stops offering."""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter
from pypdf import PdfReader

from credentials.baking import unbake_png, unbake_svg
from issuer.context import IssuerContext
from issuer.key_lifecycle import compromise
from issuer.reissue import reissue
from tests.conftest import ProviderFixture, b64u_json, issue, path_of, payload_of
from tests.helpers import EU_ACHIEVEMENT

LUBLIN = ZoneInfo("Europe/Warsaw")


@pytest.fixture
def eu_achievement(issuer: TestClient, provider: ProviderFixture) -> dict[str, Any]:
    response = issuer.post("/api/v1/achievements", json=EU_ACHIEVEMENT, headers=provider.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def issued(issuer: TestClient, provider: ProviderFixture, eu_achievement: dict[str, Any]) -> dict[str, Any]:
    return issue(
        issuer,
        provider,
        eu_achievement,
        validUntil="2030-06-30",
        narrative="Projekt: raport sprzedaży dla MŚP.",
        evidence=[{"id": "https://portfolio.example/raport", "name": "Raport końcowy"}],
        result=[{"value": "bardzo dobry"}],
    )


def page(issuer: TestClient, issued: dict[str, Any], lang: str) -> str:
    response = issuer.get(path_of(issued["id"]), params={"lang": lang}, headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{lang}">' in response.text
    return response.text


def meta(html: str, key: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert found, f"no {key} meta tag"
    return unescape(found.group(1))


def text_of(html: str) -> str:
    """The page's words, without tags (what a reader sees, roughly)."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("pl", ["Ważne", "do 30.06.2030", "Efekty uczenia się", "Punkty ECTS", "hybrydowo", "25 godz."]),
        ("en", ["Valid", "until 30 Jun 2030", "Learning outcomes", "ECTS credits", "blended", "25 hours"]),
        ("uk", ["Дійсне", "до 30.06.2030", "Результати навчання", "Кредити ECTS", "змішана", "25 год"]),
    ],
)
def test_the_page_shows_everything_the_credential_says(
    issuer: TestClient, issued: dict[str, Any], lang: str, words: list[str]
) -> None:
    text = text_of(page(issuer, issued, lang))
    for said in [
        "Analiza danych w Power BI",
        "Anna Nowak",
        "Wyższa Szkoła Ekonomii i Innowacji",
        "Przygotowuje i wizualizuje dane biznesowe.",
        "Ukończenie kursu i projekt końcowy.",
        "Importuje i czyści dane",
        "Buduje raport",
        "analizować dane · ESCO",
        "Projekt końcowy",
        "Wewnętrzny system jakości",
        "Projekt: raport sprzedaży dla MŚP.",
        "bardzo dobry",
        "Raport końcowy",
        "Power BI",
        *words,
    ]:
        assert said in text, said
    assert "anna@example.org" not in text


def test_linkedin_add_to_profile_is_filled_in(issuer: TestClient, issued: dict[str, Any]) -> None:
    html = page(issuer, issued, "pl")
    link = unescape(re.search(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert " " not in link, "every value is URL-encoded"
    params = {name: values[0] for name, values in parse_qs(urlsplit(link).query, strict_parsing=True).items()}
    issued_at = datetime.fromisoformat(payload_of(issued["jwt"])["validFrom"].replace("Z", "+00:00"))
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Analiza danych w Power BI",
        "organizationName": "Wyższa Szkoła Ekonomii i Innowacji",
        "issueYear": str(issued_at.year),
        "issueMonth": str(issued_at.month),
        "expirationYear": "2030",
        "expirationMonth": "6",
        "certUrl": issued["id"],
        "certId": issued["id"],
    }
    share = unescape(re.search(r'href="(https://www\.linkedin\.com/sharing/share-offsite/\?[^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert parse_qs(urlsplit(share).query) == {"url": [issued["id"]]}
    mail = unescape(re.search(r'href="(mailto:\?[^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert issued["id"] in parse_qs(urlsplit(mail).query)["body"][0]


def test_a_shared_link_unfurls_as_the_badge(issuer: TestClient, issued: dict[str, Any]) -> None:
    html = page(issuer, issued, "en")
    assert meta(html, "og:title") == "Analiza danych w Power BI"
    assert "Wyższa Szkoła Ekonomii i Innowacji" in meta(html, "og:description")
    assert meta(html, "og:url") == issued["id"]
    assert meta(html, "twitter:card") == "summary_large_image"
    card_url = meta(html, "og:image")
    head = html.split("</head>")[0]
    assert "anna@example.org" not in head and "Anna Nowak" not in head, "a card never names the learner"
    card = issuer.get(path_of(card_url))
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(card.content)).size == (1200, 630)


def test_downloads_carry_the_signed_credential(
    issuer: TestClient, verifier: TestClient, issued: dict[str, Any]
) -> None:
    links = issued["links"]
    as_json = issuer.get(path_of(links["json"]))
    assert as_json.json() == payload_of(issued["jwt"])
    assert "attachment" in as_json.headers["content-disposition"]

    png = issuer.get(path_of(links["png"]))
    assert png.headers["content-type"] == "image/png"
    assert unbake_png(png.content) == issued["jwt"]
    svg = issuer.get(path_of(links["svg"]))
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert unbake_svg(svg.content) == issued["jwt"]

    pdf = issuer.get(path_of(links["pdf"]), params={"lang": "uk"})
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert reader.attachments["credential.jwt"] == [issued["jwt"].encode()]
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Сертифікат" in text and "Anna Nowak" in text and "Analiza danych w Power BI" in text

    # Each one, uploaded to the verifier's page, is verified as the credential it carries.
    for name, body, media_type in (
        ("badge.png", png.content, "image/png"),
        ("badge.svg", svg.content, "image/svg+xml"),
        ("certificate.pdf", pdf.content, "application/pdf"),
        ("credential.json", as_json.content, "application/json"),
        ("credential.jwt", issued["jwt"].encode(), "application/octet-stream"),
    ):
        verdict = verifier.post("/verify", files={"file": (name, body, media_type)})
        assert verdict.status_code == 200, (name, verdict.text)
        assert 'data-verdict="valid"' in verdict.text, (name, text_of(verdict.text)[:600])
        assert "Anna Nowak" in verdict.text, name


def test_the_badge_image_is_the_generated_artwork_with_a_strict_policy(
    issuer: TestClient, issued: dict[str, Any]
) -> None:
    image = issuer.get(path_of(issued["id"]) + "/image")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg+xml")
    assert b"Analiza danych" in image.content and b"Kompetencje jutra" in image.content
    assert image.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_a_revoked_badge_offers_nothing_as_if_it_were_current(
    issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    uuid = issued["id"].rsplit("/", 1)[-1]
    response = issuer.post(
        f"/api/v1/credentials/{uuid}/revoke", json={"reason": "Wydane przez pomyłkę"}, headers=provider.headers
    )
    assert response.status_code == 200, response.text
    html = page(issuer, issued, "pl")
    assert 'data-state="revoked"' in html and 'role="alert"' in html
    for offered in ("/qr.svg", "/certificate.pdf", "/badge.png", "linkedin.com", "og:image"):
        assert offered not in html, offered
    for link in ("png", "svg", "pdf"):
        gone = issuer.get(path_of(issued["links"][link]))
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "withdrawn", link
    assert issuer.get(path_of(issued["id"]) + "/card.png").status_code == 410
    # What verifiers and wallets need to learn why stays.
    assert issuer.get(path_of(issued["links"]["json"])).status_code == 200
    assert issuer.get(path_of(issued["links"]["jwt"])).status_code == 200


def test_a_compromised_key_points_to_the_new_copy(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    kid = b64u_json(issued["jwt"].split(".")[0])["kid"]
    compromise(ctx, provider.slug, kid)
    html = page(issuer, issued, "en")
    assert 'data-state="key_compromised"' in html and "This copy can no longer be trusted" in html
    assert "/certificate.pdf" not in html
    done = reissue(ctx, provider.slug, kid=kid)
    html = page(issuer, issued, "en")
    assert f'href="{issued["id"].rsplit("/", 1)[0]}/{done[0].new_id}?lang=en"' in html


def test_expired_says_when_and_how_long_ago(
    issuer: TestClient, provider: ProviderFixture, eu_achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, eu_achievement, validUntil="2030-06-30")
    end = datetime(2030, 6, 30, 23, 59, 59, tzinfo=LUBLIN)
    with time_machine.travel(end + timedelta(days=3), tick=False):
        html = page(issuer, issued, "pl")
        text = text_of(html)
        assert 'data-state="expired"' in html
        assert "Wygasło 30.06.2030" in text and "3 dni temu" in text
        assert issuer.get(path_of(issued["links"]["pdf"])).status_code == 200, "an expired badge is still genuine"
    with time_machine.travel(end - timedelta(days=12), tick=False):
        assert "wygasa za 12 dni" in text_of(page(issuer, issued, "pl"))
    with time_machine.travel(end.astimezone(UTC) + timedelta(days=1), tick=False):
        assert "Expired on 30 Jun 2030" in text_of(page(issuer, issued, "en"))


def test_a_photo_of_the_printed_qr_code_is_verified(
    issuer: TestClient, verifier: TestClient, issued: dict[str, Any]
) -> None:
    """The QR code, printed small on a page and photographed slightly turned, leads to the credential's verdict."""
    code = Image.open(io.BytesIO(issuer.get(path_of(issued["links"]["qr_png"])).content)).convert("L")
    sheet = Image.new("L", (1600, 1200), 235)
    sheet.paste(code.resize((260, 260)), (900, 700))
    photo = sheet.rotate(7, fillcolor=200, resample=Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=70)
    verdict = verifier.post("/verify", files={"file": ("IMG_2041.jpg", buffer.getvalue(), "image/jpeg")})
    assert verdict.status_code == 200
    assert 'data-verdict="valid"' in verdict.text and "Anna Nowak" in verdict.text


def test_an_upload_with_nothing_to_verify_says_why(verifier: TestClient) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(blank, format="PNG")
    response = verifier.post("/verify?lang=en", files={"file": ("holiday.png", blank.getvalue(), "image/png")})
    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert "neither a badge with a credential baked in nor a picture of a QR code" in response.text


def phone_photo_of_a_printed_cv(qr_png: bytes, side_mm: float, seed: int) -> bytes:
    """The QR code printed ``side_mm`` wide on an A4 CV at 300 dpi, photographed with the whole page in the frame
    (9 pixels a millimetre: a 12-megapixel phone at arm's length): the page a little turned and tilted, slightly
    out of focus, with sensor noise and JPEG compression."""
    rng = random.Random(seed)
    dots = round(side_mm / 25.4 * 300)
    page = Image.new("L", (2480, 3508), 246)  # A4 at 300 dpi
    code = Image.open(io.BytesIO(qr_png)).convert("L").resize((dots, dots), Image.Resampling.NEAREST)
    page.paste(code, (1900, 2900))
    crop = page.crop((1500, 2500, 2480, 3508))  # the corner of the page around the code
    width, height = crop.size
    skew = [rng.uniform(-40, 40) for _ in range(8)]
    corners = (skew[0], skew[1], width + skew[2], skew[3], width + skew[4], height + skew[5], skew[6], height + skew[7])
    tilted = crop.transform((width, height), Image.Transform.QUAD, corners, Image.Resampling.BILINEAR, fillcolor=120)
    turned = tilted.rotate(rng.uniform(-8, 8), Image.Resampling.BILINEAR, fillcolor=120)
    scale = 9 / (300 / 25.4)  # from 11.8 printed dots a millimetre to the photo's 9 pixels
    photo = turned.resize((round(width * scale), round(height * scale)), Image.Resampling.BILINEAR)
    photo = photo.filter(ImageFilter.GaussianBlur(1.0))
    pixels = photo.load()
    for _ in range(photo.width * photo.height // 20):
        x, y = rng.randrange(photo.width), rng.randrange(photo.height)
        pixels[x, y] = max(0, min(255, pixels[x, y] + rng.randint(-30, 30)))
    buffer = io.BytesIO()
    photo.convert("RGB").save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


@pytest.mark.parametrize("seed", range(8))
def test_the_qr_code_reads_from_a_phone_photo_of_a_printed_cv(
    issuer: TestClient, verifier: TestClient, issued: dict[str, Any], seed: int
) -> None:
    """A QR code printed 16 mm wide on a CV, photographed: the verifier reads it and answers for the credential.
    (In the same photos the former long link, a version 7 code, read 2 times in 20 at 15 mm; the short one 20.)"""
    qr_png = issuer.get(path_of(issued["links"]["qr_png"])).content
    photo = phone_photo_of_a_printed_cv(qr_png, side_mm=16, seed=seed)
    verdict = verifier.post("/verify", files={"file": ("IMG_2087.jpg", photo, "image/jpeg")})
    assert verdict.status_code == 200, text_of(verdict.text)[:400]
    assert 'data-verdict="valid"' in verdict.text and "Anna Nowak" in verdict.text
