"""Shared fixtures: a fresh database per test (SQLite always, PostgreSQL when configured), an issuer app with a
provider and API key, and a verifier that reaches that issuer app in-process (only the network edge replaced).

Set ``ODZNAKA_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) to run every
database-backed test on PostgreSQL as well.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from issuer.api_keys import SCOPES, create_api_key
from issuer.app import create_app as create_issuer_app
from issuer.context import IssuerContext
from issuer.migrate import upgrade
from issuer.providers import create_provider
from issuer.settings import IssuerSettings
from verifier.app import create_app as create_verifier_app
from verifier.settings import VerifierSettings

ISSUER_URL = "http://issuer.test"
VERIFIER_URL = "http://verifier.test"
TEST_ONLY_PASSPHRASE = "test-only-passphrase-not-a-secret"
TEST_ONLY_SECRET_KEY = "test-only-server-secret-7c1e9a04d2b85f36e0a9d7c4b1f28e65"
TEST_ONLY_KDF_ROUNDS = 1
"""Key files in tests are written with one bcrypt round: the format is the same, the cost is not the point."""
POSTGRES_URL = os.environ.get("ODZNAKA_TEST_POSTGRES_URL")

# --------------------------------------------------------------------------------------------------------------
# Nothing personal in any log: every log record of the run (both apps, every level from INFO, in every worker)
# goes to a file, and when the run ends the files are searched for the test learners' names and e-mail addresses
# and for anything shaped like a token (which carries a name). A hit fails the run. The test clients' own request
# lines (logger ``httpx``) are left out: they are the harness, and quote what the tests send.

# Settings come from what each test builds, never from a developer's .env (``make run`` writes one); servers and
# commands started by tests inherit this.
os.environ["ODZNAKA_ENV_FILE"] = ""

LEARNER_MARKERS = ("anna nowak", "jan kowalski", "kowalsk", "osoba ", "@example.org", "anna@localhost", "grzegorz")
TOKEN_SHAPE = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}")
LOG_DIR_VARIABLE = "ODZNAKA_TEST_LOG_DIR"


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get(LOG_DIR_VARIABLE):
        os.environ[LOG_DIR_VARIABLE] = tempfile.mkdtemp(prefix="odznaka-test-logs-")  # workers inherit it
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    handler = logging.FileHandler(Path(os.environ[LOG_DIR_VARIABLE]) / f"{worker}.log", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.addFilter(lambda record: not record.name.startswith("httpx"))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def personal_data_in_logs(folder: Path) -> tuple[int, list[str]]:
    """(lines read, lines holding a learner's name or e-mail, or a token), with the offending text shortened."""
    lines = 0
    found = []
    for path in sorted(folder.glob("*.log")):
        for line in path.read_text("utf-8", "replace").splitlines():
            lines += 1
            lowered = line.lower()
            if any(marker in lowered for marker in LEARNER_MARKERS) or TOKEN_SHAPE.search(line):
                found.append(f"{path.name}: {line[:160]}")
    return lines, found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):
        return  # a worker: the controller reads every worker's file once all are done
    folder = Path(os.environ[LOG_DIR_VARIABLE])
    lines, found = personal_data_in_logs(folder)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter is not None:
            reporter.write_line(f"personal data in the logs of this run ({len(found)} lines, in {folder}):", red=True)
            for line in found[:20]:
                reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    if reporter is not None:
        reporter.write_line(f"logs of this run: {lines} lines, no learner's name, e-mail or token in them")
    if os.environ.get(LOG_DIR_VARIABLE, "").startswith(tempfile.gettempdir()):
        shutil.rmtree(folder, ignore_errors=True)


