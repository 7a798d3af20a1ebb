"""Signing-key lifecycle per provider: pending → active → retired (still published) → compromised.

Only ``active`` and ``compromised`` are stored; pending and retired follow from time: a rotated key is published
at once and starts signing after the activation delay (by default the JWKS ``max-age``), so every verifier
has it before it meets a credential signed with it; the key it replaces then never signs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from issuer import audit, repository, status_lists
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound
from issuer.models import SigningKey
from issuer.providers import get_provider
from issuer.signing_keys import add_key, check_algorithm
from issuer.urls import last_segment


@dataclass(frozen=True)
class KeyState:
    kid: str
    alg: str
    status: str
    created_at: datetime
    activates_at: datetime
    compromised_at: datetime | None
    retired_at: datetime | None = None
    """When the next key started signing in its place (retired keys only)."""


def states(keys: list[SigningKey], now: datetime) -> list[KeyState]:
    """Each key with its lifecycle state as of ``now``."""
    activated = [key for key in keys if key.activates_at <= now]
    newest = max(activated, key=lambda key: (key.activates_at, key.id or 0), default=None)
    signing = newest if newest is not None and newest.status == "active" else None
    result = []
    for key in keys:
        if key.status == "compromised":
            status = "compromised"
        elif key.activates_at > now:
            status = "pending"
        elif signing is not None and key.kid == signing.kid:
            status = "active"
        else:
            status = "retired"
        retired_at = None
        if status == "retired":
            successors = [other.activates_at for other in activated if other.activates_at > key.activates_at]
            retired_at = min(successors, default=None)
        result.append(
            KeyState(key.kid, key.alg, status, key.created_at, key.activates_at, key.compromised_at, retired_at)
        )
    return result


def list_keys(ctx: IssuerContext, slug: str) -> list[KeyState]:
    provider = get_provider(ctx, slug)
    assert provider.id is not None
    with ctx.db.read() as session:
        keys = list(repository.signing_keys(session, provider.id))
    return states(keys, datetime.now(UTC))


def rotate(
    ctx: IssuerContext, slug: str, actor: str = "cli", delay: int | None = None, algorithm: str | None = None
) -> SigningKey:
    """Publish a new key now; it signs after ``delay`` seconds (default ``ISSUER_KEY_ACTIVATION_DELAY``).

    ``algorithm`` changes what the provider signs with from this key on (default: what it signs with now).
    """
    provider = get_provider(ctx, slug)
    seconds = ctx.settings.activation_delay if delay is None else delay
    if seconds < 0:
        raise InvalidInput("The activation delay cannot be negative.", fields=[{"field": "delay", "message": ">= 0"}])
    alg = check_algorithm(algorithm or provider.key_algorithm)
    with ctx.db.write(serialize_on=provider.id) as session:
        if alg != provider.key_algorithm:
            provider.key_algorithm = alg
            session.add(provider)
        activates_at = datetime.now(UTC) + timedelta(seconds=seconds)
        return add_key(ctx, session, provider, alg=alg, activates_at=activates_at, actor=actor, reason="rotation")


def compromise(ctx: IssuerContext, slug: str, kid: str, actor: str = "cli") -> SigningKey | None:
    """Mark ``kid`` compromised. If no other key can sign now, a new one is created that signs at once.

    Returns the replacement key, if one was created. Raises :class:`NotFound` for a kid of another provider.
    """
    provider = get_provider(ctx, slug)
    assert provider.id is not None
    now = datetime.now(UTC)
    kid = last_segment(kid)  # the key's URL or its thumbprint
    with ctx.db.write(serialize_on=provider.id) as session:
        key = next((key for key in repository.signing_keys(session, provider.id) if key.kid == kid), None)
        if key is None:
            raise NotFound(f"Provider '{slug}' has no key {kid}.")
        if key.status == "compromised":
            return None
        key.status = "compromised"
        key.compromised_at = now
        session.add(key)
        audit.record(session, actor=actor, action="key.compromised", subject=kid, provider_id=provider.id)
        session.flush()
        replacement = None
        if repository.active_signing_key(session, provider.id, now) is None:
            # Waiting for verifiers to cache a new key matters less than never signing with a known-bad one.
            replacement = add_key(
                ctx, session, provider, alg=provider.key_algorithm, activates_at=now, actor=actor, reason="compromise"
            )
            session.flush()
        # Lists signed with the bad key would be refused by verifiers: re-sign them all with a good one.
        _, signer = ctx.signer_for(session, provider, now)
        for listed in repository.status_lists(session, provider.id):
            assert listed.id is not None
            status_lists.refresh(ctx, session, provider, listed.id, signer, now)
    return replacement


def reencrypt_keys(ctx: IssuerContext, new_passphrase: bytes, actor: str = "cli") -> tuple[int, int]:
    """Rewrite every provider's key files in the current format under ``new_passphrase``.

    Returns (files rewritten, files in all). Raises :class:`ConfigurationError` for a file that cannot be read.
    """
    with ctx.db.read() as session:
        slugs = {provider.id: provider.slug for provider in repository.providers(session)}
        keys = list(repository.signing_keys(session))
    changed = sum(ctx.keys.reencrypt(slugs[key.provider_id], key.kid, new_passphrase) for key in keys)
    with ctx.db.write() as session:
        audit.record(
            session,
            actor=actor,
            action="keys.reencrypted",
            subject="key store",
            provider_id=None,
            details={"rewritten": changed, "total": len(keys)},
        )
    return changed, len(keys)
