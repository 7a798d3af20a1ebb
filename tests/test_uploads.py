"""Files an employer uploads to the verifier's page: every carrier of a credential gives the value to verify, and
every other file a stable code, never an exception of another kind.

The carriers are made here as their producers make them (Pillow, the ``qrcode`` library, pypdf and fpdf2), and
a real credential carried in each is verified end to end by the verifier, which reaches the issuer in-process.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import random
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import qrcode
import qrcode.image.svg
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter
from pypdf import PdfWriter

from credentials.baking import bake_png, bake_svg
from tests.conftest import ISSUER_URL, VERIFIER_URL, ProviderFixture, issue, path_of, verify
from verifier.uploads import MAX_FILE_BYTES, Extracted, UploadRejected, credential_of_verify_link, extract

TOKEN = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwOi8vaXNzdWVyLnRlc3QifQ.c2lnbmF0dXJl"
LINK = f"{ISSUER_URL}/credentials/0b7e6c2a-3f41-4d7e-9a0e-5c1f2d3e4a5b"
VERIFY_LINK = f"{VERIFIER_URL}/verify?credential={LINK}"


def rejected(data: bytes, filename: str | None = None, content_type: str | None = None) -> UploadRejected:
    with pytest.raises(UploadRejected) as caught:
        extract(data, filename, content_type)
    return caught.value


# --------------------------------------------------------------------------------------------------------------
# Making the carriers


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def badge_png() -> bytes:
    image = Image.new("RGB", (120, 120), (250, 245, 235))
    ImageDraw.Draw(image).ellipse((10, 10, 110, 110), fill=(180, 20, 50))
    return png_of(image)


def qr_svg(text: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_image(text: str) -> Image.Image:
    rendered: Image.Image = qrcode.make(text, box_size=8, border=4).get_image()
    return rendered.convert("L")


def photo_of(qr: Image.Image, *, angle: float = 14, width: int = 330, quality: int = 55, kind: str = "JPEG") -> bytes:
    """A phone photo of a printed CV: the code turned a little and scaled, on a larger page with text lines,
    out of focus, noisy, and JPEG-compressed."""
    rng = random.Random(2024)
    page = Image.new("L", (1400, 1050), 214)
    draw = ImageDraw.Draw(page)
    for line in range(14):  # lines of "text" around the code
        y = 60 + line * 68
        draw.rectangle((80, y, 80 + rng.randint(300, 1200), y + 14), fill=70)
    code = qr.rotate(angle, expand=True, fillcolor=255, resample=Image.Resampling.BICUBIC)
    code = code.resize((width, width), Image.Resampling.BILINEAR)
    page.paste(code, (820, 430))
    page = page.filter(ImageFilter.GaussianBlur(1.4))
    page = Image.blend(page, Image.effect_noise(page.size, 40), 0.18)
    buffer = io.BytesIO()
    page.convert("RGB").save(buffer, format=kind, quality=quality)
    return buffer.getvalue()


def pdf_by_pypdf(attachments: dict[str, bytes], pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    for name, content in attachments.items():
        writer.add_attachment(name, content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def certificate_by_fpdf(attachment: bytes | None, *, name: str = "credential.jwt") -> bytes:
    """A certificate as the issuer makes one: a page of text and the token attached, compressed."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=16)
    pdf.cell(text="Certificate: Podstawy Pythona")
    if attachment is not None:
        pdf.embed_file(bytes=attachment, basename=name, compress=True)
    return bytes(pdf.output())


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's first bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 65536, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------------------------------------------
# Each carrier, with a real credential, verified end to end


