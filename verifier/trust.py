"""Which issuers count, and their keys: fetched from each issuer's JWKS, cached, refreshed on an unknown ``kid``.

A ``kid`` is only ever a lookup key among keys already fetched from a trusted issuer; it is never followed
as a URL or path. A key counts for an issuer only if its JWK names that issuer in ``iss`` — or, for a JWK
without ``iss``, if no other trusted issuer shares the host (so one provider's key can never vouch for another).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from credentials.errors import InvalidKey
from credentials.keys import VerificationKey
from verifier.registry import Registry, RegistryUnavailable
from verifier.remote import FetchError, fetch, origin

JWKS_MAX_BYTES = 256 * 1024
MAX_STALE_SECONDS = 24 * 3600
"""How long past its expiry a key set may still be used while the issuer cannot be reached."""


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched and no fresh copy is cached."""


@dataclass
class _CachedKeys:
    keys: dict[str, VerificationKey]
    fetched_at: float
    expires_at: float


@dataclass(frozen=True)
class Decision:
    """Whether an issuer counts: ``trusted`` is ``None`` when it cannot be told (registry unreachable)."""

    trusted: bool | None
    name: str | None = None
    reason: str = ""


@dataclass
class TrustList:
    """Trusted issuers: the local list (``VERIFIER_TRUSTED_ISSUERS``) and, optionally, the programme registry.

    The registry has the last word on the issuers it lists: one it marks suspended or removed is not trusted,
    even if the local list names it.
    """

    issuers: frozenset[str] = frozenset()
    registry: Registry | None = None

    @classmethod
    def of(cls, issuer_ids: Iterable[str], registry: Registry | None = None) -> TrustList:
        return cls(frozenset(issuer_id.rstrip("/") for issuer_id in issuer_ids), registry)

    async def decide(self, issuer_id: str) -> Decision:
        local = issuer_id in self.issuers
        if self.registry is None:
            return Decision(local, reason="" if local else "it is not on this verifier's trust list")
        try:
            snapshot = await self.registry.snapshot()
        except RegistryUnavailable as exc:
            if local:
                return Decision(True)
            return Decision(None, reason=str(exc))
        entry = snapshot.entries.get(issuer_id)
        if entry is None:
            return Decision(local, reason="" if local else "it is not in the programme's registry of issuers")
        label = f"{entry.name or issuer_id} ({snapshot.name})" if snapshot.name else entry.name
        if entry.status != "accredited":
            since = f" since {entry.since}" if entry.since else ""
            return Decision(False, label, f"the programme's registry lists it as {entry.status}{since}")
        return Decision(True, label)

    async def origins(self) -> set[str]:
        """Sites of trusted issuers: the only hosts the verifier ever contacts for credentials."""
        ids = set(self.issuers)
        if self.registry is not None:
            try:
                snapshot = await self.registry.snapshot()
                ids |= {entry.id for entry in snapshot.entries.values() if entry.status == "accredited"}
            except RegistryUnavailable:
                pass
        return {found for issuer_id in ids if (found := origin(issuer_id))}

    def shares_origin(self, issuer_id: str) -> bool:
        """Whether another known issuer lives on the same host (then keys must name their issuer in ``iss``)."""
        known = set(self.issuers)
        snapshot = self.registry.last_known if self.registry else None
        if snapshot is not None:
            known |= set(snapshot.entries)
        own = origin(issuer_id)
        return any(other != issuer_id and origin(other) == own for other in known)


class KeyResolver:
    """Keys of trusted issuers, cached for at most ``ttl`` seconds (less if the issuer says so)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        trust: TrustList,
        *,
        ttl: int,
        refresh_interval: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._trust = trust
        self._ttl = ttl
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._cache: dict[str, _CachedKeys] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def jwks_url(self, issuer_id: str) -> str | None:
        found = origin(issuer_id)
        return f"{found}/.well-known/jwks.json" if found else None

    async def keys_for(self, issuer_id: str, kid: str | None) -> dict[str, VerificationKey]:
        """Return the issuer's keys by ``kid``, fetching when the cache is cold, stale, or lacks ``kid``.

        Raises :class:`KeysUnavailable` when no usable copy can be had.
        """
        cached = self._cache.get(issuer_id)
        if self._usable(cached, kid):
            assert cached is not None
            return cached.keys
        lock = self._locks.setdefault(issuer_id, asyncio.Lock())
        async with lock:
            cached = self._cache.get(issuer_id)
            if self._usable(cached, kid):  # another request refreshed while this one waited
                assert cached is not None
                return cached.keys
            now = self._clock()
            try:
                keys, max_age = await self._fetch(issuer_id)
            except KeysUnavailable:
                if cached is not None and now < cached.expires_at:
                    return cached.keys  # a refresh for an unknown kid failed; the fresh copy still stands
                raise
            ttl = self._ttl if max_age is None else min(self._ttl, max_age)
            self._cache[issuer_id] = _CachedKeys(keys, now, now + ttl)
            return keys

    def stale_keys(self, issuer_id: str) -> dict[str, VerificationKey] | None:
        """The last key set fetched, if it expired less than a day ago; for when the issuer is unreachable.

        A verdict built on it can never be *valid*: the caller must report the status as unknown.
        """
        cached = self._cache.get(issuer_id)
        if cached is None or self._clock() > cached.expires_at + MAX_STALE_SECONDS:
            return None
        return cached.keys

    def _usable(self, cached: _CachedKeys | None, kid: str | None) -> bool:
        """Fresh, and either holding ``kid`` or refreshed too recently to ask the issuer again."""
        now = self._clock()
        if cached is None or now >= cached.expires_at:
            return False
        return kid is None or kid in cached.keys or now - cached.fetched_at < self._refresh_interval

    async def _fetch(self, issuer_id: str) -> tuple[dict[str, VerificationKey], int | None]:
        url = self.jwks_url(issuer_id)
        if url is None:
            raise KeysUnavailable(f"The issuer id {issuer_id} is not an http(s) URL; its keys cannot be found.")
        try:
            fetched = await fetch(self._client, url, "application/jwk-set+json, application/json", JWKS_MAX_BYTES)
            document = json.loads(fetched.body)
        except FetchError as exc:
            raise KeysUnavailable(exc.message) from exc
        except ValueError as exc:
            raise KeysUnavailable(f"{url} is not JSON.") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise KeysUnavailable(f"{url} is not a JWK Set.")
        shared_host = self._trust.shares_origin(issuer_id)
        keys: dict[str, VerificationKey] = {}
        for jwk in document["keys"]:
            try:
                key = VerificationKey.from_jwk(jwk)
            except InvalidKey:
                continue  # an unusable key is simply not a key this verifier trusts
            if key.issuer is None and shared_host:
                continue
            if key.issuer is not None and key.issuer != issuer_id:
                continue
            if key.kid in keys:  # a kid published twice is ambiguous: trust neither copy
                keys[key.kid] = None  # type: ignore[assignment]
                continue
            keys[key.kid] = key
        return {kid: key for kid, key in keys.items() if key is not None}, fetched.max_age
