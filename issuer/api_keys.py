"""API keys: random, shown once, stored as a SHA-256 digest, bound to one provider and a set of scopes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from credentials.hashing import sha256_hex
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from issuer.models import ApiKey, Provider

SCOPES = ("issue", "revoke", "manage")
KEY_PREFIX = "odz_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: one provider, with the scopes of the key used."""

    provider: Provider
    scopes: frozenset[str]
    key_prefix: str

    @property
    def provider_id(self) -> int:
        assert self.provider.id is not None
        return self.provider.id

    @property
    def actor(self) -> str:
        return f"api-key:{self.key_prefix}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"This API key lacks the '{scope}' scope.", scope=scope)


def create_api_key(ctx: IssuerContext, slug: str, scopes: list[str], actor: str = "cli") -> str:
    """Create a key for provider ``slug`` and return it; only its digest is stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(
            "Unknown or missing scopes.",
            fields=[{"field": "scope", "message": f"choose from {', '.join(SCOPES)}"}],
        )
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    with ctx.db.write() as session:
        provider = repository.provider_by_slug(session, slug)
        if provider is None or provider.id is None:
            raise NotFound(f"There is no provider '{slug}'.")
        session.add(
            ApiKey(
                provider_id=provider.id,
                prefix=plaintext[:12],
                key_hash=sha256_hex(plaintext.encode("ascii")),
                scopes=" ".join(sorted(set(scopes))),
            )
        )
        audit.record(
            session,
            actor=actor,
            action="api_key.created",
            subject=plaintext[:12],
            provider_id=provider.id,
            details={"scopes": sorted(set(scopes))},
        )
    return plaintext


def authenticate(ctx: IssuerContext, authorization: str | None) -> Principal:
    """Resolve an ``Authorization: Bearer <key>`` header. Raises :class:`NotAuthenticated`."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    # Looking the key up by its digest means no comparison ever touches the secret itself.
    key_hash = sha256_hex(token.encode("utf-8", "surrogatepass"))
    with ctx.db.read() as session:
        key = repository.api_key_by_hash(session, key_hash)
        provider = repository.provider_by_id(session, key.provider_id) if key else None
    if key is None or key.revoked_at is not None or provider is None:
        raise NotAuthenticated("The API key is not valid.")
    return Principal(provider=provider, scopes=frozenset(key.scopes.split()), key_prefix=key.prefix)
