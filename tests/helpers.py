"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any


class ReceiveSpy:
    """Wraps an ASGI app and counts how often anything asked for the request body."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.body_reads = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def spied_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                self.body_reads += 1
            return message

        await self.app(scope, spied_receive, send)
