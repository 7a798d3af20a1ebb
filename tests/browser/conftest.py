"""Browser tests: the issuer and the verifier served over real HTTP on 127.0.0.1, driven by Chromium.

One issuer (a fresh SQLite database, one EdDSA provider, an API key) and one verifier that trusts it run for the
whole session as uvicorn servers on free loopback ports, in threads of the test process (so their log records go
through the suite's check for personal data too). Pages are opened in Debian's Chromium (``/usr/bin/chromium``)
through Playwright, which never downloads a browser of its own here.

Without Chromium, the ``playwright`` package or axe-core (``npm ci --prefix tests/interop``, done by ``make
install``) the tests skip, saying which is missing; with ``ODZNAKA_REQUIRE_BROWSER=1`` (set by CI) they fail.
Screenshots go to ``tests/browser/screenshots/`` (git-ignored), to be looked at.
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from issuer.api_keys import SCOPES, create_api_key
from issuer.app import create_app as create_issuer_app
from issuer.context import IssuerContext
from issuer.migrate import upgrade
from issuer.providers import create_provider
from issuer.settings import IssuerSettings
from issuer.urls import last_segment
from tests.conftest import PLAIN_ACHIEVEMENT, TEST_ONLY_KDF_ROUNDS, TEST_ONLY_PASSPHRASE, TEST_ONLY_SECRET_KEY
from verifier.app import create_app as create_verifier_app
from verifier.settings import VerifierSettings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ODZNAKA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "tests" / "interop" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
REQUIRE_BROWSER = os.environ.get("ODZNAKA_REQUIRE_BROWSER") == "1"
"""Set by CI, where Chromium, playwright and axe-core are installed: a missing one fails the run instead of
skipping the browser tests."""
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SLUG = "wsei"
PROVIDER_NAME = "Wyższa Szkoła Ekonomii i Innowacji"


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    phone: bool = False

    def context_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"viewport": {"width": self.width, "height": self.height}}
        if self.phone:
            options.update(is_mobile=True, device_scale_factor=3, has_touch=True)
        return options


DESKTOP = Viewport("desktop", 1280, 900)
PHONE = Viewport("phone", 390, 844, phone=True)
VIEWPORTS = [DESKTOP, PHONE]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/browser/ is a ``browser`` test, which ``make test`` deselects."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def missing(reason: str) -> None:
    """Skip (a developer's machine without a browser), or fail where the browser tests are required (CI)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ODZNAKA_REQUIRE_BROWSER=1: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------------------------------------------
# the two apps as real HTTP servers


def free_socket() -> socket.socket:
    """A listening socket on a free loopback port, handed to uvicorn (no window for another process to take it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class Served:
    """An ASGI app served by uvicorn in a thread of this process until :meth:`stop`."""

    def __init__(self, app: Any, sock: socket.socket, name: str) -> None:
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.thread.name} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@dataclass
class Site:
    """The running issuer and verifier, with the provider's API key."""

    issuer_url: str
    verifier_url: str
    issuer_id: str
    api_key: str
    achievement_id: str
    ctx: IssuerContext

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def issue_credential(
        self, name: str = "Anna Nowak", email: str = "anna@example.org", **extra: Any
    ) -> dict[str, Any]:
        """Issue through the issuer's HTTP API; returns the 201 body (``id``, ``jwt``, ``links``)."""
        body: dict[str, Any] = {"achievement": self.achievement_id, "recipient": {"name": name, "email": email}}
        body.update(extra)
        response = httpx.post(f"{self.issuer_url}/api/v1/credentials", json=body, headers=self.headers, timeout=30)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def revoke_credential(self, credential_id: str, reason: str = "Wydane przez pomyłkę") -> None:
        response = httpx.post(
            f"{self.issuer_url}/api/v1/credentials/{last_segment(credential_id)}/revoke",
            json={"reason": reason},
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Issuer and verifier on free loopback ports, for the whole session; stopped at its end."""
    issuer_sock, verifier_sock = free_socket(), free_socket()
    verifier_url = url_of(verifier_sock)
    ctx = issuer_context(tmp_path_factory.mktemp("browser-issuer"), url_of(issuer_sock), verifier_url)
    api_key = provider_key(ctx, SLUG, PROVIDER_NAME)
    servers = [
        Served(create_issuer_app(context=ctx), issuer_sock, "issuer-server"),
        Served(
            create_verifier_app(loopback_verifier(verifier_url, ctx.urls.issuer_id(SLUG))),
            verifier_sock,
            "verifier-server",
        ),
    ]
    try:
        for server in servers:
            server.start()
        yield provider_site(ctx, SLUG, api_key, verifier_url)
    finally:
        for server in reversed(servers):
            server.stop()
        ctx.close()


# --------------------------------------------------------------------------------------------------------------
# the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright; skipped (or failed in CI) when anything is missing."""
    if importlib.util.find_spec("playwright") is None:
        missing("the playwright package is not installed: run `make install`")
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        missing(f"no Chromium at {CHROMIUM}: `apt-get install chromium`")
    if not AXE.is_file():
        missing(f"axe-core is not installed ({AXE.relative_to(ROOT)}): run `npm ci --prefix tests/interop`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_at(browser: Any) -> Iterator[Callable[..., Any]]:
    """``page_at(viewport, **context_options)``: a new page in a fresh context; closed after the test."""
    contexts: list[Any] = []

    def open_page(viewport: Viewport = DESKTOP, **options: Any) -> Any:
        context = browser.new_context(**{**viewport.context_options(), **options})
        context.set_default_timeout(20_000)
        if options.get("java_script_enabled", True):
            context.add_init_script(path=str(AXE))
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


# --------------------------------------------------------------------------------------------------------------
# what the tests look at


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations of the page: id, impact, help and the nodes' targets.

    axe comes with every document of a :func:`page_at` context as an init script, which the pages' strict
    Content-Security-Policy (no script at all) does not apply to; ``page.add_script_tag`` would be refused by it,
    and ``bypass_csp`` would test other pages than the ones people get.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        raise AssertionError("axe-core is not in this page: open it with page_at()")
    results: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_TAGS
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in violations)


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    overflow: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return max(0, overflow)


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG under tests/browser/screenshots/ (git-ignored), to be looked at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --------------------------------------------------------------------------------------------------------------
# a browser with a camera


@pytest.fixture
def camera_page_at(browser: Any) -> Iterator[Callable[..., Any]]:
    """``camera_page_at(video, viewport, **context_options)``: a new page in a Chromium of its own whose camera
    shows ``video`` (a ``.y4m`` file, looped); closed after the test.

    Chromium takes its fake camera from a command-line switch, so each video needs a browser process of its own.
    The page gets the camera only where its context grants the ``camera`` permission; elsewhere headless
    Chromium refuses it (``NotAllowedError``). ``--use-fake-ui-for-media-stream`` is not used: it grants the camera
    to every page, whatever the context's permissions, which would leave the refusal untestable.
    """
    browsers: list[Any] = []

    def open_page(video: Path, viewport: Viewport = DESKTOP, **options: Any) -> Any:
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"]
        chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        browsers.append(chromium)
        context = chromium.new_context(**{**viewport.context_options(), **options})
        context.set_default_timeout(20_000)
        context.add_init_script(path=str(AXE))
        return context.new_page()

    yield open_page
    for chromium in browsers:
        chromium.close()


# --------------------------------------------------------------------------------------------------------------
# an issuer and a verifier for the states a badge can be in


def issuer_context(data_dir: Path, issuer_url: str, verifier_url: str) -> IssuerContext:
    """An issuer set up as the session's: a fresh SQLite database, EdDSA keys, nothing cached by verifiers."""
    database_url = f"sqlite:///{data_dir / 'issuer.db'}"
    upgrade(database_url)
    settings = IssuerSettings(
        data_dir=data_dir,
        database_url=database_url,
        public_url=issuer_url,
        verifier_url=verifier_url,
        key_passphrase=TEST_ONLY_PASSPHRASE,
        secret_key=TEST_ONLY_SECRET_KEY,
        key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
        key_algorithm="EdDSA",
        # No caching between the issuer and the verifier: a revocation shows at once.
        jwks_max_age=0,
        status_list_ttl=0,
    )
    return IssuerContext.from_settings(settings)


def loopback_verifier(verifier_url: str, *trusted: str) -> VerifierSettings:
    """A verifier trusting the given issuers on loopback, caching nothing."""
    return VerifierSettings(
        public_url=verifier_url,
        # IP-literal issuer ids: the verifier's address policy allows 127.0.0.1 because the ids name it.
        trusted_issuers=trusted,
        require_https=False,
        allowed_addresses=("127.0.0.1/32",),
        cache_ttl=0,
        failure_ttl=0,
    )


def provider_key(ctx: IssuerContext, slug: str, name: str) -> str:
    """A new provider of ``ctx`` with its first signing key; returns the provider's API key."""
    create_provider(ctx, slug, name=name, url=f"https://{slug}.example", country="PL", algorithm="EdDSA")
    return create_api_key(ctx, slug, list(SCOPES))


def provider_site(ctx: IssuerContext, slug: str, api_key: str, verifier_url: str) -> Site:
    """The provider ``slug`` of a running issuer, with an achievement to issue (created through the API)."""
    response = httpx.post(
        f"{ctx.settings.public_url}/api/v1/achievements",
        json=PLAIN_ACHIEVEMENT,
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return Site(ctx.settings.public_url, verifier_url, ctx.urls.issuer_id(slug), api_key, response.json()["id"], ctx)


def refusing_connections(address: tuple[str, int]) -> socket.socket:
    """A socket bound to a stopped server's address and never listening: connecting there is refused at once,
    and no other server can take the port while tests count on nobody answering."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(address)
    return holder


@dataclass(frozen=True)
class StateSites:
    """The issuer and the verifier of the badge-state tests, apart from the session's :func:`site`: reporting a
    key compromised here touches no other test's badges. The verifier trusts both providers of this issuer and
    a third issuer that no longer answers."""

    steady: Site
    """A provider whose key stays good: its badges are valid, expired or revoked."""
    compromised: Site
    """A provider whose signing key the tests report compromised."""
    unreachable: dict[str, Any]
    """A badge (the 201 body) of the third issuer, stopped once it had issued it."""

    @property
    def verifier_url(self) -> str:
        return self.steady.verifier_url


@pytest.fixture(scope="session")
def state_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StateSites]:
    """An issuer with two providers, a verifier trusting them, and a badge of an issuer that has stopped.

    The stopped issuer is never reached by the verifier while it runs (the verifier starts after it stops), so
    no copy of its keys is cached: its badges can only be *indeterminate*.
    """
    issuer_sock, gone_sock, verifier_sock = free_socket(), free_socket(), free_socket()
    verifier_url = url_of(verifier_sock)
    ctx = issuer_context(tmp_path_factory.mktemp("states-issuer"), url_of(issuer_sock), verifier_url)
    gone_ctx = issuer_context(tmp_path_factory.mktemp("gone-issuer"), url_of(gone_sock), verifier_url)
    steady_key = provider_key(ctx, "akademia", "Lubelska Akademia Kompetencji")
    compromised_key = provider_key(ctx, "centrum", "Centrum Kształcenia Praktycznego w Lublinie")
    gone_key = provider_key(gone_ctx, "archiwum", "Archiwum Szkoleń Zawodowych")
    verifier_settings = loopback_verifier(
        verifier_url,
        ctx.urls.issuer_id("akademia"),
        ctx.urls.issuer_id("centrum"),
        gone_ctx.urls.issuer_id("archiwum"),
    )
    issuer = Served(create_issuer_app(context=ctx), issuer_sock, "states-issuer-server")
    gone = Served(create_issuer_app(context=gone_ctx), gone_sock, "gone-issuer-server")
    verifier = Served(create_verifier_app(verifier_settings), verifier_sock, "states-verifier-server")
    started: list[Served] = []
    holder: socket.socket | None = None
    try:
        for server in (issuer, gone):
            server.start()
            started.append(server)
        unreachable = provider_site(gone_ctx, "archiwum", gone_key, verifier_url).issue_credential(
            "Marta Kowalska", "marta@example.org"
        )
        address = gone_sock.getsockname()
        gone.stop()
        started.remove(gone)
        holder = refusing_connections(address)
        verifier.start()
        started.append(verifier)
        yield StateSites(
            provider_site(ctx, "akademia", steady_key, verifier_url),
            provider_site(ctx, "centrum", compromised_key, verifier_url),
            unreachable,
        )
    finally:
        for server in reversed(started):
            server.stop()
        if holder is not None:
            holder.close()
        ctx.close()
        gone_ctx.close()


@pytest.fixture(scope="module")
def page_in(browser: Any) -> Iterator[Callable[[Viewport], Any]]:
    """``page_in(viewport)``: one page per window size for the whole module, set up as :func:`page_at` sets its
    pages up, its cookies cleared each time it is handed out.

    For a module that opens many pages, one after another, at the same sizes: a new context costs more than the
    page it then shows. What the previous test left (the address, the history) stays, so a test that takes this
    page must open its own address first.
    """
    pages: dict[str, Any] = {}

    def open_page(viewport: Viewport = DESKTOP) -> Any:
        if viewport.name not in pages:
            context = browser.new_context(**viewport.context_options())
            context.set_default_timeout(20_000)
            context.add_init_script(path=str(AXE))
            pages[viewport.name] = context.new_page()
        page = pages[viewport.name]
        page.context.clear_cookies()
        return page

    yield open_page
    for page in pages.values():
        page.context.close()
