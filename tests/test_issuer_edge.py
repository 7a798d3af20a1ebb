"""The issuer's HTTP edge under hostile or unlucky requests: bodies refused by their length before they are read,
API keys checked before any body, failed authentications audited and rate-limited, bounded numbers in paths and
queries, strict JSON (no NaN, Infinity, 1e999 or repeated members), a database outage answered 503 with
Retry-After and nothing lost, and the data directory private."""

from __future__ import annotations

import contextlib
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from issuer.app import MAX_BODY_BYTES
from issuer.app import create_app as create_issuer_app
from issuer.context import IssuerContext
from issuer.models import Achievement, AuditEntry, Credential
from tests.conftest import ISSUER_URL, PLAIN_ACHIEVEMENT, POSTGRES_URL, ProviderFixture, issue, path_of
from tests.helpers import ReceiveSpy

# --------------------------------------------------------------------------------------------------------------
# Bodies and authentication


def test_unauthenticated_request_is_refused_before_its_body_is_read(issuer_app: Any) -> None:
    spy = ReceiveSpy(issuer_app)
    with TestClient(spy, base_url=ISSUER_URL) as client:
        response = client.post("/api/v1/credentials", content=b'{"achievement": "x"}' * 1000)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert spy.body_reads == 0


def test_body_over_the_limit_is_refused_by_its_length(issuer_app: Any, provider: ProviderFixture) -> None:
    spy = ReceiveSpy(issuer_app)
    with TestClient(spy, base_url=ISSUER_URL) as client:
        response = client.post(
            "/api/v1/credentials",
            content=b" " * (MAX_BODY_BYTES + 1),
            headers={**provider.headers, "content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert spy.body_reads == 0


def test_body_without_a_length_is_cut_off_at_the_limit(issuer: TestClient, provider: ProviderFixture) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):
            sent += 16 * 1024
            yield b" " * (16 * 1024)

    response = issuer.post(
        "/api/v1/credentials", content=chunks(), headers={**provider.headers, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_public_pages_refuse_large_bodies_too(issuer: TestClient) -> None:
    response = issuer.post("/.well-known/jwks.json", content=b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413


# --------------------------------------------------------------------------------------------------------------
# Failed authentications: audited, limited


def failures(ctx: IssuerContext) -> list[AuditEntry]:
    with ctx.db.read() as session:
        query = select(AuditEntry).where(AuditEntry.action == "api_key.authentication_failed")
        return list(session.exec(query.order_by(col(AuditEntry.seq))).all())


def test_failed_authentication_is_audited_without_the_key(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    wrong = provider.api_key[:12] + "x" * 20
    response = issuer.get("/api/v1/achievements", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 401
    [entry] = failures(ctx)
    assert entry.subject == provider.api_key[:12]
    assert entry.details == {"reason": "unknown_key"}
    assert wrong not in str(entry.model_dump()) and "x" * 20 not in str(entry.model_dump())


def test_revoked_key_failure_names_its_provider(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issuer_cli: Any
) -> None:
    assert issuer.get("/api/v1/achievements", headers=provider.headers).status_code == 200
    result = issuer_cli("api-keys", "revoke", provider.slug, provider.api_key[:12])
    assert result.exit_code == 0, result.output
    assert issuer.get("/api/v1/achievements", headers=provider.headers).status_code == 401
    [entry] = failures(ctx)
    assert entry.details == {"reason": "revoked_key"}
    assert entry.provider_id is not None


def test_too_many_failures_from_one_client_are_refused_with_retry_after(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    limit = ctx.settings.auth_failures_per_minute
    with TestClient(issuer_app, base_url=ISSUER_URL, client=("203.0.113.7", 40000)) as client:
        statuses = [
            client.get("/api/v1/achievements", headers={"Authorization": f"Bearer odz_guess{n:04d}"}).status_code
            for n in range(limit + 2)
        ]
        blocked = client.get("/api/v1/achievements", headers=provider.headers)
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429, 429]
    assert blocked.status_code == 429, "a client over its limit is refused before any key is looked up"
    assert 0 < int(blocked.headers["retry-after"]) <= 60
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    assert len(failures(ctx)) == limit, "attempts refused at the gate are not each written to the audit log"
    with TestClient(issuer_app, base_url=ISSUER_URL, client=("203.0.113.8", 40000)) as other:
        assert other.get("/api/v1/achievements", headers=provider.headers).status_code == 200


def test_guesses_at_one_key_prefix_never_lock_out_its_owner(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    prefix = provider.api_key[:12]
    limit = ctx.settings.auth_failures_per_minute
    statuses = []
    for n in range(limit + 2):
        with TestClient(issuer_app, base_url=ISSUER_URL, client=(f"198.51.100.{n}", 40000)) as client:
            wrong = {"Authorization": f"Bearer {prefix}{'y' * 31}{n}"}
            statuses.append(client.get("/api/v1/achievements", headers=wrong).status_code)
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429, 429], "wrong keys with that prefix are refused once over the limit"
    with TestClient(issuer_app, base_url=ISSUER_URL, client=("198.51.100.200", 40000)) as owner:
        assert owner.get("/api/v1/achievements", headers=provider.headers).status_code == 200


def test_api_keys_list_and_revoke(issuer_cli: Any, issuer: TestClient, provider: ProviderFixture) -> None:
    listed = issuer_cli("api-keys", "list", provider.slug)
    assert listed.exit_code == 0, listed.output
    assert provider.api_key[:12] in listed.stdout and "active" in listed.stdout
    assert provider.api_key not in listed.stdout
    revoked = issuer_cli("api-keys", "revoke", provider.slug, provider.api_key[:12])
    assert revoked.stdout.strip() == f"API key {provider.api_key[:12]} revoked"
    assert "revoked 20" in issuer_cli("api-keys", "list", provider.slug).stdout
    again = issuer_cli("api-keys", "revoke", provider.slug, provider.api_key[:12])
    assert again.stdout.strip() == f"API key {provider.api_key[:12]} was already revoked"
    assert issuer.get("/api/v1/achievements", headers=provider.headers).status_code == 401
    unknown = issuer_cli("api-keys", "revoke", provider.slug, "odz_nothere")
    assert unknown.exit_code == 1 and "no API key starting with" in unknown.stderr


# --------------------------------------------------------------------------------------------------------------
# Numbers in paths and queries


@pytest.mark.parametrize(
    "path",
    [
        "/status/wsei/9223372036854775808",
        "/status/wsei/2147483648",
        "/status/wsei/0",
        "/status/wsei/-1",
        "/status/wsei/1e3",
    ],
)
def test_out_of_range_status_list_numbers_are_422(issuer: TestClient, path: str) -> None:
    response = issuer.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "number"


@pytest.mark.parametrize(
    "query", ["offset=9223372036854775808", "offset=-1", "limit=0", "limit=501", "limit=99999999999999999999"]
)
def test_out_of_range_paging_is_422(issuer: TestClient, provider: ProviderFixture, query: str) -> None:
    response = issuer.get(f"/api/v1/credentials?{query}", headers=provider.headers)
    assert response.status_code == 422, response.text


# --------------------------------------------------------------------------------------------------------------
# Strict JSON


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"evidence": [{"name": "x", "score": NaN}]', "evidence[0].score"),
        ('"evidence": [{"name": "x", "score": Infinity}]', "evidence[0].score"),
        ('"evidence": [{"name": "x", "score": -Infinity}]', "evidence[0].score"),
        ('"result": [{"value": 1e999}]', "result[0].value"),
        ('"narrative": "a", "narrative": "b"', "(root)"),
    ],
)
def test_numbers_json_cannot_carry_are_refused_with_their_place(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext, raw: str, field: str
) -> None:
    body = (
        '{"achievement": "'
        + achievement["id"]
        + '", "recipient": {"name": "Anna", "email": "anna@example.org"}, '
        + raw
        + "}"
    )
    response = issuer.post(
        "/api/v1/credentials", content=body, headers={**provider.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_request"
    assert error["fields"][0]["field"] == field
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


def test_achievement_alignment_with_nan_is_refused(issuer: TestClient, provider: ProviderFixture) -> None:
    body = (
        '{"name": "A", "description": "B", "criteria": {"narrative": "C"}, '
        '"alignment": [{"targetName": "x", "targetUrl": "https://esco.example/1", "weight": NaN}]}'
    )
    response = issuer.post(
        "/api/v1/achievements", content=body, headers={**provider.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["fields"][0]["field"] == "alignment[0].weight"


def test_an_achievement_stored_with_nan_cannot_poison_issuance(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """One stored before such values were refused: issuing from it names the field and stores nothing."""
    if ctx.db.dialect == "postgresql":
        pytest.skip("PostgreSQL's json type refuses NaN itself, so no such achievement can be stored there")
    achievement_id = achievement["id"].rsplit("/", 1)[-1]
    with ctx.db.engine.begin() as connection:
        nan = {"type": ["Alignment"], "targetName": "x", "targetUrl": "https://esco.example/1", "weight": float("nan")}
        document = {**achievement, "alignment": [nan]}
        connection.execute(
            Achievement.__table__.update()  # type: ignore[attr-defined]
            .where(Achievement.__table__.c.id == achievement_id)  # type: ignore[attr-defined]
            .values(document=document)
        )
    response = issuer.post(
        "/api/v1/credentials",
        json={"achievement": achievement["id"], "recipient": {"name": "Anna", "email": "anna@example.org"}},
        headers=provider.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "credentialSubject.achievement.alignment[0].weight"
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


# --------------------------------------------------------------------------------------------------------------
# The database going away


@contextlib.contextmanager
def database_down(ctx: IssuerContext) -> Iterator[None]:
    """Make the database unreachable for new connections, then bring it back."""
    url = make_url(str(ctx.db.engine.url))
    ctx.db.engine.dispose()
    if ctx.db.dialect == "sqlite":
        path = Path(str(url.database))
        hidden = path.with_name(path.name + ".away")
        path.rename(hidden)
        path.mkdir()  # a folder where the file was: "unable to open database file"
        try:
            yield
        finally:
            ctx.db.engine.dispose()
            path.rmdir()
            hidden.rename(path)
        return
    assert POSTGRES_URL
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        ctx.db.engine.dispose()


def test_database_outage_is_503_with_retry_after_and_loses_nothing(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any], issuer_app: Any
) -> None:
    with TestClient(issuer_app, base_url=ISSUER_URL, raise_server_exceptions=False) as client:
        issued = issue(client, provider, achievement)
        with database_down(ctx):
            answers = [
                client.post(
                    "/api/v1/credentials",
                    json={"achievement": achievement["id"], "recipient": {"name": "B", "email": "b@example.org"}},
                    headers=provider.headers,
                ),
                client.get("/api/v1/credentials", headers=provider.headers),
                client.get(path_of(issued["id"]), headers={"Accept": "application/json"}),
                client.get("/.well-known/jwks.json"),
                client.post(path_of(issued["links"]["self"]) + "/revoke", json={}, headers=provider.headers),
            ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"].isdigit()
            assert answer.json()["error"]["code"] == "service_unavailable"
        listed = client.get("/api/v1/credentials", headers=provider.headers).json()["items"]
        assert [item["id"] for item in listed] == [issued["id"]]
        assert client.get(path_of(issued["id"]) + "/status").json()["revoked"] is False


# --------------------------------------------------------------------------------------------------------------
# Files at rest


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_directory_database_and_wal_are_private(
    issuer_settings: Any, tmp_path: Path, database_url: str, achievement: dict[str, Any], issuer: TestClient
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the database files are PostgreSQL's own there")
    fresh = tmp_path / "fresh" / "data"
    settings = issuer_settings.model_copy(update={"data_dir": fresh, "database_url": None})
    from issuer.migrate import upgrade
    from tests.conftest import add_provider

    upgrade(settings.sqlalchemy_url)
    context = IssuerContext.from_settings(settings)
    try:
        added = add_provider(context, "prywatny")
        with TestClient(create_issuer_app(context=context), base_url=ISSUER_URL) as client:
            made = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=added.headers).json()
            issue(client, added, made)
    finally:
        context.close()
    assert mode(fresh) == 0o700
    for name in ("issuer.db", "issuer.db-wal", "issuer.db-shm", "audit-checkpoint.json"):
        if (fresh / name).exists():
            assert mode(fresh / name) == 0o600, name
    assert (fresh / "issuer.db").exists() and (fresh / "audit-checkpoint.json").exists()
    for path in (fresh / "keys").rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    shutil.rmtree(tmp_path / "fresh")
