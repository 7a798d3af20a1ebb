"""Private keys at rest, start-up refusal on unusable keys, the operator CLI, and the audit log's contents."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from sqlmodel import Session, select
from typer.testing import CliRunner

from credentials.encoding import b64url_encode
from issuer import audit
from issuer.app import create_app
from issuer.cli import app as cli_app
from issuer.context import IssuerContext
from issuer.errors import ConfigurationError
from issuer.models import ApiKey, AuditEntry, Credential, IdempotencyKey, Provider
from issuer.settings import IssuerSettings, get_settings
from tests.conftest import (
    ISSUER_URL,
    PLAIN_ACHIEVEMENT,
    TEST_ONLY_KDF_ROUNDS,
    TEST_ONLY_PASSPHRASE,
    TEST_ONLY_SECRET_KEY,
    VERIFIER_URL,
    ProviderFixture,
    issue,
)

PEM_HEADER = b"-----BEGIN OPENSSH PRIVATE KEY-----"


def key_files(settings: IssuerSettings) -> list[Path]:
    return sorted(settings.private_keys_dir.rglob("*.pem"))


def settings_like(settings: IssuerSettings, **changes: Any) -> IssuerSettings:
    values: dict[str, Any] = {
        "data_dir": settings.data_dir,
        "database_url": settings.database_url,
        "public_url": settings.public_url,
        "verifier_url": settings.verifier_url,
        "key_passphrase": TEST_ONLY_PASSPHRASE,
        "secret_key": TEST_ONLY_SECRET_KEY,
        "key_kdf_rounds": TEST_ONLY_KDF_ROUNDS,
    }
    values.update(changes)
    return IssuerSettings(**values)


def all_rows_text(database_url: str) -> str:
    """Every row of every table, as text: what an attacker with a database dump would see."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            chunks = []
            for table in inspect(connection).get_table_names():
                for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'):
                    chunks.append(" ".join(str(value) for value in row))
        return "\n".join(chunks)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------------------
# Private keys at rest
# --------------------------------------------------------------------------------------------------------------


def openssh_kdf(pem: bytes) -> tuple[str, str, int]:
    """(cipher, KDF, rounds) read from an OpenSSH private key file by hand (PROTOCOL.key of OpenSSH)."""
    body = base64.b64decode(b"".join(pem.strip().splitlines()[1:-1]))
    assert body.startswith(b"openssh-key-v1\0")
    offset = len(b"openssh-key-v1\0")

    def string() -> bytes:
        nonlocal offset
        length = int.from_bytes(body[offset : offset + 4], "big")
        value = body[offset + 4 : offset + 4 + length]
        offset += 4 + length
        return value

    cipher, kdf, options = string().decode(), string().decode(), string()
    salt_length = int.from_bytes(options[:4], "big")
    rounds = int.from_bytes(options[4 + salt_length : 8 + salt_length], "big")
    return cipher, kdf, rounds


def test_key_files_are_encrypted_with_bcrypt_kdf_and_0600(
    issuer: TestClient, issuer_settings: IssuerSettings, provider: ProviderFixture
) -> None:
    files = key_files(issuer_settings)
    jwks = issuer.get("/.well-known/jwks.json").json()["keys"]
    assert len(files) == len(jwks) == 1
    [path] = files
    [jwk] = jwks
    assert jwk["kid"] == f"{provider.issuer_id}/keys/{path.stem}", "the file is named by the key's thumbprint"
    assert path.parent.name == provider.slug
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0, "the provider's key folder is private too"
    pem = path.read_bytes()
    assert pem.startswith(PEM_HEADER)
    assert b"-----BEGIN PRIVATE KEY-----" not in pem
    assert openssh_kdf(pem) == ("aes256-ctr", "bcrypt", TEST_ONLY_KDF_ROUNDS)

    with pytest.raises((TypeError, ValueError)):
        serialization.load_ssh_private_key(pem, password=None)
    with pytest.raises(ValueError):
        serialization.load_ssh_private_key(pem, password=b"not-the-passphrase")
    key = serialization.load_ssh_private_key(pem, password=TEST_ONLY_PASSPHRASE.encode())
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert b64url_encode(raw) == jwk["x"], "the file holds the private half of the published key"


