"""Uploaded achievement images: what is accepted, how it is rebuilt, and every hostile construct that is removed
or refused."""

from __future__ import annotations

import io
import struct
import zlib

import defusedxml.ElementTree
import pytest
from PIL import Image, PngImagePlugin

from issuer.errors import InvalidInput
from issuer.uploaded_images import MAX_BYTES, STORED_SIDE, clean_image

SVG_NS = "http://www.w3.org/2000/svg"


def raster(size: tuple[int, int], image_format: str = "PNG", mode: str = "RGB", **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "#1F4E9A").save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header(width: int, height: int, pixel_data: bytes) -> bytes:
    """A greyscale PNG that claims ``width`` × ``height`` and carries ``pixel_data`` as its compressed stream."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixel_data) + png_chunk(b"IEND", b"")


def refusal(data: bytes, declared_type: str | None = None) -> str:
    with pytest.raises(InvalidInput) as caught:
        clean_image(data, declared_type)
    assert caught.value.code == "invalid_input"
    [field] = caught.value.fields
    assert field["field"] == "image"
    return field["message"]


def svg(body: str, attributes: str = "") -> bytes:
    return (
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100"{attributes}>'
        f'<rect id="kept" width="10" height="10" fill="#0B6E4F"/>{body}</svg>'
    ).encode()


# ---- rasters ----------------------------------------------------------------------------------------------------


def test_png_is_re_encoded_without_its_metadata_or_appended_data() -> None:
    metadata = PngImagePlugin.PngInfo()
    metadata.add_text("Comment", "private-note-from-the-designer")
    polyglot = raster((200, 200), pnginfo=metadata) + b"<html><script>alert(1)</script></html>"

    media_type, cleaned = clean_image(polyglot, "image/png")

    assert media_type == "image/png"
    assert b"private-note" not in cleaned
    assert b"<script>" not in cleaned
    image = Image.open(io.BytesIO(cleaned))
    assert (image.format, image.size, image.getpixel((5, 5))) == ("PNG", (200, 200), (31, 78, 154))


def test_jpeg_becomes_png_upright_and_without_exif() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned; the picture must be rotated a quarter turn to view
    exif[0x010E] = "private-description"
    photo = raster((160, 100), "JPEG", exif=exif.tobytes())

    media_type, cleaned = clean_image(photo, "image/jpeg")

    assert media_type == "image/png"
    image = Image.open(io.BytesIO(cleaned))
    assert (image.format, image.size) == ("PNG", (100, 160))
    assert b"private-description" not in cleaned
    assert not image.getexif()


def test_transparency_is_kept() -> None:
    image = Image.open(io.BytesIO(clean_image(raster((100, 100), mode="LA"), None)[1]))

    assert image.mode == "RGBA"


def test_large_images_are_stored_at_a_sensible_size() -> None:
    _, cleaned = clean_image(raster((3000, 2000)), "image/png")

    assert max(Image.open(io.BytesIO(cleaned)).size) == STORED_SIDE


def test_decompression_bomb_is_refused_from_its_header_before_any_pixel_is_decoded() -> None:
    bomb = png_with_header(6000, 6000, zlib.compress(b"\0" * 6001 * 6000, 9))  # 36 MB of pixels in ~35 kB
    assert len(bomb) < 100_000

    assert refusal(bomb) == "The image is 6000×6000 pixels; at most 4096×4096 are accepted."


def test_size_is_checked_before_decoding() -> None:
    # The stream is not even valid zlib: had the pixels been decoded, the answer would be "cannot be read".
    assert "5000×300 pixels" in refusal(png_with_header(5000, 300, b"not a zlib stream"))


def test_a_header_far_beyond_pillows_own_limit_is_refused_too() -> None:
    assert "too large in pixels" in refusal(png_with_header(60_000, 60_000, b"x"))


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((32, 32), "The image is 32×32 pixels; at least 64×64 are needed."),
        ((64, 40), "The image is 64×40 pixels; at least 64×64 are needed."),
        ((600, 200), "The image is 600×200 pixels; a square image (at most 2:1) is needed."),
    ],
)
def test_too_small_or_too_narrow_images_are_refused(size: tuple[int, int], expected: str) -> None:
    assert refusal(raster(size)) == expected


def test_slightly_oblong_images_are_accepted() -> None:
    assert Image.open(io.BytesIO(clean_image(raster((300, 160)), None)[1])).size == (300, 160)


def test_truncated_image_is_refused() -> None:
    assert refusal(raster((200, 200))[:120]) == "The file cannot be read as a PNG image."


def test_files_over_one_mebibyte_are_refused_unread() -> None:
    assert refusal(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_BYTES) == (
        f"The image is {MAX_BYTES + 8} bytes; at most {MAX_BYTES} (1 MiB) are accepted."
    )


@pytest.mark.parametrize(
    ("data", "declared_type", "expected"),
    [
        (b"GIF89a\x01\x00\x01\x00", None, "The file is not a PNG, JPEG or SVG image."),
        (b"%PDF-1.7\n", "application/pdf", "Images of type application/pdf are not accepted; send PNG, JPEG or SVG."),
        (raster((100, 100)), "image/jpeg", "The file was sent as image/jpeg but is a PNG image."),
        (svg(""), "image/png", "The file was sent as image/png but is an SVG image."),
    ],
)
def test_the_content_decides_and_must_agree_with_the_declared_type(
    data: bytes, declared_type: str | None, expected: str
) -> None:
    assert refusal(data, declared_type) == expected


@pytest.mark.parametrize("declared_type", [None, "", "application/octet-stream", "image/png", "IMAGE/PNG; q=1"])
def test_declared_types_that_agree_or_say_nothing_are_accepted(declared_type: str | None) -> None:
    assert clean_image(raster((100, 100)), declared_type)[0] == "image/png"


# ---- SVG --------------------------------------------------------------------------------------------------------

BENIGN = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">
  <title>Odznaka</title>
  <defs>
    <linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1F4E9A"/><stop offset="1" stop-color="#0B6E4F"/>
    </linearGradient>
    <path id="star" d="M50 10 L61 40 L92 40 L67 58 L76 88 L50 70 L24 88 L33 58 L8 40 L39 40 Z"/>
    <style>.label { font-family: 'DejaVu Sans', sans-serif; fill: #fff }</style>
  </defs>
  <g transform="translate(0 0)">
    <circle cx="50" cy="50" r="48" fill="url(#g)" stroke="#ffffff" stroke-width="2"/>
    <use xlink:href="#star" fill="#fff" opacity="0.8"/>
    <text class="label" x="50" y="95" font-size="8" text-anchor="middle">Zażółć <tspan>Єва</tspan></text>
  </g>
</svg>""".encode()


