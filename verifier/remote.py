"""Bounded HTTP GETs to issuers: the only place the verifier goes out.

Every fetch has a total deadline (however slowly the bytes trickle), follows no redirects, asks for no
compression (``Accept-Encoding: identity``), decodes at most one ``gzip`` or ``deflate`` layer itself with a
hard limit on the decoded size, refuses stacked or unknown encodings, and caps the bytes it reads. An issuer
site that stopped answering is remembered for a short while, so requests do not queue up behind it. What a
fetch failed on is said in words; an upstream HTTP status is never passed on.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from verifier import did_web
from verifier.network import RefusedAddress


class FetchError(Exception):
    """The resource could not be had. ``not_found`` when the site says it has no such thing (404 or 410)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found


@dataclass(frozen=True)
class Fetched:
    body: bytes
    max_age: int | None


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@functools.lru_cache(maxsize=4096)
def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or ``None`` for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def site_of(issuer_id: str) -> str | None:
    """The site an issuer's documents live on: the origin of an http(s) issuer id, ``https://host`` of a did:web
    DID; ``None`` for anything else."""
    if issuer_id.startswith(did_web.PREFIX):
        return did_web.site(issuer_id)
    return origin(issuer_id)


def max_age(cache_control: str) -> int | None:
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return 0
    found = _MAX_AGE.search(cache_control)
    return int(found.group(1)) if found else None


class _Body:
    """Collects a response body, decoding one content coding, never holding more than ``limit`` bytes."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        codings = [part.strip().lower() for part in content_encoding.split(",") if part.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        if len(codings) > 1:
            raise FetchError("The issuer's site sent a body compressed more than once; it was refused.")
        if codings and codings[0] not in _WBITS:
            raise FetchError("The issuer's site sent a body in an unknown compression; it was refused.")
        self._inflater = zlib.decompressobj(_WBITS[codings[0]]) if codings else None
        self._limit = limit
        self._wire = 0
        self.data = bytearray()

    def _too_large(self) -> FetchError:
        return FetchError(f"The issuer's site sent more than {self._limit} bytes; it was refused.")

    def add(self, chunk: bytes) -> None:
        self._wire += len(chunk)
        if self._wire > self._limit:
            raise self._too_large()
        if self._inflater is None:
            self.data += chunk
            return
        if self._inflater.eof:
            raise FetchError("The issuer's site sent data after the end of its compressed body.")
        try:
            # Never inflate more than what is still allowed (plus one byte, to notice the excess).
            out = self._inflater.decompress(chunk, self._limit - len(self.data) + 1)
        except zlib.error as exc:
            raise FetchError("The issuer's site sent a body that does not decompress.") from exc
        self.data += out
        if len(self.data) > self._limit or self._inflater.unconsumed_tail:
            raise self._too_large()

    def finish(self) -> bytes:
        if self._inflater is not None and not self._inflater.eof:
            raise FetchError("The issuer's site sent a truncated compressed body.")
        return bytes(self.data)


class Fetcher:
    """The verifier's one way out: bounded GETs, with a memory of issuer sites that stopped answering."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        deadline: float,
        failure_ttl: float,
        require_https: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.deadline = deadline
        self._require_https = require_https
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._down: dict[str, float] = {}

    async def get(self, url: str, accept: str, limit: int) -> Fetched:
        """GET ``url``: its body (at most ``limit`` bytes, decoded) and ``max-age``. Raises :class:`FetchError`."""
        site = origin(url) or url
        if self._require_https and not url.startswith("https://"):
            raise FetchError("The issuer's site is not served over https; it was not contacted.")
        down_until = self._down.get(site)
        if down_until is not None:
            if self._clock() < down_until:
                raise FetchError("The issuer's site is not answering; it will be tried again shortly.")
            del self._down[site]
        try:
            async with asyncio.timeout(self.deadline):
                return await self._get(url, accept, limit)
        except TimeoutError:
            self._down[site] = self._clock() + self._failure_ttl
            raise FetchError(f"The issuer's site did not answer within {self.deadline:g} seconds.") from None
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, RefusedAddress):
                raise FetchError(
                    "The issuer's site resolves to an address that is not public; it was not contacted."
                ) from exc
            self._down[site] = self._clock() + self._failure_ttl
            raise FetchError(f"The issuer's site could not be reached ({type(exc).__name__}).") from exc
        except (httpx.TransportError, OSError) as exc:
            self._down[site] = self._clock() + self._failure_ttl
            raise FetchError(f"The issuer's site could not be reached ({type(exc).__name__}).") from exc
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"The issuer's site could not be read ({type(exc).__name__}).") from exc

    async def _get(self, url: str, accept: str, limit: int) -> Fetched:
        headers = {"Accept": accept, "Accept-Encoding": "identity"}
        async with self.client.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if response.status_code in (404, 410):
                raise FetchError("The issuer's site has no such document.", not_found=True)
            if response.status_code != 200:
                raise FetchError("The issuer's site did not provide the document.")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(f"The issuer's site announced more than {limit} bytes; it was refused.")
            if response.is_stream_consumed:
                # Only a response built in memory (a test's mock transport) arrives already read, and decoded.
                body = _Body("identity", limit)
                body.add(response.content)
            else:
                body = _Body(response.headers.get("content-encoding", ""), limit)
                async for chunk in response.aiter_raw():
                    body.add(chunk)
            return Fetched(body.finish(), max_age(response.headers.get("cache-control", "")))
