"""Badge baking (Open Badges 3.0): a signed credential carried inside the badge image itself.

A PNG carries the compact JWS as the text of one uncompressed ``iTXt`` chunk with the keyword
``openbadgecredential``, placed before ``IEND``. An SVG carries it in the ``verify`` attribute of an
``<openbadges:credential>`` element (namespace ``https://purl.imsglobal.org/ob/v3p0``), the first child of the
root ``<svg>``. OB 3.0 also allows a credential with an embedded proof as the element's text; it is read too.

The issuer bakes its downloads here and the verifier reads uploads here, so both sides agree on one format.
Everything read is untrusted: sizes are bounded before anything is copied, PNG chunk structure and CRCs are
checked, and SVG is parsed by ``defusedxml`` with entity declarations and external references refused. Baking
keeps every other byte of the image as it was (an SVG is spliced, not re-serialised) and replaces an existing
credential instead of adding a second one. What comes out of an image is a value to verify, nothing more.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from credentials.jose import MAX_TOKEN_BYTES

MAX_IMAGE_BYTES = 8 * 1024 * 1024
"""Largest image baked or read; a badge image is tens of kilobytes."""
MAX_BAKED_TEXT_BYTES = 2 * MAX_TOKEN_BYTES
"""Largest credential text taken out of an image: a token, or a credential with an embedded proof."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

_MAX_CHUNK_LENGTH = 2**31 - 1  # the PNG specification's own limit
_CHUNK_HEAD = struct.Struct(">I4s")
_CHUNK_TYPE = re.compile(rb"[A-Za-z]{4}")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_CREDENTIAL_TAG = f"{{{OB3_NAMESPACE}}}credential"
_SVG_TAG = f"{{{SVG_NAMESPACE}}}svg"


class BakingError(ValueError):
    """An image cannot be baked or read; ``message`` says why in one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedPng(BakingError):
    """Not a well-formed PNG: signature, chunk structure, CRC, size, or two credentials in one image."""


class MalformedSvg(BakingError):
    """Not a well-formed SVG document, or one with two credentials."""


class UnsafeSvg(MalformedSvg):
    """An SVG declaring entities or referring to external ones: refused before anything is expanded."""


# --------------------------------------------------------------------------------------------------------------
# PNG


@dataclass(frozen=True, slots=True)
class _Chunk:
    kind: bytes
    start: int
    """Offset of the chunk's length field; ``end`` is just past its CRC."""
    end: int
    data: bytes

    def is_credential(self) -> bool:
        return self.kind == b"iTXt" and self.data.startswith(PNG_KEYWORD + b"\0")


def _chunks(png: bytes) -> list[_Chunk]:
    """The chunks from ``IHDR`` to ``IEND``, each checked. Bytes after ``IEND`` are not part of the image and
    are never read. Raises :class:`MalformedPng`."""
    if len(png) > MAX_IMAGE_BYTES:
        raise MalformedPng(f"The PNG image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.")
    if not png.startswith(PNG_SIGNATURE):
        raise MalformedPng("The file is not a PNG image (its signature is missing).")
    chunks: list[_Chunk] = []
    offset = len(PNG_SIGNATURE)
    while True:
        if offset + _CHUNK_HEAD.size > len(png):
            raise MalformedPng("The PNG image ends before its IEND chunk.")
        length, kind = _CHUNK_HEAD.unpack_from(png, offset)
        data_start = offset + _CHUNK_HEAD.size
        end = data_start + length + 4
        if not _CHUNK_TYPE.fullmatch(kind):
            raise MalformedPng("The PNG image has a chunk with an invalid type.")
        if length > _MAX_CHUNK_LENGTH or end > len(png):
            raise MalformedPng("The PNG image has a chunk longer than the file.")
        data = png[data_start : data_start + length]
        (crc,) = struct.unpack_from(">I", png, data_start + length)
        if zlib.crc32(data, zlib.crc32(kind)) != crc:
            raise MalformedPng("The PNG image has a chunk with a wrong CRC (the file is damaged).")
        if not chunks and (kind != b"IHDR" or length != 13):
            raise MalformedPng("The PNG image does not start with its IHDR chunk.")
        chunks.append(_Chunk(kind, offset, end, data))
        offset = end
        if kind == b"IEND":
            return chunks


