"""Which issuers count, and their keys: fetched from each issuer's JWKS, cached, refreshed on an unknown ``kid``.

A ``kid`` is only ever a lookup key among keys already fetched from a trusted issuer; it is never followed
as a URL or path. A key counts for an issuer only if its JWK names that issuer in ``iss`` — or, for a JWK
without ``iss``, if no other trusted issuer shares the host (so one provider's key can never vouch for another).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from credentials.errors import InvalidKey
from credentials.keys import VerificationKey
from verifier.refresh import Entry, RefreshingCache, Unavailable
from verifier.registry import Registry, RegistryUnavailable
from verifier.remote import Fetcher, FetchError, origin

JWKS_MAX_BYTES = 256 * 1024
MAX_STALE_SECONDS = 24 * 3600
"""How long past its expiry a key set may still be used while the issuer cannot be reached."""
FAILURE_TTL = 30.0
"""Seconds a failed fetch is remembered: meanwhile requests are answered from the cache at once."""
STALE_WAIT = 1.0
"""Seconds a request waits for a refresh when an expired copy could answer it instead."""


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched and no fresh copy is cached."""


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

    async def all_issuer_ids(self) -> set[str]:
        """Trusted issuers: the local list and the registry's accredited ones (when it can be read)."""
        ids = set(self.issuers)
        if self.registry is not None:
            try:
                snapshot = await self.registry.snapshot()
                ids |= {entry.id for entry in snapshot.entries.values() if entry.status == "accredited"}
            except RegistryUnavailable:
                pass
        return ids

    async def origins(self) -> set[str]:
        """Sites of trusted issuers: the only hosts the verifier ever contacts for credentials."""
        return {found for issuer_id in await self.all_issuer_ids() if (found := origin(issuer_id))}

    def shares_origin(self, issuer_id: str) -> bool:
        """Whether another known issuer lives on the same host (then keys must name their issuer in ``iss``)."""
        known = set(self.issuers)
        snapshot = self.registry.last_known if self.registry else None
        if snapshot is not None:
            known |= set(snapshot.entries)
        own = origin(issuer_id)
        return any(other != issuer_id and origin(other) == own for other in known)


@dataclass
class KeySet:
    """One fetched JWKS: every usable key in it, and (worked out once per issuer) which of them count for whom."""

    keys: tuple[VerificationKey, ...]
    _by_issuer: dict[str, dict[str, VerificationKey]] = field(default_factory=dict)

    def for_issuer(self, issuer_id: str, shared_host: Callable[[], bool]) -> dict[str, VerificationKey]:
        found = self._by_issuer.get(issuer_id)
        if found is None:
            found = self._by_issuer[issuer_id] = _keys_of(self.keys, issuer_id, shared_host())
        return found


def _keys_of(keys: Iterable[VerificationKey], issuer_id: str, shared_host: bool) -> dict[str, VerificationKey]:
    """The issuer's keys by ``kid``, and by RFC 7638 thumbprint too (a credential may name its key either way:
    issuers that publish keys at URLs signed earlier credentials with the bare thumbprint)."""
    chosen: dict[str, VerificationKey | None] = {}
    for key in keys:
        if key.issuer is None and shared_host:
            continue
        if key.issuer is not None and key.issuer != issuer_id:
            continue
        # A kid published twice is ambiguous: trust neither copy.
        chosen[key.kid] = None if key.kid in chosen else key
    found = {kid: key for kid, key in chosen.items() if key is not None}
    by_thumbprint: dict[str, VerificationKey | None] = {}
    for published in found.values():
        by_thumbprint[published.thumbprint] = None if published.thumbprint in by_thumbprint else published
    for print_, alias in by_thumbprint.items():
        if alias is not None and print_ not in found:
            found[print_] = alias
    return found


@dataclass(frozen=True)
class IssuerKeys:
    keys: dict[str, VerificationKey]
    stale: bool
    """The issuer's site could not be reached and these are its last known keys (expired, less than a day ago)."""


class KeyResolver:
    """Keys of trusted issuers, fetched from each issuer's JWKS (one fetch per URL at a time), cached for at most
    ``ttl`` seconds (less if the issuer says so), fetched again on an unknown ``kid`` at most every
    ``refresh_interval`` seconds, and served stale for up to a day while the issuer cannot be reached."""

    def __init__(
        self,
        fetcher: Fetcher,
        trust: TrustList,
        *,
        ttl: int,
        refresh_interval: int,
        failure_ttl: float = FAILURE_TTL,
        stale_wait: float = STALE_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetcher = fetcher
        self._trust = trust
        self._ttl = ttl
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._cache: RefreshingCache[KeySet] = RefreshingCache(
            self._load,
            deadline=fetcher.deadline,
            failure_ttl=failure_ttl,
            stale_wait=stale_wait,
            max_stale=MAX_STALE_SECONDS,
            clock=clock,
        )

    def jwks_url(self, issuer_id: str) -> str | None:
        found = origin(issuer_id)
        return f"{found}/.well-known/jwks.json" if found else None

    async def lookup(self, issuer_id: str, kid: str | None) -> IssuerKeys:
        """The issuer's keys by ``kid``: fetched when the cache is cold, expired, or lacks ``kid``.

        Raises :class:`KeysUnavailable` when no usable copy, fresh or stale, can be had.
        """
        url = self.jwks_url(issuer_id)
        if url is None:
            raise KeysUnavailable(f"The issuer id {issuer_id[:200]} is not an http(s) URL; its keys cannot be found.")

        def shared() -> bool:
            return self._trust.shares_origin(issuer_id)

        def holds_kid(entry: Entry[KeySet]) -> bool:
            if kid is None or kid in entry.value.for_issuer(issuer_id, shared):
                return True
            return self._clock() - entry.fetched_at < self._refresh_interval

        try:
            answer = await self._cache.get(url, holds_kid)
        except Unavailable as exc:
            raise KeysUnavailable(exc.reason) from exc
        return IssuerKeys(answer.value.for_issuer(issuer_id, shared), answer.stale)

    async def keys_for(self, issuer_id: str, kid: str | None) -> dict[str, VerificationKey]:
        """Like :meth:`lookup`, but only a fresh copy will do. Raises :class:`KeysUnavailable`."""
        found = await self.lookup(issuer_id, kid)
        if found.stale:
            raise KeysUnavailable("The issuer's keys could not be refreshed.")
        return found.keys

    async def _load(self, url: str, _previous: Entry[KeySet] | None) -> tuple[KeySet, float]:
        try:
            fetched = await self._fetcher.get(url, "application/jwk-set+json, application/json", JWKS_MAX_BYTES)
            document = json.loads(fetched.body)
        except FetchError as exc:
            raise Unavailable(exc.message) from exc
        except ValueError as exc:
            raise Unavailable("The issuer's key set is not JSON.") from exc
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise Unavailable("The issuer's key set is not a JWK Set.")
        keys = []
        for jwk in document["keys"]:
            try:
                keys.append(VerificationKey.from_jwk(jwk))
            except InvalidKey:
                continue  # an unusable key is simply not a key this verifier trusts
        ttl = self._ttl if fetched.max_age is None else min(self._ttl, fetched.max_age)
        return KeySet(tuple(keys)), ttl

    async def aclose(self) -> None:
        await self._cache.aclose()
