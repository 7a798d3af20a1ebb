"""Documents fetched from issuers' sites (key sets, status lists, the registry), cached so that no issuer site
can stall the verifier or make requests pile up behind it.

- **Single flight**: at most one fetch per key (a URL, or an issuer) at a time; every request that needs it
  waits on that one fetch instead of starting its own.
- **A deadline**: the fetch as a whole (connect, headers, body, parsing) is cut off after ``deadline`` seconds,
  however slowly the site trickles its answer.
- **Failure memory**: a fetch that failed is not retried for ``failure_ttl`` seconds; meanwhile requests are
  answered at once from what is cached (or told it is unavailable).
- **Stale while refreshing**: when a copy has expired, a request waits at most ``stale_wait`` seconds for the
  refresh and otherwise answers from the expired copy (for at most ``max_stale`` seconds after it expired),
  flagged as stale, while the refresh carries on in the background. The caller decides what a stale answer
  is worth; the pipeline never calls anything built on one *valid*.
- **Refresh ahead**: a copy in the last fifth of its lifetime is refreshed in the background while it is still
  served as fresh, so a healthy issuer's documents rarely expire at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

REFRESH_AHEAD = 0.8
"""A copy older than this share of its lifetime is refreshed in the background."""


class Unavailable(Exception):
    """The document could not be had, and no usable copy is cached. ``reason`` says why, for people;
    ``definite`` when the site answered that it has no such (usable) document, rather than failing to answer."""

    def __init__(self, reason: str, *, definite: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.definite = definite


@dataclass(frozen=True)
class Entry(Generic[T]):
    value: T
    fetched_at: float
    expires_at: float


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    stale: bool
    """True when the copy had expired and could not be refreshed in time."""


@dataclass(frozen=True)
class _Failure:
    until: float
    reason: str
    definite: bool = False


Loader = Callable[[str, "Entry[T] | None"], Awaitable[tuple[T, float]]]
"""Fetch the document for a key, given the cached entry (if any); return it and its lifetime in seconds.
Raises :class:`Unavailable`."""


class RefreshingCache(Generic[T]):
    def __init__(
        self,
        load: Loader[T],
        *,
        deadline: float,
        failure_ttl: float,
        stale_wait: float,
        max_stale: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._deadline = deadline
        self._failure_ttl = failure_ttl
        self._stale_wait = stale_wait
        self._max_stale = max_stale
        self._clock = clock
        self._entries: dict[str, Entry[T]] = {}
        self._failures: dict[str, _Failure] = {}
        self._inflight: dict[str, asyncio.Task[Entry[T]]] = {}

    def peek(self, key: str) -> Entry[T] | None:
        """The cached entry, fresh or not, without fetching anything."""
        return self._entries.get(key)

    async def get(self, key: str, wanted: Callable[[Entry[T]], bool] | None = None) -> Answer[T]:
        """The document for ``key``: fresh from the cache, or fetched (at most once at a time), or stale.

        ``wanted`` may reject a fresh entry (say, one lacking a key id) to ask for a refresh; when that refresh
        fails, the fresh entry is still answered. Raises :class:`Unavailable` when nothing usable is left.
        """
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now < entry.expires_at and (wanted is None or wanted(entry)):
            if now >= entry.fetched_at + REFRESH_AHEAD * (entry.expires_at - entry.fetched_at):
                self._refresh_in_background(key, now)
            return Answer(entry.value, stale=False)
        failure = self._failures.get(key)
        if failure is not None and now < failure.until:
            return self._fallback(entry, now, failure.reason, failure.definite)
        task = self._start(key)
        usable_stale = entry is not None and now < entry.expires_at + self._max_stale
        try:
            # shield: a caller that stops waiting must not cancel the fetch the others (and the cache) wait on.
            refreshed = await asyncio.wait_for(asyncio.shield(task), self._stale_wait if usable_stale else None)
        except TimeoutError:
            return self._fallback(entry, self._clock(), "the issuer's site is answering too slowly")
        except Unavailable as exc:
            return self._fallback(entry, self._clock(), exc.reason, exc.definite)
        return Answer(refreshed.value, stale=False)

    def _fallback(self, entry: Entry[T] | None, now: float, reason: str, definite: bool = False) -> Answer[T]:
        if entry is not None and now < entry.expires_at:
            return Answer(entry.value, stale=False)  # the refresh was only asked for; the copy is still fresh
        if entry is not None and now < entry.expires_at + self._max_stale:
            return Answer(entry.value, stale=True)
        raise Unavailable(reason, definite=definite)

    def _refresh_in_background(self, key: str, now: float) -> None:
        failure = self._failures.get(key)
        if key not in self._inflight and (failure is None or now >= failure.until):
            self._start(key)

    def _start(self, key: str) -> asyncio.Task[Entry[T]]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._refresh(key))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return task

    def _finished(self, key: str, task: asyncio.Task[Entry[T]]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a failure nobody waited for is not reported as lost

    async def _refresh(self, key: str) -> Entry[T]:
        try:
            async with asyncio.timeout(self._deadline):
                value, lifetime = await self._load(key, self._entries.get(key))
        except TimeoutError:
            reason = f"the issuer's site did not answer within {self._deadline:g} seconds"
            self._failures[key] = _Failure(self._clock() + self._failure_ttl, reason)
            raise Unavailable(reason) from None
        except Unavailable as exc:
            self._failures[key] = _Failure(self._clock() + self._failure_ttl, exc.reason, exc.definite)
            raise
        now = self._clock()
        entry = Entry(value, now, now + max(0.0, lifetime))
        self._entries[key] = entry
        self._failures.pop(key, None)
        return entry

    async def aclose(self) -> None:
        """Cancel refreshes still under way (when the app shuts down)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