def test_new_provider_key_is_also_0600(ctx: IssuerContext, issuer_settings: IssuerSettings) -> None:
    from tests.conftest import add_provider

    add_provider(ctx, "pierwszy")
    add_provider(ctx, "drugi")
    files = key_files(issuer_settings)
    assert {path.parent.name for path in files} == {"pierwszy", "drugi"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(PEM_HEADER)


def test_no_secret_in_database(
    issuer: TestClient, issuer_settings: IssuerSettings, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issue(issuer, provider, achievement)
    dump = all_rows_text(issuer_settings.sqlalchemy_url)
    assert TEST_ONLY_PASSPHRASE not in dump
    assert provider.api_key not in dump
    assert "ENCRYPTED PRIVATE KEY" not in dump and "PRIVATE KEY" not in dump
    assert '"d"' not in dump and "'d'" not in dump, "no private JWK member stored"
    assert "anna@example.org" not in dump.lower()


def test_wrong_passphrase_refuses_to_start(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture
) -> None:
    assert create_app(settings=settings_like(issuer_settings)) is not None  # the right one starts
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings=settings_like(issuer_settings, key_passphrase="wrong-passphrase-but-long"))
    assert "passphrase" in raised.value.message
    assert provider.slug in raised.value.message
    assert "wrong-passphrase-but-long" not in raised.value.message


def test_missing_passphrase_refuses_to_start(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISSUER_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("ISSUER_KEY_PASSPHRASE_FILE", raising=False)
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings=settings_like(issuer_settings, key_passphrase=None))
    assert "ISSUER_KEY_PASSPHRASE" in raised.value.message


@pytest.mark.parametrize("weak", ["short", "passwordpassword", "Lublin2026!Lublin2026!", "aaaaaaaaaaaaaaaaaaaaaaaa"])
def test_guessable_passphrase_refuses_to_start(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture, weak: str
) -> None:
    with pytest.raises(ConfigurationError, match="too easy to guess") as raised:
        create_app(settings=settings_like(issuer_settings, key_passphrase=weak))
    assert weak not in raised.value.message


def test_default_kdf_rounds_cost_a_guesser_real_time() -> None:
    assert IssuerSettings().key_kdf_rounds >= 16


def test_passphrase_file(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture, tmp_path: Path
) -> None:
    good = tmp_path / "passphrase"
    good.write_text(TEST_ONLY_PASSPHRASE + "\n", "utf-8")
    assert create_app(settings=settings_like(issuer_settings, key_passphrase=None, key_passphrase_file=good))
    wrong = tmp_path / "wrong"
    wrong.write_text("another-long-passphrase\n", "utf-8")
    with pytest.raises(ConfigurationError, match="passphrase"):
        create_app(settings=settings_like(issuer_settings, key_passphrase=None, key_passphrase_file=wrong))
    with pytest.raises(ConfigurationError, match="ISSUER_KEY_PASSPHRASE_FILE"):
        create_app(
            settings=settings_like(issuer_settings, key_passphrase=None, key_passphrase_file=tmp_path / "absent")
        )


@pytest.mark.parametrize("damage", ["delete", "truncate", "garbage", "unencrypted"])
def test_unreadable_key_refuses_to_start(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture, damage: str
) -> None:
    [path] = key_files(issuer_settings)
    kid = path.stem
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:120])
    elif damage == "garbage":
        path.write_bytes(b"this is not a key\n")
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    with pytest.raises(ConfigurationError) as raised:
        create_app(settings=settings_like(issuer_settings))
    assert kid in raised.value.message


# --------------------------------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------------------------------

Invoke = Callable[..., Result]


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str) -> dict[str, str | None]:
    return {
        "ISSUER_DATA_DIR": str(tmp_path / "cli-data"),
        "ISSUER_DATABASE_URL": database_url,
        "ISSUER_KEY_PASSPHRASE": TEST_ONLY_PASSPHRASE,
        "ISSUER_KEY_PASSPHRASE_FILE": None,
        "ISSUER_SECRET_KEY": TEST_ONLY_SECRET_KEY,
        "ISSUER_SECRET_KEY_FILE": None,
        "ISSUER_KEY_KDF_ROUNDS": str(TEST_ONLY_KDF_ROUNDS),
        "ISSUER_KEYS_DIR": None,
        "ISSUER_KEY_ALGORITHM": None,
        "ISSUER_PUBLIC_URL": ISSUER_URL,
        "ISSUER_VERIFIER_URL": VERIFIER_URL,
    }


