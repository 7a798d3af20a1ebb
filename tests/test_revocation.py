"""Revocation through W3C Bitstring Status Lists: the provider API, what learners and verifiers see, how lists are
served and cached, how indexes are allocated, and every way a status list can fail to establish the status
(which must end in ``indeterminate`` / ``status_unavailable``, never ``valid``).

Only the network edge is replaced: the verifier reaches the issuer app through ``httpx.ASGITransport``, wrapped
so a test can take the issuer "down" or serve a hostile list at the URL a credential names. Hostile lists and
credentials are signed with the provider's real key from the issuer's key store.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from credentials.jose import Signer, encode_compact
from credentials.keys import PrivateKeySigner, generate_private_key, public_jwk
from issuer import repository
from issuer.api_keys import authenticate, create_api_key
from issuer.audit_verify import verify as verify_audit
from issuer.context import IssuerContext
from issuer.issuance import CredentialRequest, issue_credentials
from issuer.models import AuditEntry, Credential, StatusList
from issuer.providers import get_provider
from issuer.revocation import revoke as revoke_credential
from issuer.status_lists import allocate
from tests.conftest import (
    ISSUER_URL,
    PLAIN_ACHIEVEMENT,
    ProviderFixture,
    add_provider,
    b64u_json,
    check,
    issue,
    path_of,
    payload_of,
    verify,
)

STATUS_UNAVAILABLE_LEAD = "Signature and issuer verified; revocation status could not be checked."
REASON = "Plagiat w projekcie końcowym"


# --------------------------------------------------------------------------------------------------------------
# helpers


def header_of(token: str) -> dict[str, Any]:
    return b64u_json(token.split(".")[0])


def revoke(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any], body: Any = None) -> Any:
    """``POST {links.self}/revoke``."""
    url = path_of(issued["links"]["self"]) + "/revoke"
    if body is None:
        return issuer.post(url, headers=provider.headers)
    return issuer.post(url, json=body, headers=provider.headers)


def assert_valid(report: dict[str, Any]) -> None:
    assert report["verdict"] == "valid", report
    assert check(report, "status") == {
        "id": "status",
        "status": "passed",
        "code": "ok",
        "message": "The issuer's status list shows the credential is not revoked.",
    }


def assert_status_unavailable(report: dict[str, Any], detail: str) -> None:
    """Everything up to the status passed; the status is unknown: verdict indeterminate, never valid."""
    assert report["verdict"] == "indeterminate", report
    for check_id in ("format", "header", "issuer", "key", "signature", "claims", "schema", "validity"):
        assert check(report, check_id)["status"] == "passed", report
    status = check(report, "status")
    assert (status["status"], status["code"]) == ("unknown", "status_unavailable"), report
    assert status["message"].startswith(STATUS_UNAVAILABLE_LEAD), status
    assert detail in status["message"], status


def bits_set(encoded: str) -> list[int]:
    """Indexes set in an ``encodedList``, decoded with the standard library only."""
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return [n * 8 + b for n, value in enumerate(raw) if value for b in range(8) if value & (0x80 >> b)]


def encoded_by_hand(length_bits: int, indexes: list[int] = ()) -> str:  # type: ignore[assignment]
    raw = bytearray(length_bits // 8)
    for index in indexes:
        raw[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(raw))).decode("ascii").rstrip("=")


def signer_of(ctx: IssuerContext, provider: ProviderFixture, token: str) -> Signer:
    """The real signer of the key that signed ``token`` (from the issuer's key store)."""
    header = header_of(token)
    return ctx.keys.signer(provider.slug, header["kid"], header["alg"])


def resign(signer: Signer, token: str, **changes: Any) -> str:
    """The credential in ``token`` with ``changes`` applied, signed again by ``signer``."""
    claims = payload_of(token)
    claims.update(changes)
    return encode_compact(claims, signer)


def list_token(
    signer: Signer,
    url: str,
    issuer_id: str,
    encoded: str,
    *,
    purpose: str = "revocation",
    types: list[str] | None = None,
    ttl: int = 300_000,
) -> str:
    """A BitstringStatusListCredential VC-JWT, built field by field (not with the issuer's code)."""
    now = int(time.time())
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": types or ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded,
            "ttl": ttl,
        },
        "iss": issuer_id,
        "jti": url,
        "sub": f"{url}#list",
        "nbf": now,
    }
    return encode_compact(document, signer)


def entry(url: str, index: int | str, purpose: str = "revocation") -> dict[str, str]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


