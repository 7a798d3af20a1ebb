"""The programme's registry of accredited issuers: a JWS signed by the registry key, fetched and cached.

The registry can live on any static host (or in a file). Its signature is checked against the one key the
verifier is configured with (``VERIFIER_REGISTRY_KEY``); the algorithm is the key's own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from credentials.errors import CredentialError, InvalidKey
from credentials.jose import parse_compact, verify_signature
from credentials.keys import VerificationKey
from verifier.refresh import Entry, RefreshingCache, Unavailable
from verifier.remote import Fetcher, FetchError

REGISTRY_MAX_BYTES = 1024 * 1024
STATUSES = frozenset({"accredited", "suspended", "removed"})


class RegistryUnavailable(Exception):
    """The registry could not be fetched or did not verify, and no fresh copy is cached."""


@dataclass(frozen=True)
class RegistryEntry:
    id: str
    name: str | None
    status: str
    since: str | None


@dataclass(frozen=True)
class RegistrySnapshot:
    name: str | None
    entries: dict[str, RegistryEntry]
    issued_at: int = 0


def load_registry_key(value: str) -> VerificationKey:
    """Read ``VERIFIER_REGISTRY_KEY``: a public JWK as JSON, or the path of a file holding one."""
    text = value.strip()
    if not text.startswith("{"):
        text = Path(text).read_text("utf-8")
    try:
        return VerificationKey.from_jwk(json.loads(text))
    except (ValueError, InvalidKey) as exc:
        raise ValueError(f"VERIFIER_REGISTRY_KEY is not a usable public JWK: {exc}") from exc


def read_registry(token: str, key: VerificationKey) -> tuple[str | None, dict[str, RegistryEntry], int]:
    """Verify a registry token with ``key``; return name, entries and ``iat``. Raises CredentialError, ValueError."""
    jws = parse_compact(token.strip())
    verify_signature(jws, key)
    claims = jws.unverified_claims
    issuers = claims.get("issuers")
    if not isinstance(issuers, list):
        raise ValueError("the registry has no 'issuers' list")
    entries: dict[str, RegistryEntry] = {}
    for item in issuers:
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise ValueError("a registry entry has no id")
        status = item.get("status")
        if status not in STATUSES:
            raise ValueError(f"a registry entry has an unknown status {str(status)[:20]!r}")
        name, since = item.get("name"), item.get("since")
        entries[str(item["id"]).rstrip("/")] = RegistryEntry(
            id=str(item["id"]).rstrip("/"),
            name=name if isinstance(name, str) else None,
            status=str(status),
            since=since if isinstance(since, str) else None,
        )
    name = claims.get("name")
    iat = claims.get("iat")
    issued_at = iat if isinstance(iat, int) and not isinstance(iat, bool) else 0
    return (name if isinstance(name, str) else None), entries, issued_at


class Registry:
    """The programme's registry, fetched (one fetch at a time, within the deadline) and cached for its TTL.

    An expired registry is never used: when it cannot be refreshed, trust falls back to the local list.
    """

    def __init__(
        self,
        source: str,
        key: VerificationKey,
        fetcher: Fetcher,
        *,
        ttl: int,
        failure_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._key = key
        self._fetcher = fetcher
        self._ttl = ttl
        self._cache: RefreshingCache[RegistrySnapshot] = RefreshingCache(
            self._load, deadline=fetcher.deadline, failure_ttl=failure_ttl, stale_wait=0, max_stale=0, clock=clock
        )

    @property
    def last_known(self) -> RegistrySnapshot | None:
        entry = self._cache.peek(self.source)
        return entry.value if entry is not None else None

    async def snapshot(self) -> RegistrySnapshot:
        """The verified registry, fetched at most once per TTL. Raises :class:`RegistryUnavailable`."""
        try:
            return (await self._cache.get(self.source)).value
        except Unavailable as exc:
            raise RegistryUnavailable(f"The issuer registry could not be read: {exc.reason}") from exc

    async def _load(self, source: str, previous: Entry[RegistrySnapshot] | None) -> tuple[RegistrySnapshot, float]:
        max_age: int | None = None
        try:
            if source.startswith(("http://", "https://")):
                fetched = await self._fetcher.get(source, "application/jwt", REGISTRY_MAX_BYTES)
                token, max_age = fetched.body.decode("ascii"), fetched.max_age
            else:
                token = Path(source).read_text("ascii")
            name, entries, issued_at = read_registry(token, self._key)
        except FetchError as exc:
            raise Unavailable(exc.message) from exc
        except (OSError, UnicodeDecodeError, ValueError, CredentialError) as exc:
            raise Unavailable(str(exc)) from exc
        ttl = self._ttl if max_age is None else min(self._ttl, max_age)
        if previous is not None and issued_at < previous.value.issued_at:
            # An older registry than the one already verified is a replay (say, from before a suspension):
            # keep the newer one.
            return previous.value, ttl
        return RegistrySnapshot(name, entries, issued_at), ttl

    async def aclose(self) -> None:
        await self._cache.aclose()
