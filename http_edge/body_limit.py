"""Request-body limits, per route, enforced before anything parses a body.

A body whose ``Content-Length`` exceeds its route's limit is refused with ``413`` before a byte of it is read;
one sent without a length (chunked) is counted as it is read and refused the moment it passes the limit, the
application seeing the client as gone. Either way the answer is the apps' usual JSON error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(limit: int) -> JSONResponse:
    message = f"The request body is larger than {limit} bytes."
    return JSONResponse({"error": {"code": "too_large", "message": message}}, 413)


class BodyLimit:
    """ASGI middleware: ``default`` bytes for every route, ``routes[(method, path)]`` where given; a path may name
    one segment as ``{name}`` (``/api/v1/achievements/{id}/image``)."""

    def __init__(self, app: ASGIApp, *, default: int, routes: Mapping[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.default = default
        self.routes = {key: limit for key, limit in (routes or {}).items() if "{" not in key[1]}
        self.patterns = [
            (method, re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), limit)
            for (method, path), limit in (routes or {}).items()
            if "{" in path
        ]

    def _limit(self, method: str, path: str) -> int:
        found = self.routes.get((method, path))
        if found is not None:
            return found
        return next(
            (limit for wanted, pattern, limit in self.patterns if wanted == method and pattern.match(path)),
            self.default,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["method"], scope["path"])
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
        if declared.isdigit() and int(declared) > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        refused = False
        started = False

        async def send_unless_refused(message: Message) -> None:
            nonlocal started
            if refused:
                return  # whatever the application answers after the refusal is not sent
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        await too_large(limit)(scope, receive, send)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, counted_receive, send_unless_refused)
        except ClientDisconnect:
            if not refused:
                raise
