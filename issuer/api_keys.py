"""API keys: random, shown once, stored as a SHA-256 digest, bound to one provider and a set of scopes.

A key is looked up by its digest, so no comparison ever touches the secret itself, and a revoked key stops
working on the next request. Failed attempts are written to the audit log by the first characters an operator
sees in ``issuer api-keys list`` (never the key), and are rate-limited at the HTTP edge (``issuer.api.gate``).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from credentials.hashing import sha256_hex
from issuer import audit, repository
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from issuer.models import ApiKey, Provider

SCOPES = ("issue", "revoke", "manage")
KEY_PREFIX = "odz_"
PREFIX_LENGTH = 12
"""``odz_`` and eight random characters: enough to tell keys apart in a listing, far too few to guess the rest."""
_PREFIX_SHAPE = re.compile(r"odz_[A-Za-z0-9_-]{8}")


@dataclass(frozen=True)
class Principal:
    """Who is calling: one provider, with the scopes of the key used (or of the console's staff member)."""

    provider: Provider
    scopes: frozenset[str]
    key_prefix: str
    staff_actor: str | None = None
    """``staff:<id>`` when a staff member acts through the console: the audit log names them, not a key."""

    @property
    def provider_id(self) -> int:
        assert self.provider.id is not None
        return self.provider.id

    @property
    def actor(self) -> str:
        return self.staff_actor or f"api-key:{self.key_prefix}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise PermissionDenied(f"This API key lacks the '{scope}' scope.", scope=scope)


@dataclass(frozen=True)
class KeyInfo:
    """What ``issuer api-keys list`` shows of a key: never the key itself."""

    prefix: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None


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
                prefix=plaintext[:PREFIX_LENGTH],
                key_hash=sha256_hex(plaintext.encode("ascii")),
                scopes=" ".join(sorted(set(scopes))),
            )
        )
        audit.record(
            session,
            actor=actor,
            action="api_key.created",
            subject=plaintext[:PREFIX_LENGTH],
            provider_id=provider.id,
            details={"scopes": sorted(set(scopes))},
        )
    return plaintext


def list_api_keys(ctx: IssuerContext, slug: str) -> Sequence[KeyInfo]:
    with ctx.db.read() as session:
        provider = repository.provider_by_slug(session, slug)
        if provider is None or provider.id is None:
            raise NotFound(f"There is no provider '{slug}'.")
        keys = repository.api_keys(session, provider.id)
    return [KeyInfo(key.prefix, key.scopes, key.created_at, key.revoked_at) for key in keys]


def revoke_api_key(ctx: IssuerContext, slug: str, prefix: str, actor: str = "cli") -> bool:
    """Revoke the provider's key starting with ``prefix``; ``False`` if it was already revoked.

    Raises :class:`NotFound` when no key of the provider has that prefix, and :class:`InvalidInput` when
    several do (give more characters).
    """
    with ctx.db.write() as session:
        provider = repository.provider_by_slug(session, slug)
        if provider is None or provider.id is None:
            raise NotFound(f"There is no provider '{slug}'.")
        matches = [key for key in repository.api_keys(session, provider.id) if key.prefix.startswith(prefix)]
        if not matches or not prefix:
            raise NotFound(f"Provider '{slug}' has no API key starting with '{prefix}'.")
        if len(matches) > 1:
            raise InvalidInput(
                f"{len(matches)} keys start with '{prefix}'; give the whole prefix shown by `api-keys list`.",
                fields=[{"field": "prefix", "message": "ambiguous"}],
            )
        [key] = matches
        if key.revoked_at is not None:
            return False
        key.revoked_at = datetime.now(UTC)
        session.add(key)
        audit.record(session, actor=actor, action="api_key.revoked", subject=key.prefix, provider_id=provider.id)
    return True


@dataclass(frozen=True)
class FailedAuthentication:
    """Why an ``Authorization`` header did not authenticate, and the key it named, as far as that is known."""

    reason: str
    """``missing``, ``malformed``, ``unknown_key`` or ``revoked_key``."""
    prefix: str | None
    """The key's listing prefix when the header held something shaped like one of our keys."""
    provider_id: int | None = None
    """The provider of a revoked key."""

    def error(self) -> NotAuthenticated:
        if self.reason == "missing":
            return NotAuthenticated("Send an API key as 'Authorization: Bearer <key>'.")
        return NotAuthenticated("The API key is not valid.")


def authenticate(ctx: IssuerContext, authorization: str | None) -> Principal:
    """Resolve an ``Authorization: Bearer <key>`` header. Raises :class:`NotAuthenticated`."""
    result = check_authorization(ctx, authorization)
    if isinstance(result, FailedAuthentication):
        raise result.error()
    return result


def check_authorization(ctx: IssuerContext, authorization: str | None) -> Principal | FailedAuthentication:
    """The calling provider, or why the header does not authenticate."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if not authorization:
        return FailedAuthentication("missing", None)
    if scheme.lower() != "bearer" or not token:
        return FailedAuthentication("malformed", None)
    prefix = token[:PREFIX_LENGTH] if _PREFIX_SHAPE.fullmatch(token[:PREFIX_LENGTH]) else None
    key_hash = sha256_hex(token.encode("utf-8", "surrogatepass"))
    with ctx.db.read() as session:
        key = repository.api_key_by_hash(session, key_hash)
        provider = repository.provider_by_id(session, key.provider_id) if key else None
    if key is None or provider is None:
        return FailedAuthentication("unknown_key", prefix)
    if key.revoked_at is not None:
        return FailedAuthentication("revoked_key", key.prefix, key.provider_id)
    return Principal(provider=provider, scopes=frozenset(key.scopes.split()), key_prefix=key.prefix)


def record_failure(ctx: IssuerContext, failure: FailedAuthentication) -> None:
    """Write a failed authentication to the audit log: why, and the key's listing prefix; never the key."""
    with ctx.db.write() as session:
        audit.record(
            session,
            actor="anonymous",
            action="api_key.authentication_failed",
            subject=failure.prefix or "",
            provider_id=failure.provider_id,
            details={"reason": failure.reason},
        )
