"""The programme's signed registry of accredited issuers: made with ``issuer registry keygen|sign`` and read by
the verifier from a file or over HTTP (``VERIFIER_REGISTRY_URL`` + ``VERIFIER_REGISTRY_KEY``).

The registry has the last word on the issuers it lists: suspended or removed means ``untrusted_issuer`` even when
the verifier's local list names the issuer. Only the network edge is replaced (a custom httpx transport serves
the registry file at a URL); signatures are real.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from credentials.jose import encode_compact
from credentials.keys import PrivateKeySigner, generate_private_key, public_jwk
from issuer.cli import app as cli_app
from issuer.context import IssuerContext
from tests.conftest import ISSUER_URL, ProviderFixture, add_provider, check, issue, verify
from verifier.app import create_app as create_verifier_app
from verifier.settings import VerifierSettings

PASSPHRASE = "registry-test-passphrase-only"
REGISTRY_NAME = "Rejestr Kompetencje jutra"
REGISTRY_URL = "http://registry.test/registry.jwt"


# --------------------------------------------------------------------------------------------------------------
# helpers


def b64u_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def assert_valid(report: dict[str, Any]) -> None:
    assert report["verdict"] == "valid", report
    assert all(item["status"] == "passed" for item in report["checks"]), report


def assert_untrusted(report: dict[str, Any], detail: str) -> None:
    assert report["verdict"] == "invalid", report
    issuer = check(report, "issuer")
    assert (issuer["status"], issuer["code"]) == ("failed", "untrusted_issuer"), report
    assert detail in issuer["message"], issuer
    assert all(check(report, name)["status"] == "skipped" for name in ("key", "signature", "status")), report
    assert report["credential"] is None  # nothing about an untrusted credential is vouched for


def assert_registry_unavailable(report: dict[str, Any]) -> None:
    assert report["verdict"] == "indeterminate", report
    issuer = check(report, "issuer")
    assert (issuer["status"], issuer["code"]) == ("unknown", "registry_unavailable"), report
    assert "The issuer registry could not be read" in issuer["message"], issuer


def entry(
    issuer_id: str, status: str = "accredited", name: str = "WSEI Lublin", since: str = "2026-01-01"
) -> dict[str, str]:
    return {"id": issuer_id, "name": name, "status": status, "since": since}


class RegistryHost(httpx.AsyncBaseTransport):
    """The network: a static host serving the registry file, and the issuer app in-process for everything else."""

    def __init__(self, issuer_app: Any) -> None:
        self.inner = httpx.ASGITransport(app=issuer_app)
        self.token = b""
        self.cache_control = "public, max-age=600"
        self.down = False
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.seen.append(url)
        if url == REGISTRY_URL:
            if self.down:
                raise httpx.ConnectError("the registry host is down", request=request)
            headers = {"content-type": "application/jwt", "cache-control": self.cache_control}
            return httpx.Response(200, headers=headers, content=self.token)
        return await self.inner.handle_async_request(request)

    def registry_fetches(self) -> int:
        return self.seen.count(REGISTRY_URL)


@pytest.fixture
def registry_cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REGISTRY_KEY_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli_app, ["registry", *args])

    return run


@pytest.fixture
def registry_key(tmp_path: Path, registry_cli: Any) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "registry-key.pem"
    result = registry_cli("keygen", str(path))
    assert result.exit_code == 0, result.output
    jwk: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return path, jwk


@pytest.fixture
def sign(tmp_path: Path, registry_cli: Any, registry_key: tuple[Path, dict[str, Any]]) -> Any:
    """Sign a registry document with the CLI; return the path of the signed file."""
    counter = iter(range(1000))

    def run(issuers: list[dict[str, str]], name: str = REGISTRY_NAME, key: Path | None = None) -> Path:
        n = next(counter)
        source = tmp_path / f"registry-{n}.json"
        source.write_text(json.dumps({"name": name, "issuers": issuers}, ensure_ascii=False), "utf-8")
        out = tmp_path / f"registry-{n}.jwt"
        result = registry_cli("sign", str(source), "--key", str(key or registry_key[0]), "--out", str(out))
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"signed registry written to {out}"
        return out

    return run


@pytest.fixture
def issued(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> dict[str, Any]:
    return issue(issuer, provider, achievement)


@pytest.fixture
def host(issuer_app: Any) -> RegistryHost:
    return RegistryHost(issuer_app)


# --------------------------------------------------------------------------------------------------------------
# the CLI


def test_keygen_writes_an_encrypted_key_and_prints_the_public_jwk(tmp_path: Path, registry_cli: Any) -> None:
    path = tmp_path / "key.pem"
    result = registry_cli("keygen", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "public JWK (give it to verifiers as VERIFIER_REGISTRY_KEY):"
    jwk = json.loads(lines[-1])
    assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert jwk["kid"] and len(b64u_decode(jwk["x"])) == 32
    assert "d" not in jwk
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")  # bcrypt KDF, not PKCS#8 with PBKDF2

    again = registry_cli("keygen", str(path))
    assert again.exit_code == 1
    assert "refusing to overwrite a key" in again.stderr
    assert path.read_bytes() == pem


@pytest.mark.parametrize("passphrase", [None, "short", "passwordpassword"])
def test_keygen_needs_a_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_cli: Any, passphrase: str | None
) -> None:
    if passphrase is None:
        monkeypatch.delenv("REGISTRY_KEY_PASSPHRASE")
    else:
        monkeypatch.setenv("REGISTRY_KEY_PASSPHRASE", passphrase)
    result = registry_cli("keygen", str(tmp_path / "key.pem"))
    assert result.exit_code == 2
    assert "REGISTRY_KEY_PASSPHRASE" in result.stderr
    assert not (tmp_path / "key.pem").exists()


def test_signed_registry_verifies_with_the_public_jwk_alone(
    sign: Any, registry_key: tuple[Path, dict[str, Any]], provider: ProviderFixture
) -> None:
    _, jwk = registry_key
    before = int(time.time())
    token = sign([entry(provider.issuer_id)]).read_text("ascii").strip()
    header_segment, payload_segment, signature_segment = token.split(".")
    header = json.loads(b64u_decode(header_segment))
    assert header == {"alg": "EdDSA", "kid": jwk["kid"], "typ": "JWT"}
    public = Ed25519PublicKey.from_public_bytes(b64u_decode(jwk["x"]))
    public.verify(b64u_decode(signature_segment), f"{header_segment}.{payload_segment}".encode("ascii"))
    payload = json.loads(b64u_decode(payload_segment))
    assert payload["name"] == REGISTRY_NAME
    assert payload["issuers"] == [entry(provider.issuer_id)]
    assert before <= payload["iat"] <= int(time.time())


def test_sign_names_every_bad_entry(
    tmp_path: Path, registry_cli: Any, registry_key: tuple[Path, dict[str, Any]]
) -> None:
    source = tmp_path / "bad.json"
    source.write_text(
        json.dumps(
            {"issuers": [{"id": "http://x.test/i", "status": "pending"}, {"id": "ftp://x", "status": "removed"}]}
        )
    )
    out = tmp_path / "out.jwt"
    result = registry_cli("sign", str(source), "--key", str(registry_key[0]), "--out", str(out))
    assert result.exit_code == 1
    assert "issuers[0].status: must be one of accredited, suspended, removed" in result.stderr
    assert "issuers[1].id: must be an issuer id (URL or DID)" in result.stderr
    assert not out.exists()


def test_sign_with_a_wrong_passphrase_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_cli: Any, registry_key: tuple[Path, dict[str, Any]]
) -> None:
    source = tmp_path / "doc.json"
    source.write_text(json.dumps({"issuers": [entry(f"{ISSUER_URL}/issuers/wsei")]}))
    monkeypatch.setenv("REGISTRY_KEY_PASSPHRASE", "another-long-passphrase")
    out = tmp_path / "out.jwt"
    result = registry_cli("sign", str(source), "--key", str(registry_key[0]), "--out", str(out))
    assert result.exit_code == 1
    assert "the registry key cannot be used" in result.stderr
    assert not out.exists()


def test_sign_refuses_a_document_that_is_not_json(
    tmp_path: Path, registry_cli: Any, registry_key: tuple[Path, dict[str, Any]]
) -> None:
    source = tmp_path / "doc.json"
    source.write_text("issuers: []")
    result = registry_cli("sign", str(source), "--key", str(registry_key[0]), "--out", str(tmp_path / "o.jwt"))
    assert result.exit_code == 1
    assert "cannot be read as JSON" in result.stderr


# --------------------------------------------------------------------------------------------------------------
# the verifier with a registry file


def test_accredited_issuer_is_trusted_and_named(
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    registry = sign([entry(provider.issuer_id)])
    verifier = verifier_factory([], registry_url=str(registry), registry_key=json.dumps(registry_key[1]))
    report = verify(verifier, issued["jwt"])
    assert_valid(report)
    label = f"WSEI Lublin ({REGISTRY_NAME})"
    assert report["credential"]["registryName"] == label
    assert check(report, "issuer")["message"] == f"{label} ({provider.issuer_id}) is a trusted issuer."

    page = verifier.get("/verify", params={"credential": issued["jwt"], "lang": "pl"})
    assert 'data-verdict="valid"' in page.text
    assert f"Akredytowany w programie: {label}" in page.text.replace("\u00a0", " ")


def test_registry_key_from_a_file(
    tmp_path: Path,
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    key_file = tmp_path / "registry.jwk"
    key_file.write_text(json.dumps(registry_key[1]))
    registry = sign([entry(provider.issuer_id)])
    verifier = verifier_factory([], registry_url=str(registry), registry_key=str(key_file))
    assert_valid(verify(verifier, issued["jwt"]))


def test_registry_id_with_a_trailing_slash_matches(
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    registry = sign([entry(provider.issuer_id + "/")])
    verifier = verifier_factory([], registry_url=str(registry), registry_key=json.dumps(registry_key[1]))
    assert_valid(verify(verifier, issued["jwt"]))


@pytest.mark.parametrize("status", ["suspended", "removed"])
@pytest.mark.parametrize("locally_trusted", [False, True], ids=["registry-only", "also-local"])
def test_suspended_or_removed_issuer_is_untrusted(
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
    status: str,
    locally_trusted: bool,
) -> None:
    registry = sign([entry(provider.issuer_id, status=status, since="2026-03-01")])
    trusted = [provider.issuer_id] if locally_trusted else []
    verifier = verifier_factory(trusted, registry_url=str(registry), registry_key=json.dumps(registry_key[1]))
    assert_untrusted(verify(verifier, issued["jwt"]), f"the programme's registry lists it as {status} since 2026-03-01")


def test_issuer_neither_in_registry_nor_local_is_untrusted(
    ctx: IssuerContext,
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    other = add_provider(ctx, "inny")
    registry = sign([entry(other.issuer_id, name="Inny")])
    verifier = verifier_factory([], registry_url=str(registry), registry_key=json.dumps(registry_key[1]))
    assert_untrusted(verify(verifier, issued["jwt"]), "it is not in the programme's registry of issuers")


def test_issuer_only_in_the_local_list_is_trusted_without_a_registry_name(
    ctx: IssuerContext,
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    other = add_provider(ctx, "inny")
    registry = sign([entry(other.issuer_id, name="Inny")])
    verifier = verifier_factory(
        [provider.issuer_id], registry_url=str(registry), registry_key=json.dumps(registry_key[1])
    )
    report = verify(verifier, issued["jwt"])
    assert_valid(report)
    assert report["credential"]["registryName"] is None


def test_registry_without_a_name_shows_the_entry_name(
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
    tmp_path: Path,
    registry_cli: Any,
) -> None:
    source = tmp_path / "unnamed.json"
    source.write_text(json.dumps({"issuers": [entry(provider.issuer_id)]}))
    out = tmp_path / "unnamed.jwt"
    assert registry_cli("sign", str(source), "--key", str(registry_key[0]), "--out", str(out)).exit_code == 0
    verifier = verifier_factory([], registry_url=str(out), registry_key=json.dumps(registry_key[1]))
    report = verify(verifier, issued["jwt"])
    assert_valid(report)
    assert report["credential"]["registryName"] == "WSEI Lublin"


def other_registry_key(tmp_path: Path, registry_cli: Any) -> Path:
    path = tmp_path / "impostor-key.pem"
    assert registry_cli("keygen", str(path)).exit_code == 0
    return path


def test_registry_signed_by_another_key_is_unavailable(
    tmp_path: Path,
    verifier_factory: Any,
    sign: Any,
    registry_cli: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    forged = sign([entry(provider.issuer_id)], key=other_registry_key(tmp_path, registry_cli))
    verifier = verifier_factory([], registry_url=str(forged), registry_key=json.dumps(registry_key[1]))
    report = verify(verifier, issued["jwt"])
    assert_registry_unavailable(report)
    assert check(report, "status")["status"] == "skipped"


def test_registry_signed_by_another_key_falls_back_to_local_trust(
    tmp_path: Path,
    verifier_factory: Any,
    sign: Any,
    registry_cli: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    forged = sign([entry(provider.issuer_id, status="suspended")], key=other_registry_key(tmp_path, registry_cli))
    verifier = verifier_factory(
        [provider.issuer_id], registry_url=str(forged), registry_key=json.dumps(registry_key[1])
    )
    report = verify(verifier, issued["jwt"])
    assert_valid(report)  # the forged "suspended" is not believed; local trust stands
    assert report["credential"]["registryName"] is None


def test_tampered_registry_is_unavailable(
    tmp_path: Path,
    verifier_factory: Any,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    genuine = sign([entry("http://elsewhere.test/issuers/x")]).read_text("ascii").strip()
    header, payload, signature = genuine.split(".")
    claims = json.loads(b64u_decode(payload))
    claims["issuers"].append(entry(provider.issuer_id))
    edited = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(f"{header}.{edited}.{signature}")
    verifier = verifier_factory([], registry_url=str(tampered), registry_key=json.dumps(registry_key[1]))
    assert_registry_unavailable(verify(verifier, issued["jwt"]))


def test_registry_signed_with_the_issuers_own_key_is_unavailable(
    tmp_path: Path,
    ctx: IssuerContext,
    issuer: TestClient,
    verifier_factory: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    jwk = next(key for key in issuer.get("/.well-known/jwks.json").json()["keys"] if key["iss"] == provider.issuer_id)
    signer = ctx.keys.signer(provider.slug, jwk["kid"], jwk["alg"])
    path = tmp_path / "self-made.jwt"
    path.write_text(encode_compact({"name": "Fake", "issuers": [entry(provider.issuer_id)], "iat": 1}, signer))
    verifier = verifier_factory([], registry_url=str(path), registry_key=json.dumps(registry_key[1]))
    assert_registry_unavailable(verify(verifier, issued["jwt"]))


def test_registry_with_an_unknown_status_is_unavailable(
    tmp_path: Path, verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    """A registry signed correctly (by a key made in the test) but with an entry status nobody defined."""
    private = generate_private_key("EdDSA")
    jwk = public_jwk(private, "EdDSA")
    signer = PrivateKeySigner(jwk["kid"], "EdDSA", private)
    path = tmp_path / "odd.jwt"
    path.write_text(encode_compact({"issuers": [entry(provider.issuer_id, status="probation")], "iat": 1}, signer))
    verifier = verifier_factory([], registry_url=str(path), registry_key=json.dumps(jwk))
    assert_registry_unavailable(verify(verifier, issued["jwt"]))
    good = tmp_path / "good.jwt"
    good.write_text(encode_compact({"issuers": [entry(provider.issuer_id)], "iat": 1}, signer))
    assert_valid(verify(verifier_factory([], registry_url=str(good), registry_key=json.dumps(jwk)), issued["jwt"]))


def test_missing_registry_file_is_unavailable(
    tmp_path: Path,
    verifier_factory: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    verifier = verifier_factory(
        [], registry_url=str(tmp_path / "nowhere.jwt"), registry_key=json.dumps(registry_key[1])
    )
    assert_registry_unavailable(verify(verifier, issued["jwt"]))


def test_registry_url_without_a_key_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="VERIFIER_REGISTRY_KEY"):
        create_verifier_app(VerifierSettings(registry_url=str(tmp_path / "r.jwt")), client=httpx.AsyncClient())


def test_registry_key_with_private_material_is_refused(
    tmp_path: Path, registry_key: tuple[Path, dict[str, Any]]
) -> None:
    private = {**registry_key[1], "d": registry_key[1]["x"]}
    with pytest.raises(ValueError, match="not a usable public JWK"):
        create_verifier_app(
            VerifierSettings(registry_url=str(tmp_path / "r.jwt"), registry_key=json.dumps(private)),
            client=httpx.AsyncClient(),
        )


# --------------------------------------------------------------------------------------------------------------
# the verifier with a registry over HTTP


def test_registry_over_http_is_fetched_once_and_cached(
    verifier_factory: Any,
    host: RegistryHost,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    host.token = sign([entry(provider.issuer_id)]).read_bytes()
    verifier = verifier_factory([], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]))
    tokens = [
        issue(issuer, provider, achievement, recipient={"name": f"O {n}", "email": f"r{n}@example.org"})["jwt"]
        for n in range(3)
    ]
    for token in tokens:
        report = verify(verifier, token)
        assert_valid(report)
        assert report["credential"]["registryName"] == f"WSEI Lublin ({REGISTRY_NAME})"
    assert host.registry_fetches() == 1
    host.down = True
    assert_valid(verify(verifier, tokens[0]))  # the cached copy stands within its TTL
    assert host.registry_fetches() == 1


def test_registry_max_age_zero_is_fetched_each_time(
    verifier_factory: Any,
    host: RegistryHost,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    host.token = sign([entry(provider.issuer_id)]).read_bytes()
    host.cache_control = "no-cache"
    verifier = verifier_factory([], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]))
    assert_valid(verify(verifier, issued["jwt"]))
    assert_valid(verify(verifier, issued["jwt"]))
    assert host.registry_fetches() == 2


def test_registry_host_down_is_unavailable(
    verifier_factory: Any,
    host: RegistryHost,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    host.down = True
    verifier = verifier_factory([], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]))
    assert_registry_unavailable(verify(verifier, issued["jwt"]))
    local = verifier_factory(
        [provider.issuer_id], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1])
    )
    assert_valid(verify(local, issued["jwt"]))


def test_a_suspension_reaches_a_running_verifier_after_its_ttl(
    verifier_factory: Any,
    host: RegistryHost,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    host.token = sign([entry(provider.issuer_id)]).read_bytes()
    verifier = verifier_factory(
        [provider.issuer_id],
        transport=host,
        registry_url=REGISTRY_URL,
        registry_key=json.dumps(registry_key[1]),
        cache_ttl=1,
    )
    assert_valid(verify(verifier, issued["jwt"]))
    host.token = sign([entry(provider.issuer_id, status="suspended", since="2026-11-01")]).read_bytes()
    time.sleep(1.1)
    assert_untrusted(verify(verifier, issued["jwt"]), "lists it as suspended since 2026-11-01")


def test_links_to_registry_issuers_are_followed_and_others_are_not(
    verifier_factory: Any,
    host: RegistryHost,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    host.token = sign([entry(provider.issuer_id)]).read_bytes()
    verifier = verifier_factory([], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]))
    response = verifier.get("/verify", params={"credential": issued["id"]}, headers={"Accept": "application/json"})
    report = response.json()
    assert_valid(report)
    assert report["checks"][0]["id"] == "retrieval"

    host.token = sign([entry(provider.issuer_id, status="removed")]).read_bytes()
    fresh = verifier_factory([], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]))
    before = [url for url in host.seen if "/credentials/" in url]
    report = fresh.get("/verify", params={"credential": issued["id"]}, headers={"Accept": "application/json"}).json()
    assert report["verdict"] == "invalid"
    assert (check(report, "retrieval")["status"], check(report, "retrieval")["code"]) == ("failed", "untrusted_issuer")
    assert [url for url in host.seen if "/credentials/" in url] == before  # the credential was not fetched


def test_an_older_registry_does_not_replace_a_newer_one(
    verifier_factory: Any,
    host: RegistryHost,
    sign: Any,
    registry_key: tuple[Path, dict[str, Any]],
    provider: ProviderFixture,
    issued: dict[str, Any],
) -> None:
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=30), tick=False):
        old = sign([entry(provider.issuer_id)]).read_bytes()  # accredited, a month ago
    new = sign([entry(provider.issuer_id, status="suspended", since="2026-11-01")]).read_bytes()
    iat = [json.loads(b64u_decode(token.decode().split(".")[1]))["iat"] for token in (old, new)]
    assert iat[0] < iat[1]
    host.token = new
    verifier = verifier_factory(
        [], transport=host, registry_url=REGISTRY_URL, registry_key=json.dumps(registry_key[1]), cache_ttl=1
    )
    assert_untrusted(verify(verifier, issued["jwt"]), "lists it as suspended since 2026-11-01")
    host.token = old  # someone on the path replays last month's file
    time.sleep(1.1)
    assert_untrusted(verify(verifier, issued["jwt"]), "lists it as suspended since 2026-11-01")