@pytest.fixture
def cli(cli_env: dict[str, str | None]) -> Iterator[Invoke]:
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        get_settings.cache_clear()
        try:
            return runner.invoke(cli_app, list(args), env={**cli_env, **(env or {})})
        finally:
            get_settings.cache_clear()

    yield invoke
    get_settings.cache_clear()


@pytest.fixture
def cli_settings(cli_env: dict[str, str | None]) -> IssuerSettings:
    return IssuerSettings(
        data_dir=Path(str(cli_env["ISSUER_DATA_DIR"])),
        database_url=cli_env["ISSUER_DATABASE_URL"],
        public_url=ISSUER_URL,
        verifier_url=VERIFIER_URL,
        key_passphrase=TEST_ONLY_PASSPHRASE,
        secret_key=TEST_ONLY_SECRET_KEY,
        key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
    )


@pytest.fixture
def cli_client(cli: Invoke, cli_settings: IssuerSettings) -> Iterator[Callable[[], TestClient]]:
    """Start the app on the CLI's data (only after the CLI has created what a test needs)."""
    clients: list[TestClient] = []

    def start() -> TestClient:
        client = TestClient(create_app(settings=cli_settings), base_url=ISSUER_URL)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result.stdout


def test_init_twice_is_idempotent(cli: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    env = {"ISSUER_DATA_DIR": str(data), "ISSUER_DATABASE_URL": None}
    first = ok(cli("init", env=env))
    assert "database ready" in first
    assert (data / "issuer.db").is_file()
    ok(cli("providers", "add", "wsei", "--name", "WSEI", "--country", "PL", env=env))
    second = ok(cli("init", env=env))
    assert second == first
    engine = create_engine(f"sqlite:///{data / 'issuer.db'}")
    try:
        with Session(engine) as session:
            assert [provider.slug for provider in session.exec(select(Provider)).all()] == ["wsei"]
    finally:
        engine.dispose()


def test_init_on_configured_database_is_idempotent(cli: Invoke, cli_settings: IssuerSettings) -> None:
    ok(cli("init"))
    ok(cli("init"))
    assert "database ready" in ok(cli("init"))
    assert TEST_ONLY_PASSPHRASE not in ok(cli("init"))


def test_providers_add(cli: Invoke, cli_settings: IssuerSettings, cli_client: Callable[[], TestClient]) -> None:
    out = ok(
        cli(
            "providers",
            "add",
            "wsei",
            "--name",
            "Wyższa Szkoła Ekonomii i Innowacji",
            "--country",
            "PL",
            "--region",
            "lubelskie",
            "--url",
            "https://wsei.example",
        )
    )
    assert f"{ISSUER_URL}/issuers/wsei" in out
    assert len(key_files(cli_settings)) == 1
    client = cli_client()
    profile = client.get("/issuers/wsei").json()
    assert profile["name"] == "Wyższa Szkoła Ekonomii i Innowacji"
    assert profile["address"]["addressCountry"] == "PL"
    assert profile["address"]["addressRegion"] == "lubelskie"
    assert profile["url"] == "https://wsei.example"
    assert [jwk["iss"] for jwk in client.get("/.well-known/jwks.json").json()["keys"]] == [f"{ISSUER_URL}/issuers/wsei"]


def test_duplicate_slug_fails_clearly(cli: Invoke, cli_settings: IssuerSettings) -> None:
    ok(cli("providers", "add", "wsei", "--name", "WSEI", "--country", "PL", "--region", "lubelskie"))
    result = cli("providers", "add", "wsei", "--name", "Inna nazwa", "--country", "PL", "--region", "lubelskie")
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "already exists" in result.stderr and "wsei" in result.stderr
    assert "Traceback" not in result.output
    assert len(key_files(cli_settings)) == 1, "no orphan key for the refused provider"
    engine = create_engine(cli_settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            [provider] = session.exec(select(Provider)).all()
            assert provider.name == "WSEI"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["Bad Slug", "--name", "X"], "slug"),
        (["ok", "--name", "X", "--country", "POL"], "country"),
        (["ok", "--name", "   "], "name"),
        (["ok", "--name", "X", "--url", "ftp://example.org"], "url"),
    ],
)
def test_providers_add_invalid_input_names_field(
    cli: Invoke, cli_settings: IssuerSettings, args: list[str], field: str
) -> None:
    result = cli("providers", "add", *args)
    assert result.exit_code == 1
    assert f"{field}:" in result.stderr
    assert key_files(cli_settings) == []