# ODZNAKA_TEST_BACKENDS=postgresql runs the database-backed tests on PostgreSQL only (CI's second pass).
BACKENDS = os.environ.get("ODZNAKA_TEST_BACKENDS", "sqlite,postgresql" if POSTGRES_URL else "sqlite").split(",")
if "postgresql" in BACKENDS and not POSTGRES_URL:
    raise RuntimeError("ODZNAKA_TEST_BACKENDS names postgresql but ODZNAKA_TEST_POSTGRES_URL is not set")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating per test would dominate the run time)."""
    path = tmp_path_factory.mktemp("template") / "issuer.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    if not POSTGRES_URL:
        yield None
        return
    name = f"odznaka_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_template: str | None
) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "issuer.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert POSTGRES_URL and postgres_template
    name = f"odznaka_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def issuer_settings(tmp_path: Path, database_url: str) -> IssuerSettings:
    return IssuerSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url=ISSUER_URL,
        verifier_url=VERIFIER_URL,
        key_passphrase=TEST_ONLY_PASSPHRASE,
        secret_key=TEST_ONLY_SECRET_KEY,
        key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
        # Providers sign RS256 by default; most tests use Ed25519 because RSA keys take long to generate. The
        # RS256 and ES256 paths have tests of their own.
        key_algorithm="EdDSA",
    )


@pytest.fixture
def ctx(issuer_settings: IssuerSettings) -> Iterator[IssuerContext]:
    context = IssuerContext.from_settings(issuer_settings)
    yield context
    context.close()


@dataclass
class ProviderFixture:
    slug: str
    issuer_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def add_provider(ctx: IssuerContext, slug: str, scopes: list[str] | None = None, **profile: Any) -> ProviderFixture:
    profile.setdefault("name", f"Provider {slug}")
    profile.setdefault("country", "PL")
    profile.setdefault("region", "lubelskie")
    create_provider(ctx, slug, **profile)
    return ProviderFixture(slug, ctx.urls.issuer_id(slug), create_api_key(ctx, slug, scopes or list(SCOPES)))


@pytest.fixture
def provider(ctx: IssuerContext) -> ProviderFixture:
    return add_provider(ctx, "wsei", name="Wyższa Szkoła Ekonomii i Innowacji", url="https://wsei.example")


@pytest.fixture
def issuer_app(ctx: IssuerContext, provider: ProviderFixture) -> Any:
    return create_issuer_app(context=ctx)


@pytest.fixture
def issuer(issuer_app: Any) -> Iterator[TestClient]:
    with TestClient(issuer_app, base_url=ISSUER_URL) as client:
        yield client


PLAIN_ACHIEVEMENT = {
    "name": "Podstawy Pythona",
    "description": "Pisze proste programy w Pythonie.",
    "criteria": {"narrative": "Ukończenie kursu i zaliczenie zadań."},
    "achievementType": "Course",
}


@pytest.fixture
def achievement(issuer: TestClient, provider: ProviderFixture) -> dict[str, Any]:
    response = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=provider.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def issue(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"achievement": achievement["id"], "recipient": {"name": "Anna Nowak", "email": "anna@example.org"}}
    body.update(extra)
    response = issuer.post("/api/v1/credentials", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def verifier_factory(issuer_app: Any) -> Iterator[Any]:
    """Build verifier clients that reach the issuer app in-process; trusted issuers given per call."""
    clients: list[TestClient] = []

    def build(trusted: list[str], transport: httpx.AsyncBaseTransport | None = None, **settings: Any) -> TestClient:
        http = httpx.AsyncClient(transport=transport or httpx.ASGITransport(app=issuer_app), base_url=ISSUER_URL)
        settings.setdefault("require_https", False)  # the in-process issuer is http://issuer.test
        app = create_verifier_app(
            VerifierSettings(public_url=VERIFIER_URL, trusted_issuers=tuple(trusted), **settings), client=http
        )
        client = TestClient(app, base_url=VERIFIER_URL)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def verifier(verifier_factory: Any, provider: ProviderFixture) -> TestClient:
    client: TestClient = verifier_factory([provider.issuer_id])
    return client


def verify(verifier: TestClient, token: str) -> dict[str, Any]:
    """``POST /api/v1/verify`` and return the report (always a 200 for a readable request)."""
    response = verifier.post("/api/v1/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def check(report: dict[str, Any], check_id: str) -> dict[str, Any]:
    """The one check with this id in a report."""
    found = [item for item in report["checks"] if item["id"] == check_id]
    assert len(found) == 1, report
    return found[0]


def path_of(url: str) -> str:
    """The path of an issuer URL, for the in-process client."""
    assert url.startswith(ISSUER_URL + "/"), url
    return url[len(ISSUER_URL) :]


def b64u_json(segment: str) -> dict[str, Any]:
    """Decode one JWS segment by hand (independently of the project's own decoder)."""
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return result


def payload_of(token: str) -> dict[str, Any]:
    return b64u_json(token.split(".")[1])


@pytest.fixture
def issuer_cli(monkeypatch: pytest.MonkeyPatch, issuer_settings: IssuerSettings, database_url: str) -> Iterator[Any]:
    """Run ``issuer …`` against the test's database, key store and checkpoint; returns typer's ``Result``."""
    from typer.testing import CliRunner

    from issuer.cli import app as cli_app
    from issuer.settings import get_settings

    monkeypatch.setenv("ISSUER_DATABASE_URL", database_url)
    monkeypatch.setenv("ISSUER_DATA_DIR", str(issuer_settings.data_dir))
    monkeypatch.setenv("ISSUER_KEY_PASSPHRASE", TEST_ONLY_PASSPHRASE)
    monkeypatch.setenv("ISSUER_SECRET_KEY", TEST_ONLY_SECRET_KEY)
    monkeypatch.setenv("ISSUER_KEY_KDF_ROUNDS", str(TEST_ONLY_KDF_ROUNDS))
    monkeypatch.setenv("ISSUER_PUBLIC_URL", ISSUER_URL)
    monkeypatch.setenv("ISSUER_VERIFIER_URL", VERIFIER_URL)
    for name in (
        "ISSUER_KEYS_DIR",
        "ISSUER_KEY_PASSPHRASE_FILE",
        "ISSUER_SECRET_KEY_FILE",
        "ISSUER_KEY_ALGORITHM",
        "ISSUER_AUDIT_CHECKPOINT_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Any:
        get_settings.cache_clear()
        return runner.invoke(cli_app, list(args), input=input)

    yield run
    get_settings.cache_clear()


# --------------------------------------------------------------------------------------------------------------
# The provider console: a browser signed in as one staff member (argon2 made cheap: the parameters are not the
# point of these tests, and tests/test_staff.py checks the real ones).


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from issuer import staff

    monkeypatch.setattr(staff, "password_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


TEST_ONLY_STAFF_PASSWORD = "test-only kettle harbour violet lantern"


def add_staff(ctx: IssuerContext, slug: str | None, email: str, role: str, name: str = "Ewa Zespół") -> Any:
    """A staff member who accepted their invitation (``slug=None`` with role ``operator``)."""
    from issuer import staff

    link = staff.invite(ctx, provider_slug=slug, email=email, role=role, actor="test")
    return staff.accept_invitation(ctx, link.rsplit("/", 1)[-1], name=name, password=TEST_ONLY_STAFF_PASSWORD)


def console_client(issuer_app: Any, ctx: IssuerContext, member: Any) -> TestClient:
    """A browser with a full session of ``member`` (its cookie set as the sign-in page would)."""
    from issuer import staff
    from issuer.console.web import SESSION_COOKIE

    client = TestClient(issuer_app, base_url=ISSUER_URL, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, staff.start_session(ctx, member, second_factor_done=True))
    return client


def csrf_of(client: TestClient, ctx: IssuerContext) -> str:
    """The CSRF token the console's forms carry for this client's session."""
    from issuer import staff
    from issuer.console.web import SESSION_COOKIE

    return staff.csrf_token(ctx, client.cookies[SESSION_COOKIE])


@pytest.fixture
def owner_console(issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture) -> Iterator[TestClient]:
    """The provider's owner, signed in to the console."""
    with console_client(issuer_app, ctx, add_staff(ctx, provider.slug, "wlasciciel@wsei.example", "owner")) as c:
        yield c
