"""QR codes of credentials' short links, PNG and SVG, rendered on first request and cached.

A short link (``{ISSUER_PUBLIC_URL}/q/<22 characters>``) fits a version 5 code or smaller; it is encoded at
error correction Q (a quarter of the code may be smudged, folded or out of focus) when that still fits version
5, else at M. A link that needs a larger code is refused rather than rendered as a dense, unreadable one.
"""

from __future__ import annotations

import functools
import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q

from issuer.errors import ConfigurationError

MAX_VERSION = 5


def _code(url: str) -> qrcode.QRCode:
    for level in (ERROR_CORRECT_Q, ERROR_CORRECT_M):
        code: qrcode.QRCode = qrcode.QRCode(error_correction=level, box_size=10, border=4)
        code.add_data(url.encode("utf-8"), optimize=0)
        code.make(fit=True)
        if code.version <= MAX_VERSION:
            return code
    raise ConfigurationError(f"The link needs a version {code.version} QR code; at most {MAX_VERSION} is allowed.")


@functools.lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """Return a PNG QR code of ``url`` (version ≤ 5, error correction Q or M)."""
    buffer = io.BytesIO()
    _code(url).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


@functools.lru_cache(maxsize=4096)
def qr_svg(url: str) -> bytes:
    """Return an SVG QR code of ``url`` (version ≤ 5, error correction Q or M)."""
    buffer = io.BytesIO()
    _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def qr_version(url: str) -> int:
    return int(_code(url).version)
