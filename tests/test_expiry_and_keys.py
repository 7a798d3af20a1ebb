"""Expiry (validityMonths, validUntil, not-yet-valid), the signing-key lifecycle (rotate, compromise, reissue) as
seen by a long-lived verifier, and the operator CLI for keys, revocation and the hash-chained audit log.

Time is moved with ``time_machine`` (wall clock only: the verifier's caches run on ``time.monotonic``, which it
does not move, so cache expiry is exercised with small TTLs instead).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import col, select

from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound
from issuer.key_lifecycle import compromise, list_keys, rotate
from issuer.models import AuditEntry, Credential
from issuer.reissue import reissue
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

Y = datetime.now(UTC).year + 1
T0 = datetime(Y, 1, 31, 12, 0, 0, tzinfo=UTC)  # always after the fixtures' keys were made


# --------------------------------------------------------------------------------------------------------------
# helpers


def kid_of(token: str) -> str:
    """The thumbprint of the key that signed ``token`` (its header names the key by URL)."""
    return str(b64u_json(token.split(".")[0])["kid"]).rsplit("/", 1)[-1]


def assert_valid(report: dict[str, Any]) -> None:
    assert report["verdict"] == "valid", report
    assert all(item["status"] == "passed" for item in report["checks"]), report


def assert_failed(report: dict[str, Any], check_id: str, code: str) -> dict[str, Any]:
    assert report["verdict"] == "invalid", report
    found = check(report, check_id)
    assert (found["status"], found["code"]) == ("failed", code), report
    return found


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def add_achievement(issuer: TestClient, provider: ProviderFixture, **extra: Any) -> dict[str, Any]:
    response = issuer.post("/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, **extra}, headers=provider.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def person(n: int) -> dict[str, str]:
    return {"name": f"Osoba {n}", "email": f"osoba{n}@example.org"}


def jwks(issuer: TestClient, provider: ProviderFixture) -> dict[str, dict[str, Any]]:
    """The provider's published keys by thumbprint (each JWK's ``kid`` is its URL, ending in the thumbprint)."""
    keys = issuer.get("/.well-known/jwks.json").json()["keys"]
    found = {jwk["kid"].rsplit("/", 1)[-1]: jwk for jwk in keys if jwk.get("iss") == provider.issuer_id}
    assert all(jwk["kid"] == f"{provider.issuer_id}/keys/{thumb}" for thumb, jwk in found.items())
    return found


def key_states(ctx: IssuerContext, slug: str) -> dict[str, str]:
    return {state.kid: state.status for state in list_keys(ctx, slug)}


class CountingEdge(httpx.AsyncBaseTransport):
    """The issuer app in-process, with a log of what the verifier fetched."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def expiring(issuer: TestClient, provider: ProviderFixture) -> dict[str, Any]:
    return add_achievement(issuer, provider, validityMonths=24)


@pytest.fixture
def cli(issuer_cli: Any) -> Any:
    return issuer_cli


# --------------------------------------------------------------------------------------------------------------
# expiry