def _credential_text(chunk: _Chunk) -> str:
    """The text of an ``openbadgecredential`` iTXt chunk: keyword, NUL, compression flag and method, language
    tag, NUL, translated keyword, NUL, then the UTF-8 text. Raises :class:`MalformedPng`."""
    rest = chunk.data[len(PNG_KEYWORD) + 1 :]
    if len(rest) < 2 or rest[0] != 0:
        # Baking forbids compression; inflating what an upload claims would only add a decompression bomb.
        raise MalformedPng("The PNG image's credential chunk is compressed, which badge baking does not allow.")
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise MalformedPng("The PNG image's credential chunk is not a valid iTXt chunk.")
    text = parts[2]
    if len(text) > MAX_BAKED_TEXT_BYTES:
        raise MalformedPng("The PNG image's credential is too long to be a credential.")
    try:
        return text.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise MalformedPng("The PNG image's credential chunk is not UTF-8 text.") from exc


def unbake_png(png: bytes) -> str | None:
    """The credential baked into a PNG (a compact JWS, or a credential's JSON text), or ``None`` when the image
    carries none. Raises :class:`MalformedPng` for a file that is not a well-formed PNG (bad signature, broken
    chunk, wrong CRC, no ``IEND``), for a compressed credential chunk, and for two credential chunks."""
    found = [chunk for chunk in _chunks(png) if chunk.is_credential()]
    if len(found) > 1:
        # Two readers could each take a different one; the specification allows only one.
        raise MalformedPng("The PNG image carries two credentials.")
    if not found:
        return None
    return _credential_text(found[0]) or None


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return _CHUNK_HEAD.pack(len(data), kind) + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def bake_png(png: bytes, jws: str) -> bytes:
    """The PNG with ``jws`` baked in: an uncompressed ``openbadgecredential`` iTXt chunk just before ``IEND``,
    replacing any such chunk already there. Every other chunk is kept byte for byte; bytes after ``IEND`` are
    dropped. Raises :class:`MalformedPng` for a PNG that is not well formed and :class:`BakingError` for a
    ``jws`` that is not a compact JWS."""
    token = _checked_jws(jws)
    chunks = _chunks(png)
    # Keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translated keyword, NUL, text.
    credential = _png_chunk(b"iTXt", PNG_KEYWORD + b"\0\0\0\0\0" + token.encode("ascii"))
    kept = [png[chunk.start : chunk.end] for chunk in chunks[:-1] if not chunk.is_credential()]
    return b"".join([PNG_SIGNATURE, *kept, credential, png[chunks[-1].start : chunks[-1].end]])


def _checked_jws(jws: str) -> str:
    # Only base64url and dots: safe to place in a PNG chunk and in an XML attribute without any escaping.
    if len(jws) > MAX_TOKEN_BYTES or not _COMPACT_JWS.fullmatch(jws):
        raise BakingError("Only a compact JWS can be baked into a badge image.")
    return jws


# --------------------------------------------------------------------------------------------------------------
# SVG


@dataclass(slots=True)
class _Element:
    start: int
    """Byte offset of the element's ``<``."""
    verify: str | None
    end_tag: int = -1
    """Byte offset of its end tag's ``</``; meaningless for an empty-element tag, which has none."""
    text: list[str] = field(default_factory=list)


class _Outline:
    """Parser target noting where the root element and its ``openbadges:credential`` children are in the bytes.

    No tree is built: the bytes are spliced, so the rest of the document stays exactly as it was.
    """

    def __init__(self) -> None:
        self.expat: Any = None
        self.root_tag = ""
        self.root_start = -1
        self.credentials: list[_Element] = []
        self._depth = 0
        self._open: _Element | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if self._depth == 0:
            self.root_tag, self.root_start = tag, self.expat.CurrentByteIndex
        elif self._depth == 1 and tag == _CREDENTIAL_TAG:
            self._open = _Element(self.expat.CurrentByteIndex, attrib.get("verify"))
        self._depth += 1

    def end(self, tag: str) -> None:
        self._depth -= 1
        if self._depth == 1 and self._open is not None:
            self._open.end_tag = self.expat.CurrentByteIndex
            self.credentials.append(self._open)
            self._open = None

    def data(self, text: str) -> None:
        if self._open is not None and self._depth == 2:
            self._open.text.append(text)

    def close(self) -> _Outline:
        return self


