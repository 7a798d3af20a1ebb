"""What an employer can upload to the verifier's page, turned into the one value to verify: a link or a token.

Accepted: a ``.jwt`` or text file (a compact JWS, or a link); a baked badge PNG or SVG; an Open Badges 3.0
credential's JSON, which is unsigned and so only names the signed copy to fetch by its ``id`` link; a VC 2.0
``EnvelopedVerifiableCredential``; the PDF certificate, which carries the token as an attachment named
``credential.jwt``; and a photo or screenshot of the credential's QR code (JPEG, PNG or WebP).

Ad-hoc JSON wrappers such as ``{"jwt": "..."}`` are not accepted: no standard defines them, every tool names the
member differently, and guessing would mean taking whatever string some member holds. The two JSON shapes read
are those OB 3.0 and VC 2.0 define.

The type comes from the bytes' magic numbers. The filename and content type are only hints: a file named or sent
as an image or PDF whose bytes are not one is refused, since a damaged or renamed file is likelier than a token
in disguise. Everything is bounded before it is decoded (bytes, pixels, PDF objects and pages, inflated
streams), nothing of an upload is written to disk or logged, and every failure is an :class:`UploadRejected`
with a stable code the page translates, never another exception.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import pypdf
import zxingcpp
from PIL import Image
from pypdf.generic import DictionaryObject

from credentials import strict_json
from credentials.baking import BakingError, unbake_png, unbake_svg
from credentials.jose import MAX_TOKEN_BYTES
from verifier.api import is_link
from verifier.envelope import ENVELOPE_TYPE, MalformedEnvelope, unwrap_envelope
from verifier.links import expand_short_link

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest uploaded file looked at: a phone's photo of a printed QR code is typically 2–5 MB."""
MAX_VALUE_CHARS = 2 * MAX_TOKEN_BYTES
"""Largest value handed on: a token, a link, or an envelope's text."""
MAX_PIXELS = 40_000_000
"""Largest photo decoded, checked from its header before any pixel is: a 12-megapixel phone photo fits."""
MAX_PDF_PAGES = 50
MAX_PDF_OBJECTS = 20_000
MAX_PDF_ATTACHMENTS = 64
MAX_PDF_STREAM_BYTES = 4 * 1024 * 1024
"""Most any one PDF stream may inflate to, so that a small file cannot expand into a large one in memory."""
PDF_ATTACHMENT = "credential.jwt"

Source = Literal["jwt", "json", "png", "svg", "pdf", "photo"]
Code = Literal[
    "empty",
    "too_large",
    "unsupported_type",
    "bad_json",
    "no_credential_in_json",
    "unreadable_image",
    "image_too_large",
    "no_credential_in_png",
    "no_qr_found",
    "bad_svg",
    "no_credential_in_svg",
    "bad_pdf",
    "no_credential_in_pdf",
]

# pypdf's warnings about a damaged file quote the file's own objects: an upload's content must not reach the logs.
logging.getLogger("pypdf").setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True, slots=True)
class Extracted:
    """The value to verify (a link or a compact JWS) and the kind of file it came from."""

    value: str
    source: Source


class UploadRejected(Exception):
    """The upload holds nothing to verify; ``code`` is stable (the page translates it), ``message`` English."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code: Code = code
        self.message = message


_MAGIC: tuple[tuple[str, bytes, int], ...] = (
    ("png", b"\x89PNG\r\n\x1a\n", 0),
    ("jpeg", b"\xff\xd8\xff", 0),
    ("webp", b"WEBP", 8),
    ("pdf", b"%PDF-", 0),
)
_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp", ".pdf": "pdf"}
_CONTENT_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp", "application/pdf": "pdf"}
_NAMES = {"png": "a PNG image", "jpeg": "a JPEG image", "webp": "a WebP image", "pdf": "a PDF"}
_HEIF_BRANDS = {b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"}
"""What phones save photos as (HEIC), which Pillow cannot decode without a plugin."""
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def extract(data: bytes, filename: str | None, content_type: str | None) -> Extracted:
    """The value to verify in an uploaded file, and what kind of file it was.

    Raises :class:`UploadRejected` for an empty, too large or unsupported file, and for one that holds no
    credential or cannot be read; nothing else escapes, whatever the bytes.
    """
    if not data:
        raise UploadRejected("empty", "The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise UploadRejected("too_large", f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB.")
    kind = _sniff(data)
    if kind == "pdf":
        return Extracted(_from_pdf(data), "pdf")
    if kind == "png":
        return _from_png(data)
    if kind is not None:
        return Extracted(_from_photo(data, kind), "photo")
    if data[4:12] in _HEIF_BRANDS:
        raise UploadRejected("unsupported_type", "HEIC photos are not read: send the photo as JPEG, or a screenshot.")
    claimed = _claimed_kind(filename, content_type)
    if claimed is not None:
        raise UploadRejected("unsupported_type", f"The file is named or sent as {_NAMES[claimed]}, but is not one.")
    try:
        text = data.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        text = "\x00"
    if any(char < " " and char not in "\t\n\r" for char in text):  # binary, whatever it happened to decode to
        raise UploadRejected("unsupported_type", "The file is not a credential, badge image, PDF certificate or photo.")
    if text.startswith("<"):
        return Extracted(_from_baked(_unbaked_svg(data), "svg"), "svg")
    if text.startswith(("{", "[")):
        return Extracted(_link_of_json(text, "json"), "json")
    return Extracted(_value_of_text(text), "jwt")


def _sniff(data: bytes) -> str | None:
    for kind, magic, offset in _MAGIC:
        if data[offset : offset + len(magic)] == magic and (kind != "webp" or data.startswith(b"RIFF")):
            return kind
    return None


def _claimed_kind(filename: str | None, content_type: str | None) -> str | None:
    """The binary kind the filename or content type claims, if any."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return _SUFFIXES.get(suffix) or _CONTENT_TYPES.get(media_type)


