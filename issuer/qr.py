"""QR codes of verify links, PNG and SVG, rendered on first request and cached.

Links are kept short enough for a version 10 code at error correction M, which a phone camera reads from a
screen or a printed CV; a longer link is refused rather than rendered as a dense, unreadable code.
"""

from __future__ import annotations

import functools
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from issuer.errors import ConfigurationError

MAX_VERSION = 10


def _code(url: str) -> qrcode.QRCode:
    code: qrcode.QRCode = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url.encode("utf-8"), optimize=0)
    code.make(fit=True)
    if code.version > MAX_VERSION:
        raise ConfigurationError(f"The link needs a version {code.version} QR code; at most {MAX_VERSION} is allowed.")
    return code


@functools.lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """Return a PNG QR code of ``url`` (error correction M, version ≤ 10)."""
    buffer = io.BytesIO()
    _code(url).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=4096)
def qr_svg(url: str) -> bytes:
    """Return an SVG QR code of ``url`` (error correction M, version ≤ 10)."""
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_version(url: str) -> int:
    return int(_code(url).version)
