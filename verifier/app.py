"""The verifier ASGI application: a JSON API for machines and a page for people, both stateless."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from credentials.jose import MAX_TOKEN_BYTES
from http_edge.access_log import AccessLog
from http_edge.body_limit import BodyLimit
from http_edge.docs import add_docs
from http_edge.head import HeadAsGet
from http_edge.headers import SCRIPT_FILES_POLICY, VERIFIER_PERMISSIONS_POLICY, SecurityHeaders
from verifier import api, http_errors, pages, vc_api
from verifier.network import AddressPolicy, guarded_transport
from verifier.pipeline import Verifier
from verifier.registry import Registry, load_registry_key
from verifier.remote import Fetcher
from verifier.settings import VerifierSettings, get_settings
from verifier.status import StatusChecker
from verifier.trust import KeyResolver, TrustList

MAX_BODY_BYTES = 4 * MAX_TOKEN_BYTES
"""Largest body of an API request; larger ones are refused by their Content-Length before anything is read."""
STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("verifier")


def build_verifier(settings: VerifierSettings, client: httpx.AsyncClient) -> Verifier:
    fetcher = Fetcher(
        client, deadline=settings.fetch_deadline, failure_ttl=settings.failure_ttl, require_https=settings.require_https
    )
    registry = None
    if settings.registry_url:
        if not settings.registry_key:
            raise ValueError("VERIFIER_REGISTRY_URL needs VERIFIER_REGISTRY_KEY, the registry's public JWK.")
        key = load_registry_key(settings.registry_key)
        registry = Registry(
            settings.registry_url, key, fetcher, ttl=settings.cache_ttl, failure_ttl=settings.failure_ttl
        )
    trust = TrustList.of(settings.trusted_issuers, registry)
    resolver = KeyResolver(
        fetcher,
        trust,
        ttl=settings.cache_ttl,
        refresh_interval=settings.key_refresh_interval,
        failure_ttl=settings.failure_ttl,
    )
    status = StatusChecker(
        fetcher, resolver, ttl=settings.cache_ttl, leeway=settings.clock_leeway, failure_ttl=settings.failure_ttl
    )
    return Verifier(trust, resolver, status, fetcher, leeway=settings.clock_leeway)


def outgoing_client(settings: VerifierSettings) -> httpx.AsyncClient:
    """How the verifier reaches issuers: public addresses only (plus those configured), no redirects."""
    policy = AddressPolicy.from_config(
        [*settings.trusted_issuers, settings.registry_url or ""], settings.allowed_addresses
    )
    return httpx.AsyncClient(
        transport=guarded_transport(policy), timeout=settings.fetch_deadline, follow_redirects=False
    )


def create_app(settings: VerifierSettings | None = None, client: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the verifier. ``client`` is how it reaches issuers (tests hand in one bound to an issuer app)."""
    settings = settings or get_settings()
    own_client = client is None
    http = client or outgoing_client(settings)
    verifier = build_verifier(settings, http)
    if not settings.require_https:
        log.warning("VERIFIER_REQUIRE_HTTPS is off: issuers are contacted over plain http (local demo only)")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await verifier.aclose()
        if own_client:
            await http.aclose()

    app = FastAPI(
        title="Odznaka verifier",
        description="Verifies Open Badges 3.0 VC-JWT credentials and explains every check.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.verifier = verifier
    app.state.settings = settings
    app.add_exception_handler(http_errors.RequestError, http_errors.request_error)
    app.add_exception_handler(StarletteHTTPException, pages.http_error)
    app.add_exception_handler(RequestValidationError, http_errors.validation_error)
    app.include_router(api.router)
    app.include_router(vc_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    add_docs(app)
    app.add_middleware(HeadAsGet)
    app.add_middleware(BodyLimit, default=MAX_BODY_BYTES, routes={("POST", "/verify"): pages.MAX_UPLOAD_BYTES})
    app.add_middleware(
        SecurityHeaders,
        content_security_policy=SCRIPT_FILES_POLICY,
        permissions_policy=VERIFIER_PERMISSIONS_POLICY,
    )
    app.add_middleware(AccessLog)
    return app
