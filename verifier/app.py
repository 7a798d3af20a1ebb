"""The verifier ASGI application: a JSON API for machines and a page for people, both stateless."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from credentials.jose import MAX_TOKEN_BYTES
from http_edge.access_log import AccessLog
from http_edge.headers import SecurityHeaders
from verifier.i18n import CHECK_NAMES, TEXT, check_message, language
from verifier.pipeline import Verifier
from verifier.registry import Registry, load_registry_key
from verifier.report import Report
from verifier.settings import VerifierSettings, get_settings
from verifier.status import StatusChecker
from verifier.trust import KeyResolver, TrustList

MAX_BODY_BYTES = 4 * MAX_TOKEN_BYTES
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
STATIC = Path(__file__).resolve().parent / "static"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


def build_verifier(settings: VerifierSettings, client: httpx.AsyncClient) -> Verifier:
    registry = None
    if settings.registry_url:
        if not settings.registry_key:
            raise ValueError("VERIFIER_REGISTRY_URL needs VERIFIER_REGISTRY_KEY, the registry's public JWK.")
        key = load_registry_key(settings.registry_key)
        registry = Registry(settings.registry_url, key, client, ttl=settings.cache_ttl)
    trust = TrustList.of(settings.trusted_issuers, registry)
    resolver = KeyResolver(client, trust, ttl=settings.cache_ttl, refresh_interval=settings.key_refresh_interval)
    status = StatusChecker(client, resolver, ttl=settings.cache_ttl)
    return Verifier(trust, resolver, status, client, leeway=settings.clock_leeway)


async def refuse_plain_http(request: httpx.Request) -> None:
    if request.url.scheme != "https":
        raise httpx.UnsupportedProtocol(f"{request.url} is not https; VERIFIER_REQUIRE_HTTPS is set.")


def _is_link(value: str) -> bool:
    return value.startswith(("http://", "https://"))


async def run(verifier: Verifier, value: str) -> Report:
    value = value.strip()
    return await (verifier.verify_reference(value) if _is_link(value) else verifier.verify(value))


def create_app(settings: VerifierSettings | None = None, client: httpx.AsyncClient | None = None) -> FastAPI:
    """Build the verifier. ``client`` is how it reaches issuers (tests hand in one bound to an issuer app)."""
    settings = settings or get_settings()
    own_client = client is None
    hooks = {"request": [refuse_plain_http]} if settings.require_https else {}
    http = client or httpx.AsyncClient(timeout=settings.http_timeout, follow_redirects=False, event_hooks=hooks)
    verifier = build_verifier(settings, http)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_client:
            await http.aclose()

    app = FastAPI(
        title="Odznaka verifier",
        description="Verifies Open Badges 3.0 VC-JWT credentials and explains every check.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.verifier = verifier
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/api/v1/verify",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"credential": {"type": "string"}},
                            "required": ["credential"],
                        }
                    },
                    "text/plain": {"schema": {"type": "string"}},
                },
                "required": True,
            }
        },
    )
    async def verify_api(request: Request) -> Response:
        """Verify a compact VC-JWT (or a link to one). Invalid credentials are a normal ``200`` answer."""
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "malformed_request", "The request body is not UTF-8.")
        if media_type == "text/plain":
            value: Any = text
        else:
            try:
                document = json.loads(text)
            except (ValueError, RecursionError):
                return _error(
                    400, "malformed_request", 'Send JSON {"credential": "<JWT>"} or a bare token as text/plain.'
                )
            value = document.get("credential") if isinstance(document, dict) else None
            if not isinstance(value, str):
                return _error(
                    422, "invalid_input", "The field 'credential' must be a string holding the JWT or a link."
                )
        report = await run(verifier, value)
        return JSONResponse(report.as_dict())

    def page(request: Request, report: Report | None, status: int = 200) -> HTMLResponse:
        lang = language(request)
        checks = []
        if report is not None:
            for check in report.checks:
                checks.append(
                    {
                        "id": check.id,
                        "name": CHECK_NAMES[lang].get(check.id, check.id),
                        "status": check.status,
                        "status_text": TEXT[lang][check.status],
                        "code": check.code,
                        "message": check_message(lang, check.code, check.status, check.message),
                    }
                )
        context = {
            "t": TEXT[lang],
            "lang": lang,
            "report": report,
            "checks": checks,
            "credential": report.credential if report else None,
            "revocation": report.revocation if report else None,
            "registry_name": report.issuer_name if report else None,
        }
        return templates.TemplateResponse(request, "verify.html", context, status_code=status)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return page(request, None)

    @app.get("/verify", response_model=None)
    async def verify_page(request: Request, credential: str = "") -> Response:
        """What a QR code opens: the verdict as a page (or JSON for ``Accept: application/json``)."""
        if not credential.strip():
            return page(request, None)
        report = await run(verifier, credential[:MAX_BODY_BYTES])
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(report.as_dict())
        return page(request, report)

    @app.post("/verify", response_class=HTMLResponse)
    async def verify_form(
        request: Request,
        credential: Annotated[str, Form()] = "",
        file: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        """The page's form: a pasted link or token, or an uploaded ``.jwt`` file."""
        value = credential
        if file is not None and file.filename:
            content = await file.read(MAX_BODY_BYTES + 1)
            value = content.decode("utf-8", "replace")
        if not value.strip():
            return page(request, None, 422)
        return page(request, await run(verifier, value[:MAX_BODY_BYTES]))

    return app