def test_api_key_add_prints_key_last_and_it_works(
    cli: Invoke, cli_settings: IssuerSettings, cli_client: Callable[[], TestClient]
) -> None:
    ok(cli("providers", "add", "wsei", "--name", "WSEI", "--country", "PL", "--region", "lubelskie"))
    out = ok(cli("api-keys", "add", "wsei", "--scope", "issue"))
    lines = out.strip().splitlines()
    key = lines[-1].strip()
    assert key.startswith("odz_") and " " not in key and len(key) >= 40
    assert "issue" in lines[0]
    manage_key = ok(cli("api-keys", "add", "wsei", "--scope", "manage")).strip().splitlines()[-1]
    assert manage_key != key

    engine = create_engine(cli_settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            stored = session.exec(select(ApiKey)).all()
            assert {row.key_hash for row in stored} == {
                hashlib.sha256(key.encode()).hexdigest(),
                hashlib.sha256(manage_key.encode()).hexdigest(),
            }
            assert {row.scopes for row in stored} == {"issue", "manage"}
    finally:
        engine.dispose()
    assert key not in all_rows_text(cli_settings.sqlalchemy_url)

    client = cli_client()
    issue_headers = {"Authorization": f"Bearer {key}"}
    manage_headers = {"Authorization": f"Bearer {manage_key}"}
    assert client.get("/api/v1/credentials", headers=issue_headers).status_code == 200
    refused = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=issue_headers)
    assert refused.status_code == 403 and refused.json()["error"]["scope"] == "manage"
    created = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=manage_headers)
    assert created.status_code == 201, created.text
    body = {"achievement": created.json()["id"], "recipient": {"name": "Anna Nowak", "email": "anna@example.org"}}
    assert client.post("/api/v1/credentials", json=body, headers=manage_headers).status_code == 403
    issued = client.post("/api/v1/credentials", json=body, headers=issue_headers)
    assert issued.status_code == 201, issued.text
    assert issued.json()["id"].startswith(f"{ISSUER_URL}/credentials/")


def test_api_key_add_errors(cli: Invoke) -> None:
    unknown = cli("api-keys", "add", "nobody")
    assert unknown.exit_code == 1 and "nobody" in unknown.stderr
    ok(cli("providers", "add", "wsei", "--name", "WSEI"))
    bad_scope = cli("api-keys", "add", "wsei", "--scope", "admin")
    assert bad_scope.exit_code == 1 and "scope" in bad_scope.stderr
    assert "odz_" not in bad_scope.stdout


def test_cli_without_passphrase_fails_clearly(cli: Invoke) -> None:
    result = cli("providers", "add", "wsei", "--name", "WSEI", env={"ISSUER_KEY_PASSPHRASE": None})
    assert result.exit_code == 2
    assert "ISSUER_KEY_PASSPHRASE" in result.stderr


def test_demo_prints_a_working_curl(
    cli: Invoke, cli_settings: IssuerSettings, cli_client: Callable[[], TestClient]
) -> None:
    out = ok(cli("demo"))
    [curl] = [line.strip() for line in out.splitlines() if line.strip().startswith("curl ")]
    words = shlex.split(curl)
    assert words[words.index("-X") + 1] == "POST"
    url = next(word for word in words if word.startswith("http"))
    assert url == f"{ISSUER_URL}/api/v1/credentials"
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"].startswith("Bearer odz_")
    body = json.loads(words[words.index("-d") + 1])
    assert body["recipient"]["email"] and body["achievement"].startswith(f"{ISSUER_URL}/achievements/")

    again = ok(cli("demo"))  # a second run reuses the demo provider and achievement
    assert body["achievement"] in again

    client = cli_client()
    response = client.post(url[len(ISSUER_URL) :], json=body, headers={"Authorization": headers["Authorization"]})
    assert response.status_code == 201, response.text
    achievement = client.get(body["achievement"][len(ISSUER_URL) :]).json()
    assert achievement["achievementType"] == "MicroCredential"


