"""Providers' signing keys: creating one (with its audit entry), and publishing it.

A key's id in the database and in its file name is its RFC 7638 thumbprint. What the world sees is its URL,
``{issuer id}/keys/{thumbprint}`` (OB 3.0 §8.2: the ``kid`` is "a URI that can be dereferenced to an object of
type JWK"): that URL is the ``kid`` in the header of everything the key signs, in the JWKS and at the URL
itself, where the one public JWK is served. Credentials signed before keys had URLs carry the bare thumbprint;
verifiers find their key by it too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from credentials.keys import SIGNING_ALGORITHMS
from issuer import audit
from issuer.context import IssuerContext
from issuer.errors import InvalidInput
from issuer.models import Provider, SigningKey


def check_algorithm(alg: str, field: str = "algorithm") -> str:
    """Return ``alg`` if providers may sign with it. Raises :class:`InvalidInput` naming the choices."""
    if alg not in SIGNING_ALGORITHMS:
        raise InvalidInput(
            f"'{alg[:20]}' is not a signing algorithm here.",
            fields=[{"field": field, "message": f"choose from {', '.join(SIGNING_ALGORITHMS)}"}],
        )
    return alg


def add_key(
    ctx: IssuerContext,
    session: Session,
    provider: Provider,
    *,
    alg: str,
    activates_at: datetime,
    actor: str,
    reason: str,
) -> SigningKey:
    """Generate a key for ``provider`` (file written, row added, audit entry recorded) in ``session``."""
    assert provider.id is not None
    jwk = ctx.keys.create(provider.slug, check_algorithm(alg), ctx.urls.issuer_id(provider.slug))
    key = SigningKey(provider_id=provider.id, kid=jwk["kid"], alg=jwk["alg"], public_jwk=jwk, activates_at=activates_at)
    session.add(key)
    audit.record(
        session,
        actor=actor,
        action="key.created",
        subject=key.kid,
        provider_id=provider.id,
        details={"alg": key.alg, "activates_at": activates_at.isoformat(), "reason": reason},
    )
    return key


def published_jwk(ctx: IssuerContext, slug: str, key: SigningKey) -> dict[str, Any]:
    """The JWK as served: ``kid`` is the key's URL; a compromised key stays published, marked with OpenID
    Federation's ``revoked`` member."""
    jwk = {**key.public_jwk, "kid": ctx.urls.key(slug, key.kid)}
    if key.compromised_at is not None:
        jwk["revoked"] = {"revoked_at": int(key.compromised_at.timestamp()), "reason": "compromised"}
    return jwk
