"""What a caller may hand in for verification: a compact VC-JWT, a link to one, or an EnvelopedVerifiableCredential.

An ``EnvelopedVerifiableCredential`` (VC Data Model 2.0, §4.13) wraps a secured credential in a ``data:`` URL:
``{"@context": [".../credentials/v2", ...], "type": "EnvelopedVerifiableCredential",
"id": "data:application/vc+jwt,<token>"}``. It is accepted as that JSON object, as its text, or as the ``id``
URL alone, wherever a token is, and unwrapped before anything else is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credentials import strict_json
from credentials.ob3 import VC_CONTEXT

ENVELOPE_TYPE = "EnvelopedVerifiableCredential"
DATA_URL_PREFIXES = ("data:application/vc+jwt,", "data:application/jwt,")


class MalformedEnvelope(ValueError):
    """An envelope that is not one (wrong @context, type or id)."""


def token_of_data_url(value: str) -> str:
    """The token a ``data:application/vc+jwt,`` (or ``data:application/jwt,``) URL carries."""
    for prefix in DATA_URL_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    raise MalformedEnvelope("The envelope's id is not a data:application/vc+jwt or data:application/jwt URL.")


def unwrap_envelope(envelope: Any) -> str:
    """The token inside an EnvelopedVerifiableCredential. Raises :class:`MalformedEnvelope` naming what is wrong."""
    if not isinstance(envelope, Mapping):
        raise MalformedEnvelope("An EnvelopedVerifiableCredential is a JSON object.")
    context = envelope.get("@context")
    contexts = [context] if isinstance(context, str) else context if isinstance(context, list) else None
    if not contexts or not isinstance(context, list) or contexts[0] != VC_CONTEXT:
        raise MalformedEnvelope(f"The envelope's @context must be a list starting with {VC_CONTEXT}.")
    kind = envelope.get("type")
    if kind != ENVELOPE_TYPE and not (isinstance(kind, list) and kind == [ENVELOPE_TYPE]):
        raise MalformedEnvelope(f"The envelope's type must be {ENVELOPE_TYPE}.")
    identifier = envelope.get("id")
    if not isinstance(identifier, str):
        raise MalformedEnvelope("The envelope has no id holding the credential.")
    return token_of_data_url(identifier)


def token_of(value: str) -> str:
    """A compact token from what was pasted or sent as text: the token itself, a data URL, or an envelope's JSON.

    Links are left to the caller. Raises :class:`MalformedEnvelope` for an envelope that is not one.
    """
    value = value.strip()
    if value.startswith("data:"):
        return token_of_data_url(value)
    if value.startswith("{"):
        try:
            document = strict_json.loads(value)
        except strict_json.JSONRejected as exc:
            raise MalformedEnvelope(f"The text is not an EnvelopedVerifiableCredential: {exc.reason}.") from exc
        return unwrap_envelope(document)
    return value
