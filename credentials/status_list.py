"""W3C Bitstring Status List v1.0: the bitstring codec and the entry/list vocabulary.

``encodedList`` is multibase ``u`` + unpadded base64url of the GZIP-compressed bitstring; index 0 is the
left-most (most significant) bit of the first byte. Decoding inflates with a hard output limit so that a
small "gzip bomb" cannot exhaust memory.
"""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Iterable

from credentials.encoding import b64url_encode
from credentials.errors import CredentialError

MIN_LENGTH = 131_072
"""Minimum number of entries (bits) a list must have, for herd privacy (16 KiB uncompressed)."""

MAX_DECODED_BYTES = 2 * 1024 * 1024
"""Largest bitstring a verifier inflates: 16 Mi entries, 128 times the minimum."""

LIST_TYPE = "BitstringStatusListCredential"
SUBJECT_TYPE = "BitstringStatusList"
ENTRY_TYPE = "BitstringStatusListEntry"


class StatusListError(CredentialError):
    """A status list or entry cannot be used; ``spec_code`` is the Bitstring Status List error name."""

    code = "status_unavailable"

    def __init__(self, message: str, spec_code: str = "STATUS_VERIFICATION_ERROR") -> None:
        super().__init__(message, spec_code=spec_code)
        self.spec_code = spec_code


def new_bitstring(length: int = MIN_LENGTH) -> bytearray:
    """Return an all-zero bitstring of ``length`` bits (a multiple of 8)."""
    if length % 8 or length < MIN_LENGTH:
        raise ValueError(f"length must be a multiple of 8 and at least {MIN_LENGTH}")
    return bytearray(length // 8)


def set_bits(bitstring: bytearray, indexes: Iterable[int]) -> bytearray:
    """Set the bit of each index (index 0 = left-most bit) and return ``bitstring``."""
    for index in indexes:
        bitstring[index // 8] |= 0x80 >> (index % 8)
    return bitstring


def bit(bitstring: bytes, index: int) -> bool:
    """Return the bit at ``index``. Raises :class:`StatusListError` when it is out of range."""
    if not 0 <= index < len(bitstring) * 8:
        raise StatusListError(
            f"The status index {index} is outside the list of {len(bitstring) * 8} entries.", "STATUS_RANGE_ERROR"
        )
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def encode(bitstring: bytes | bytearray) -> str:
    """Return the ``encodedList`` for ``bitstring`` (deterministic: the gzip header carries no timestamp)."""
    return "u" + b64url_encode(gzip.compress(bytes(bitstring), compresslevel=9, mtime=0))


def decode(encoded: object, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """Decode an ``encodedList``, inflating at most ``max_bytes``.

    Raises :class:`StatusListError` for a missing ``u`` prefix, bad base64url, bad gzip, or a list that inflates
    beyond the limit.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("The encodedList is not multibase base64url (it must start with 'u').")
    body = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise StatusListError("The encodedList is not valid base64url.") from exc
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip container only
    try:
        bitstring = inflater.decompress(compressed, max_bytes)
        if inflater.unconsumed_tail:
            raise StatusListError(f"The status list inflates beyond {max_bytes} bytes; refused.")
        if not inflater.eof:
            raise StatusListError("The encodedList is truncated.")
    except zlib.error as exc:
        raise StatusListError("The encodedList is not valid GZIP.") from exc
    return bitstring


def check_length(bitstring: bytes) -> None:
    """Raise ``STATUS_LIST_LENGTH_ERROR`` for a list shorter than :data:`MIN_LENGTH` entries."""
    if len(bitstring) * 8 < MIN_LENGTH:
        raise StatusListError(
            f"The status list has {len(bitstring) * 8} entries; at least {MIN_LENGTH} are required.",
            "STATUS_LIST_LENGTH_ERROR",
        )
