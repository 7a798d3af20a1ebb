"""Bounded HTTP GETs to issuers: no redirects, a timeout, a size cap. The only place the verifier goes out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx


class FetchError(Exception):
    """The resource could not be had: network, status, size or content type. ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Fetched:
    body: bytes
    max_age: int | None


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or ``None`` for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def max_age(cache_control: str) -> int | None:
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return 0
    found = _MAX_AGE.search(cache_control)
    return int(found.group(1)) if found else None


async def fetch(client: httpx.AsyncClient, url: str, accept: str, limit: int) -> Fetched:
    """GET ``url`` and return its body (at most ``limit`` bytes) and its ``max-age``. Raises :class:`FetchError`."""
    try:
        async with client.stream("GET", url, headers={"Accept": accept}, follow_redirects=False) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered HTTP {response.status_code}.", response.status_code)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise FetchError(f"{url} sent more than {limit} bytes.")
            return Fetched(bytes(body), max_age(response.headers.get("cache-control", "")))
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"{url[:200]} could not be reached ({type(exc).__name__}).") from exc
