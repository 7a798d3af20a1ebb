"""Unpadded, canonical base64url (RFC 7515 §2), the only encoding a compact JWS may use."""

from __future__ import annotations

import base64
import binascii

from credentials.errors import MalformedToken

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_VALUE = {char: value for value, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}


def b64url_encode(data: bytes) -> str:
    """Return unpadded base64url text for ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, what: str) -> bytes:
    """Decode strict, unpadded, canonical base64url.

    Raises :class:`MalformedToken` for padding, characters outside the alphabet, an impossible length,
    or non-zero trailing bits (which would let two different strings carry the same bytes).
    """
    remainder = len(segment) % 4
    if remainder == 1:
        raise MalformedToken(f"The {what} has an impossible base64url length.", segment=what)
    if "+" in segment or "/" in segment or "=" in segment or not segment.isascii():
        raise MalformedToken(f"The {what} is not unpadded base64url.", segment=what)
    try:
        # Strict mode refuses anything outside the alphabet (whitespace included) instead of skipping it.
        data = binascii.a2b_base64(
            segment.encode("ascii").translate(_TO_STANDARD) + _PADDING[remainder], strict_mode=True
        )
    except binascii.Error as exc:
        raise MalformedToken(f"The {what} is not unpadded base64url.", segment=what) from exc
    # Canonical form: the bits the last character carries beyond the data must be zero, or two different
    # strings would decode to the same bytes.
    if remainder and _VALUE[segment[-1]] & (0x0F if remainder == 2 else 0x03):
        raise MalformedToken(f"The {what} is not canonical base64url.", segment=what)
    return data
