"""Journeys through the two apps in Chromium, as people take them: an employer scans a badge's QR code with the
camera or uploads a badge, a certificate or a photo of it; a learner copies and shares their page; a verdict is
kept as a permalink or printed as a receipt; a developer opens the API docs offline; and the pages that are not
badges (the front page, an achievement, "no such page") pass the same checks on a phone as the others.

Each journey ends in something a person would notice if it broke: the verdict and the learner's name on the
page, the error shown where the form is, the clipboard's content, a file's type, the words of a printed PDF.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pypdf
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from issuer.i18n import MESSAGES
from tests.browser.conftest import (
    PHONE,
    PROVIDER_NAME,
    Site,
    axe_violations,
    describe,
    horizontal_overflow,
    screenshot,
)
from tests.conftest import PLAIN_ACHIEVEMENT
from tests.helpers import segment_json, with_learner_renamed
from verifier.i18n import CHECK_NAMES, OUTCOMES, TEXT

pytestmark = pytest.mark.browser

LEARNER = "Kasia Kowalska"
"""A learner of these journeys only (the session's issuer refuses a second badge of the same achievement to one
e-mail address); the suite's check of the logs looks for her name too ("kowalsk")."""
ACHIEVEMENT = str(PLAIN_ACHIEVEMENT["name"])


# --------------------------------------------------------------------------------------------------------------
# what the journeys start from


@pytest.fixture(scope="module")
def credential(site: Site) -> dict[str, Any]:
    return site.issue_credential(LEARNER, "kasia@example.org")