class Edge(httpx.AsyncBaseTransport):
    """The network between verifier and issuers: the issuer app in-process, canned answers for chosen URLs, and
    outages chosen by a predicate. Every request the verifier makes is recorded."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.canned: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.down: Callable[[httpx.Request], bool] = lambda request: False
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.seen.append(url)
        if self.down(request):
            raise httpx.ConnectError("the issuer is down", request=request)
        if url in self.canned:
            status, headers, body = self.canned[url]
            return httpx.Response(status, headers=headers, content=body)
        return await self.inner.handle_async_request(request)

    def serve_list(self, url: str, token: str, max_age: int = 300) -> None:
        self.canned[url] = (
            200,
            {"content-type": "application/vc+jwt", "cache-control": f"max-age={max_age}"},
            token.encode("ascii"),
        )

    def fetches(self, fragment: str) -> int:
        return sum(1 for url in self.seen if fragment in url)


def status_down(request: httpx.Request) -> bool:
    return request.url.path.startswith("/status/")


def everything_down(request: httpx.Request) -> bool:
    return True


@pytest.fixture
def edge(issuer_app: Any) -> Edge:
    return Edge(issuer_app)


@pytest.fixture
def issued(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> dict[str, Any]:
    return issue(issuer, provider, achievement)


@pytest.fixture
def other(ctx: IssuerContext) -> ProviderFixture:
    return add_provider(ctx, "inny", name="Inny Dostawca")


def audit_entries(ctx: IssuerContext, action: str, subject: str) -> list[AuditEntry]:
    with ctx.db.read() as session:
        query = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.subject == subject)
        return list(session.exec(query).all())


# --------------------------------------------------------------------------------------------------------------
# the status entry every credential carries


def test_credential_carries_one_bitstring_status_list_entry(issued: dict[str, Any], provider: ProviderFixture) -> None:
    status = payload_of(issued["jwt"])["credentialStatus"]
    assert isinstance(status, dict)
    index = status["statusListIndex"]
    assert isinstance(index, str) and index.isdecimal() and 0 <= int(index) < 131_072
    url = f"{ISSUER_URL}/status/{provider.slug}/1"
    assert status == {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": index,
        "statusListCredential": url,
    }


# --------------------------------------------------------------------------------------------------------------
# the revoke API


def test_revoke_via_api_answers_the_public_record(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    before = datetime.now(UTC)
    response = revoke(issuer, provider, issued, {"reason": f"  {REASON}  "})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "revoked", "revokedAt", "reason"}
    assert body["id"] == issued["id"] and body["revoked"] is True and body["reason"] == REASON
    revoked_at = datetime.fromisoformat(body["revokedAt"])
    assert revoked_at.tzinfo is not None and revoked_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert before <= revoked_at <= datetime.now(UTC)

    public = issuer.get(path_of(issued["id"]) + "/status")
    assert public.status_code == 200
    assert public.headers["cache-control"] == "no-cache"
    assert public.json() == body

    record = issuer.get(path_of(issued["links"]["self"]), headers=provider.headers).json()
    assert record["status"] == {"revoked": True, "revokedAt": body["revokedAt"], "reason": REASON}

    entries = audit_entries(ctx, "credential.revoked", issued["id"])
    assert len(entries) == 1
    index = int(payload_of(issued["jwt"])["credentialStatus"]["statusListIndex"])
    assert entries[0].details == {"status_index": index, "reissued": False}
    assert entries[0].actor.startswith("api-key:odz_")
    assert REASON not in json.dumps(entries[0].details, ensure_ascii=False)


def test_unrevoked_credential_public_record(issuer: TestClient, issued: dict[str, Any]) -> None:
    response = issuer.get(path_of(issued["id"]) + "/status")
    assert response.status_code == 200
    assert response.json() == {"id": issued["id"], "revoked": False}


def test_revoke_without_body_or_reason(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]) -> None:
    response = revoke(issuer, provider, issued)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revoked"] is True and "reason" not in body and body["revokedAt"]


def test_blank_reason_is_no_reason(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]) -> None:
    body = revoke(issuer, provider, issued, {"reason": "   "}).json()
    assert body["revoked"] is True and "reason" not in body


@pytest.mark.parametrize(
    "body", [{"reason": "x" * 501}, {"reason": "ok", "extra": 1}, {"reason": 5}], ids=["too-long", "extra", "type"]
)
def test_bad_revoke_body_is_422_and_changes_nothing(
    issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any], body: dict[str, Any]
) -> None:
    response = revoke(issuer, provider, issued, body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert issuer.get(path_of(issued["id"]) + "/status").json() == {"id": issued["id"], "revoked": False}


def test_second_revoke_is_a_harmless_no_op(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    first = revoke(issuer, provider, issued, {"reason": REASON})
    assert first.status_code == 200
    list_url = path_of(payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"])
    list_before = issuer.get(list_url)

    second = revoke(issuer, provider, issued, {"reason": "Inny powód"})
    assert second.status_code == 200, second.text
    assert second.json() == first.json()  # same date, the first reason kept
    assert issuer.get(path_of(issued["id"]) + "/status").json() == first.json()
    list_after = issuer.get(list_url)
    assert list_after.text == list_before.text  # not re-signed
    assert list_after.headers["etag"] == list_before.headers["etag"]
    assert len(audit_entries(ctx, "credential.revoked", issued["id"])) == 1


def test_revoke_needs_revoke_scope(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    issue_only = create_api_key(ctx, provider.slug, ["issue", "manage"])
    url = path_of(issued["links"]["self"]) + "/revoke"
    response = issuer.post(url, json={"reason": REASON}, headers={"Authorization": f"Bearer {issue_only}"})
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "permission_denied"
    assert issuer.get(path_of(issued["id"]) + "/status").json() == {"id": issued["id"], "revoked": False}
    assert audit_entries(ctx, "credential.revoked", issued["id"]) == []

    revoke_only = create_api_key(ctx, provider.slug, ["revoke"])
    response = issuer.post(url, json={"reason": REASON}, headers={"Authorization": f"Bearer {revoke_only}"})
    assert response.status_code == 200, response.text
    assert response.json()["revoked"] is True


def test_revoke_without_api_key_is_401(issuer: TestClient, issued: dict[str, Any]) -> None:
    response = issuer.post(path_of(issued["links"]["self"]) + "/revoke", json={"reason": REASON})
    assert response.status_code == 401
    assert issuer.get(path_of(issued["id"]) + "/status").json()["revoked"] is False


def test_other_provider_cannot_revoke(
    issuer: TestClient, ctx: IssuerContext, issued: dict[str, Any], other: ProviderFixture
) -> None:
    response = issuer.post(path_of(issued["links"]["self"]) + "/revoke", json={"reason": REASON}, headers=other.headers)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert issuer.get(path_of(issued["id"]) + "/status").json() == {"id": issued["id"], "revoked": False}
    assert audit_entries(ctx, "credential.revoked", issued["id"]) == []


def test_revoke_unknown_credential_is_404(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.post(
        "/api/v1/credentials/00000000-0000-0000-0000-000000000000/revoke", json={}, headers=provider.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --------------------------------------------------------------------------------------------------------------
# what the status list, the learner page and the verifier show


def test_reason_never_enters_the_status_list(
    issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    status = payload_of(issued["jwt"])["credentialStatus"]
    assert revoke(issuer, provider, issued, {"reason": REASON}).status_code == 200
    token = issuer.get(path_of(status["statusListCredential"])).text
    payload = payload_of(token)
    flat = json.dumps(payload, ensure_ascii=False)
    assert REASON not in flat and "Plagiat" not in flat and "reason" not in flat
    assert bits_set(payload["credentialSubject"]["encodedList"]) == [int(status["statusListIndex"])]
    assert set(payload["credentialSubject"]) == {"id", "type", "statusPurpose", "encodedList", "ttl"}


def test_learner_page_shows_state_date_and_reason(
    issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    page = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html", "Accept-Language": "pl"})
    assert page.status_code == 200
    assert "unieważnione" not in page.text

    body = revoke(issuer, provider, issued, {"reason": "<b>Plagiat</b> & kopia"}).json()
    day = datetime.fromisoformat(body["revokedAt"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Warsaw"))
    page = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html", "Accept-Language": "pl"})
    assert f"<strong>Unieważnione {day:%d.%m.%Y}</strong>" in page.text
    assert "Powód: &lt;b&gt;Plagiat&lt;/b&gt; &amp; kopia" in page.text
    assert "<b>Plagiat</b>" not in page.text
    assert "/qr.svg" not in page.text and "/certificate.pdf" not in page.text, "no QR code or download any more"

    english = issuer.get(path_of(issued["id"]) + "?lang=en", headers={"Accept": "text/html", "Accept-Language": "en"})
    assert f"<strong>Revoked on {day.day} {day:%b %Y}</strong>" in english.text
    assert "Reason: &lt;b&gt;Plagiat&lt;/b&gt; &amp; kopia" in english.text


def test_verifier_reports_revoked_with_date_and_reason(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    body = revoke(issuer, provider, issued, {"reason": REASON}).json()
    verifier = verifier_factory([provider.issuer_id])
    report = verify(verifier, issued["jwt"])
    assert report["verdict"] == "invalid"
    status = check(report, "status")
    assert (status["status"], status["code"]) == ("failed", "revoked")
    assert status["message"] == f"The issuer revoked this credential on {body['revokedAt'][:10]}. Reason: {REASON}"
    assert report["credential"]["revocation"] == {"revokedAt": body["revokedAt"], "reason": REASON}
    for check_id in ("format", "header", "issuer", "key", "signature", "claims", "schema", "validity"):
        assert check(report, check_id)["status"] == "passed"


def test_verifier_page_in_english_shows_revocation(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    body = revoke(issuer, provider, issued, {"reason": REASON}).json()
    verifier = verifier_factory([provider.issuer_id])
    page = verifier.get("/verify", params={"credential": issued["id"], "lang": "en"}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'data-verdict="invalid"' in page.text
    assert 'data-check="status" data-status="failed"' in page.text
    assert f"The issuer revoked this credential on {body['revokedAt'][:10]}." in page.text
    assert REASON in page.text


def test_verifier_page_in_polish_shows_revocation_date_and_reason(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    body = revoke(issuer, provider, issued, {"reason": REASON}).json()
    verifier = verifier_factory([provider.issuer_id])
    page = verifier.get("/verify", params={"credential": issued["id"], "lang": "pl"}, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'data-verdict="invalid"' in page.text
    day = datetime.fromisoformat(body["revokedAt"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Warsaw"))
    assert f'data-outcome="revoked">Unieważnione {day:%d.%m.%Y}</h1>' in page.text
    assert REASON in page.text.replace("\u00a0", " ")


def test_unrevoked_credential_verifies_valid(verifier: TestClient, issued: dict[str, Any]) -> None:
    report = verify(verifier, issued["jwt"])
    assert_valid(report)
    assert "revocation" not in report["credential"]


# --------------------------------------------------------------------------------------------------------------
# serving lists: Cache-Control, ETag, conditional GET


def test_status_list_http_caching(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]) -> None:
    url = path_of(payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"])
    first = issuer.get(url)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/vc+jwt")
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    assert issuer.get(url).headers["etag"] == etag

    not_modified = issuer.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert not_modified.headers["cache-control"] == "public, max-age=300"

    assert issuer.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200

    assert revoke(issuer, provider, issued, {"reason": REASON}).status_code == 200
    changed = issuer.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.text != first.text


def test_status_list_ttl_setting_drives_max_age(
    issuer_settings: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    from issuer.app import create_app

    settings = issuer_settings.model_copy(update={"status_list_ttl": 42})
    context = IssuerContext.from_settings(settings)
    try:
        with TestClient(create_app(context=context), base_url=ISSUER_URL) as client:
            issued = issue(client, provider, achievement)
            url = path_of(payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"])
            # the list was created (and signed) by this app, so its ttl (ms) follows the setting too
            response = client.get(url)
            assert response.headers["cache-control"] == "public, max-age=42"
            assert payload_of(response.text)["credentialSubject"]["ttl"] == 42_000
    finally:
        context.close()


def test_unknown_status_list_is_404(issuer: TestClient, provider: ProviderFixture, issued: dict[str, Any]) -> None:
    assert issuer.get(f"/status/{provider.slug}/2").status_code == 404
    assert issuer.get("/status/nobody/1").status_code == 404


# --------------------------------------------------------------------------------------------------------------
# index allocation


def test_indexes_are_random_and_unique(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    indexes = []
    for n in range(50):
        issued = issue(issuer, provider, achievement, recipient={"name": f"Osoba {n}", "email": f"o{n}@example.org"})
        status = payload_of(issued["jwt"])["credentialStatus"]
        assert status["statusListCredential"] == f"{ISSUER_URL}/status/{provider.slug}/1"
        indexes.append(int(status["statusListIndex"]))
    assert len(set(indexes)) == 50
    assert all(0 <= index < 131_072 for index in indexes)
    assert indexes != sorted(indexes) and indexes != sorted(indexes, reverse=True)
    steps = {b - a for a, b in itertools.pairwise(indexes)}
    assert len(steps) > 40, "indexes follow a pattern"
    assert max(indexes) - min(indexes) > 60_000, "indexes are bunched together"
    with ctx.db.read() as session:
        stored = session.exec(select(Credential.status_index)).all()
        listed = session.exec(select(StatusList)).all()
    assert None not in stored
    assert sorted(index for index in stored if index is not None) == sorted(indexes)
    assert [(item.number, item.length, item.allocated) for item in listed] == [(1, 131_072, 50)]


def test_batch_issuance_gets_distinct_random_indexes(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    principal = authenticate(ctx, f"Bearer {provider.api_key}")
    requests = [
        CredentialRequest.model_validate(
            {"achievement": achievement["id"], "recipient": {"name": f"Osoba {n}", "email": f"b{n}@example.org"}}
        )
        for n in range(200)
    ]
    issued = issue_credentials(ctx, principal, requests)
    indexes = [item.record.status_index for item in issued if item.record.status_index is not None]
    assert len(indexes) == 200 and len(set(indexes)) == 200
    assert [int(payload_of(item.record.jwt)["credentialStatus"]["statusListIndex"]) for item in issued] == indexes
    assert indexes != sorted(indexes)
    assert max(indexes) - min(indexes) > 100_000


def test_database_refuses_a_reused_index(ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]) -> None:
    with ctx.db.read() as session:
        original = session.exec(select(Credential)).one()
    copy = Credential(
        id="00000000-0000-0000-0000-000000000001",
        provider_id=original.provider_id,
        achievement_id=original.achievement_id,
        kid=original.kid,
        jwt=original.jwt,
        recipient_key="x" * 64,
        status_list_id=original.status_list_id,
        status_index=original.status_index,
    )
    with pytest.raises(IntegrityError), ctx.db.write() as session:
        session.add(copy)


def _signer_and_provider(ctx: IssuerContext, session: Any, slug: str) -> tuple[Any, Signer]:
    found = repository.provider_by_slug(session, slug)
    assert found is not None and found.id is not None
    key = repository.active_signing_key(session, found.id, datetime.now(UTC))
    assert key is not None
    return found, ctx.keys.signer(slug, key.kid, key.alg)


class _Rollback(Exception):
    pass


def test_allocation_spills_into_a_new_list_in_one_call(
    ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    """With one index used, asking for 131,071 + 3 takes every free index of list 1 and 3 of a new list 2."""
    used = int(payload_of(issued["jwt"])["credentialStatus"]["statusListIndex"])
    slots: list[tuple[int, int, int]] = []
    with pytest.raises(_Rollback), ctx.db.write() as session:
        found, signer = _signer_and_provider(ctx, session, provider.slug)
        for listed, index in allocate(ctx, session, found, 131_071 + 3, signer):
            slots.append((listed.number, listed.length, index))
        lists = session.exec(select(StatusList).order_by(col(StatusList.number))).all()
        assert [(item.number, item.allocated) for item in lists] == [(1, 131_072), (2, 3)]
        assert payload_of(lists[1].jwt)["id"] == f"{ISSUER_URL}/status/{provider.slug}/2"
        assert bits_set(payload_of(lists[1].jwt)["credentialSubject"]["encodedList"]) == []
        raise _Rollback
    first = [index for number, _, index in slots if number == 1]
    second = [index for number, length, index in slots if number == 2 and length == 131_072]
    assert len(first) == 131_071 and set(first) == set(range(131_072)) - {used}
    assert len(second) == 3 and len(set(second)) == 3 and all(0 <= index < 131_072 for index in second)
    with ctx.db.read() as session:  # rolled back: nothing changed
        lists = session.exec(select(StatusList)).all()
    assert [(item.number, item.allocated) for item in lists] == [(1, 1)]


def test_a_full_list_starts_a_new_one(
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    issued: dict[str, Any],
    verifier_factory: Any,
) -> None:
    """Reserve every remaining index of list 1 (as a cohort would), then the next credential lands on list 2."""
    used = int(payload_of(issued["jwt"])["credentialStatus"]["statusListIndex"])
    with ctx.db.write(serialize_on=None) as session:
        found, signer = _signer_and_provider(ctx, session, provider.slug)
        slots = allocate(ctx, session, found, 131_071, signer)
        assert {listed.number for listed, _ in slots} == {1}
        assert {index for _, index in slots} == set(range(131_072)) - {used}
    assert issuer.get(f"/status/{provider.slug}/2").status_code == 404

    nxt = issue(issuer, provider, achievement, recipient={"name": "Jan Kowalski", "email": "jan@example.org"})
    status = payload_of(nxt["jwt"])["credentialStatus"]
    url = f"{ISSUER_URL}/status/{provider.slug}/2"
    assert status["statusListCredential"] == url and status["id"] == f"{url}#{status['statusListIndex']}"
    with ctx.db.read() as session:
        lists = session.exec(select(StatusList).order_by(col(StatusList.number))).all()
    assert [(item.number, item.length, item.allocated) for item in lists] == [(1, 131_072, 131_072), (2, 131_072, 1)]

    served = issuer.get(path_of(url))
    assert served.status_code == 200
    assert payload_of(served.text)["id"] == url

    verifier = verifier_factory([provider.issuer_id], cache_ttl=0)
    assert_valid(verify(verifier, nxt["jwt"]))
    assert revoke(issuer, provider, nxt, {"reason": REASON}).status_code == 200
    assert bits_set(payload_of(issuer.get(path_of(url)).text)["credentialSubject"]["encodedList"]) == [
        int(status["statusListIndex"])
    ]
    assert bits_set(payload_of(issuer.get(f"/status/{provider.slug}/1").text)["credentialSubject"]["encodedList"]) == []
    assert check(verify(verifier, nxt["jwt"]), "status")["code"] == "revoked"
    assert_valid(verify(verifier, issued["jwt"]))

    # revoking on the full list re-signs that list only
    list_two = issuer.get(path_of(url)).text
    assert revoke(issuer, provider, issued, {"reason": REASON}).status_code == 200
    assert bits_set(payload_of(issuer.get(f"/status/{provider.slug}/1").text)["credentialSubject"]["encodedList"]) == [
        used
    ]
    assert issuer.get(path_of(url)).text == list_two
    assert check(verify(verifier, issued["jwt"]), "status")["code"] == "revoked"


def test_parallel_issuance_never_hands_out_an_index_twice(
    ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    if ctx.db.dialect != "postgresql":
        pytest.skip("parallel writers are a PostgreSQL concern; SQLite serialises every writer with BEGIN IMMEDIATE")
    principal = authenticate(ctx, f"Bearer {provider.api_key}")
    workers = 20
    barrier = threading.Barrier(workers)

    def one(n: int) -> Credential:
        request = CredentialRequest.model_validate(
            {"achievement": achievement["id"], "recipient": {"name": f"Osoba {n}", "email": f"p{n}@example.org"}}
        )
        if n < workers:
            barrier.wait(timeout=30)
        return issue_credentials(ctx, principal, [request])[0].record

    with ThreadPoolExecutor(workers) as pool:
        records = list(pool.map(one, range(40)))
    indexes = [(record.status_list_id, record.status_index) for record in records]
    assert len(set(indexes)) == 40
    with ctx.db.read() as session:
        stored = session.exec(select(Credential.status_list_id, Credential.status_index)).all()
        lists = session.exec(select(StatusList)).all()
        assert ctx.db.audit_seal is not None
        audit = verify_audit(session, ctx.db.audit_seal)
    assert len(stored) == 40 and len(set(stored)) == 40
    assert [(item.number, item.allocated) for item in lists] == [(1, 40)]
    assert audit.intact, audit.problems


def test_parallel_issuance_over_http(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    if ctx.db.dialect != "postgresql":
        pytest.skip("parallel writers are a PostgreSQL concern; SQLite serialises every writer with BEGIN IMMEDIATE")
    barrier = threading.Barrier(20)

    def one(n: int) -> int:
        with TestClient(issuer_app, base_url=ISSUER_URL) as client:
            barrier.wait(timeout=30)
            issued = issue(client, provider, achievement, recipient={"name": f"O {n}", "email": f"h{n}@example.org"})
        return int(payload_of(issued["jwt"])["credentialStatus"]["statusListIndex"])

    with ThreadPoolExecutor(20) as pool:
        indexes = list(pool.map(one, range(20)))
    assert len(set(indexes)) == 20
    with ctx.db.read() as session:
        assert [item.allocated for item in session.exec(select(StatusList)).all()] == [20]


# --------------------------------------------------------------------------------------------------------------
# the verifier: caching and outages


def test_warm_cache_survives_an_issuer_outage(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_valid(verify(verifier, issued["jwt"]))
    assert edge.fetches("/status/") == 1 and edge.fetches("/.well-known/jwks.json") == 1
    edge.down = everything_down
    before = len(edge.seen)
    assert_valid(verify(verifier, issued["jwt"]))
    assert_valid(verify(verifier, issued["jwt"]))
    assert len(edge.seen) == before, "a warm cache must not contact the issuer"


def test_one_list_fetch_serves_many_credentials(
    issuer: TestClient, verifier_factory: Any, edge: Edge, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    tokens = [
        issue(issuer, provider, achievement, recipient={"name": f"O {n}", "email": f"c{n}@example.org"})["jwt"]
        for n in range(5)
    ]
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    for token in tokens:
        assert_valid(verify(verifier, token))
    assert edge.fetches(f"/status/{provider.slug}/1") == 1
    assert not [url for url in edge.seen if "/credentials/" in url], "no per-credential query (herd privacy)"


def test_cache_ttl_zero_fetches_every_time(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=0)
    for _ in range(3):
        assert_valid(verify(verifier, issued["jwt"]))
    assert edge.fetches("/status/") == 3


def test_cold_cache_with_status_list_down_is_indeterminate(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    edge.down = status_down
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, issued["jwt"]), "could not be fetched")


def test_cold_cache_with_issuer_down_is_indeterminate(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    edge.down = everything_down
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report = verify(verifier, issued["jwt"])
    assert report["verdict"] == "indeterminate"
    assert (check(report, "key")["status"], check(report, "key")["code"]) == ("unknown", "keys_unavailable")
    assert check(report, "status")["status"] == "skipped"


def test_expired_cache_with_issuer_down_is_indeterminate(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=1)
    assert_valid(verify(verifier, issued["jwt"]))
    edge.down = status_down
    assert_valid(verify(verifier, issued["jwt"]))  # within the TTL
    time.sleep(1.1)
    assert_status_unavailable(verify(verifier, issued["jwt"]), "could not be refreshed")


def test_whole_issuer_down_after_expiry_uses_last_known_keys_but_never_says_valid(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    """Keys and list both expired, issuer unreachable: the signature is still checked with the last known keys,
    and the answer is indeterminate with the status explained, never valid."""
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=1)
    assert_valid(verify(verifier, issued["jwt"]))
    edge.down = everything_down
    time.sleep(1.1)
    report = verify(verifier, issued["jwt"])
    assert report["verdict"] == "indeterminate"
    assert check(report, "key")["status"] == "passed" and "last known keys" in check(report, "key")["message"]
    assert check(report, "signature")["status"] == "passed"
    assert_status_unavailable(report, "could not be")


def test_stale_keys_still_catch_a_forged_signature(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=1)
    assert_valid(verify(verifier, issued["jwt"]))
    edge.down = everything_down
    time.sleep(1.1)
    header, payload, signature = issued["jwt"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    report = verify(verifier, tampered)
    assert report["verdict"] == "invalid"
    assert (check(report, "signature")["status"], check(report, "signature")["code"]) == ("failed", "bad_signature")


def test_list_max_age_caps_the_verifier_cache(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    """A list served with ``Cache-Control: no-cache`` is fetched again each time, whatever VERIFIER_CACHE_TTL."""
    url = ISSUER_URL + CANNED
    token = list_token(signer_of(ctx, provider, issued["jwt"]), url, provider.issuer_id, encoded_by_hand(131_072))
    edge.canned[url] = (200, {"content-type": "application/vc+jwt", "cache-control": "no-cache"}, token.encode())
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=3600)
    credential = forged(entry(url, 7))
    assert_valid(verify(verifier, credential))
    assert_valid(verify(verifier, credential))
    assert edge.fetches(CANNED) == 2


def test_list_ttl_member_caps_the_verifier_cache(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    """The list's own ``ttl`` (milliseconds; here 0) is respected even when Cache-Control allows 300 s."""
    url = ISSUER_URL + CANNED
    signer = signer_of(ctx, provider, issued["jwt"])
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072), ttl=0), max_age=300)
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=3600)
    credential = forged(entry(url, 7))
    assert_valid(verify(verifier, credential))
    assert_valid(verify(verifier, credential))
    assert edge.fetches(CANNED) == 2


