"""Revocation status through W3C Bitstring Status Lists, fetched only from the credential issuer's own site.

A list is itself a VC-JWT: it must be signed by a key the issuer publishes and name the same issuer. Lists are
cached for their TTL (capped by ``VERIFIER_CACHE_TTL``), so checking a credential never tells the issuer which
credential is being looked at. Anything that stops the status from being established raises
:class:`StatusListError`, which the pipeline reports as *indeterminate* — never *valid*.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from credentials import status_list
from credentials.errors import CredentialError
from credentials.jose import parse_compact, verify_signature
from credentials.ob3 import check_claims, issuer_id, validity_window
from credentials.status_list import StatusListError
from verifier.refresh import Entry, RefreshingCache, Unavailable
from verifier.remote import Fetcher, FetchError, origin, site_of
from verifier.trust import FAILURE_TTL, MAX_STALE_SECONDS, STALE_WAIT, KeyResolver, KeysUnavailable

LIST_MAX_BYTES = 512 * 1024
PURPOSES = frozenset({"revocation", "suspension"})


@dataclass(frozen=True)
class StatusResult:
    purpose: str
    set: bool
    list_url: str
    stale: bool = False
    """The list could not be refreshed and this bit comes from its last copy (expired, less than a day ago)."""


@dataclass(frozen=True)
class _ListCopy:
    bitstring: bytes
    purpose: str


def _types(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


class StatusChecker:
    def __init__(
        self,
        fetcher: Fetcher,
        resolver: KeyResolver,
        *,
        ttl: int,
        leeway: int = 60,
        failure_ttl: float = FAILURE_TTL,
        stale_wait: float = STALE_WAIT,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetcher = fetcher
        self._resolver = resolver
        self._ttl = ttl
        self._leeway = leeway
        self._wall_clock = wall_clock
        self._cache: RefreshingCache[_ListCopy] = RefreshingCache(
            self._load,
            deadline=fetcher.deadline,
            failure_ttl=failure_ttl,
            stale_wait=stale_wait,
            max_stale=MAX_STALE_SECONDS,
            clock=clock,
        )

    async def check(self, entry: object, issuer: str) -> StatusResult:
        """Read the bit an entry points at. Raises :class:`StatusListError` if it cannot be established."""
        if not isinstance(entry, Mapping) or status_list.ENTRY_TYPE not in _types(entry.get("type")):
            raise StatusListError("The credential's status is not a BitstringStatusListEntry this verifier knows.")
        purpose = entry.get("statusPurpose")
        if purpose not in PURPOSES:
            raise StatusListError(f"The status purpose {str(purpose)[:40]!r} is not supported.")
        raw_index = entry.get("statusListIndex")
        if not isinstance(raw_index, str) or not (raw_index.isascii() and raw_index.isdecimal()) or len(raw_index) > 12:
            raise StatusListError("The statusListIndex is not a decimal number.", "STATUS_RANGE_ERROR")
        url = entry.get("statusListCredential")
        if not isinstance(url, str) or origin(url) is None or origin(url) != site_of(issuer):
            # Only the issuer's own site may say whether its credential stands (and nothing else is contacted).
            raise StatusListError("The status list is not on the issuer's own site; it was not fetched.")
        try:
            # Keyed by issuer too: a list counts only for the issuer that signed it.
            answer = await self._cache.get(f"{issuer} {url}")
        except Unavailable as exc:
            raise StatusListError(f"The status list could not be fetched: {exc.reason}") from exc
        if answer.value.purpose != purpose:
            raise StatusListError("The status list's purpose does not match the credential's entry.")
        return StatusResult(str(purpose), status_list.bit(answer.value.bitstring, int(raw_index)), url, answer.stale)

    async def _load(self, key: str, previous: Entry[_ListCopy] | None) -> tuple[_ListCopy, float]:
        issuer, url = key.split(" ", 1)
        try:
            fetched = await self._fetcher.get(url, "application/vc+jwt, application/jwt", LIST_MAX_BYTES)
            copy, list_ttl = await self._read(fetched.body, issuer)
        except FetchError as exc:
            raise Unavailable(exc.message) from exc
        except StatusListError as exc:
            raise Unavailable(exc.message) from exc
        if previous is not None and copy.purpose == previous.value.purpose == "revocation":
            copy = _ListCopy(_keep_revocations(copy.bitstring, previous.value.bitstring), copy.purpose)
        lifetimes = [self._ttl] + [value for value in (fetched.max_age, list_ttl) if value is not None]
        return copy, min(lifetimes)

    async def _read(self, body: bytes, issuer: str) -> tuple[_ListCopy, int | None]:
        try:
            jws = parse_compact(body.decode("ascii").strip())
        except (UnicodeDecodeError, CredentialError) as exc:
            raise StatusListError("The status list is not a well-formed VC-JWT.") from exc
        claims = jws.unverified_claims
        if claims.get("iss", issuer_id(claims)) != issuer:
            raise StatusListError("The status list was not issued by the credential's issuer.")
        try:
            keys = await self._resolver.keys_for(issuer, jws.kid)
        except KeysUnavailable as exc:
            raise StatusListError(f"The issuer's keys could not be fetched: {exc}") from exc
        key = keys.get(jws.kid) if jws.kid else None
        if key is None or key.compromised_at is not None:
            raise StatusListError("The status list is not signed by a usable key of the issuer.")
        try:
            verify_signature(jws, key)
            check_claims(claims, jws.profile)
        except CredentialError as exc:
            raise StatusListError(f"The status list does not verify: {exc.message}") from exc
        if status_list.LIST_TYPE not in _types(claims.get("type")):
            raise StatusListError("The document is not a BitstringStatusListCredential.")
        valid_from, valid_until = validity_window(claims)
        now = self._wall_clock()
        if (valid_from and valid_from.timestamp() > now + self._leeway) or (
            valid_until and valid_until.timestamp() <= now
        ):
            raise StatusListError("The status list is outside its validity period.")
        subject: Any = claims.get("credentialSubject")
        purpose = subject.get("statusPurpose") if isinstance(subject, Mapping) else None
        if purpose not in PURPOSES:
            raise StatusListError("The status list does not name a purpose this verifier knows.")
        bitstring = status_list.decode(subject.get("encodedList"))
        status_list.check_length(bitstring)
        ttl = subject.get("ttl")
        list_ttl = int(ttl) // 1000 if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0 else None
        return _ListCopy(bitstring, str(purpose)), list_ttl

    async def aclose(self) -> None:
        await self._cache.aclose()


def _keep_revocations(new: bytes, old: bytes) -> bytes:
    """A revocation is final: a bit the last copy of the list had set stays set, even if a newer copy (an old
    one replayed, or one regenerated from a tampered database) has it clear."""
    if len(new) != len(old):
        return new
    return (int.from_bytes(new, "big") | int.from_bytes(old, "big")).to_bytes(len(new), "big")