@pytest.fixture
def issued(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> dict[str, Any]:
    return issue(issuer, provider, achievement)


def as_jwt_file(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    return (issued["jwt"] + "\n").encode(), "credential.jwt", "application/octet-stream"


def as_issuer_json(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    response = issuer.get(path_of(issued["id"]), headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["id"] == issued["id"]
    return response.content, "credential.json", "application/json"


def as_envelope(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    envelope = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{issued['jwt']}",
    }
    return json.dumps(envelope).encode(), "envelope.json", "application/json"


def as_baked_png(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    return bake_png(badge_png(), issued["jwt"]), "badge.png", "image/png"


def as_baked_svg(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    return bake_svg(qr_svg(issued["links"]["verify"]), issued["jwt"]), "badge.svg", "image/svg+xml"


def as_certificate(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    return certificate_by_fpdf(issued["jwt"].encode()), "certificate.pdf", "application/pdf"


def as_photo_of_its_qr_code(issuer: TestClient, issued: dict[str, Any]) -> tuple[bytes, str, str]:
    return photo_of(qr_image(issued["links"]["verify"])), "IMG_2041.jpg", "image/jpeg"


@pytest.mark.parametrize(
    ("carrier", "source", "by_link"),
    [
        (as_jwt_file, "jwt", False),
        (as_issuer_json, "json", True),
        (as_envelope, "json", False),
        (as_baked_png, "png", False),
        (as_baked_svg, "svg", False),
        (as_certificate, "pdf", False),
        (as_photo_of_its_qr_code, "photo", True),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_every_carrier_of_a_real_credential_verifies(
    carrier: Callable[[TestClient, dict[str, Any]], tuple[bytes, str, str]],
    source: str,
    by_link: bool,
    issuer: TestClient,
    verifier: TestClient,
    issued: dict[str, Any],
) -> None:
    extracted = extract(*carrier(issuer, issued))

    assert extracted == Extracted(issued["id"] if by_link else issued["jwt"], source)  # type: ignore[arg-type]
    report = verify(verifier, extracted.value)
    assert report["verdict"] == "valid", report


# --------------------------------------------------------------------------------------------------------------
# Text and JSON


def test_a_text_file_gives_its_token_or_link() -> None:
    assert extract(b"\xef\xbb\xbf  " + TOKEN.encode() + b"\r\n", "x.jwt", None) == Extracted(TOKEN, "jwt")
    assert extract(LINK.encode(), "link.txt", "text/plain") == Extracted(LINK, "jwt")


def test_a_verify_link_names_its_credential() -> None:
    assert credential_of_verify_link(VERIFY_LINK) == LINK
    assert credential_of_verify_link(f"https://elsewhere.example/verify?lang=en&credential={TOKEN}") == TOKEN
    assert credential_of_verify_link(LINK) == LINK
    assert (
        credential_of_verify_link(f"{VERIFIER_URL}/other?credential={TOKEN}")
        == f"{VERIFIER_URL}/other?credential={TOKEN}"
    )
    twice = f"{VERIFIER_URL}/verify?credential={TOKEN}&credential={LINK}"
    assert credential_of_verify_link(twice) == twice, "ambiguous: left as it is, for the verifier to refuse"


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ('{"jwt": "' + TOKEN + '"}', "no_credential_in_json"),
        ('["' + TOKEN + '"]', "no_credential_in_json"),
        (
            '{"type": ["VerifiableCredential"], "id": "urn:uuid:0b7e6c2a-3f41-4d7e-9a0e-5c1f2d3e4a5b"}',
            "no_credential_in_json",
        ),
        ('{"type": ["VerifiableCredential", "OpenBadgeCredential"]}', "no_credential_in_json"),
        ('{"type": "EnvelopedVerifiableCredential", "id": "data:text/plain,hello"}', "no_credential_in_json"),
        ('{"id": "' + LINK + '", "id": "https://attacker.example/credentials/1"}', "bad_json"),
        ('{"type": ["VerifiableCredential"], "score": NaN}', "bad_json"),
        ('{"type": ', "bad_json"),
    ],
    ids=["jwt-wrapper", "array", "urn-id", "no-id", "bad-envelope", "duplicate-id", "nan", "truncated"],
)
def test_json_that_names_no_credential_is_refused(document: str, code: str) -> None:
    assert rejected(document.encode(), "credential.json").code == code


def test_json_credential_gives_its_link_and_nothing_else_from_it() -> None:
    claims = {"type": ["VerifiableCredential", "OpenBadgeCredential"], "id": LINK, "name": "Anything at all"}
    assert extract(json.dumps(claims).encode(), None, None) == Extracted(LINK, "json")


# --------------------------------------------------------------------------------------------------------------
# Baked images


def test_baked_images_give_their_token() -> None:
    assert extract(bake_png(badge_png(), TOKEN), "badge.png", "image/png") == Extracted(TOKEN, "png")
    assert extract(bake_svg(qr_svg(VERIFY_LINK), TOKEN), "badge.svg", None) == Extracted(TOKEN, "svg")


def test_a_png_without_a_credential_is_read_as_a_screenshot_of_a_qr_code() -> None:
    screenshot = png_of(qr_image(VERIFY_LINK))
    assert extract(screenshot, "Screenshot 2025-05-04.png", "image/png") == Extracted(LINK, "photo")
    assert rejected(badge_png(), "badge.png").code == "no_credential_in_png"


def test_svgs_without_a_credential_or_hostile_ones_are_refused() -> None:
    assert rejected(qr_svg(VERIFY_LINK), "qr.svg").code == "no_credential_in_svg"
    xxe = b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>'
    refused = rejected(xxe, "badge.svg")
    assert refused.code == "bad_svg" and "entities" in refused.message
    assert rejected(b"<html><body>a page</body></html>", "page.html").code == "bad_svg"


def test_a_damaged_png_is_unreadable() -> None:
    baked = bytearray(bake_png(badge_png(), TOKEN))
    baked[40] ^= 0xFF
    assert rejected(bytes(baked), "badge.png").code == "unreadable_image"
    assert rejected(badge_png()[:100], "badge.png").code == "unreadable_image"


# --------------------------------------------------------------------------------------------------------------
# Photos


@pytest.mark.parametrize(
    ("angle", "width", "quality", "kind"),
    [(14, 330, 55, "JPEG"), (-33, 260, 40, "JPEG"), (90, 420, 70, "JPEG"), (5, 300, 60, "WEBP")],
)
def test_a_photo_of_a_qr_code_gives_its_credential(angle: float, width: int, quality: int, kind: str) -> None:
    photo = photo_of(qr_image(VERIFY_LINK), angle=angle, width=width, quality=quality, kind=kind)
    assert len(photo) < MAX_FILE_BYTES
    assert extract(photo, "photo", f"image/{kind.lower()}") == Extracted(LINK, "photo")


def test_of_several_codes_the_credentials_is_taken() -> None:
    page = Image.new("L", (900, 450), 255)
    page.paste(qr_image("https://www.linkedin.com/in/someone"), (10, 10))
    page.paste(qr_image(VERIFY_LINK), (450, 10))
    assert extract(png_of(page), "cv.png", None) == Extracted(LINK, "photo")


def test_a_photo_without_a_qr_code() -> None:
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(buffer, format="JPEG")
    assert rejected(buffer.getvalue(), "IMG_1.jpg").code == "no_qr_found"


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (8_000, 6_000)], ids=["huge", "over-our-limit"])
def test_a_decompression_bomb_is_refused_from_its_header(width: int, height: int) -> None:
    bomb = png_header(width, height)
    assert len(bomb) < 1024
    started = time.perf_counter()
    assert rejected(bomb, "bomb.png").code == "image_too_large"
    assert time.perf_counter() - started < 0.5, "refused before any pixel is decoded"


def test_a_truncated_jpeg_is_unreadable() -> None:
    photo = photo_of(qr_image(VERIFY_LINK))
    assert rejected(photo[:400], "IMG.jpg").code == "unreadable_image"


# --------------------------------------------------------------------------------------------------------------
# PDF


def test_a_pdf_gives_its_credential_attachment() -> None:
    made_by_pypdf = pdf_by_pypdf({"notes.txt": b"hello", "credential.jwt": TOKEN.encode()})
    assert extract(made_by_pypdf, "certificate.pdf", "application/pdf") == Extracted(TOKEN, "pdf")
    assert extract(certificate_by_fpdf(TOKEN.encode()), None, None) == Extracted(TOKEN, "pdf")


def test_a_pdf_without_the_attachment_says_so() -> None:
    for pdf in (pdf_by_pypdf({}), pdf_by_pypdf({"other.jwt": TOKEN.encode()}), certificate_by_fpdf(None)):
        refused = rejected(pdf, "certificate.pdf")
        assert refused.code == "no_credential_in_pdf" and "credential.jwt" in refused.message


def test_broken_or_hostile_pdfs_are_refused_without_escaping_errors() -> None:
    certificate = certificate_by_fpdf(TOKEN.encode())
    writer = PdfWriter(clone_from=io.BytesIO(pdf_by_pypdf({"credential.jwt": TOKEN.encode()})))
    writer.encrypt("secret")
    encrypted = io.BytesIO()
    writer.write(encrypted)

    cases = {
        "truncated": certificate[: len(certificate) // 3],
        "garbage": b"%PDF-1.7\n" + bytes(random.Random(1).randrange(256) for _ in range(4000)),
        "encrypted": encrypted.getvalue(),
        "too many pages": pdf_by_pypdf({"credential.jwt": TOKEN.encode()}, pages=60),
        "inflates to 20 MiB": certificate_by_fpdf(b"\x00" * (20 * 1024 * 1024)),
    }
    for name, pdf in cases.items():
        assert len(pdf) < MAX_FILE_BYTES, name
        assert rejected(pdf, "certificate.pdf").code == "bad_pdf", name


def test_nothing_of_an_upload_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    certificate = certificate_by_fpdf(TOKEN.encode())
    damaged = certificate.replace(b"/Names", b"/Nomes").replace(b"xref", b"xraf")
    with caplog.at_level(logging.DEBUG):
        for data in (damaged, certificate[:-200], bake_png(badge_png(), TOKEN)[:-30]):
            with contextlib.suppress(UploadRejected):
                extract(data, None, None)
    assert [record for record in caplog.records if record.levelno >= logging.INFO] == []


# --------------------------------------------------------------------------------------------------------------
# Types, sizes, and whatever else arrives


def test_the_bytes_decide_the_type_not_the_name() -> None:
    assert extract(bake_png(badge_png(), TOKEN), "credential.jwt", "text/plain") == Extracted(TOKEN, "png")
    assert extract(certificate_by_fpdf(TOKEN.encode()), "badge.png", "image/png") == Extracted(TOKEN, "pdf")


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("badge.png", None), ("IMG_1.JPG", None), ("cert.pdf", "application/octet-stream"), ("x", "image/webp")],
)
def test_text_named_as_an_image_or_pdf_is_refused(filename: str, content_type: str | None) -> None:
    assert rejected(TOKEN.encode(), filename, content_type).code == "unsupported_type"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"A" * (MAX_FILE_BYTES + 1), "too_large"),
        (b"A" * (300 * 1024), "too_large"),  # fits the file limit, but no credential is that long
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unsupported_type"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "unsupported_type"),
        (b"\x00\x00\x00\x18ftypheic" + b"\xff" * 200, "unsupported_type"),
    ],
    ids=["empty", "over-the-limit", "too-long-text", "gif", "zip", "heic"],
)
def test_files_that_hold_nothing_to_verify(data: bytes, code: str) -> None:
    assert rejected(data, "upload").code == code


def test_damaged_copies_of_every_carrier_never_raise_anything_else() -> None:
    carriers = [
        bake_png(badge_png(), TOKEN),
        bake_svg(qr_svg(VERIFY_LINK), TOKEN),
        certificate_by_fpdf(TOKEN.encode()),
        photo_of(qr_image(VERIFY_LINK)),
        photo_of(qr_image(VERIFY_LINK), kind="WEBP"),
    ]
    rng = random.Random(7)
    for carrier in carriers:
        for _ in range(12):
            damaged = bytearray(carrier[: rng.randrange(8, len(carrier) + 1)])
            for _ in range(rng.randrange(0, 6)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            with contextlib.suppress(UploadRejected):  # a refusal is fine; any other exception fails the test
                extract(bytes(damaged), None, None)