def test_issuer_lists_are_cached_for_their_max_age(
    verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=3600)
    for _ in range(3):
        assert_valid(verify(verifier, issued["jwt"]))
    assert edge.fetches("/status/") == 1


def test_revocation_is_seen_after_the_cache_expires(
    issuer: TestClient, verifier_factory: Any, edge: Edge, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    verifier = verifier_factory([provider.issuer_id], transport=edge, cache_ttl=1)
    assert_valid(verify(verifier, issued["jwt"]))
    assert revoke(issuer, provider, issued, {"reason": REASON}).status_code == 200
    assert_valid(verify(verifier, issued["jwt"]))  # the cached list still says "not revoked"
    time.sleep(1.1)
    report = verify(verifier, issued["jwt"])
    assert report["verdict"] == "invalid" and check(report, "status")["code"] == "revoked"


# --------------------------------------------------------------------------------------------------------------
# the verifier: hostile or broken lists -> indeterminate / status_unavailable

CANNED = "/status/wsei/77"


@pytest.fixture
def forged(ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]) -> Callable[..., str]:
    """The issued credential re-signed by the provider's real key with another ``credentialStatus``."""
    signer = signer_of(ctx, provider, issued["jwt"])

    def build(status: Any) -> str:
        return resign(signer, issued["jwt"], credentialStatus=status)

    return build


