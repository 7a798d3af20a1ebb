"""A Verifiable Presentation: several credentials handed over in one document (say, a learner's competence profile).

Accepted: a VC Data Model 2.0 ``VerifiablePresentation`` as a JSON object, with an ``@context`` list that starts
with the VC 2.0 context, a ``type`` of ``VerifiablePresentation`` (alone or in a list), and a
``verifiableCredential`` that holds one credential or a list of them. Each credential is an
EnvelopedVerifiableCredential (``data:application/vc+jwt,…``). Links are not followed from a presentation.

The presentation carries no proof of its own (a learner holds no key), so it says nothing about who hands it
over. Each credential is judged on its own, by the same rules as when it is sent alone, and a summary counts the
verdicts and outcomes. A JSON object that is not an enveloped credential is judged invalid, alone. The whole
presentation is refused when it is not a presentation, holds no credential or anything but JSON objects, or holds
more than :data:`MAX_CREDENTIALS` (the body limit, 256 KiB, may come first: fifty credentials of 5 KB fill it).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from credentials.ob3 import VC_CONTEXT
from verifier.envelope import MalformedEnvelope, unwrap_envelope
from verifier.pipeline import Verifier
from verifier.report import Report

PRESENTATION_TYPE = "VerifiablePresentation"
MAX_CREDENTIALS = 50
"""More than a profile holds; each credential may cost the verifier a key and a status-list fetch."""
SCHEMA = {
    "type": "object",
    "description": "A VerifiablePresentation of EnvelopedVerifiableCredentials.",
    "properties": {
        "@context": {"type": "array", "minItems": 1, "items": {"const": VC_CONTEXT}},
        "type": {
            "oneOf": [
                {"const": PRESENTATION_TYPE},
                {"type": "array", "items": {"type": "string"}, "contains": {"const": PRESENTATION_TYPE}},
            ]
        },
        "verifiableCredential": {
            "description": "An EnvelopedVerifiableCredential, or a list of them; an entry that is not one is "
            "judged invalid, alone.",
            "oneOf": [
                {"type": "object"},
                {"type": "array", "minItems": 1, "maxItems": MAX_CREDENTIALS, "items": {"type": "object"}},
            ],
        },
    },
    "required": ["@context", "type", "verifiableCredential"],
}
"""The request schema (OpenAPI) of a presentation, as :func:`entries_of` reads it."""
UNSIGNED = (
    "The presentation carries no proof of its own: it shows these credentials, each verified on its own; "
    "it does not prove who hands them over."
)


class MalformedPresentation(ValueError):
    """Not a presentation this verifier reads (the message says what is wrong)."""


def entries_of(document: Any) -> list[Any]:
    """The presentation's credentials as they were sent. Raises :class:`MalformedPresentation`."""
    if not isinstance(document, Mapping):
        raise MalformedPresentation("A VerifiablePresentation is a JSON object.")
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        raise MalformedPresentation(f"The presentation's @context must be a list starting with {VC_CONTEXT}.")
    kind = document.get("type")
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    if PRESENTATION_TYPE not in kinds:
        raise MalformedPresentation(f"The presentation's type must include {PRESENTATION_TYPE}.")
    held = document.get("verifiableCredential")
    entries = held if isinstance(held, list) else [held] if held is not None else []
    if not entries:
        raise MalformedPresentation("The presentation holds no credential (verifiableCredential).")
    if not all(isinstance(entry, Mapping) for entry in entries):
        raise MalformedPresentation("Each verifiableCredential is a JSON object (an EnvelopedVerifiableCredential).")
    if len(entries) > MAX_CREDENTIALS:
        raise MalformedPresentation(f"A presentation may hold at most {MAX_CREDENTIALS} credentials.")
    return entries


async def verify_presentation(verifier: Verifier, document: Any) -> list[Report]:
    """A report for each credential of the presentation, in its order. Raises :class:`MalformedPresentation`."""
    entries = entries_of(document)
    return list(await asyncio.gather(*(_judge(verifier, entry) for entry in entries)))


async def _judge(verifier: Verifier, entry: Any) -> Report:
    try:
        token = unwrap_envelope(entry)
    except MalformedEnvelope as exc:
        report = Report()
        report.failed("format", "malformed", f"This entry is not an enveloped credential: {exc}")
        return report.skip_rest()
    return await verifier.verify(token)


def summary(reports: Sequence[Report]) -> dict[str, Any]:
    """How many credentials are valid, invalid or indeterminate, and how many of each outcome (revoked, expired…)."""
    verdicts = Counter(report.verdict for report in reports)
    return {
        "credentials": len(reports),
        "valid": verdicts["valid"],
        "invalid": verdicts["invalid"],
        "indeterminate": verdicts["indeterminate"],
        "outcomes": dict(Counter(report.outcome for report in reports)),
    }