def tags(data: bytes) -> list[str]:
    return [element.tag.removeprefix(f"{{{SVG_NS}}}") for element in defusedxml.ElementTree.fromstring(data).iter()]


def test_a_benign_badge_keeps_every_element_and_attribute() -> None:
    media_type, cleaned = clean_image(BENIGN, "image/svg+xml")

    assert media_type == "image/svg+xml"
    assert tags(cleaned) == tags(BENIGN)
    root = defusedxml.ElementTree.fromstring(cleaned)
    use = root.find(f".//{{{SVG_NS}}}use")
    assert use.get("{http://www.w3.org/1999/xlink}href") == "#star"
    assert root.find(f".//{{{SVG_NS}}}circle").get("fill") == "url(#g)"
    assert "".join(root.find(f".//{{{SVG_NS}}}text").itertext()) == "Zażółć Єва"
    assert ".label{font-family:'DejaVu Sans', sans-serif;fill:#fff}" in cleaned.decode()


def test_an_svg_written_without_its_namespace_comes_out_with_it() -> None:
    _, cleaned = clean_image(b'<svg viewBox="0 0 10 10"><rect width="5" height="5"/></svg>', None)

    assert tags(cleaned) == ["svg", "rect"]


HOSTILE = {
    "script element": ("<script>alert(1)</script>", ["script", "alert"]),
    "event handlers": ('<rect width="1" height="1" onload="alert(1)" onclick="alert(2)"/>', ["onload", "onclick"]),
    "foreignObject": (
        '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></body></foreignObject>',
        ["foreignObject", "body", "alert"],
    ),
    "external href": ('<use xlink:href="https://evil.example/sprite.svg#icon"/>', ["evil.example"]),
    "data: href to a script": (
        '<use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+"/>',
        ["data:", "PHN2Z"],
    ),
    "javascript: link": ('<a xlink:href="javascript:alert(1)"><rect width="1" height="1"/></a>', ["javascript"]),
    "external image": ('<image href="https://evil.example/track.png" width="1" height="1"/>', ["evil.example"]),
    "filter image": (
        '<filter id="f"><feImage href="https://evil.example/x.png"/></filter>',
        ["feImage", "evil.example"],
    ),
    "animation rewriting an href": (
        '<set attributeName="href" to="javascript:alert(1)"/><animate attributeName="href" values="javascript:1"/>',
        ["javascript", "set", "animate"],
    ),
    "@import": ('<style>@import url("https://evil.example/x.css"); rect { fill: red }</style>', ["evil", "@import"]),
    "external url in a style sheet": (
        "<style>rect { background-image: url(https://evil.example/x.png); fill: url('https://evil.example/p#p') }"
        "</style>",
        ["evil"],
    ),
    "CSS escape hiding url()": (r"<style>rect { fill: u\72l(https://evil.example/x) }</style>", ["evil"]),
    "@font-face": ("<style>@font-face { font-family: x; src: url(https://evil.example/f.woff) }</style>", ["evil"]),
    "external url in a style attribute": (
        '<rect width="1" height="1" style="fill: url(https://evil.example/#p); behavior: url(x.htc)"/>',
        ["evil", "behavior", "htc"],
    ),
    "external url in a presentation attribute": (
        '<rect width="1" height="1" fill="url(https://evil.example/#p)" filter="url(https://evil.example/#f)"/>',
        ["evil"],
    ),
    "xhtml iframe": ('<iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil.example"/>', ["iframe", "evil"]),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_constructs_are_removed_and_the_rest_kept(name: str) -> None:
    body, markers = HOSTILE[name]

    _, cleaned = clean_image(svg(body, ' onload="alert(0)"'), "image/svg+xml")

    text = cleaned.decode()
    for marker in [*markers, "onload"]:
        assert marker not in text
    assert '<rect id="kept" width="10" height="10" fill="#0B6E4F" />' in text


def test_safe_declarations_next_to_hostile_ones_survive() -> None:
    _, cleaned = clean_image(svg('<rect width="1" height="1" style="stroke: blue; fill: url(http://x/#p)"/>'), None)

    assert 'style="stroke:blue"' in cleaned.decode()


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE svg [<!ENTITY a "haha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>',
        b'<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&secret;</text></svg>',
    ],
    ids=["billion laughs", "external entity"],
)
def test_entity_declarations_are_refused(document: bytes) -> None:
    assert refusal(document) == "The SVG declares entities, which are not accepted."


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<g id="a"><rect width="1" height="1"/></g><g id="b"><use href="#a"/><use href="#a"/></g><use href="#b"/>',
            "nested references are not accepted",
        ),
        ('<g id="loop"><use href="#loop"/></g>', "nested references are not accepted"),
        (
            '<g id="many">' + '<rect width="1" height="1"/>' * 1000 + "</g>" + '<use href="#many"/>' * 20,
            "more than 20000 elements once its references are expanded",
        ),
    ],
    ids=["use of a use", "use of its own ancestor", "fan-out"],
)
def test_reference_chains_that_multiply_the_drawing_are_refused(body: str, expected: str) -> None:
    assert expected in refusal(svg(body))


def test_deep_nesting_is_refused() -> None:
    assert "more than 48 deep" in refusal(svg("<g>" * 60 + "</g>" * 60))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"<html><body/></html>", "The file is XML but not an SVG image."),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect>', "The SVG is not well-formed XML."),
        (b"<not even xml", "The SVG is not well-formed XML."),
    ],
)
def test_other_xml_and_broken_xml_are_refused(document: bytes, expected: str) -> None:
    assert refusal(document) == expected