def test_serve_refuses_wrong_passphrase_before_binding(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    ok(cli("providers", "add", "wsei", "--name", "WSEI"))
    refused = cli("serve", env={"ISSUER_KEY_PASSPHRASE": "wrong-passphrase-but-long"})
    assert refused.exit_code != 0
    assert calls == []
    ok(cli("serve"))
    assert len(calls) == 1


@pytest.mark.parametrize(("flags", "expected"), [((), True), (("--no-worker",), False), (("--workers", "2"), False)])
def test_serve_runs_the_job_worker_in_its_process_unless_told_not_to(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], expected: bool
) -> None:
    """The app uvicorn builds from the factory reads the settings anew: it must see what ``serve`` decided."""
    import uvicorn

    from issuer.app import create_app

    built: list[bool] = []

    def factory_run(target: str, **kwargs: Any) -> None:
        assert target == "issuer.app:create_app" and kwargs["factory"]
        app = create_app()
        built.append(app.state.context.settings.embedded_worker)
        app.state.context.close()

    monkeypatch.setattr(uvicorn, "run", factory_run)
    monkeypatch.delenv("ISSUER_EMBEDDED_WORKER", raising=False)
    ok(cli("providers", "add", "wsei", "--name", "WSEI"))
    ok(cli("serve", *flags))
    assert built == [expected]


def test_serve_wrong_passphrase_message_is_clean(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: serve let the ConfigurationError escape as a traceback instead of 'error: …' and exit 2."""
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    ok(cli("providers", "add", "wsei", "--name", "WSEI"))
    refused = cli("serve", env={"ISSUER_KEY_PASSPHRASE": "wrong-passphrase-but-long"})
    assert isinstance(refused.exception, SystemExit) or refused.exception is None, repr(refused.exception)
    assert refused.exit_code in (1, 2)
    assert refused.stderr.startswith("error:") and "passphrase" in refused.stderr


# --------------------------------------------------------------------------------------------------------------
# The audit log
# --------------------------------------------------------------------------------------------------------------


def audit_rows(ctx: IssuerContext) -> list[AuditEntry]:
    with ctx.db.read() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)).all())  # type: ignore[arg-type]


def test_audit_holds_no_learner_data(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    learners = [("Zofia Wiśniewska", "Zofia.W@Example.org"), ("Grzegorz Brzęczyszczykiewicz", "grzegorz.b@example.org")]
    issued = [
        issue(issuer, provider, achievement, recipient={"name": name, "email": email}, narrative=f"Narracja {name}")
        for name, email in learners
    ]
    revoke = issuer.post(
        issued[0]["links"]["self"][len(ISSUER_URL) :] + "/revoke",
        json={"reason": "Zofia Wiśniewska poprosiła"},
        headers=provider.headers,
    )
    assert revoke.status_code == 200, revoke.text

    rows = audit_rows(ctx)
    actions = [row.action for row in rows]
    assert actions.count("credential.issued") == 2
    text = json.dumps([[row.actor, row.action, row.subject, row.details] for row in rows], ensure_ascii=False).lower()
    for name, email in learners:
        assert email.lower() not in text
        assert email.split("@")[0].lower() not in text
        assert name.lower() not in text
        for part in name.lower().split():
            assert part not in text
    assert "narracja" not in text
    assert provider.api_key.lower() not in text
    assert TEST_ONLY_PASSPHRASE not in text
    for credential in issued:
        payload = credential["jwt"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        for entry in claims["credentialSubject"]["identifier"]:
            assert entry["identityHash"].lower() not in text


def test_credential_and_audit_entry_are_stored_together(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    before = len(audit_rows(ctx))
    issued = [issue(issuer, provider, achievement, allowDuplicate=True) for _ in range(3)]
    with ctx.db.read() as session:
        records = {record.id: record for record in session.exec(select(Credential)).all()}
    entries = [row for row in audit_rows(ctx)[before:] if row.action == "credential.issued"]
    assert len(entries) == len(records) == 3
    assert sorted(entry.subject for entry in entries) == sorted(item["id"] for item in issued)
    for entry in entries:
        record = records[entry.subject.rsplit("/", 1)[-1]]
        assert entry.provider_id == record.provider_id
        assert entry.details["kid"] == record.kid
        assert entry.details["achievement"] == record.achievement_id == achievement["id"].rsplit("/", 1)[-1]
        assert entry.actor.startswith("api-key:") and provider.api_key.startswith(entry.actor.split(":", 1)[1])


def test_failed_audit_write_stores_no_credential(
    ctx: IssuerContext, issuer_app: Any, provider: ProviderFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issuance is atomic: if the audit entry cannot be written, the credential is not stored or handed out."""
    with TestClient(issuer_app, base_url=ISSUER_URL, raise_server_exceptions=False) as client:
        created = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=provider.headers)
        assert created.status_code == 201
        before = audit_rows(ctx)

        real = audit.record

        def broken(session: Session, **kwargs: Any) -> None:
            if kwargs.get("action") == "credential.issued":
                raise RuntimeError("audit storage unavailable")
            real(session, **kwargs)

        monkeypatch.setattr(audit, "record", broken)
        body = {"achievement": created.json()["id"], "recipient": {"name": "Anna Nowak", "email": "anna@example.org"}}
        headers = {**provider.headers, "Idempotency-Key": "atomic-1"}
        failed = client.post("/api/v1/credentials", json=body, headers=headers)
        assert failed.status_code == 500
        assert "jwt" not in failed.text and "eyJ" not in failed.text
        with ctx.db.read() as session:
            assert session.exec(select(Credential)).all() == []
            assert session.exec(select(IdempotencyKey)).all() == []
        assert len(audit_rows(ctx)) == len(before)

        monkeypatch.setattr(audit, "record", real)
        retried = client.post("/api/v1/credentials", json=body, headers=headers)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers
        with ctx.db.read() as session:
            assert len(session.exec(select(Credential)).all()) == 1


