"""The W3C VC-API issuing interface: sign a credential posted whole, as an EnvelopedVerifiableCredential.

``POST /credentials/issue`` takes ``{"credential": {...}, "options": {...}}`` (option keys this service does not
use are ignored). The credential's ``issuer`` must be the calling provider's issuer id. An Open Badges credential
must pass the Open Badges 3.0 schema; any other must be a well-formed VC 2.0 credential whose every term a
bundled JSON-LD context defines. The issuer adds its ``credentialStatus`` entry, beside any the credential
brings (an Open Badge may bring none: its schema allows one entry), and an ``id`` when there is none; it signs
the credential as ``typ: vc+jwt`` (VC-JOSE-COSE: the credential is the whole payload, no JWT claims beside it),
stores it like any other, and answers with the bare envelope.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from credentials.hashing import hmac_sha256
from credentials.jsonld import UnknownContext, undefined_terms
from credentials.ob3 import VC_CONTEXT, is_open_badge
from issuer.api_keys import Principal
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, RefusedCredential
from issuer.issuance import Draft, StoredCredential, sign_and_store

ENVELOPE_TYPE = "EnvelopedVerifiableCredential"


def envelope(token: str) -> dict[str, Any]:
    """The EnvelopedVerifiableCredential carrying a ``vc+jwt`` token."""
    return {"@context": [VC_CONTEXT], "id": f"data:application/vc+jwt,{token}", "type": ENVELOPE_TYPE}


def _refuse(message: str, field: str, problem: str) -> RefusedCredential:
    return RefusedCredential(message, fields=[{"field": field, "message": problem}])


def check_posted(ctx: IssuerContext, principal: Principal, credential: Mapping[str, Any]) -> None:
    """Raise :class:`RefusedCredential` (naming the field) unless the provider may sign ``credential`` as it is."""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    own = ctx.urls.issuer_id(principal.provider.slug)
    if issuer_id != own:
        raise _refuse(f"The credential's issuer must be this provider's issuer id, {own}.", "credential.issuer", own)
    if is_open_badge(credential):
        if "credentialStatus" in credential:
            raise _refuse(
                "An Open Badge has one status entry, and the issuer adds it (so that it can revoke the credential).",
                "credential.credentialStatus",
                "leave it out",
            )
        return  # held to the Open Badges schema when it is signed
    try:
        unknown = undefined_terms(credential)
    except UnknownContext as exc:
        raise _refuse(exc.message, "credential.@context", "a context this issuer cannot process") from exc
    except ValueError as exc:
        raise _refuse(f"The credential is not valid JSON-LD: {exc}.", "credential", "not JSON-LD") from exc
    if unknown:
        raise _refuse(
            f"No context defines these terms: {', '.join(unknown[:10])}.", "credential", "undefined JSON-LD terms"
        )


def issue_posted(ctx: IssuerContext, principal: Principal, posted: Mapping[str, Any]) -> StoredCredential:
    """Sign and store a posted credential. Raises :class:`RefusedCredential` or ``PermissionDenied``."""
    principal.require("issue")
    check_posted(ctx, principal, posted)
    provider = principal.provider
    credential_id = str(uuid.uuid4())
    document = dict(posted)
    document.setdefault("id", ctx.urls.credential(credential_id))
    # No learner e-mail to guard duplicates by: a key of its own, which never matches another credential's.
    guard = hmac_sha256(ctx.recipient_key, credential_id.encode()).hex()
    draft = Draft(credential_id, document, None, guard)
    now = datetime.now(UTC)
    try:
        with ctx.db.write(serialize_on=principal.provider_id) as session:
            [stored] = sign_and_store(ctx, session, provider, [draft], now, principal.actor, profile="vc-jose-cose")
    except InvalidInput as exc:  # the schema or the data model refused it: VC-API's "invalid input"
        fields = [{**field, "field": f"credential.{field['field']}"} for field in exc.fields]
        raise RefusedCredential(exc.message, fields=fields or [{"field": "credential", "message": "invalid"}]) from exc
    return stored
