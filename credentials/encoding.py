"""Unpadded, canonical base64url (RFC 7515 §2), the only encoding a compact JWS may use."""

from __future__ import annotations

import base64
import binascii
import re

from credentials.errors import MalformedToken

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Return unpadded base64url text for ``data``."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, what: str) -> bytes:
    """Decode strict, unpadded, canonical base64url.

    Raises :class:`MalformedToken` for padding, characters outside the alphabet, an impossible length,
    or non-zero trailing bits (which would let two different strings carry the same bytes).
    """
    if not _SEGMENT.fullmatch(segment):
        raise MalformedToken(f"The {what} is not unpadded base64url.", segment=what)
    if len(segment) % 4 == 1:
        raise MalformedToken(f"The {what} has an impossible base64url length.", segment=what)
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedToken(f"The {what} is not valid base64url.", segment=what) from exc
    if b64url_encode(data) != segment:
        raise MalformedToken(f"The {what} is not canonical base64url.", segment=what)
    return data
