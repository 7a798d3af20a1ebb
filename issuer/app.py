"""The issuer ASGI application: routes, the error table, and the HTTP edge (gate, limits, headers, log)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from http_edge.access_log import AccessLog
from http_edge.body_limit import BodyLimit
from http_edge.docs import add_docs
from http_edge.head import HeadAsGet
from http_edge.headers import SCRIPT_FILES_POLICY, SecurityHeaders
from issuer import console, errors, uploaded_images
from issuer.api import badge, cohorts, error_responses, public, v1, vc
from issuer.api.gate import AuthenticateFirst
from issuer.console import achievement_pages, cohort_pages
from issuer.context import IssuerContext
from issuer.db import UNAVAILABLE
from issuer.jobs import EmbeddedWorker
from issuer.settings import IssuerSettings, get_settings
from issuer.throttle import FailureThrottle

ISSUER_POLICY = f"{SCRIPT_FILES_POLICY}; connect-src 'self'"
"""Scripts from this site only; they (the console's progress) and link pings may reach this site alone."""
MAX_BODY_BYTES = 64 * 1024
"""Largest request body (JSON) any route reads; larger ones are refused by Content-Length before reading."""
STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: IssuerSettings | None = None, context: IssuerContext | None = None) -> FastAPI:
    """Build the issuer app. Refuses to start (raises ``ConfigurationError``) if a signing key cannot be loaded."""
    os.umask(0o077)  # whatever the service writes (database, WAL, keys, checkpoint) is for its own user only
    ctx = context or IssuerContext.from_settings(settings or get_settings())
    ctx.load_signing_keys()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = EmbeddedWorker(ctx.jobs, ctx.settings.worker_threads) if ctx.settings.embedded_worker else None
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if context is None:
                ctx.close()

    app = FastAPI(
        title="Odznaka issuer",
        description="Issues Open Badges 3.0 credentials as VC-JWT, with keys, profiles and QR codes.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = ctx
    app.add_exception_handler(errors.IssuerError, error_responses.issuer_error)
    app.add_exception_handler(RequestValidationError, error_responses.validation_error)
    app.add_exception_handler(StarletteHTTPException, error_responses.http_error)
    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, error_responses.database_unavailable)
    app.add_exception_handler(Exception, error_responses.unexpected)
    console.install(app)
    app.include_router(v1.router)
    app.include_router(cohorts.router)
    app.include_router(vc.router)
    app.include_router(public.router)
    app.include_router(badge.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app)
    throttle = FailureThrottle(ctx.settings.rate_limit_storage, ctx.settings.auth_failures_per_minute)
    # Added last = runs first: the log sees every answer, the headers go on every answer, an oversized body is
    # refused by its length, and the gate answers before anything reads a body.
    app.add_middleware(HeadAsGet)
    app.add_middleware(AuthenticateFirst, context=ctx, throttle=throttle)
    limits = {
        ("POST", vc.ISSUE_PATH): vc.MAX_ISSUE_BODY,
        ("PUT", v1.IMAGE_PATH): uploaded_images.MAX_BYTES,
        ("PUT", v1.LOGO_PATH): uploaded_images.MAX_BYTES,
        ("POST", cohorts.PATH): cohorts.MAX_BODY,
        ("POST", cohort_pages.UPLOAD_PATH): cohort_pages.MAX_UPLOAD_BYTES,
        **achievement_pages.UPLOAD_ROUTES,
    }
    app.add_middleware(BodyLimit, default=MAX_BODY_BYTES, routes=limits)
    app.add_middleware(SecurityHeaders, content_security_policy=ISSUER_POLICY)
    app.add_middleware(AccessLog)
    return app