def test_control_a_well_formed_canned_list_is_read(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    """The harness works: a correct list at the canned URL is used both ways (bit clear, bit set)."""
    url = ISSUER_URL + CANNED
    signer = signer_of(ctx, provider, issued["jwt"])
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072, [4243])))
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_valid(verify(verifier, forged(entry(url, 4242))))
    report = verify(verifier, forged(entry(url, 4243)))
    assert report["verdict"] == "invalid" and check(report, "status")["code"] == "revoked"
    assert edge.fetches(CANNED) == 1


def test_list_too_short(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    url = ISSUER_URL + CANNED
    signer = signer_of(ctx, provider, issued["jwt"])
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_064, [5])))
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 5))), "has 131064 entries; at least 131072")


@pytest.mark.parametrize("index", ["131072", "999999999999"])
def test_index_out_of_range(
    verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any], forged: Callable[..., str], index: str
) -> None:
    url = payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"]
    verifier = verifier_factory([provider.issuer_id])
    assert_status_unavailable(
        verify(verifier, forged(entry(url, index))), f"The status index {index} is outside the list of 131072 entries"
    )


@pytest.mark.parametrize("index", ["-1", "1e3", "0x10", "", " 5"])
def test_index_not_decimal(
    verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any], forged: Callable[..., str], index: str
) -> None:
    url = payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"]
    verifier = verifier_factory([provider.issuer_id])
    assert_status_unavailable(verify(verifier, forged(entry(url, index))), "not a decimal number")


