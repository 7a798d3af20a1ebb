"""Failed-authentication limits, per client address and per API-key prefix (the ``limits`` library).

Only failures count. A client over its limit is refused before its key is even looked up; a key prefix over its
limit refuses further *wrong* keys with that prefix, never the right one, so nobody can lock a provider out of
its own key by sending guesses that start like it. The counters live in the process (``memory://``) or, shared
by every worker, in Redis (``ISSUER_RATE_LIMIT_STORAGE=redis://…``, with ``limits[async-redis]`` installed).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class FailureThrottle:
    def __init__(self, storage_uri: str, per_minute: int) -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))
        self._item: RateLimitItem = RateLimitItemPerMinute(per_minute)

    async def _retry_after(self, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(self._item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def client_blocked(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or ``None`` if it may now."""
        if await self._limiter.test(self._item, "client", client):
            return None
        return await self._retry_after("client", client)

    async def failed(self, client: str, prefix: str | None) -> int | None:
        """Count a failure; return seconds to wait if the client or the key prefix is now over its limit."""
        waits = []
        if not await self._limiter.hit(self._item, "client", client):
            waits.append(await self._retry_after("client", client))
        if prefix is not None and not await self._limiter.hit(self._item, "prefix", prefix):
            waits.append(await self._retry_after("prefix", prefix))
        return max(waits, default=None)
