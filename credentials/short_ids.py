"""Short credential references for QR codes: a credential's UUID as 22 base64url characters.

A QR code that holds ``https://odznaka.lublin.eu/q/<22 characters>`` (50 bytes) fits a version 4 code at error
correction M, sturdy enough for a phone photo of a printed CV; the full link of the same credential,
``…/credentials/<36-character UUID>``, follows from it without asking anyone.
"""

from __future__ import annotations

import base64
import re
import uuid

SHORT_PATH = "/q/"
_COMPACT = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")  # 128 bits: the last character carries 2 of them


def compact(credential_id: str) -> str:
    """``3f2a…`` (a UUID) as its 16 bytes in unpadded base64url."""
    return base64.urlsafe_b64encode(uuid.UUID(credential_id).bytes).rstrip(b"=").decode("ascii")


def expand(reference: str) -> str | None:
    """The UUID a compact reference stands for, or ``None`` when it is not one."""
    if not _COMPACT.fullmatch(reference):
        return None
    return str(uuid.UUID(bytes=base64.urlsafe_b64decode(reference + "==")))