def test_index_with_a_non_decimal_digit_character(
    verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any], forged: Callable[..., str]
) -> None:
    url = payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"]
    verifier = verifier_factory([provider.issuer_id])
    assert_status_unavailable(verify(verifier, forged(entry(url, "\u00b2"))), "not a decimal number")


def test_list_signed_by_another_providers_key(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    other: ProviderFixture,
    forged: Callable[..., str],
) -> None:
    jwks = issuer.get("/.well-known/jwks.json").json()["keys"]
    theirs = next(jwk for jwk in jwks if jwk["iss"] == other.issuer_id)
    signer = ctx.keys.signer(other.slug, theirs["kid"], theirs["alg"])
    url = ISSUER_URL + CANNED
    # names our provider as its issuer, but is signed with the other provider's (published, same-host) key
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072)))
    verifier = verifier_factory([provider.issuer_id, other.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "not signed by a usable key of the issuer")


def test_list_issued_by_another_provider(
    ctx: IssuerContext,
    issuer: TestClient,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    other: ProviderFixture,
    forged: Callable[..., str],
) -> None:
    jwks = issuer.get("/.well-known/jwks.json").json()["keys"]
    theirs = next(jwk for jwk in jwks if jwk["iss"] == other.issuer_id)
    signer = ctx.keys.signer(other.slug, theirs["kid"], theirs["alg"])
    url = ISSUER_URL + CANNED
    edge.serve_list(url, list_token(signer, url, other.issuer_id, encoded_by_hand(131_072)))
    verifier = verifier_factory([provider.issuer_id, other.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "not issued by the credential's issuer")


def test_list_signed_by_a_fresh_key(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    private = generate_private_key("EdDSA")
    fresh = PrivateKeySigner(public_jwk(private, "EdDSA")["kid"], "EdDSA", private)
    url = ISSUER_URL + CANNED
    edge.serve_list(url, list_token(fresh, url, provider.issuer_id, encoded_by_hand(131_072)))
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "not signed by a usable key of the issuer")


def test_list_with_the_real_kid_but_a_forged_signature(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    real = signer_of(ctx, provider, issued["jwt"])
    private = generate_private_key("EdDSA")
    impostor = PrivateKeySigner(real.kid, "EdDSA", private)  # claims the provider's kid
    url = ISSUER_URL + CANNED
    edge.serve_list(url, list_token(impostor, url, provider.issuer_id, encoded_by_hand(131_072)))
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "The status list does not verify")


def test_gzip_bomb_in_encoded_list(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    bomb = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(8 * 1024 * 1024), 9)).decode().rstrip("=")
    url = ISSUER_URL + CANNED
    token = list_token(signer_of(ctx, provider, issued["jwt"]), url, provider.issuer_id, bomb)
    assert len(token) < 16 * 1024  # the bomb reaches the inflater rather than a size limit
    edge.serve_list(url, token)
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "inflates beyond 2097152 bytes; refused")


