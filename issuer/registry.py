"""The programme operator's side of the issuer registry: a signing key and the signed registry document.

The registry is a compact JWS (``typ: JWT``) whose payload lists accredited issuers::

    {"iss": "<registry id>", "iat": 1764230400, "name": "…",
     "issuers": [{"id": "<issuer id>", "name": "…", "status": "accredited|suspended|removed", "since": "2026-01-01"}]}

It can be served by any static host; verifiers check it against the registry's public JWK.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from credentials.jose import encode_compact
from credentials.keys import (
    PrivateKeySigner,
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    public_jwk,
)
from issuer.errors import InvalidInput

STATUSES = ("accredited", "suspended", "removed")


def create_key(path: Path, passphrase: bytes) -> dict[str, Any]:
    """Write a new encrypted Ed25519 registry key (mode 0600) and return its public JWK."""
    key = generate_private_key("EdDSA")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(encrypt_private_key(key, passphrase))
    return public_jwk(key, "EdDSA")


def check_document(document: Any) -> list[dict[str, str]]:
    """Name every problem of a registry source document (empty when it is fine)."""
    problems = []
    if not isinstance(document, dict) or not isinstance(document.get("issuers"), list):
        return [{"field": "issuers", "message": "must be a list"}]
    for row, entry in enumerate(document["issuers"]):
        where = f"issuers[{row}]"
        if not isinstance(entry, dict):
            problems.append({"field": where, "message": "must be an object"})
            continue
        if not isinstance(entry.get("id"), str) or not entry["id"].startswith(("https://", "http://", "did:")):
            problems.append({"field": f"{where}.id", "message": "must be an issuer id (URL or DID)"})
        if entry.get("status") not in STATUSES:
            problems.append({"field": f"{where}.status", "message": f"must be one of {', '.join(STATUSES)}"})
    return problems


def sign(document: dict[str, Any], key_pem: bytes, passphrase: bytes) -> str:
    """Return the signed registry. Raises :class:`InvalidInput` naming each bad entry."""
    problems = check_document(document)
    if problems:
        raise InvalidInput("The registry document is not valid.", fields=problems)
    private_key = decrypt_private_key(key_pem, passphrase)
    jwk = public_jwk(private_key, "EdDSA")
    payload = {**document, "iat": int(time.time())}
    return encode_compact(payload, PrivateKeySigner(jwk["kid"], "EdDSA", private_key))


def load_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path} cannot be read as JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput(f"{path} must hold a JSON object.")
    return document
