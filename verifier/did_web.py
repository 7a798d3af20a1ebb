"""did:web issuers: where their DID document lives, and the keys it lists for signing credentials.

``did:web:example.com`` is resolved at ``https://example.com/.well-known/did.json`` and
``did:web:example.com:issuers:acme`` at ``https://example.com/issuers/acme/did.json`` (a port is written
``%3A``). Only verification methods named in ``assertionMethod`` count, each under its DID URL, its fragment and
the ``kid`` of its JWK; the document must say it is the issuer's own (``id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from credentials.errors import InvalidKey
from credentials.keys import VerificationKey

PREFIX = "did:web:"


def document_url(did: str) -> str | None:
    """The https URL of a did:web DID's document, or ``None`` for anything that is not a did:web DID."""
    if not did.startswith(PREFIX) or "#" in did or "?" in did or "/" in did:
        return None
    parts = did[len(PREFIX) :].split(":")
    host = unquote(parts[0])
    if not host or any(char in host for char in "/@\\ ") or not all(parts):
        return None
    path = "/".join(unquote(part) for part in parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def site(did: str) -> str | None:
    """``https://host[:port]`` of a did:web DID: where its credentials and status lists may live."""
    url = document_url(did)
    return url[: url.index("/", len("https://"))] if url else None


def keys_of(did: str, document: Any) -> list[tuple[list[str], VerificationKey]]:
    """The assertion keys of a DID document, each with the names it may be looked up by.

    Raises ``ValueError`` when the document is not this DID's document.
    """
    if not isinstance(document, Mapping) or document.get("id") != did:
        raise ValueError("the DID document is not the issuer's own")
    methods = document.get("verificationMethod")
    methods = methods if isinstance(methods, list) else []
    assertion = document.get("assertionMethod")
    allowed = (
        {_absolute(did, ref) for ref in assertion if isinstance(ref, str)} if isinstance(assertion, list) else set()
    )
    embedded = [ref for ref in assertion if isinstance(ref, Mapping)] if isinstance(assertion, list) else []
    found = []
    for method in [*methods, *embedded]:
        if not isinstance(method, Mapping) or not isinstance(method.get("id"), str):
            continue
        method_id = _absolute(did, method["id"])
        if method not in embedded and method_id not in allowed:
            continue  # not a key for signing credentials
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping):
            continue
        try:
            key = VerificationKey.from_jwk(jwk, kid=method_id, issuer=did)
        except InvalidKey:
            continue
        names = [method_id, "#" + method_id.split("#", 1)[1]] if "#" in method_id else [method_id]
        if isinstance(jwk.get("kid"), str):
            names.append(jwk["kid"])
        found.append((names, key))
    return found


def _absolute(did: str, reference: str) -> str:
    return did + reference if reference.startswith("#") else reference
