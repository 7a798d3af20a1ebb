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
from typing import Any

from credentials.errors import InvalidKey
from credentials.keys import VerificationKey
from verifier import did_web
from verifier.refresh import Entry, RefreshingCache, Unavailable
from verifier.registry import Registry, RegistryUnavailable
from verifier.remote import Fetched, Fetcher, FetchError, origin, site_of

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
        return {found for issuer_id in await self.all_issuer_ids() if (found := site_of(issuer_id))}

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
    """One fetched JWKS or DID document: every usable key in it, and (worked out once per issuer) which of them
    count for whom; ``aliases`` are further names a DID document gives its keys."""

    keys: tuple[VerificationKey, ...]
    aliases: dict[str, VerificationKey] = field(default_factory=dict)
    _by_issuer: dict[str, dict[str, VerificationKey]] = field(default_factory=dict)

    def for_issuer(self, issuer_id: str, shared_host: Callable[[], bool]) -> dict[str, VerificationKey]:
        found = self._by_issuer.get(issuer_id)
        if found is None:
            found = _keys_of(self.keys, issuer_id, shared_host())
            for name, key in self.aliases.items():
                found.setdefault(name, key)
            self._by_issuer[issuer_id] = found
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
    """Keys of trusted issuers, from wherever the standard lets them be found:

    - the JWKS at ``{issuer's site}/.well-known/jwks.json``;
    - a ``kid`` that is a URL on the issuer's own site, dereferenced to one JWK, which counts only if its ``iss``
      names the issuer or the issuer's JWKS lists the same key (by RFC 7638 thumbprint);
    - the DID document of a did:web issuer (its ``assertionMethod`` keys).

    Each document is fetched once at a time per URL, cached for at most ``ttl`` seconds (less if the issuer says
    so), fetched again on an unknown ``kid`` at most every ``refresh_interval`` seconds, and served stale for up
    to a day while the issuer cannot be reached.
    """

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
        options: dict[str, Any] = {
            "deadline": fetcher.deadline,
            "failure_ttl": failure_ttl,
            "stale_wait": stale_wait,
            "max_stale": MAX_STALE_SECONDS,
            "clock": clock,
        }
        self._cache: RefreshingCache[KeySet] = RefreshingCache(self._load, **options)
        self._dids: RefreshingCache[KeySet] = RefreshingCache(self._load_did, **options)
        self._single: RefreshingCache[VerificationKey] = RefreshingCache(self._load_one, **options)

    def jwks_url(self, issuer_id: str) -> str | None:
        found = origin(issuer_id)
        return f"{found}/.well-known/jwks.json" if found else None

    async def lookup(self, issuer_id: str, kid: str | None) -> IssuerKeys:
        """The issuer's keys by ``kid`` (and by thumbprint): fetched when the cache is cold, expired, or lacks
        ``kid``. Raises :class:`KeysUnavailable` when no usable copy, fresh or stale, can be had."""
        if issuer_id.startswith(did_web.PREFIX):
            return await self._from_did(issuer_id, kid)
        url = self.jwks_url(issuer_id)
        if url is None:
            raise KeysUnavailable(f"The issuer id {issuer_id[:200]} is not an http(s) URL or a did:web DID.")

        def shared() -> bool:
            return self._trust.shares_origin(issuer_id)

        def holds_kid(entry: Entry[KeySet]) -> bool:
            if kid is None or kid in entry.value.for_issuer(issuer_id, shared):
                return True
            return self._clock() - entry.fetched_at < self._refresh_interval

        found: IssuerKeys | None = None
        unavailable: KeysUnavailable | None = None
        try:
            answer = await self._cache.get(url, holds_kid)
            found = IssuerKeys(answer.value.for_issuer(issuer_id, shared), answer.stale)
        except Unavailable as exc:
            unavailable = KeysUnavailable(exc.reason)
        if kid is not None and (found is None or kid not in found.keys) and origin(kid) == origin(issuer_id):
            key = await self._key_at(kid, issuer_id, found)
            if key is not None:
                keys = dict(found.keys) if found is not None else {}
                keys[kid] = key
                keys.setdefault(key.thumbprint, key)
                return IssuerKeys(keys, found.stale if found is not None else False)
        if found is None:
            assert unavailable is not None
            raise unavailable
        return found

    async def keys_for(self, issuer_id: str, kid: str | None) -> dict[str, VerificationKey]:
        """Like :meth:`lookup`, but only a fresh copy will do. Raises :class:`KeysUnavailable`."""
        found = await self.lookup(issuer_id, kid)
        if found.stale:
            raise KeysUnavailable("The issuer's keys could not be refreshed.")
        return found.keys

    async def _key_at(self, kid: str, issuer_id: str, published: IssuerKeys | None) -> VerificationKey | None:
        """The JWK a ``kid`` URL serves, if it is confirmed to be the issuer's; ``None`` when there is none (the
        site says so, or serves something else). Raises :class:`KeysUnavailable` when the site could not be
        asked: then nobody can tell whether the key is the issuer's."""
        try:
            key = (await self._single.get(kid)).value
        except Unavailable as exc:
            if exc.definite:
                return None
            raise KeysUnavailable(f"The key at its kid URL could not be fetched: {exc.reason}") from exc
        if key.issuer == issuer_id:
            return key
        if key.issuer is None and published is not None and key.thumbprint in published.keys:
            return published.keys[key.thumbprint]
        return None

    async def _from_did(self, did: str, kid: str | None) -> IssuerKeys:
        url = did_web.document_url(did)
        if url is None:
            raise KeysUnavailable(f"The issuer id {did[:200]} is not a did:web DID this verifier can resolve.")

        def holds_kid(entry: Entry[KeySet]) -> bool:
            if kid is None or kid in entry.value.for_issuer(did, lambda: False):
                return True
            return self._clock() - entry.fetched_at < self._refresh_interval

        try:
            answer = await self._dids.get(url, holds_kid)
        except Unavailable as exc:
            raise KeysUnavailable(exc.reason) from exc
        return IssuerKeys(answer.value.for_issuer(did, lambda: False), answer.stale)

    async def _load(self, url: str, _previous: Entry[KeySet] | None) -> tuple[KeySet, float]:
        fetched, document = await self._get_json(url, "application/jwk-set+json, application/json", "key set")
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise Unavailable("The issuer's key set is not a JWK Set.")
        keys = []
        for jwk in document["keys"]:
            try:
                keys.append(VerificationKey.from_jwk(jwk))
            except InvalidKey:
                continue  # an unusable key is simply not a key this verifier trusts
        return KeySet(tuple(keys)), self._lifetime(fetched)

    async def _load_did(self, url: str, _previous: Entry[KeySet] | None) -> tuple[KeySet, float]:
        fetched, document = await self._get_json(url, "application/did+json, application/json", "DID document")
        did = document.get("id") if isinstance(document, dict) else None
        if not isinstance(did, str) or did_web.document_url(did) != url:
            raise Unavailable("The DID document is not the issuer's own.")
        keys: list[VerificationKey] = []
        aliases: dict[str, VerificationKey] = {}
        for names, key in did_web.keys_of(did, document):
            keys.append(key)
            for name in names:
                aliases.setdefault(name, key)
        return KeySet(tuple(keys), aliases=aliases), self._lifetime(fetched)

    async def _load_one(self, url: str, _previous: Entry[VerificationKey] | None) -> tuple[VerificationKey, float]:
        fetched, jwk = await self._get_json(url, "application/jwk+json, application/json", "key")
        try:
            return VerificationKey.from_jwk(jwk, kid=url), self._lifetime(fetched)
        except InvalidKey as exc:
            raise Unavailable(f"The key at its kid URL cannot be used: {exc.message}", definite=True) from exc

    async def _get_json(self, url: str, accept: str, what: str) -> tuple[Fetched, Any]:
        try:
            fetched = await self._fetcher.get(url, accept, JWKS_MAX_BYTES)
            return fetched, json.loads(fetched.body)
        except FetchError as exc:
            raise Unavailable(exc.message, definite=exc.not_found) from exc
        except ValueError as exc:
            raise Unavailable(f"The issuer's {what} is not JSON.", definite=True) from exc

    def _lifetime(self, fetched: Fetched) -> float:
        return self._ttl if fetched.max_age is None else min(self._ttl, fetched.max_age)

    async def aclose(self) -> None:
        for cache in (self._cache, self._dids, self._single):
            await cache.aclose()