def credential_of_verify_link(text: str) -> str:
    """For a verifier page's link (``…/verify?credential=X``: what a credential's QR code holds), the credential
    ``X`` it names; anything else as it is. The link itself is never fetched: ``X`` goes through the same trust
    rules as anything pasted, so a verify link of any host is as safe to read as its parameter alone."""
    if not is_link(text):
        return text
    parts = urlsplit(text)
    named = parse_qs(parts.query).get("credential", []) if parts.path.endswith("/verify") else []
    return named[0].strip() if len(named) == 1 and named[0].strip() else text


def _value_of_text(text: str) -> str:
    """A token or link, as found in a file, a QR code or an image."""
    text = text.strip()
    if len(text) > MAX_VALUE_CHARS:
        raise UploadRejected("too_large", "The file holds more text than a credential.")
    return credential_of_verify_link(text)


def _from_baked(value: str, source: Literal["png", "svg"]) -> str:
    """What a baked image carries: a token, or (OB 3.0 allows it) a credential's JSON, read for its link."""
    if value.startswith("{"):
        return _link_of_json(value, source)
    return _value_of_text(value)


# --------------------------------------------------------------------------------------------------------------
# JSON


def _link_of_json(text: str, source: Source) -> str:
    """The token of an envelope, or the ``id`` link of an OB 3.0 credential (its JSON is unsigned, so nothing
    in it is believed: the signed copy is fetched from that link, from a trusted issuer only)."""
    try:
        document = strict_json.loads(text)
    except strict_json.JSONRejected as exc:
        raise UploadRejected("bad_json", f"The file is not valid JSON ({exc.path}: {exc.reason}).") from None
    where = "The JSON" if source == "json" else f"The JSON baked into the {source.upper()} image"
    if not isinstance(document, dict):
        raise UploadRejected("no_credential_in_json", f"{where} is not a credential.")
    kind = document.get("type")
    types = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    if ENVELOPE_TYPE in types:
        try:
            return unwrap_envelope(document)
        except MalformedEnvelope as exc:
            raise UploadRejected("no_credential_in_json", str(exc)) from None
    if "VerifiableCredential" not in types:
        raise UploadRejected(
            "no_credential_in_json", f"{where} is neither a verifiable credential nor an {ENVELOPE_TYPE}."
        )
    identifier = document.get("id")
    if not isinstance(identifier, str) or not is_link(identifier) or len(identifier) > MAX_VALUE_CHARS:
        raise UploadRejected(
            "no_credential_in_json",
            "The credential's id is not a link, so its signed copy cannot be fetched: upload its .jwt file instead.",
        )
    return identifier


# --------------------------------------------------------------------------------------------------------------
# Images


def _from_png(data: bytes) -> Extracted:
    """A baked badge if the PNG carries a credential, else a screenshot or photo of a QR code."""
    try:
        baked = unbake_png(data)
    except BakingError as exc:
        raise UploadRejected("unreadable_image", exc.message) from None
    if baked is not None:
        return Extracted(_from_baked(baked, "png"), "png")
    try:
        return Extracted(_from_photo(data, "png"), "photo")
    except UploadRejected as exc:
        if exc.code != "no_qr_found":
            raise
    raise UploadRejected("no_credential_in_png", "The PNG image carries no baked credential and shows no QR code.")


def _unbaked_svg(data: bytes) -> str:
    try:
        baked = unbake_svg(data)
    except BakingError as exc:
        raise UploadRejected("bad_svg", exc.message) from None
    if baked is None:
        raise UploadRejected("no_credential_in_svg", "The SVG image carries no baked credential.")
    return baked


