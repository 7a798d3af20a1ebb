"""The provider API's gate: who is calling is settled before a byte of the request body is read.

An ASGI middleware in front of ``/api/``: a request without a valid API key is answered ``401`` (or ``429`` once
its client or key prefix has failed too often) without its body being read or parsed, so an anonymous client
can make the issuer spend nothing on its upload. Every failure with a key is written to the audit log. The
calling provider is handed to the routes in ``request.state.principal``.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from issuer.api.error_responses import error_response, unavailable
from issuer.api.vc import ISSUE_PATH
from issuer.api_keys import FailedAuthentication, check_authorization, record_failure
from issuer.context import IssuerContext
from issuer.db import UNAVAILABLE
from issuer.throttle import FailureThrottle

API_PREFIX = "/api/"
GUARDED_PATHS = frozenset({ISSUE_PATH})
"""Routes outside ``/api/`` that need an API key too (the W3C VC-API issuing endpoint)."""


class AuthenticateFirst:
    def __init__(self, app: ASGIApp, *, context: IssuerContext, throttle: FailureThrottle) -> None:
        self.app = app
        self.context = context
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path.startswith(API_PREFIX) or path in GUARDED_PATHS):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = await self.throttle.client_blocked(client)
        if wait is not None:
            await _too_many(wait)(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        try:
            result = await run_in_threadpool(check_authorization, self.context, authorization)
            if isinstance(result, FailedAuthentication):
                if result.reason != "missing":
                    await run_in_threadpool(record_failure, self.context, result)
                wait = await self.throttle.failed(client, result.prefix)
                if wait is not None:
                    await _too_many(wait)(scope, receive, send)
                    return
                error = result.error()
                response = error_response(401, error.code, error.message, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        except UNAVAILABLE:
            await unavailable()(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = result
        await self.app(scope, receive, send)


def _too_many(wait: int) -> JSONResponse:
    return error_response(
        429,
        "too_many_attempts",
        "Too many failed authentications; wait before trying again.",
        headers={"Retry-After": str(wait)},
    )
