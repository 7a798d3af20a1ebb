"""Security headers on every response: a strict Content-Security-Policy, no sniffing, no referrer, no framing,
and HSTS when the request came over HTTPS.

The pages carry no inline script or style (their stylesheets are files on the same origin), so the policy needs
no ``unsafe-inline``. A route that must serve something else (the interactive API docs) sets its own
``Content-Security-Policy`` header, which is then left alone.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
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
        self.defaults = {
            "Content-Security-Policy": content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.defaults.items():
                    if name not in headers:
                        headers[name] = value
                if secure and "Strict-Transport-Security" not in headers:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, send_with_headers)