def _from_photo(data: bytes, kind: str) -> str:
    """The text of the QR code in a photo or screenshot; the credential's own code when several show."""
    # Pillow's decoders raise many exception types for damaged input (OSError, SyntaxError, ValueError, struct
    # and zlib errors...); any of them means the same to the person uploading: the image cannot be read.
    try:
        image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
    except Image.DecompressionBombError:
        raise UploadRejected("image_too_large", "The image has too many pixels to be read.") from None
    except Exception:
        raise UploadRejected("unreadable_image", "The image cannot be read.") from None
    with image:
        if image.width * image.height > MAX_PIXELS:  # from the header: no pixel has been decoded yet
            raise UploadRejected("image_too_large", "The image has too many pixels to be read.")
        if kind == "jpeg":
            image.draft("L", image.size)  # decode straight to grey: a third of the memory, same pixels for a QR
        try:
            image.load()
            grey = image.convert("L")
            codes = zxingcpp.read_barcodes(grey, formats=_QR_ONLY)
        except Exception:
            raise UploadRejected("unreadable_image", "The image cannot be read.") from None
    found = [code.text for code in codes if code.text]
    if not found:
        raise UploadRejected("no_qr_found", "No QR code could be read in the image.")
    # A CV may show other QR codes too (a profile, a portfolio): prefer the one naming a credential.
    credential_like = [text for text in found if _names_a_credential(text)]
    return _value_of_text((credential_like or found)[0])


def _names_a_credential(text: str) -> bool:
    """A credential link, its short link (``…/q/<22 characters>``), a verify link, or a compact JWS (whose header,
    ``{"``, always encodes as ``eyJ``)."""
    if "/credentials/" in text or "credential=" in text or text.startswith("eyJ"):
        return True
    return expand_short_link(text) != text


# --------------------------------------------------------------------------------------------------------------
# PDF


def _from_pdf(data: bytes) -> str:
    """The token in the certificate's ``credential.jwt`` attachment. pypdf runs no JavaScript and renders
    nothing; its parsing is bounded by object count and stream size, and any failure is a ``bad_pdf``."""
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
            maximum_declared_stream_length=MAX_PDF_STREAM_BYTES,
            array_maximum_element_count=MAX_PDF_OBJECTS,
            dictionary_maximum_element_count=MAX_PDF_OBJECTS,
        ):
            reader = pypdf.PdfReader(
                io.BytesIO(data),
                xref_stream_maximum_entries=MAX_PDF_OBJECTS,
                root_object_recovery_limit=MAX_PDF_OBJECTS,
            )
            content = _attachment(reader)
    except UploadRejected:
        raise
    except Exception:
        # pypdf raises many types for damaged or hostile files (PdfReadError, ValueError, KeyError, RecursionError,
        # LimitReachedError...): to the person uploading they all mean the PDF cannot be read.
        raise UploadRejected("bad_pdf", "The PDF cannot be read.") from None
    try:
        return _value_of_text(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UploadRejected("no_credential_in_pdf", f"The PDF's {PDF_ATTACHMENT} is not text.") from None


def _attachment(reader: pypdf.PdfReader) -> bytes:
    if reader.is_encrypted:
        raise UploadRejected("bad_pdf", "The PDF is password-protected.")
    size = _number(reader.trailer.get("/Size"))
    page_tree = reader.root_object.get("/Pages")
    page_tree = page_tree.get_object() if page_tree is not None else None
    # The declared count: the page tree itself is never walked.
    pages = _number(page_tree.get("/Count")) if isinstance(page_tree, DictionaryObject) else 0
    if size > MAX_PDF_OBJECTS or pages > MAX_PDF_PAGES:
        raise UploadRejected("bad_pdf", "The PDF is too large to be a certificate.")
    found: list[bytes] = []
    for index, attachment in enumerate(reader.attachment_list):
        if index >= MAX_PDF_ATTACHMENTS:
            raise UploadRejected("bad_pdf", "The PDF has too many attachments to be a certificate.")
        if attachment.name == PDF_ATTACHMENT:
            found.append(attachment.content)
    if not found:
        raise UploadRejected("no_credential_in_pdf", f"The PDF has no {PDF_ATTACHMENT} attachment.")
    if len(set(found)) > 1:
        raise UploadRejected("no_credential_in_pdf", f"The PDF has two different {PDF_ATTACHMENT} attachments.")
    if len(found[0]) > MAX_VALUE_CHARS:
        raise UploadRejected("no_credential_in_pdf", f"The PDF's {PDF_ATTACHMENT} is too long to be a credential.")
    return found[0]


def _number(value: Any) -> int:
    """A count a PDF declares: 0 when it declares none, more than any limit when it is not a whole number."""
    resolved = value.get_object() if hasattr(value, "get_object") else value
    if resolved is None:
        return 0
    return int(resolved) if isinstance(resolved, int) else MAX_PDF_OBJECTS + 1