def _outline(svg: bytes) -> _Outline:
    """Parse ``svg`` safely and say where its parts are. Raises :class:`UnsafeSvg` or :class:`MalformedSvg`."""
    if len(svg) > MAX_IMAGE_BYTES:
        raise MalformedSvg(f"The SVG image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.")
    if b"\0" in svg:
        # UTF-16 or binary: byte offsets and the ASCII spliced in would not line up with the text.
        raise MalformedSvg("The SVG image is not UTF-8 text.")
    outline = _Outline()
    # A DOCTYPE naming the SVG DTD is common and harmless (expat never loads it); entity declarations and
    # external references are what make XML dangerous, and defusedxml refuses both.
    parser = DefusedXMLParser(target=outline, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    outline.expat = parser.parser  # the expat parser underneath (where defusedxml installs its guards), for offsets
    try:
        parser.feed(svg)
        parser.close()
    except DefusedXmlException as exc:
        raise UnsafeSvg("The SVG image declares XML entities or refers to external ones, which is refused.") from exc
    except ParseError as exc:
        raise MalformedSvg("The SVG image is not well-formed XML.") from exc
    except (LookupError, ValueError) as exc:  # an encoding the XML declaration names that Python lacks or refuses
        raise MalformedSvg("The SVG image declares a text encoding that cannot be read.") from exc
    if outline.root_tag != _SVG_TAG:
        raise MalformedSvg("The file is XML but not an SVG image.")
    return outline


def _end_of_tag(document: bytes, start: int) -> int:
    """The offset just past the ``>`` closing the tag that begins at ``start``. Attribute values may hold ``>``
    but never their own quote character, so skipping quoted runs is exact for a well-formed document."""
    quote = 0
    for index in range(start, len(document)):
        byte = document[index]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in b"\"'":
            quote = byte
        elif byte == ord(">"):
            return index + 1
    raise MalformedSvg("The SVG image ends inside a tag.")  # pragma: no cover - the parser accepted it


def _span(svg: bytes, element: _Element) -> tuple[int, int]:
    """Where the element starts and ends in the bytes, its end tag included."""
    start_tag_end = _end_of_tag(svg, element.start)
    if svg[start_tag_end - 2 : start_tag_end] == b"/>":  # <openbadges:credential .../>: no end tag
        return element.start, start_tag_end
    return element.start, svg.index(b">", element.end_tag) + 1


def unbake_svg(svg: bytes) -> str | None:
    """The credential baked into an SVG: the ``verify`` attribute of its ``openbadges:credential`` element (a
    compact JWS), else that element's text (a credential's JSON); ``None`` when the image carries none.
    Raises :class:`UnsafeSvg` for entity declarations or external references, and :class:`MalformedSvg` for
    anything that is not a well-formed SVG document or that carries two credentials."""
    credentials = _outline(svg).credentials
    if len(credentials) > 1:
        raise MalformedSvg("The SVG image carries two credentials.")  # as with PNG: which one would count?
    if not credentials:
        return None
    element = credentials[0]
    value = element.verify if element.verify is not None else "".join(element.text)
    if len(value) > MAX_BAKED_TEXT_BYTES:
        raise MalformedSvg("The SVG image's credential is too long to be a credential.")
    return value.strip() or None


def bake_svg(svg: bytes, jws: str) -> bytes:
    """The SVG with ``jws`` baked in as ``<openbadges:credential verify="…"/>``, the first child of the root
    element, replacing any credential element already there. The element declares its own namespace, so the
    root start tag is left untouched; every other byte of the document stays as it was. Raises
    :class:`UnsafeSvg` or :class:`MalformedSvg` for an SVG that cannot be read safely, and :class:`BakingError`
    for a ``jws`` that is not a compact JWS."""
    token = _checked_jws(jws)
    outline = _outline(svg)
    content_start = _end_of_tag(svg, outline.root_start)
    if svg[content_start - 2 : content_start] == b"/>":
        raise MalformedSvg("The SVG image is empty: it has nothing to show the badge with.")
    element = f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}" verify="{token}"/>'.encode("ascii")
    pieces = [svg[:content_start], element]
    position = content_start
    for start, end in (_span(svg, found) for found in outline.credentials):
        pieces.append(svg[position:start])
        position = end
    pieces.append(svg[position:])
    return b"".join(pieces)