def fetch(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content


def camera_video(qr_png: bytes, path: Path, frames: int = 5) -> Path:
    """A Y4M video for Chromium's fake camera: ``frames`` identical 640×480 frames showing the QR code on white.

    Y4M is a text header and then, per frame, ``FRAME\\n`` and the Y, Cb and Cr planes; ``C420jpeg`` is 4:2:0
    (each chroma plane half as wide and half as high) in JPEG's full range, which is what Pillow's YCbCr is.
    """
    width, height = 640, 480
    code = Image.open(io.BytesIO(qr_png)).convert("RGB").resize((360, 360), Image.Resampling.NEAREST)
    view = Image.new("RGB", (width, height), "white")
    view.paste(code, ((width - code.width) // 2, (height - code.height) // 2))
    y, cb, cr = view.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii") + frame * frames)
    return path


def photo_of(qr_png: bytes) -> bytes:
    """A phone photo of a printed QR code, roughly: small, a little turned, on a large grey desk, as a JPEG."""
    code = Image.open(io.BytesIO(qr_png)).convert("RGB").resize((300, 300), Image.Resampling.BILINEAR)
    code = code.rotate(7, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    desk = Image.new("RGB", (2400, 1800), (128, 128, 128))
    ImageDraw.Draw(desk).rectangle((200, 150, 1500, 1000), fill=(150, 146, 140))  # something else on the desk
    desk.paste(code, (1600, 1100))
    out = io.BytesIO()
    desk.save(out, "JPEG", quality=80)
    return out.getvalue()


def holiday_picture() -> bytes:
    """A PNG with neither a baked credential nor a QR code."""
    picture = Image.linear_gradient("L").resize((640, 400)).convert("RGB")
    ImageDraw.Draw(picture).ellipse((420, 40, 560, 180), fill=(250, 200, 60))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


# --------------------------------------------------------------------------------------------------------------
# what the journeys look at


def verdict_of(page: Any) -> tuple[str | None, str | None]:
    heading = page.locator("h1")
    return heading.get_attribute("data-verdict"), heading.get_attribute("data-outcome")


def is_the_form(page: Any) -> bool:
    count: int = page.locator("form[data-verify-form] textarea[name=credential]").count()
    return count == 1


def submit(page: Any) -> None:
    with page.expect_navigation():
        page.locator("form [type=submit]").click()


def accessible_and_fits(page: Any, name: str) -> None:
    screenshot(page, name)
    overflow = horizontal_overflow(page)
    assert not overflow, f"the page is {overflow} px wider than the window"
    violations = axe_violations(page)
    assert not violations, describe(violations)


def pdf_text(data: bytes) -> str:
    """The words of a PDF, with the ligatures Chromium's fonts print ("ﬁ") as their letters."""
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------------------------------------------
# 1. scanning the QR code with the camera


def test_camera_scan_opens_the_verdict(
    site: Site, camera_page_at: Any, credential: dict[str, Any], tmp_path: Path
) -> None:
    """The camera shows the badge's QR code: the scanner reads it and the page becomes the verdict."""
    video = camera_video(fetch(credential["links"]["qr_png"]), tmp_path / "qr.y4m")
    page = camera_page_at(video)
    page.context.grant_permissions(["camera"], origin=site.verifier_url)
    page.goto(f"{site.verifier_url}/?lang=en")
    start = page.locator("[data-scan-start]")
    expect(start).to_be_visible()
    with page.expect_navigation():
        start.click()
    assert verdict_of(page) == ("valid", "valid")
    assert page.locator("h1").inner_text().strip() == OUTCOMES["en"]["valid"][0]
    assert LEARNER in page.locator("main").inner_text()
    screenshot(page, "journey-camera-verdict")


@pytest.mark.parametrize(
    ("camera", "message"),
    [("refused", "camera_denied"), ("unavailable", "no_camera")],
)
def test_camera_refused_or_missing_leaves_the_form(
    site: Site, camera_page_at: Any, credential: dict[str, Any], tmp_path: Path, camera: str, message: str
) -> None:
    """Without the camera permission, or with a camera that cannot start, the page says so and the form works."""
    if camera == "refused":
        video = camera_video(fetch(credential["links"]["qr_png"]), tmp_path / "qr.y4m")
        page = camera_page_at(video)  # the permission is not granted
    else:
        page = camera_page_at(tmp_path / "no-such-video.y4m")  # a camera whose device will not open
        page.context.grant_permissions(["camera"], origin=site.verifier_url)
    page.goto(f"{site.verifier_url}/?lang=en")
    page.locator("[data-scan-start]").click()
    status = page.locator("[data-scan-status]")
    expect(status).to_have_text(TEXT["en"][message])
    assert page.locator("[data-scan-video]").evaluate("video => video.hidden && !video.srcObject")
    expect(page.locator("[data-scan-start]")).to_have_attribute("aria-pressed", "false")
    accessible_and_fits(page, f"journey-camera-{camera}")
    page.locator("form textarea").fill(credential["jwt"])
    submit(page)
    assert verdict_of(page) == ("valid", "valid")
    assert LEARNER in page.locator("main").inner_text()


# --------------------------------------------------------------------------------------------------------------
# 2. uploading a file in the browser


UPLOADS: dict[str, tuple[str, str, Callable[[dict[str, str]], bytes]]] = {
    "baked-png": ("badge.png", "image/png", lambda links: fetch(links["png"])),
    "pdf-certificate": ("certyfikat.pdf", "application/pdf", lambda links: fetch(links["pdf"])),
    "photo-jpeg": ("IMG_2041.jpg", "image/jpeg", lambda links: photo_of(fetch(links["qr_png"]))),
}


@pytest.mark.parametrize("kind", UPLOADS)
def test_uploaded_file_is_verified(site: Site, page_at: Any, credential: dict[str, Any], kind: str) -> None:
    """A baked badge, the PDF certificate, or a photo of the QR code, chosen in the form: the verdict is valid."""
    name, media_type, make = UPLOADS[kind]
    page = page_at()
    page.goto(f"{site.verifier_url}/?lang=pl")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": media_type, "buffer": make(credential["links"])}]
    )
    submit(page)
    assert verdict_of(page) == ("valid", "valid")
    assert LEARNER in page.locator("main").inner_text()


def test_unrelated_picture_is_refused_on_the_form(site: Site, page_at: Any) -> None:
    """A picture that is no badge: the form comes back, saying why, and stays accessible."""
    page = page_at()
    page.goto(f"{site.verifier_url}/?lang=pl")
    page.locator("input[type=file]").set_input_files(
        files=[{"name": "wakacje.png", "mimeType": "image/png", "buffer": holiday_picture()}]
    )
    with page.expect_navigation() as navigation:
        page.locator("form [type=submit]").click()
    assert navigation.value.status == 400
    alert = page.locator("[role=alert]")
    expect(alert).to_have_count(1)
    assert alert.inner_text().startswith(TEXT["pl"]["upload_problem"])
    assert verdict_of(page) == (None, None)
    assert is_the_form(page)
    accessible_and_fits(page, "journey-upload-refused")


# --------------------------------------------------------------------------------------------------------------
# 3. the learner's page


def test_copy_link_puts_the_page_into_the_clipboard(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """With JavaScript the "copy link" button shows; a click copies the page's address and says so."""
    page = page_at()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.issuer_url)
    page.goto(f"{credential['links']['page']}?lang=pl")
    page.evaluate("navigator.clipboard.writeText('something else')")
    button = page.locator("[data-copy]")
    expect(button).to_be_visible()
    expect(button).to_have_text(MESSAGES["pl"]["copy_link"])
    button.click()
    expect(button).to_have_text(MESSAGES["pl"]["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == credential["links"]["page"]


def test_without_javascript_the_link_is_in_a_readonly_field(
    site: Site, page_at: Any, credential: dict[str, Any]
) -> None:
    """Without JavaScript nothing can copy: the button stays marked hidden, and the link is there to select."""
    page = page_at(java_script_enabled=False)
    page.goto(f"{credential['links']['page']}?lang=pl")
    assert page.locator("[data-copy]").get_attribute("hidden") is not None
    field = page.locator("#badge-link")
    expect(field).to_be_visible()
    expect(field).to_have_value(credential["links"]["page"])
    assert field.get_attribute("readonly") is not None


def test_linkedin_add_to_profile_is_filled_in(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """LinkedIn's "Add licence or certification" form opens filled in with the badge, provider, date and link."""
    page = page_at()
    page.goto(f"{credential['links']['page']}?lang=pl")
    href = page.locator("a.linkedin").get_attribute("href")
    assert href is not None and href.startswith("https://www.linkedin.com/profile/add?"), href
    params = {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}
    claims = segment_json(credential["jwt"], 1)
    issued = claims.get("awardedDate") or claims["validFrom"]
    assert params["name"] == ACHIEVEMENT
    assert params["organizationName"] == PROVIDER_NAME
    assert (params["issueYear"], params["issueMonth"]) == (issued[:4], str(int(issued[5:7])))
    assert params["certUrl"] == credential["links"]["page"]
    assert params["certId"] == credential["id"]


DOWNLOADS = {
    "/certificate.pdf": "application/pdf",
    "/badge.png": "image/png",
    "/badge.svg": "image/svg+xml",
    "/credential.json": "application/json",
    "/credential.jwt": "application/vc+jwt",
}


def test_downloads_answer_with_their_types(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """Every download the page offers is there (200), as the type its name promises."""
    page = page_at()
    page.goto(f"{credential['links']['page']}?lang=pl")
    found = {}
    for link in page.locator("ul.downloads a").all():
        href = link.get_attribute("href")
        assert href is not None
        path = urlsplit(href).path
        response = page.request.get(href)
        assert response.status == 200, f"{href}: {response.status}"
        found[path[path.rindex("/") :]] = response.headers["content-type"].split(";")[0]
    assert found == DOWNLOADS


def test_badge_image_and_open_graph_card(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """The badge's picture shows, and the card a shared link unfurls as is a 1200×630 PNG."""
    page = page_at()
    page.goto(f"{credential['links']['page']}?lang=pl")
    image = page.locator("img.artwork")
    expect(image).to_be_visible()
    assert image.evaluate("image => image.complete && image.naturalWidth") > 0, "the badge's image has loaded"
    card_url = page.locator("meta[property='og:image']").get_attribute("content")
    assert card_url is not None
    response = page.request.get(card_url)
    assert response.status == 200
    assert response.headers["content-type"] == "image/png"
    card = Image.open(io.BytesIO(response.body()))
    assert (card.format, card.size) == ("PNG", (1200, 630))


# --------------------------------------------------------------------------------------------------------------
# 4. the permalink of a pasted token


def test_permalink_of_a_pasted_valid_token_is_the_credential_link(
    site: Site, page_at: Any, credential: dict[str, Any]
) -> None:
    """A token the issuer publishes: the permalink verifies it again by its link, and holds no token."""
    page = page_at()
    page.goto(f"{site.verifier_url}/?lang=pl")
    page.locator("form textarea").fill(credential["jwt"])
    submit(page)
    assert verdict_of(page) == ("valid", "valid")
    permalink = page.locator("#permalink").input_value()
    parts = urlsplit(permalink)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{site.verifier_url}/verify", permalink
    assert parse_qs(parts.query)["credential"] == [credential["id"]]
    assert credential["jwt"] not in permalink


def test_permalink_of_an_invalid_token_keeps_it_out_of_every_address(
    site: Site, page_at: Any, credential: dict[str, Any]
) -> None:
    """A token with a changed payload: its permalink carries it after ``#`` only, opening the permalink shows the
    same verdict, and no request the browser makes has the token in its address."""
    token = with_learner_renamed(credential["jwt"], LEARNER)
    page = page_at()
    page.goto(f"{site.verifier_url}/?lang=pl")
    page.locator("form textarea").fill(token)
    submit(page)
    first = verdict_of(page)
    assert first == ("invalid", "forged")
    permalink = page.locator("#permalink").input_value()
    parts = urlsplit(permalink)
    assert token not in f"{parts.scheme}://{parts.netloc}{parts.path}?{parts.query}", permalink
    assert parse_qs(parts.fragment)["credential"] == [token]

    again = page_at()
    requested: list[str] = []
    again.on("request", lambda request: requested.append(request.url))
    with again.expect_navigation(url=lambda url: url.endswith("/verify?lang=pl")):
        again.goto(permalink)
    assert verdict_of(again) == first
    assert again.locator("h1").inner_text() == page.locator("h1").inner_text()
    assert token not in again.url
    assert any(url.endswith("/verify?lang=pl") for url in requested), requested
    assert not [url for url in requested if token in url]


# --------------------------------------------------------------------------------------------------------------
# 5. printing


def test_verdict_prints_as_a_receipt(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """Printed, a verdict is a receipt: its title line shows, the navigation and the buttons do not, and the
    PDF says the verdict, who, when it was checked, and every check."""
    page = page_at()
    page.goto(f"{credential['links']['verify']}&lang=pl")
    assert verdict_of(page) == ("valid", "valid")
    receipt = page.locator(".print-only")
    actions = [page.locator("#permalink"), *page.locator(".actions a, .actions button").all()]
    assert len(actions) == 4, "the permalink, the report, print and another credential"
    expect(receipt).to_be_hidden()
    page.emulate_media(media="print")
    expect(receipt).to_be_visible()
    expect(receipt).to_contain_text(TEXT["pl"]["receipt"])
    expect(page.locator("header.site nav")).to_be_hidden()
    for action in actions:
        expect(action).to_be_hidden()
    text = pdf_text(page.pdf(format="A4"))
    assert TEXT["pl"]["receipt"] in text
    assert OUTCOMES["pl"]["valid"][0] in text
    assert LEARNER in text
    assert TEXT["pl"]["checked_at"].split("{")[0].strip() in text  # "Sprawdzono"
    assert CHECK_NAMES["pl"]["signature"] in text, "the checks, folded on the screen, are printed"
    assert TEXT["pl"]["another"] not in text


def test_learner_page_prints_without_sharing(site: Site, page_at: Any, credential: dict[str, Any]) -> None:
    """Printed, the learner's page keeps the badge and its QR code and drops sharing, copying and downloads."""
    page = page_at()
    page.goto(f"{credential['links']['page']}?lang=en")
    expect(page.locator("#share-heading")).to_be_visible()
    page.emulate_media(media="print")
    for hidden in ("#share-heading", "a.linkedin", "[data-copy]", "#badge-link", "ul.downloads", "header.site nav"):
        expect(page.locator(hidden)).to_be_hidden()
    expect(page.locator("img.artwork")).to_be_visible()
    expect(page.locator(f"img[src='{credential['links']['qr_svg']}']")).to_be_visible()
    text = pdf_text(page.pdf(format="A4"))
    assert ACHIEVEMENT in text
    assert MESSAGES["en"]["share"] not in text
    assert MESSAGES["en"]["add_to_linkedin"] not in text


# --------------------------------------------------------------------------------------------------------------
# 6. the API docs, offline


@pytest.mark.parametrize("app", ["issuer", "verifier"])
def test_api_docs_render_from_the_app_itself(site: Site, page_at: Any, app: str) -> None:
    """Swagger UI comes from the app's own origin (no CDN), runs under its page's policy without a complaint,
    and shows the API; the issuer's, whose API takes a key, offers to authorize."""
    base = site.issuer_url if app == "issuer" else site.verifier_url
    page = page_at()
    requested: list[str] = []
    errors: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Odznaka")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    own = urlsplit(base).netloc
    elsewhere = [url for url in requested if not url.startswith("data:") and urlsplit(url).netloc != own]
    assert not elsewhere, elsewhere
    assert f"{base}/openapi.json" in requested, requested
    assert not errors, errors
    authorize = page.locator(".swagger-ui button.authorize")
    if app == "issuer":
        expect(authorize).to_be_visible()
    else:
        expect(authorize).to_have_count(0)
    screenshot(page, f"journey-docs-{app}")


# --------------------------------------------------------------------------------------------------------------
# controls that only work with a script


@pytest.mark.parametrize("control", ["copy-link", "scan-button", "scan-video", "print-button"])
def test_controls_for_scripts_stay_hidden_without_javascript(
    site: Site, page_at: Any, credential: dict[str, Any], control: str
) -> None:
    """A control that only a script can work is marked ``hidden`` and shown by its script: without JavaScript
    a person must not see a button that does nothing (or an empty black video frame)."""
    address, selector = {
        "copy-link": (f"{credential['links']['page']}?lang=pl", "[data-copy]"),
        "scan-button": (f"{site.verifier_url}/?lang=pl", "[data-scan-start]"),
        "scan-video": (f"{site.verifier_url}/?lang=pl", "[data-scan-video]"),
        "print-button": (f"{credential['links']['verify']}&lang=pl", "[data-print]"),
    }[control]
    page = page_at(java_script_enabled=False)
    page.goto(address)
    control_element = page.locator(selector)
    assert control_element.get_attribute("hidden") is not None, "the page marks it hidden"
    expect(control_element).to_be_hidden(timeout=1000)


# --------------------------------------------------------------------------------------------------------------
# 7. the pages that are not badges, on a phone


def sticking_out_of_cards(page: Any) -> list[str]:
    """What is drawn past the left or right edge of the card it is in: a page can fit the window and still have
    its text and buttons run over a card's border."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('.card')].flatMap(card => {
            const edge = card.getBoundingClientRect();
            return [...card.querySelectorAll('*')].filter(element => {
                const box = element.getBoundingClientRect();
                return box.width > 0 && (box.left < edge.left - 0.5 || box.right > edge.right + 0.5);
            }).map(element => `${element.tagName.toLowerCase()}.${element.className} "${
                element.textContent.trim().slice(0, 30)}" ends at ${Math.round(element.getBoundingClientRect().right)
                }, its card at ${Math.round(edge.right)}`);
        })"""
    )
    return found


def address_of(name: str, site: Site, credential: dict[str, Any]) -> str:
    learner_page = credential["links"]["page"]
    addresses: dict[str, str] = {
        "issuer-home": f"{site.issuer_url}/",
        "achievement": segment_json(credential["jwt"], 1)["credentialSubject"]["achievement"]["id"],
        "issuer-not-found": f"{site.issuer_url}/no/such/page",
        "verifier-not-found": f"{site.verifier_url}/no/such/page",
        "learner-pl": f"{learner_page}?lang=pl",
        "learner-en": f"{learner_page}?lang=en",
        "learner-uk": f"{learner_page}?lang=uk",
    }
    return addresses[name]


PAGES: dict[str, tuple[int, str, str, str]] = {
    "issuer-home": (200, "pl", "h1", MESSAGES["pl"]["programme"]),
    "achievement": (200, "pl", "h1", ACHIEVEMENT),
    "issuer-not-found": (404, "pl", "h1", MESSAGES["pl"]["not_found"]),
    "verifier-not-found": (404, "pl", "[role=alert]", TEXT["pl"]["no_such_page"]),
    "learner-pl": (200, "pl", "h1", ACHIEVEMENT),
    "learner-en": (200, "en", "h1", ACHIEVEMENT),
    "learner-uk": (200, "uk", "h1", ACHIEVEMENT),
}
"""Each page's status, language, and an element with the words that show it is the page asked for."""


@pytest.mark.parametrize("name", PAGES)
def test_page_on_a_phone(site: Site, page_at: Any, credential: dict[str, Any], name: str) -> None:
    """Opened as a person opens it (a navigation, with the browser's own Accept): HTML in its language, one h1,
    no sideways scrolling on a 390 px wide phone, no axe violation."""
    status, lang, selector, words = PAGES[name]
    page = page_at(PHONE, locale="pl-PL")
    response = page.goto(address_of(name, site, credential))
    assert response is not None
    assert response.status == status
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator("html").get_attribute("lang") == lang
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator(selector)).to_have_text(words)
    accessible_and_fits(page, f"journey-phone-{name}")


@pytest.mark.parametrize(
    "name",
    PAGES,
)
def test_nothing_runs_over_a_card_on_a_phone(site: Site, page_at: Any, credential: dict[str, Any], name: str) -> None:
    """On a phone every card holds its content: no text or button runs over a card's border."""
    page = page_at(PHONE, locale="pl-PL")
    page.goto(address_of(name, site, credential))
    assert page.locator(".card").count() > 0
    outside = sticking_out_of_cards(page)
    assert not outside, outside