def test_validity_months_gives_valid_until_and_exp(
    issuer: TestClient, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    assert "validityMonths" not in expiring  # a setting of the template, not an OB field
    with time_machine.travel(T0, tick=False):
        issued = issue(issuer, provider, expiring)
    claims = payload_of(issued["jwt"])
    assert claims["validFrom"] == f"{Y}-01-31T12:00:00Z"
    assert claims["validUntil"] == f"{Y + 2}-01-31T12:00:00Z"
    assert claims["nbf"] == epoch(T0)
    assert claims["exp"] == epoch(datetime(Y + 2, 1, 31, 12, tzinfo=UTC))


def test_validity_months_from_a_leap_day(
    issuer: TestClient, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, expiring, validFrom="2024-02-29T10:00:00Z")
    claims = payload_of(issued["jwt"])
    assert (claims["validFrom"], claims["validUntil"]) == ("2024-02-29T10:00:00Z", "2026-02-28T10:00:00Z")
    assert claims["exp"] == epoch(datetime(2026, 2, 28, 10, tzinfo=UTC))


def test_validity_months_across_month_ends(issuer: TestClient, provider: ProviderFixture) -> None:
    achievement = add_achievement(issuer, provider, validityMonths=1)
    issued = issue(issuer, provider, achievement, validFrom="2027-01-31T08:30:00Z")
    assert payload_of(issued["jwt"])["validUntil"] == "2027-02-28T08:30:00Z"
    achievement = add_achievement(issuer, provider, validityMonths=13)
    issued = issue(issuer, provider, achievement, validFrom="2026-12-15T00:00:00Z")
    assert payload_of(issued["jwt"])["validUntil"] == "2028-01-15T00:00:00Z"


def test_request_valid_until_wins_over_validity_months(
    issuer: TestClient, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, expiring, validFrom="2026-01-01T00:00:00Z", validUntil="2027-06-30T00:00:00Z")
    claims = payload_of(issued["jwt"])
    assert claims["validUntil"] == "2027-06-30T00:00:00Z"
    assert claims["exp"] == epoch(datetime(2027, 6, 30, tzinfo=UTC))


def test_achievement_without_validity_has_no_expiry(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    claims = payload_of(issue(issuer, provider, achievement)["jwt"])
    assert "validUntil" not in claims and "exp" not in claims


@pytest.mark.parametrize("months", [0, 601, -3])
def test_validity_months_out_of_range_is_422(issuer: TestClient, provider: ProviderFixture, months: int) -> None:
    response = issuer.post(
        "/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, "validityMonths": months}, headers=provider.headers
    )
    assert response.status_code == 422
    assert "validityMonths" in json.dumps(response.json())


def test_valid_until_before_valid_from_is_422(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    body = {
        "achievement": achievement["id"],
        "recipient": person(1),
        "validFrom": "2027-01-01T00:00:00Z",
        "validUntil": "2026-12-31T00:00:00Z",
    }
    response = issuer.post("/api/v1/credentials", json=body, headers=provider.headers)
    assert response.status_code == 422
    assert [field["field"] for field in response.json()["error"]["fields"]] == ["validUntil"]


def test_expired_credential_with_date(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    with time_machine.travel(T0, tick=False):
        issued = issue(issuer, provider, expiring)
        assert_valid(verify(verifier, issued["jwt"]))
    end = datetime(Y + 2, 1, 31, 12, tzinfo=UTC)
    with time_machine.travel(end + timedelta(seconds=59), tick=False):  # within the 60 s leeway
        assert_valid(verify(verifier, issued["jwt"]))
    with time_machine.travel(end + timedelta(seconds=60), tick=False):
        report = verify(verifier, issued["jwt"])
    found = assert_failed(report, "validity", "expired")
    assert found["message"] == f"The credential expired on {Y + 2}-01-31 12:00 UTC."
    # Expired, but genuine: whether it was also revoked is still told.
    assert check(report, "status")["status"] == "passed"
    assert report["outcome"] == "expired"
    assert report["credential"]["validUntil"] == f"{Y + 2}-01-31T12:00:00Z"
    with time_machine.travel(datetime(Y + 4, 5, 5, tzinfo=UTC), tick=False):
        assert_failed(verify(verifier, issued["jwt"]), "validity", "expired")


def test_not_yet_valid_credential_with_date(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    start = T0 + timedelta(days=10)
    with time_machine.travel(T0, tick=False):
        issued = issue(issuer, provider, achievement, validFrom=f"{Y}-02-10T12:00:00Z")
        report = verify(verifier, issued["jwt"])
    found = assert_failed(report, "validity", "not_yet_valid")
    assert found["message"] == f"The credential is valid only from {Y}-02-10 12:00 UTC."
    with time_machine.travel(start - timedelta(seconds=61), tick=False):
        assert_failed(verify(verifier, issued["jwt"]), "validity", "not_yet_valid")
    with time_machine.travel(start - timedelta(seconds=59), tick=False):
        assert_valid(verify(verifier, issued["jwt"]))
    with time_machine.travel(start + timedelta(days=400), tick=False):
        assert_valid(verify(verifier, issued["jwt"]))


def test_expired_page_shows_the_end_date(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    with time_machine.travel(T0, tick=False):
        issued = issue(issuer, provider, expiring)
    with time_machine.travel(datetime(Y + 3, 1, 1, tzinfo=UTC), tick=False):
        page = verifier.post("/verify?lang=en", data={"credential": issued["jwt"]})
    assert page.status_code == 200
    assert 'data-verdict="invalid"' in page.text
    assert f"The credential expired on {Y + 2}-01-31 12:00 UTC." in page.text


# --------------------------------------------------------------------------------------------------------------
# rotation


def test_rotate_without_delay_signs_at_once(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    old = issue(issuer, provider, achievement, recipient=person(1))
    old_kid = kid_of(old["jwt"])
    verifier = verifier_factory([provider.issuer_id], key_refresh_interval=0)
    assert_valid(verify(verifier, old["jwt"]))

    new_key = rotate(ctx, provider.slug, delay=0)
    assert new_key.kid != old_kid
    assert key_states(ctx, provider.slug) == {old_kid: "retired", new_key.kid: "active"}
    published = jwks(issuer, provider)
    assert set(published) == {old_kid, new_key.kid}
    assert published[new_key.kid]["use"] == "sig" and published[new_key.kid]["alg"] == "EdDSA"
    assert "revoked" not in published[old_kid]

    new = issue(issuer, provider, achievement, recipient=person(2))
    assert kid_of(new["jwt"]) == new_key.kid
    assert_valid(verify(verifier, new["jwt"]))
    assert_valid(verify(verifier, old["jwt"]))


def test_rotate_with_delay_publishes_first_then_signs(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    issuer_app: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    old = issue(issuer, provider, achievement, recipient=person(1))
    old_kid = kid_of(old["jwt"])
    new_key = rotate(ctx, provider.slug, delay=3600)
    assert new_key.activates_at > datetime.now(UTC) + timedelta(seconds=3500)
    assert key_states(ctx, provider.slug) == {old_kid: "active", new_key.kid: "pending"}
    assert set(jwks(issuer, provider)) == {old_kid, new_key.kid}  # already published

    # a verifier that has seen the JWKS once, while the new key was still pending
    edge = CountingEdge(issuer_app)
    verifier = verifier_factory([provider.issuer_id], transport=edge)
    assert_valid(verify(verifier, old["jwt"]))

    before = issue(issuer, provider, achievement, recipient=person(2))
    assert kid_of(before["jwt"]) == old_kid  # the old key still signs before activation

    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3601), tick=False):
        assert key_states(ctx, provider.slug) == {old_kid: "retired", new_key.kid: "active"}
        after = issue(issuer, provider, achievement, recipient=person(3))
        assert kid_of(after["jwt"]) == new_key.kid
        # the verifier already holds the new key: no new JWKS fetch is needed
        assert_valid(verify(verifier, after["jwt"]))
        assert_valid(verify(verifier, before["jwt"]))
    assert edge.seen.count("/.well-known/jwks.json") == 1


def test_negative_delay_is_refused(ctx: IssuerContext, provider: ProviderFixture) -> None:
    with pytest.raises(InvalidInput):
        rotate(ctx, provider.slug, delay=-1)
    assert len(list_keys(ctx, provider.slug)) == 1


def test_every_key_generation_keeps_verifying_without_restart(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    verifier = verifier_factory([provider.issuer_id], key_refresh_interval=0)
    tokens = []
    for generation in range(4):
        if generation:
            rotate(ctx, provider.slug, delay=0)
        issued = issue(issuer, provider, achievement, recipient=person(generation))
        tokens.append(issued)
        assert_valid(verify(verifier, issued["jwt"]))  # the same verifier picks up each new key
    kids = [kid_of(item["jwt"]) for item in tokens]
    assert len(set(kids)) == 4
    states = key_states(ctx, provider.slug)
    assert [states[kid] for kid in kids] == ["retired", "retired", "retired", "active"]
    for item in tokens:
        assert_valid(verify(verifier, item["jwt"]))
    fresh = verifier_factory([provider.issuer_id])
    for item in tokens:
        assert_valid(verify(fresh, item["jwt"]))

    # revoking the oldest re-signs the list with the newest key; the rest stay valid
    revoke_url = path_of(tokens[0]["links"]["self"]) + "/revoke"
    response = issuer.post(revoke_url, json={"reason": "x"}, headers=provider.headers)
    assert response.status_code == 200
    status_list = issuer.get(path_of(payload_of(tokens[0]["jwt"])["credentialStatus"]["statusListCredential"]))
    assert kid_of(status_list.text) == kids[-1]
    after = verifier_factory([provider.issuer_id])
    assert_failed(verify(after, tokens[0]["jwt"]), "status", "revoked")
    for item in tokens[1:]:
        assert_valid(verify(after, item["jwt"]))


# --------------------------------------------------------------------------------------------------------------
# compromise


def test_compromise_makes_credentials_invalid_whatever_their_dates(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    issued = issue(issuer, provider, achievement, validUntil="2099-12-31T00:00:00Z")
    later = datetime.now(UTC) + timedelta(days=30)
    future = issue(issuer, provider, achievement, recipient=person(9), validFrom=f"{later:%Y-%m-%dT%H:%M:%SZ}")
    kid = kid_of(issued["jwt"])
    assert kid_of(future["jwt"]) == kid
    assert_valid(verify(verifier_factory([provider.issuer_id]), issued["jwt"]))
    assert_failed(verify(verifier_factory([provider.issuer_id]), future["jwt"]), "validity", "not_yet_valid")

    replacement = compromise(ctx, provider.slug, kid)
    assert replacement is not None and replacement.kid != kid  # it was the only key: a new one signs at once
    assert key_states(ctx, provider.slug) == {kid: "compromised", replacement.kid: "active"}

    published = jwks(issuer, provider)
    assert set(published) == {kid, replacement.kid}
    revoked = published[kid]["revoked"]
    assert revoked["reason"] == "compromised"
    assert isinstance(revoked["revoked_at"], int) and abs(revoked["revoked_at"] - time.time()) < 60
    assert "revoked" not in published[replacement.kid]

    report = verify(verifier_factory([provider.issuer_id]), issued["jwt"])
    found = assert_failed(report, "key", "key_compromised")
    day = datetime.fromtimestamp(revoked["revoked_at"], UTC).strftime("%Y-%m-%d")
    assert found["message"].startswith(f"The issuer reported the signing key as compromised on {day} ")
    assert "whatever its dates say" in found["message"]
    assert [check(report, name)["status"] for name in ("signature", "validity", "status")] == ["skipped"] * 3
    # not yet valid, yet what is reported is the compromise: the key check comes before any date
    assert_failed(verify(verifier_factory([provider.issuer_id]), future["jwt"]), "key", "key_compromised")


def test_compromise_of_a_retired_key_needs_no_replacement(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    old = issue(issuer, provider, achievement, recipient=person(1))
    new_key = rotate(ctx, provider.slug, delay=0)
    new = issue(issuer, provider, achievement, recipient=person(2))
    assert compromise(ctx, provider.slug, kid_of(old["jwt"])) is None
    assert compromise(ctx, provider.slug, kid_of(old["jwt"])) is None  # again: nothing changes
    assert key_states(ctx, provider.slug) == {kid_of(old["jwt"]): "compromised", new_key.kid: "active"}
    verifier = verifier_factory([provider.issuer_id])
    assert_failed(verify(verifier, old["jwt"]), "key", "key_compromised")
    assert kid_of(issue(issuer, provider, achievement, recipient=person(3))["jwt"]) == new_key.kid
    assert check(verify(verifier, new["jwt"]), "key")["status"] == "passed"


def test_credentials_under_a_healthy_key_stay_valid_after_another_key_is_compromised(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    old = issue(issuer, provider, achievement, recipient=person(1))  # creates status list 1, signed by the old key
    rotate(ctx, provider.slug, delay=0)
    new = issue(issuer, provider, achievement, recipient=person(2))
    compromise(ctx, provider.slug, kid_of(old["jwt"]))
    verifier = verifier_factory([provider.issuer_id])
    assert_failed(verify(verifier, old["jwt"]), "key", "key_compromised")
    assert_valid(verify(verifier, new["jwt"]))


def test_long_lived_verifier_learns_of_a_compromise_within_its_ttl(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    issued = issue(issuer, provider, achievement)
    verifier = verifier_factory([provider.issuer_id], cache_ttl=1)
    assert_valid(verify(verifier, issued["jwt"]))
    compromise(ctx, provider.slug, kid_of(issued["jwt"]))
    time.sleep(1.1)
    assert_failed(verify(verifier, issued["jwt"]), "key", "key_compromised")


def test_compromise_of_another_providers_key_is_refused(
    ctx: IssuerContext, issuer: TestClient, provider: ProviderFixture
) -> None:
    other = add_provider(ctx, "inny")
    their_kid = next(iter(jwks(issuer, other)))
    with pytest.raises(NotFound):
        compromise(ctx, provider.slug, their_kid)
    assert key_states(ctx, other.slug) == {their_kid: "active"}


# --------------------------------------------------------------------------------------------------------------
# reissue


def test_reissue_resigns_and_revokes_the_old_copy(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    expiring: dict[str, Any],
) -> None:
    old = issue(issuer, provider, expiring)
    new_key = rotate(ctx, provider.slug, delay=0)
    done = reissue(ctx, provider.slug, credential_ids=[old["id"]])
    assert len(done) == 1 and done[0].old_id == old["id"].rsplit("/", 1)[-1]
    new_url = f"{ISSUER_URL}/credentials/{done[0].new_id}"

    new_jwt = issuer.get(path_of(new_url), headers={"Accept": "application/vc+jwt"}).text
    assert kid_of(new_jwt) == new_key.kid
    before, after = payload_of(old["jwt"]), payload_of(new_jwt)
    assert after["id"] == new_url and after["jti"] == new_url
    for name in ("validFrom", "validUntil", "awardedDate", "credentialSubject", "issuer", "nbf", "exp", "sub"):
        assert after[name] == before[name], name
    assert after["credentialStatus"]["statusListIndex"] != before["credentialStatus"]["statusListIndex"]

    record = issuer.get(path_of(old["id"]) + "/status").json()
    assert record["revoked"] is True
    assert record["replacedBy"] == new_url
    assert record["reason"] == f"Reissued as {new_url}"
    assert issuer.get(path_of(new_url) + "/status").json() == {"id": new_url, "revoked": False}

    verifier = verifier_factory([provider.issuer_id])
    assert_valid(verify(verifier, new_jwt))
    report = verify(verifier, old["jwt"])
    assert_failed(report, "status", "revoked")
    assert report["credential"]["revocation"]["replacedBy"] == new_url

    with ctx.db.read() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "credential.reissued")).all()
    assert [(entry.subject, entry.details["replaced_by"], entry.details["new_kid"]) for entry in entries] == [
        (old["id"], done[0].new_id, new_key.kid)
    ]


def test_reissue_after_compromise(
    issuer: TestClient,
    ctx: IssuerContext,
    verifier_factory: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    items = [issue(issuer, provider, achievement, recipient=person(n)) for n in range(3)]
    bad_kid = kid_of(items[0]["jwt"])
    replacement = compromise(ctx, provider.slug, bad_kid)
    assert replacement is not None
    done = reissue(ctx, provider.slug, kid=bad_kid)
    assert sorted(item.old_id for item in done) == sorted(item["id"].rsplit("/", 1)[-1] for item in items)
    assert reissue(ctx, provider.slug, kid=bad_kid) == []  # nothing left to reissue
    verifier = verifier_factory([provider.issuer_id])
    for pair in done:
        token = issuer.get(f"/credentials/{pair.new_id}", headers={"Accept": "application/vc+jwt"}).text
        assert kid_of(token) == replacement.kid
        assert_valid(verify(verifier, token))
    for old in items:
        assert_failed(verify(verifier, old["jwt"]), "key", "key_compromised")


def test_learner_page_of_a_reissued_credential_links_to_the_new_copy(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    old = issue(issuer, provider, achievement)
    done = reissue(ctx, provider.slug, credential_ids=[old["id"]])
    page = issuer.get(path_of(old["id"]) + "?lang=en", headers={"Accept": "text/html"})
    assert 'data-state="revoked"' in page.text and "Revoked on" in page.text
    assert f'href="{ISSUER_URL}/credentials/{done[0].new_id}?lang=en">See the new copy' in page.text


# --------------------------------------------------------------------------------------------------------------
# CLI: keys


def parse_keys(output: str) -> dict[str, tuple[str, str]]:
    header, *lines = output.strip().splitlines()
    assert header.split() == ["KEY", "ID", "(thumbprint)", "ALG", "STATE", "SIGNS", "FROM", "ENDED"], header
    rows = {}
    for line in lines:
        found = re.fullmatch(r"(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", line.strip())
        assert found, line
        kid, alg, state, signs_from, ended = found.groups()
        assert datetime.fromisoformat(signs_from)
        # A retired or compromised key says since when; an active or pending one has not ended.
        assert (ended == "-") == (state in ("active", "pending")), line
        rows[kid] = (alg, state)
    return rows


def keys_by_state(cli: Any, slug: str) -> dict[str, str]:
    result = cli("keys", "list", slug)
    assert result.exit_code == 0, result.output
    return {kid: row[1] for kid, row in parse_keys(result.stdout).items()}


def test_cli_keys_list_rotate_compromise(
    cli: Any,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    verifier_factory: Any,
) -> None:
    first = cli("keys", "list", provider.slug)
    assert first.exit_code == 0, first.output
    [(old_kid, (alg, state))] = parse_keys(first.stdout).items()
    assert (alg, state) == ("EdDSA", "active")

    pending = cli("keys", "rotate", provider.slug, "--delay", "3600")
    assert pending.exit_code == 0, pending.output
    found = re.match(r"new key (\S+) \(EdDSA\) published; signs from (\S+)", pending.stdout)
    assert found, pending.stdout
    pending_kid = found.group(1)
    assert datetime.fromisoformat(found.group(2)) > datetime.now(UTC) + timedelta(seconds=3500)
    assert keys_by_state(cli, provider.slug) == {old_kid: "active", pending_kid: "pending"}
    assert pending_kid in jwks(issuer, provider)
    issued = issue(issuer, provider, achievement)
    assert kid_of(issued["jwt"]) == old_kid

    asked = cli("keys", "compromise", provider.slug, old_kid, input="n\n")
    assert asked.exit_code == 1 and "Mark the key compromised?" in asked.output, asked.output
    assert keys_by_state(cli, provider.slug)[old_kid] == "active", "answering no changes nothing"
    bad = cli("keys", "compromise", provider.slug, old_kid, "--yes")
    assert bad.exit_code == 0, bad.output
    lines = bad.stdout.strip().splitlines()
    assert lines[0] == f"key {old_kid} marked compromised; verifiers learn of it within their cache TTL"
    replacement = re.fullmatch(r"new key (\S+) signs from now on", lines[1])
    assert replacement, lines  # the pending key cannot sign yet, so a replacement signs at once
    replacement_kid = replacement.group(1)
    assert lines[2] == f"reissue what it signed with: issuer credentials reissue {provider.slug} --kid {old_kid}"
    assert keys_by_state(cli, provider.slug) == {
        old_kid: "compromised",
        pending_kid: "pending",
        replacement_kid: "active",
    }
    assert jwks(issuer, provider)[old_kid]["revoked"]["reason"] == "compromised"
    assert_failed(verify(verifier_factory([provider.issuer_id]), issued["jwt"]), "key", "key_compromised")
    assert kid_of(issue(issuer, provider, achievement, recipient=person(7))["jwt"]) == replacement_kid

    now = cli("keys", "rotate", provider.slug, "--delay", "0")
    assert now.exit_code == 0, now.output
    now_kid = re.match(r"new key (\S+) ", now.stdout).group(1)  # type: ignore[union-attr]
    assert keys_by_state(cli, provider.slug) == {
        old_kid: "compromised",
        pending_kid: "pending",
        replacement_kid: "retired",
        now_kid: "active",
    }

    reissued = cli("credentials", "reissue", provider.slug, "--kid", old_kid)
    assert reissued.exit_code == 0, reissued.output
    lines = reissued.stdout.strip().splitlines()
    assert lines[-1] == "1 credential(s) reissued"
    found = re.fullmatch(rf"{re.escape(issued['id'])} -> {re.escape(ISSUER_URL)}/credentials/(\S+)", lines[0])
    assert found, lines
    token = issuer.get(f"/credentials/{found.group(1)}", headers={"Accept": "application/vc+jwt"}).text
    assert kid_of(token) == now_kid
    assert_valid(verify(verifier_factory([provider.issuer_id]), token))


def test_compromising_the_current_key_never_revives_a_retired_one(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    old = issue(issuer, provider, achievement, recipient=person(1))
    old_kid = kid_of(old["jwt"])
    current = rotate(ctx, provider.slug, delay=0)
    assert key_states(ctx, provider.slug) == {old_kid: "retired", current.kid: "active"}
    replacement = compromise(ctx, provider.slug, current.kid)
    states = key_states(ctx, provider.slug)
    assert states[old_kid] == "retired", states
    assert replacement is not None and states[replacement.kid] == "active", states
    assert kid_of(issue(issuer, provider, achievement, recipient=person(2))["jwt"]) == replacement.kid


def test_cli_key_errors(cli: Any, provider: ProviderFixture) -> None:
    unknown = cli("keys", "list", "nobody")
    assert unknown.exit_code == 1
    assert "There is no provider 'nobody'." in unknown.stderr
    negative = cli("keys", "rotate", provider.slug, "--delay", "-5")
    assert negative.exit_code == 1
    assert "cannot be negative" in negative.stderr
    missing = cli("keys", "compromise", provider.slug, "no-such-kid", "--yes")
    assert missing.exit_code == 1
    assert "has no key no-such-kid" in missing.stderr
    nothing = cli("credentials", "reissue", provider.slug)
    assert nothing.exit_code == 2


# --------------------------------------------------------------------------------------------------------------
# CLI: revoke


def test_cli_credentials_revoke(
    cli: Any,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    verifier_factory: Any,
) -> None:
    first = issue(issuer, provider, achievement, recipient=person(1))
    second = issue(issuer, provider, achievement, recipient=person(2))
    by_uuid = cli("credentials", "revoke", provider.slug, first["id"].rsplit("/", 1)[-1], "--reason", "Błąd w danych")
    assert by_uuid.exit_code == 0, by_uuid.output
    assert by_uuid.stdout.strip() == f"{first['id']} revoked"
    again = cli("credentials", "revoke", provider.slug, first["id"], "--reason", "inny")
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == f"{first['id']} was already revoked"
    by_url = cli("credentials", "revoke", provider.slug, second["id"])
    assert by_url.stdout.strip() == f"{second['id']} revoked"

    record = issuer.get(path_of(first["id"]) + "/status").json()
    assert record["revoked"] is True and record["reason"] == "Błąd w danych"
    assert "reason" not in issuer.get(path_of(second["id"]) + "/status").json()
    with ctx.db.read() as session:
        actors = session.exec(
            select(AuditEntry.actor).where(AuditEntry.action == "credential.revoked").order_by(col(AuditEntry.id))
        ).all()
    assert actors == ["cli", "cli"]
    report = verify(verifier_factory([provider.issuer_id]), first["jwt"])
    assert_failed(report, "status", "revoked")
    assert report["credential"]["revocation"]["reason"] == "Błąd w danych"


def test_cli_revoke_of_another_providers_credential_is_refused(
    cli: Any, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    add_provider(ctx, "inny")
    result = cli("credentials", "revoke", "inny", issued["id"], "--reason", "x")
    assert result.exit_code == 1
    assert "There is no such credential for this provider." in result.stderr
    assert issuer.get(path_of(issued["id"]) + "/status").json()["revoked"] is False


def test_stored_credential_row_matches_its_token(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, expiring: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, expiring, validFrom="2026-03-01T00:00:00Z")
    with ctx.db.read() as session:
        record = session.get(Credential, issued["id"].rsplit("/", 1)[-1])
    assert record is not None
    assert record.valid_until == datetime(2028, 3, 1, tzinfo=UTC)
    assert record.kid == kid_of(issued["jwt"])
    assert record.status_index == int(payload_of(issued["jwt"])["credentialStatus"]["statusListIndex"])