def test_status_list_on_a_foreign_origin_is_not_fetched(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    url = "http://evil.test/status/wsei/1"
    signer = signer_of(ctx, provider, issued["jwt"])
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072)))  # a perfect list
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "not on the issuer's own site")
    assert not [seen for seen in edge.seen if "evil.test" in seen]


def test_status_list_redirect_is_not_followed(
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    url = ISSUER_URL + CANNED
    real = payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"]
    edge.canned[url] = (302, {"location": real}, b"")
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report = verify(verifier, forged(entry(url, 7)))
    assert_status_unavailable(report, "did not provide the document")
    assert "302" not in check(report, "status")["message"], "an upstream status is never passed on"
    assert edge.fetches(path_of(real)) == 0


def test_list_with_another_purpose(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    url = ISSUER_URL + CANNED
    signer = signer_of(ctx, provider, issued["jwt"])
    edge.serve_list(url, list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072), purpose="suspension"))
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "purpose does not match")


def test_document_that_is_not_a_status_list(
    ctx: IssuerContext,
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    issued: dict[str, Any],
    forged: Callable[..., str],
) -> None:
    url = ISSUER_URL + CANNED
    signer = signer_of(ctx, provider, issued["jwt"])
    token = list_token(signer, url, provider.issuer_id, encoded_by_hand(131_072), types=["VerifiableCredential"])
    edge.serve_list(url, token)
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_status_unavailable(verify(verifier, forged(entry(url, 7))), "not a BitstringStatusListCredential")


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (404, b"", "has no such document"),
        (200, b"not a jwt", "not a well-formed VC-JWT"),
        (500, b"", "did not provide the document"),
        (418, b"", "did not provide the document"),
    ],
)
def test_list_that_cannot_be_had(
    verifier_factory: Any,
    edge: Edge,
    provider: ProviderFixture,
    forged: Callable[..., str],
    status: int,
    body: bytes,
    detail: str,
) -> None:
    url = ISSUER_URL + CANNED
    edge.canned[url] = (status, {"content-type": "application/vc+jwt"}, body)
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    report = verify(verifier, forged(entry(url, 7)))
    assert_status_unavailable(report, detail)
    assert str(status) not in check(report, "status")["message"], "an upstream status is never passed on"


