"""The W3C Verifiable Credentials Data Model 2.0 rules a credential that is not an Open Badge is held to.

Open Badges credentials are checked against their own JSON Schema (:mod:`credentials.schema`); any other
credential must at least be a well-formed VC 2.0 document: the base context first, the ``VerifiableCredential``
type, an issuer that is a URL (or an object with one as ``id``), a subject, and readable validity dates in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from credentials.errors import SchemaInvalid
from credentials.ob3 import VC_CONTEXT, parse_datetime

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def _types(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else value if isinstance(value, list) else []


def data_model_problems(document: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` breaks the VC 2.0 data model, as ``field: message`` (empty when it does not)."""
    problems = []
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        problems.append(f"@context: must be a list starting with {VC_CONTEXT}")
    elif not all(isinstance(item, str | dict) for item in context):
        problems.append("@context: every entry must be a URL or an object")
    types = _types(document.get("type"))
    if "VerifiableCredential" not in types or not all(isinstance(item, str) for item in types):
        problems.append("type: must include VerifiableCredential")
    if "id" in document and not _is_url(document["id"]):
        problems.append("id: must be a URL")
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not (isinstance(issuer_id, str) and _URL.fullmatch(issuer_id)):
        problems.append("issuer: must be a URL, or an object whose id is one")
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects or not all(isinstance(item, Mapping) and item for item in subjects):
        problems.append("credentialSubject: must be an object (or a list of objects) with at least one claim")
    elif not all(_is_url(item["id"]) for item in subjects if isinstance(item, Mapping) and "id" in item):
        problems.append("credentialSubject: an id must be a URL")
    dates = {}
    for name in ("validFrom", "validUntil"):
        if name in document:
            try:
                dates[name] = parse_datetime(document[name])
            except ValueError:
                problems.append(f"{name}: must be a date-time with a time zone")
    if len(dates) == 2 and dates["validUntil"] < dates["validFrom"]:
        problems.append("validUntil: must not be before validFrom")
    for name in ("credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService"):
        if name in document:
            entries = document[name] if isinstance(document[name], list) else [document[name]]
            if not all(isinstance(entry, Mapping) and _types(entry.get("type")) for entry in entries):
                problems.append(f"{name}: every entry must be an object with a type")
            elif name == "credentialSchema" and not all(_is_url(entry.get("id")) for entry in entries):
                problems.append("credentialSchema: every entry must have a URL as id")
            elif not all(_is_url(entry["id"]) for entry in entries if "id" in entry):
                problems.append(f"{name}: an id must be a URL")
    if "relatedResource" in document:
        problems.extend(_related_resource_problems(document["relatedResource"]))
    return problems


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def _related_resource_problems(value: Any) -> list[str]:
    """VC 2.0 §5.3: a list of objects, each with a unique URL ``id`` and a ``digestSRI`` or ``digestMultibase``."""
    entries = value if isinstance(value, list) else [value]
    if not all(isinstance(entry, Mapping) for entry in entries):
        return ["relatedResource: every entry must be an object"]
    ids = [entry.get("id") for entry in entries]
    if not all(_is_url(identifier) for identifier in ids):
        return ["relatedResource: every entry must have a URL as id"]
    if len(set(ids)) != len(ids):
        return ["relatedResource: each id may appear only once"]
    if not all(isinstance(entry.get("digestSRI") or entry.get("digestMultibase"), str) for entry in entries):
        return ["relatedResource: every entry must have a digestSRI or digestMultibase"]
    return []


def check_data_model(document: Mapping[str, Any]) -> None:
    """Raise :class:`SchemaInvalid` unless ``document`` is a well-formed VC 2.0 credential."""
    problems = data_model_problems(document)
    if problems:
        raise SchemaInvalid("The credential does not follow the VC Data Model 2.0.", errors=problems)
