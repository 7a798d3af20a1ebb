"""JSON-LD, offline: the bundled contexts, and finding a credential's undefined terms (with pyld).

A term no context defines is dropped by JSON-LD expansion without a word, and an undefined ``type`` value becomes
a relative IRI: another processor may then read the credential differently. To see them, the document is expanded
with the W3C "undefined terms" context appended, which maps every such term into its own namespace; whatever
lands there is undefined. Only the contexts in :data:`CONTEXT_FILES` are ever loaded, from this package: a
document naming any other context is refused, never fetched.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pyld import jsonld

from credentials.errors import CredentialError

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
UNDEFINED_TERMS_CONTEXT = "https://www.w3.org/ns/credentials/undefined-terms/v2"
UNDEFINED_TERM = "https://www.w3.org/ns/credentials/undefined-term#"

CONTEXT_FILES = {
    VC_CONTEXT: "credentials-v2.jsonld",
    UNDEFINED_TERMS_CONTEXT: "undefined-terms-v2.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-extensions.json",
}
"""Every context this package can process, by URL."""

JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat")
"""The registered claims OB 3.0 puts beside the credential in a VC-JWT payload: outside JSON-LD."""


class UnknownContext(CredentialError):
    """The document names a context that is not bundled here, so its terms cannot be checked."""

    code = "unknown_context"


@functools.cache
def _context(url: str) -> dict[str, Any]:
    text = resources.files("credentials").joinpath("contexts", CONTEXT_FILES[url]).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def document_loader(url: str, _options: Any = None) -> dict[str, Any]:
    """pyld's document loader over the bundled contexts. Raises :class:`UnknownContext` for anything else."""
    if url not in CONTEXT_FILES:
        raise UnknownContext(f"The context {url[:200]} is not one this service can process.", context=url[:200])
    return {"contextUrl": None, "documentUrl": url, "document": _context(url)}


def _contexts_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def undefined_terms(document: Mapping[str, Any]) -> list[str]:
    """The terms of ``document`` (its properties and ``type`` values) that no context defines, sorted.

    The JWT registered claims beside a VC-JWT's credential are left out. Raises :class:`UnknownContext` when the
    document names a context that is not bundled, and ``ValueError`` when it is not JSON-LD at all.
    """
    body = {name: value for name, value in document.items() if name not in JWT_CLAIMS}
    if "@context" not in body:
        raise ValueError("the document has no @context")
    for url in _named_contexts(body):
        document_loader(url)  # an unknown context is refused here, by name, before pyld would wrap the error
    body["@context"] = [*_contexts_of(body["@context"]), UNDEFINED_TERMS_CONTEXT]
    try:
        expanded = jsonld.expand(body, {"documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        raise ValueError(f"the document is not valid JSON-LD: {str(exc)[:200]}") from exc
    found: set[str] = set()
    _collect(expanded, found)
    return sorted(found)


def _named_contexts(node: Any) -> set[str]:
    """Every context URL a document names, at any depth."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key == "@context":
                    found.update(entry for entry in _contexts_of(value) if isinstance(entry, str))
                    stack.extend(entry for entry in _contexts_of(value) if isinstance(entry, dict))
                else:
                    stack.append(value)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key.startswith(UNDEFINED_TERM):
            found.add(key.removeprefix(UNDEFINED_TERM))
        if key == "@type":
            for type_iri in _contexts_of(value):
                if isinstance(type_iri, str) and type_iri.startswith(UNDEFINED_TERM):
                    found.add(type_iri.removeprefix(UNDEFINED_TERM))
        _collect(value, found)