def test_unknown_entry_type_or_purpose(
    verifier_factory: Any, provider: ProviderFixture, issued: dict[str, Any], forged: Callable[..., str]
) -> None:
    url = payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"]
    verifier = verifier_factory([provider.issuer_id])
    assert_status_unavailable(
        verify(verifier, forged({**entry(url, 7), "type": "StatusList2021Entry"})), "not a BitstringStatusListEntry"
    )
    assert_status_unavailable(verify(verifier, forged(entry(url, 7, purpose="message"))), "is not supported")


def test_parallel_revocations_all_reach_the_list(
    issuer_app: Any, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """Each revocation re-signs the list from what is committed; none may overwrite another's bit."""
    items = [
        issue(issuer, provider, achievement, recipient={"name": f"O {n}", "email": f"v{n}@example.org"})
        for n in range(16)
    ]
    barrier = threading.Barrier(8)

    def one(item: dict[str, Any]) -> int:
        with TestClient(issuer_app, base_url=ISSUER_URL) as client:
            barrier.wait(timeout=30)
            status: int = revoke(client, provider, item, {"reason": REASON}).status_code
            return status

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, items)) == [200] * 16
    indexes = sorted(int(payload_of(item["jwt"])["credentialStatus"]["statusListIndex"]) for item in items)
    token = issuer.get(f"/status/{provider.slug}/1").text
    assert bits_set(payload_of(token)["credentialSubject"]["encodedList"]) == indexes
    with ctx.db.read() as session:
        assert ctx.db.audit_seal is not None
        audit = verify_audit(session, ctx.db.audit_seal)
    assert audit.intact, audit.problems