# --------------------------------------------------------------------------------------------------------------
# Key files written by earlier versions, stronger passphrases, generated secrets


def test_legacy_pkcs8_key_still_signs_and_reencrypt_rewrites_it(
    cli: Invoke, cli_settings: IssuerSettings, cli_client: Callable[[], TestClient], tmp_path: Path
) -> None:
    """A key file from before (PKCS#8, PBKDF2 with 2,048 iterations) keeps working; `issuer keys reencrypt`
    rewrites it in the current format, and under a new passphrase when given one."""
    ok(cli("init"))
    ok(cli("providers", "add", "wsei", "--name", "WSEI", "--country", "PL"))
    [path] = key_files(cli_settings)
    key = serialization.load_ssh_private_key(path.read_bytes(), TEST_ONLY_PASSPHRASE.encode())
    legacy = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(TEST_ONLY_PASSPHRASE.encode()),
    )
    path.write_bytes(legacy)
    client = cli_client()
    assert client.get("/healthz").status_code == 200, "the service starts with the older file"

    new_passphrase = tmp_path / "new-passphrase"
    new_passphrase.write_text("a-new-and-considerably-longer-passphrase-9f3c\n")
    out = ok(cli("keys", "reencrypt", "--new-passphrase-file", str(new_passphrase)))
    assert "1 of 1 key file(s) rewritten" in out
    pem = path.read_bytes()
    assert openssh_kdf(pem) == ("aes256-ctr", "bcrypt", TEST_ONLY_KDF_ROUNDS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(ValueError):
        serialization.load_ssh_private_key(pem, TEST_ONLY_PASSPHRASE.encode())
    again = serialization.load_ssh_private_key(pem, b"a-new-and-considerably-longer-passphrase-9f3c")
    raw = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert again.public_key().public_bytes(*raw) == key.public_key().public_bytes(*raw)
    assert not list(path.parent.glob(".*.new")), "no staged file left behind"

    refused = cli("keys", "reencrypt", "--new-passphrase-file", str(new_passphrase))
    assert refused.exit_code == 1 and "cannot be decrypted" in refused.stderr, "the old passphrase opens nothing now"
    ok(cli("keys", "reencrypt", env={"ISSUER_KEY_PASSPHRASE": new_passphrase.read_text().strip()}))


def test_reencrypt_reads_with_a_weak_passphrase_but_writes_only_under_a_strong_one(
    cli: Invoke, cli_settings: IssuerSettings, tmp_path: Path
) -> None:
    ok(cli("init"))
    ok(cli("providers", "add", "wsei", "--name", "WSEI", "--country", "PL"))
    weak = tmp_path / "weak"
    weak.write_text("passwordpassword\n")
    refused = cli("keys", "reencrypt", "--new-passphrase-file", str(weak))
    assert refused.exit_code == 2 and "too easy to guess" in refused.stderr


def test_secrets_generate_writes_a_private_random_secret_once(cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "secret"
    ok(cli("secrets", "generate", str(path)))
    secret = path.read_text().strip()
    assert len(secret) >= 43 and stat.S_IMODE(path.stat().st_mode) == 0o600
    refused = cli("secrets", "generate", str(path))
    assert refused.exit_code == 1 and path.read_text().strip() == secret
    other = tmp_path / "other"
    ok(cli("secrets", "generate", str(other)))
    assert other.read_text().strip() != secret


def test_server_secret_is_required_and_must_be_strong(
    ctx: IssuerContext, issuer_settings: IssuerSettings, provider: ProviderFixture
) -> None:
    with pytest.raises(ConfigurationError, match="ISSUER_SECRET_KEY"):
        create_app(settings=settings_like(issuer_settings, secret_key=None))
    with pytest.raises(ConfigurationError, match="too easy to guess"):
        create_app(settings=settings_like(issuer_settings, secret_key="lublin-lublin-lublin"))


# --------------------------------------------------------------------------------------------------------------
# the demo's settings file, and `make run`'s port check


def test_commands_read_the_settings_file_beneath_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from issuer.settings import get_settings as issuer_settings
    from verifier.settings import get_settings as verifier_settings

    env_file = tmp_path / "demo.env"
    env_file.write_text(
        "# Written by `make run` for the local demo\n"
        "ISSUER_PUBLIC_URL=http://127.0.0.1:8100\n"
        "VERIFIER_TRUSTED_ISSUERS=http://127.0.0.1:8100/issuers/demo\n",
        encoding="utf-8",
    )
    for name in ("ISSUER_PUBLIC_URL", "VERIFIER_TRUSTED_ISSUERS"):
        monkeypatch.delenv(name, raising=False)

    def read() -> tuple[str, tuple[str, ...]]:
        issuer_settings.cache_clear()
        verifier_settings.cache_clear()
        return issuer_settings().public_url, verifier_settings().trusted_issuers

    try:
        monkeypatch.setenv("ODZNAKA_ENV_FILE", str(env_file))
        assert read() == ("http://127.0.0.1:8100", ("http://127.0.0.1:8100/issuers/demo",))
        monkeypatch.setenv("ISSUER_PUBLIC_URL", "https://odznaka.example")
        assert read()[0] == "https://odznaka.example", "the environment wins over the file"
        monkeypatch.delenv("ISSUER_PUBLIC_URL")
        monkeypatch.setenv("ODZNAKA_ENV_FILE", "")
        assert read() == ("http://127.0.0.1:8000", ()), "an empty ODZNAKA_ENV_FILE reads no file"
    finally:
        issuer_settings.cache_clear()
        verifier_settings.cache_clear()


def test_make_run_stops_before_anything_when_a_port_is_taken(tmp_path: Path) -> None:
    import socket
    import subprocess

    root = Path(__file__).resolve().parents[1]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "ISSUER_PORT": str(port), "VERIFIER_PORT": "0", "ISSUER_DATA_DIR": str(tmp_path / "var")}
        run = subprocess.run(
            ["bash", str(root / "scripts" / "run-demo.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in run.stderr
    assert "ISSUER_PORT=8100 VERIFIER_PORT=8101 make run" in run.stderr
    assert not (tmp_path / "var").exists(), "nothing was created"
