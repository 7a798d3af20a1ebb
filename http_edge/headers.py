"""Security headers on every response: a strict Content-Security-Policy, no sniffing, no referrer, no framing,
and HSTS when the request came over HTTPS.

The pages carry no inline script or style (their stylesheets are files on the same origin), so the policy needs
no ``unsafe-inline``. A route that must serve something else (the interactive API docs) sets its own
``Content-Security-Policy`` header, which is then left alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000"


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, content_security_policy: str = CONTENT_SECURITY_POLICY) -> None:
        self.app = app
        defaults = {
            "content-security-policy": content_security_policy,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-opener-policy": "same-origin",
        }
        # Raw (lower-case name, value) pairs, added to a response's raw headers: this runs on every response.
        self._plain = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in defaults.items()]
        self._secure = [*self._plain, (b"strict-transport-security", HSTS.encode("latin-1"))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = self._secure if scope.get("scheme") == "https" else self._plain

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in wanted if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