def test_each_provider_has_its_own_list(
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    other: ProviderFixture,
) -> None:
    ours = issue(issuer, provider, achievement)
    theirs_achievement = issuer.post("/api/v1/achievements", json={**PLAIN_ACHIEVEMENT}, headers=other.headers).json()
    theirs = issue(issuer, other, theirs_achievement)
    assert payload_of(ours["jwt"])["credentialStatus"]["statusListCredential"] == f"{ISSUER_URL}/status/wsei/1"
    assert payload_of(theirs["jwt"])["credentialStatus"]["statusListCredential"] == f"{ISSUER_URL}/status/inny/1"
    their_list = issuer.get("/status/inny/1")
    assert payload_of(their_list.text)["iss"] == other.issuer_id
    assert revoke(issuer, provider, ours, {"reason": REASON}).status_code == 200
    assert issuer.get("/status/inny/1").text == their_list.text


def test_entry_pointing_at_another_providers_real_list(
    issuer: TestClient,
    verifier_factory: Any,
    provider: ProviderFixture,
    other: ProviderFixture,
    forged: Callable[..., str],
) -> None:
    theirs_achievement = issuer.post("/api/v1/achievements", json={**PLAIN_ACHIEVEMENT}, headers=other.headers).json()
    issue(issuer, other, theirs_achievement)  # creates /status/inny/1
    verifier = verifier_factory([provider.issuer_id, other.issuer_id])
    report = verify(verifier, forged(entry(f"{ISSUER_URL}/status/inny/1", 7)))
    assert_status_unavailable(report, "not issued by the credential's issuer")


def test_revocation_and_its_audit_entry_commit_together(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, issued: dict[str, Any]
) -> None:
    """A fault injected in the database at the audit insert rolls the whole revocation back."""
    list_url = path_of(payload_of(issued["jwt"])["credentialStatus"]["statusListCredential"])
    list_before = issuer.get(list_url).text
    with ctx.db.write() as session:
        if ctx.db.dialect == "postgresql":
            session.execute(
                text(
                    "CREATE FUNCTION fail_revoke_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'injected fault'; END $$"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER fail_revoke_audit BEFORE INSERT ON audit_entry FOR EACH ROW "
                    "WHEN (NEW.action = 'credential.revoked') EXECUTE FUNCTION fail_revoke_audit()"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE TRIGGER fail_revoke_audit BEFORE INSERT ON audit_entry "
                    "WHEN NEW.action = 'credential.revoked' BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                )
            )
    with pytest.raises(Exception, match="injected fault"):
        revoke_credential(ctx, get_provider(ctx, provider.slug), issued["id"], REASON, "test")
    assert issuer.get(path_of(issued["id"]) + "/status").json() == {"id": issued["id"], "revoked": False}
    assert issuer.get(list_url).text == list_before
    assert audit_entries(ctx, "credential.revoked", issued["id"]) == []
