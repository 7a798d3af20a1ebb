"""Security headers on every response: a strict Content-Security-Policy, no sniffing, no referrer, no framing,
and HSTS when the request came over HTTPS.

The pages carry no inline script or style (their stylesheets are files on the same origin), so no policy needs
``unsafe-inline``. :data:`CONTENT_SECURITY_POLICY` allows no script at all; :data:`SCRIPT_FILES_POLICY` allows
script files from the page's own origin and nothing else (no inline script, no ``eval``), for pages whose scripts
are optional conveniences, such as the verifier's QR scanner (``scan.js`` and the vendored jsQR, which needs no
``eval``). The verifier's pages may use the camera for themselves and no frame may
(:data:`VERIFIER_PERMISSIONS_POLICY`); a camera stream shown through ``srcObject`` and a canvas read in memory need
no further directive. A route that must serve something else (the interactive API docs) sets its own
``Content-Security-Policy`` header, which is then left alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
"""The default: no script of any kind."""
SCRIPT_FILES_POLICY = f"{CONTENT_SECURITY_POLICY}; script-src 'self'"
"""The same, plus script files from the page's own origin ('self' allows neither inline script nor eval)."""
VERIFIER_PERMISSIONS_POLICY = "camera=(self)"
"""The verifier's page scans QR codes with the camera; no other origin (no frame) may ask for it."""
HSTS = "max-age=31536000"


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response that does not set them itself."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        content_security_policy: str = CONTENT_SECURITY_POLICY,
        permissions_policy: str | None = None,
    ) -> None:
        self.app = app
        defaults = {
            "content-security-policy": content_security_policy,
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-opener-policy": "same-origin",
        }
        if permissions_policy is not None:
            defaults["permissions-policy"] = permissions_policy
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
