"""Hostile tokens sent to ``POST /api/v1/verify``: every one is a normal ``200`` answer with verdict ``invalid``
and the exact code of the first check that failed (PRODUCT.md §4). Forged-but-correctly-signed tokens are signed
with the provider's real key, loaded from the issuer's key store, so each one reaches exactly the check it aims at.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.encoding import b64url_decode, b64url_encode
from credentials.jose import MAX_TOKEN_BYTES, Signer, encode_compact, serialize_json
from credentials.keys import PrivateKeySigner, generate_private_key
from issuer.context import IssuerContext
from tests.conftest import ISSUER_URL, VERIFIER_URL, ProviderFixture, add_provider, issue
from verifier.app import MAX_BODY_BYTES
from verifier.report import CHECKS

# --------------------------------------------------------------------------------------------------------------
# helpers


def segment(value: Any) -> str:
    """base64url of a dict (compact JSON), of raw JSON text, or of raw bytes."""
    if isinstance(value, dict | list):
        return b64url_encode(serialize_json(value))  # type: ignore[arg-type]
    if isinstance(value, str):
        return b64url_encode(value.encode("utf-8"))
    return b64url_encode(value)


def signed(signer: Signer, header: Any, payload: Any) -> str:
    """A compact JWS over arbitrary header/payload text, with a genuine signature by ``signer``."""
    signing_input = segment(header) + "." + segment(payload)
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))


def forge(signer: Signer, claims: dict[str, Any], typ: str = "JWT", **header: Any) -> str:
    """Sign ``claims`` with the real key; ``header`` overrides/extends ``alg``, ``kid``, ``typ``."""
    full = {"alg": signer.alg, "kid": signer.kid, "typ": typ, **header}
    return signed(signer, full, claims)


def claims_of(token: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1], "payload"))
    return result


def verify(verifier: TestClient, token: str) -> dict[str, Any]:
    response = verifier.post("/api/v1/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def first_failure(report: dict[str, Any]) -> dict[str, Any]:
    for check in report["checks"]:
        if check["status"] in ("failed", "unknown"):
            return check  # type: ignore[no-any-return]
    raise AssertionError(f"no check failed: {report}")


def assert_invalid(verifier: TestClient, token: str, code: str, check_id: str) -> dict[str, Any]:
    """Verdict invalid; the first failed check is ``check_id`` with ``code``; all before passed, all after skipped
    (but the revocation status, which is checked whatever the dates)."""
    report = verify(verifier, token)
    assert report["verdict"] == "invalid", report
    failure = first_failure(report)
    assert (failure["id"], failure["status"], failure["code"]) == (check_id, "failed", code), report
    assert failure["message"], report
    ids = [check["id"] for check in report["checks"]]
    assert ids == list(CHECKS), ids
    position = ids.index(check_id)
    assert all(check["status"] == "passed" for check in report["checks"][:position]), report
    later = report["checks"][position + 1 :]
    if check_id == "validity":
        # Out of its dates, a genuine credential is still checked for revocation.
        later = [check for check in later if check["id"] != "status"]
    assert all(check["status"] == "skipped" for check in later), report
    return report


def provider_signer(issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture) -> Signer:
    """The provider's real signing key, found through its published JWKS."""
    jwks = issuer.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    keys = [jwk for jwk in jwks.json()["keys"] if jwk.get("iss") == provider.issuer_id]
    assert len(keys) == 1, keys
    return ctx.keys.signer(provider.slug, keys[0]["kid"], keys[0]["alg"])


# --------------------------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture
def issued(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> dict[str, Any]:
    return issue(issuer, provider, achievement)


@pytest.fixture
def token(issued: dict[str, Any]) -> str:
    value: str = issued["jwt"]
    return value


@pytest.fixture
def claims(token: str) -> dict[str, Any]:
    return claims_of(token)


@pytest.fixture
def signer(issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture) -> Signer:
    return provider_signer(issuer, ctx, provider)


@pytest.fixture
def header(token: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(b64url_decode(token.split(".")[0], "header"))
    return result


# --------------------------------------------------------------------------------------------------------------
# controls: the harness itself produces valid tokens, so every rejection below is caused by the one change made


def test_control_issued_token_is_valid(verifier: TestClient, token: str) -> None:
    report = verify(verifier, token)
    assert report["verdict"] == "valid", report


def test_control_reforged_token_is_valid(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    assert signer.alg == "EdDSA"
    report = verify(verifier, forge(signer, claims))
    assert report["verdict"] == "valid", report
    assert verify(verifier, encode_compact(claims, signer))["verdict"] == "valid"


def test_control_surrounding_whitespace_is_trimmed(verifier: TestClient, token: str) -> None:
    assert verify(verifier, f"  \n{token}\t \r\n")["verdict"] == "valid"


# --------------------------------------------------------------------------------------------------------------
# algorithms


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("with_signature", [False, True], ids=["empty-sig", "sig"])
def test_alg_none_in_any_spelling(
    verifier: TestClient, claims: dict[str, Any], header: dict[str, Any], token: str, alg: str, with_signature: bool
) -> None:
    signature = token.split(".")[2] if with_signature else ""
    forged = segment({**header, "alg": alg}) + "." + segment(claims) + "." + signature
    assert_invalid(verifier, forged, "unsupported_algorithm", "header")


def test_alg_none_without_kid_or_typ(verifier: TestClient, claims: dict[str, Any]) -> None:
    forged = segment({"alg": "none"}) + "." + segment(claims) + "."
    assert_invalid(verifier, forged, "unsupported_algorithm", "header")


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_with_the_public_key_as_secret(
    verifier: TestClient,
    issuer: TestClient,
    provider: ProviderFixture,
    claims: dict[str, Any],
    header: dict[str, Any],
    alg: str,
) -> None:
    import hashlib
    import hmac

    jwks = issuer.get("/.well-known/jwks.json").json()["keys"]
    public = next(jwk for jwk in jwks if jwk["iss"] == provider.issuer_id)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    for secret in (json.dumps(public).encode(), b64url_decode(public["x"], "x"), public["x"].encode()):
        signing_input = segment({**header, "alg": alg}) + "." + segment(claims)
        mac = hmac.new(secret, signing_input.encode("ascii"), digest).digest()
        assert_invalid(verifier, signing_input + "." + b64url_encode(mac), "unsupported_algorithm", "header")


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_alg_swapped_on_an_eddsa_key(verifier: TestClient, signer: Signer, claims: dict[str, Any], alg: str) -> None:
    report = assert_invalid(verifier, forge(signer, claims, alg=alg), "unsupported_algorithm", "key")
    assert "EdDSA" in first_failure(report)["message"]


def test_alg_swapped_without_kid_finds_no_key(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = signed(signer, {"alg": "ES256", "typ": "JWT"}, claims)
    assert_invalid(verifier, forged, "unknown_key", "key")


@pytest.mark.parametrize("alg", ["eddsa", "EDDSA", "Ed25519", "PS256", "ES256K", "ES384", "RS512", "RSA-OAEP", ""])
def test_algorithms_off_the_allow_list(verifier: TestClient, signer: Signer, claims: dict[str, Any], alg: str) -> None:
    assert_invalid(verifier, forge(signer, claims, alg=alg), "unsupported_algorithm", "header")


@pytest.mark.parametrize("alg", [None, 256, ["EdDSA"], {"name": "EdDSA"}, True])
def test_alg_that_is_not_a_string(verifier: TestClient, signer: Signer, claims: dict[str, Any], alg: Any) -> None:
    assert_invalid(verifier, forge(signer, claims, alg=alg), "unsupported_algorithm", "header")


def test_missing_alg(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = signed(signer, {"kid": signer.kid, "typ": "JWT"}, claims)
    assert_invalid(verifier, forged, "unsupported_algorithm", "header")


def test_kid_free_token_signed_by_the_real_key_is_valid(
    verifier: TestClient, signer: Signer, claims: dict[str, Any]
) -> None:
    report = verify(verifier, signed(signer, {"alg": "EdDSA", "typ": "JWT"}, claims))
    assert report["verdict"] == "valid", report


# --------------------------------------------------------------------------------------------------------------
# header members


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("jku", "https://evil.example/jwks.json"),
        ("jku", "http://issuer.test/.well-known/jwks.json"),
        ("x5u", "https://evil.example/cert.pem"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIUQ"]),
        ("x5t", "bm90LWEtdGh1bWJwcmludA"),
        ("x5t#S256", "bm90LWEtdGh1bWJwcmludA"),
        ("crit", ["exp"]),
        ("crit", []),
        ("b64", False),
        ("zip", "DEF"),
        ("enc", "A256GCM"),
        ("iss", "http://issuer.test/issuers/wsei"),
        ("ALG", "EdDSA"),
    ],
)
def test_forbidden_header_members(
    verifier: TestClient, issuer: TestClient, signer: Signer, claims: dict[str, Any], member: str, value: Any
) -> None:
    report = assert_invalid(verifier, forge(signer, claims, **{member: value}), "header_not_allowed", "header")
    assert member[:32] in first_failure(report)["message"]


def test_embedded_jwk_of_an_attacker_key(verifier: TestClient, claims: dict[str, Any], signer: Signer) -> None:
    """An embedded key is never trusted by itself: one the issuer does not publish points at nothing."""
    from credentials.keys import public_jwk

    attacker = generate_private_key("EdDSA")
    jwk = public_jwk(attacker, "EdDSA")
    forged = forge(PrivateKeySigner(signer.kid, "EdDSA", attacker), claims, jwk=jwk)
    assert_invalid(verifier, forged, "unknown_key", "key")
    without_kid = signed(PrivateKeySigner(signer.kid, "EdDSA", attacker), {"alg": "EdDSA", "jwk": jwk}, claims)
    assert_invalid(verifier, without_kid, "unknown_key", "key")


def test_embedded_jwk_of_a_published_key_picks_that_key(
    verifier: TestClient, issuer: TestClient, claims: dict[str, Any], signer: Signer
) -> None:
    """A jwk whose RFC 7638 thumbprint is one of the issuer's published keys names that key (and only that key:
    the published copy is the one used)."""
    published = next(jwk for jwk in issuer.get("/.well-known/jwks.json").json()["keys"] if jwk["kid"] == signer.kid)
    token = forge(signer, claims, jwk={name: published[name] for name in ("kty", "crv", "x")})
    report = verify(verifier, token)
    assert report["verdict"] == "valid", report
    other = forge(signer, claims, jwk=public_jwk_of_another_key())
    assert_invalid(verifier, other, "unknown_key", "key")


def public_jwk_of_another_key() -> dict[str, Any]:
    from credentials.keys import public_jwk

    return public_jwk(generate_private_key("EdDSA"), "EdDSA")


@pytest.mark.parametrize("cty", ["JWT", "jwt", "application/jwt", "vc+jwt", "", 1])
def test_content_type_other_than_vc(verifier: TestClient, signer: Signer, claims: dict[str, Any], cty: Any) -> None:
    assert_invalid(verifier, forge(signer, claims, cty=cty), "header_not_allowed", "header")


def test_cty_vc_is_accepted(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    report = verify(verifier, forge(signer, claims, typ="vc+jwt", cty="vc"))
    assert report["verdict"] == "valid", report


@pytest.mark.parametrize(
    "raw_header",
    [
        '{"alg":"EdDSA","alg":"none","kid":"KID","typ":"JWT"}',
        '{"alg":"none","alg":"EdDSA","kid":"KID","typ":"JWT"}',
        '{"alg":"EdDSA","kid":"KID","kid":"KID","typ":"JWT"}',
        '{"alg":"EdDSA","kid":"KID","typ":"JWT","typ":"JWT"}',
        '{"alg":"EdDSA","kid":"KID","typ":"JWT","typ":"vc+jwt"}',
    ],
)
def test_duplicate_header_member(verifier: TestClient, signer: Signer, claims: dict[str, Any], raw_header: str) -> None:
    forged = signed(signer, raw_header.replace("KID", signer.kid), claims)
    assert_invalid(verifier, forged, "header_not_allowed", "header")


@pytest.mark.parametrize("typ", [None, "", "JOSE", "JOSE+JSON", "vc+ld+jwt", "application/jwt", "vp+jwt", 1])
def test_typ_not_in_the_profile(verifier: TestClient, signer: Signer, claims: dict[str, Any], typ: Any) -> None:
    assert_invalid(verifier, forge(signer, claims, typ=typ), "header_not_allowed", "header")


def test_missing_typ_is_the_jwt_profile(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    """typ is optional in OB 3.0: without it the token follows the JWT profile, with all its claim rules."""
    token = signed(signer, {"alg": "EdDSA", "kid": signer.kid}, claims)
    assert verify(verifier, token)["verdict"] == "valid"
    without_nbf = {name: value for name, value in claims.items() if name != "nbf"}
    assert_invalid(
        verifier, signed(signer, {"alg": "EdDSA", "kid": signer.kid}, without_nbf), "claims_mismatch", "claims"
    )


@pytest.mark.parametrize("typ", ["jwt", "Jwt", "vc+jwt", "VC+JWT", "application/vc+jwt"])
def test_typ_spellings_accepted(verifier: TestClient, signer: Signer, claims: dict[str, Any], typ: str) -> None:
    report = verify(verifier, forge(signer, claims, typ=typ))
    assert report["verdict"] == "valid", report


# --------------------------------------------------------------------------------------------------------------
# kid tricks


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "../../../../../../dev/null",
        "http://issuer.test/.well-known/jwks.json",
        "https://evil.example/keys/1",
        "file:///etc/passwd",
        "' OR '1'='1",
        "x'; DROP TABLE signing_keys; --",
        "did:web:evil.example#key-1",
        "%00",
        "k" * 256,
    ],
)
def test_kid_is_only_a_lookup_key(verifier: TestClient, signer: Signer, claims: dict[str, Any], kid: str) -> None:
    assert_invalid(verifier, forge(signer, claims, kid=kid), "unknown_key", "key")


@pytest.mark.parametrize("kid", ["", 0, 12345, 1.5, True, ["kid"], {"kid": "x"}, "k" * 257])
def test_kid_that_is_not_a_short_string(verifier: TestClient, signer: Signer, claims: dict[str, Any], kid: Any) -> None:
    assert_invalid(verifier, forge(signer, claims, kid=kid), "header_not_allowed", "header")


def test_kid_null_is_refused(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    assert_invalid(verifier, forge(signer, claims, kid=None), "header_not_allowed", "header")


def test_kid_of_another_provider(
    verifier: TestClient, issuer: TestClient, ctx: IssuerContext, signer: Signer, claims: dict[str, Any]
) -> None:
    other = add_provider(ctx, "other-academy")
    other_signer = provider_signer(issuer, ctx, other)
    assert other_signer.kid != signer.kid
    # The other provider signs a credential claiming to come from the fixture provider, with its own kid ...
    assert_invalid(verifier, forge(other_signer, claims), "unknown_key", "key")
    # ... or announces its kid while the signature is the real provider's.
    assert_invalid(verifier, forge(signer, claims, kid=other_signer.kid), "unknown_key", "key")


def test_key_of_provider_a_claiming_provider_b(
    verifier_factory: Any,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    provider_b = add_provider(ctx, "provider-b", name="Provider B")
    both = verifier_factory([provider.issuer_id, provider_b.issuer_id])
    signer_a = provider_signer(issuer, ctx, provider)
    # A credential that is genuinely B's in every field (issued by B), re-signed with A's key.
    achievement_b = issuer.post(
        "/api/v1/achievements",
        json={k: achievement[k] for k in ("name", "description", "criteria")},
        headers=provider_b.headers,
    )
    assert achievement_b.status_code == 201, achievement_b.text
    genuine_b = issue(issuer, provider_b, achievement_b.json())["jwt"]
    assert verify(both, genuine_b)["verdict"] == "valid"
    claims_b = claims_of(genuine_b)
    assert claims_b["iss"] == provider_b.issuer_id
    assert_invalid(both, forge(signer_a, claims_b), "unknown_key", "key")
    # Without a kid, A's key is simply not among B's keys: the signature cannot match any of them.
    assert_invalid(both, signed(signer_a, {"alg": "EdDSA", "typ": "JWT"}, claims_b), "bad_signature", "signature")


# --------------------------------------------------------------------------------------------------------------
# compact form


def test_padding_in_a_segment(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    assert len(signature) % 4 == 2  # a 64-byte Ed25519 signature needs two padding characters
    assert_invalid(verifier, f"{header}.{payload}.{signature}==", "malformed", "format")
    padded_header = segment(b64url_decode(header, "header") + b" ")  # make the header need padding
    if len(padded_header) % 4:
        assert_invalid(
            verifier, f"{padded_header}{'=' * (-len(padded_header) % 4)}.{payload}.{signature}", "malformed", "format"
        )
    assert_invalid(verifier, f"{header}.{payload}=.{signature}", "malformed", "format")


@pytest.mark.parametrize("bad", ["+", "/", "*", "!", "%", "\\", "$"])
def test_characters_outside_base64url(verifier: TestClient, token: str, bad: str) -> None:
    header, payload, signature = token.split(".")
    assert_invalid(verifier, f"{header}.{payload}.{bad}{signature[1:]}", "malformed", "format")
    assert_invalid(verifier, f"{header}.{payload[:10]}{bad}{payload[11:]}.{signature}", "malformed", "format")


def test_standard_base64_alphabet_instead_of_url_alphabet(
    verifier: TestClient, signer: Signer, claims: dict[str, Any]
) -> None:
    import base64

    header = segment({"alg": signer.alg, "kid": signer.kid, "typ": "JWT"})
    for filler in range(12):
        payload = base64.b64encode(serialize_json({**claims, "x-filler": "?" * filler})).decode().rstrip("=")
        if "/" in payload or "+" in payload:
            break
    assert "/" in payload or "+" in payload
    signing_input = f"{header}.{payload}"  # signed as sent: only the alphabet is wrong
    forged = signing_input + "." + b64url_encode(signer.sign(signing_input.encode()))
    assert_invalid(verifier, forged, "malformed", "format")


@pytest.mark.parametrize("count", [1, 2, 4, 5])
def test_wrong_number_of_segments(verifier: TestClient, token: str, count: int) -> None:
    parts = token.split(".")
    forged = ".".join([*parts, parts[2], parts[2]][:count])
    assert_invalid(verifier, forged, "malformed", "format")


def test_json_serialization_instead_of_compact(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    general = json.dumps({"payload": payload, "protected": header, "signature": signature})
    assert_invalid(verifier, general, "malformed", "format")


def _non_canonical(segment_text: str) -> str:
    """Flip a trailing bit that base64url decoding ignores: same bytes, different text."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(segment_text) % 4 in (2, 3), "needs a segment with unused trailing bits"
    last = alphabet.index(segment_text[-1])
    changed = segment_text[:-1] + alphabet[last ^ 1]
    assert b64url_decode(segment_text, "x") == __import__("base64").urlsafe_b64decode(
        changed + "=" * (-len(changed) % 4)
    )
    return changed


def test_non_canonical_trailing_bits_in_signature(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    assert_invalid(verifier, f"{header}.{payload}.{_non_canonical(signature)}", "malformed", "format")


def test_non_canonical_trailing_bits_in_payload(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    # Pad a claim until the payload segment has unused trailing bits, sign the non-canonical text itself.
    claims = dict(claims)
    for filler in range(3):
        claims["x-filler"] = "a" * filler
        payload = segment(claims)
        if len(payload) % 4 in (2, 3):
            break
    header = segment({"alg": signer.alg, "kid": signer.kid, "typ": "JWT"})
    signing_input = f"{header}.{_non_canonical(payload)}"
    forged = signing_input + "." + b64url_encode(signer.sign(signing_input.encode()))
    assert_invalid(verifier, forged, "malformed", "format")


@pytest.mark.parametrize("space", [" ", "\n", "\t", "\r\n", "\u00a0", "\u200b"])
def test_whitespace_inside_the_token(verifier: TestClient, token: str, space: str) -> None:
    header, payload, signature = token.split(".")
    for forged in (
        f"{header}.{space}{payload}.{signature}",
        f"{header}.{payload[:20]}{space}{payload[20:]}.{signature}",
        f"{header}{space}.{payload}.{signature}",
    ):
        assert_invalid(verifier, forged, "malformed", "format")


def test_oversize_token(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    big = copy.deepcopy(claims)
    big["credentialSubject"]["narrative"] = "Bardzo długi opis. " * 3600
    forged = forge(signer, big)
    assert MAX_TOKEN_BYTES < len(forged) < MAX_BODY_BYTES // 2
    report = assert_invalid(verifier, forged, "malformed", "format")
    assert str(MAX_TOKEN_BYTES) in first_failure(report)["message"]


def test_token_just_under_the_limit_is_read(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    big = copy.deepcopy(claims)
    big["credentialSubject"]["narrative"] = "x" * 10_000
    forged = forge(signer, big)
    assert 10_000 < len(forged) <= MAX_TOKEN_BYTES
    assert verify(verifier, forged)["verdict"] == "valid"


def test_empty_header_or_payload(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    assert_invalid(verifier, f".{payload}.{signature}", "malformed", "format")
    assert_invalid(verifier, f"{header}..{signature}", "malformed", "format")


# --------------------------------------------------------------------------------------------------------------
# decoded JSON


@pytest.mark.parametrize(
    "payload",
    [
        "[]",
        '"credential"',
        "1",
        "null",
        "true",
        "[{}]",
        '{"a":NaN}',
        '{"nbf":Infinity}',
        '{"nbf":-Infinity}',
        "NaN",
        '{"a":1',
        '{"a":1}x',
        "",
        '{"a":1,"a":2}',
        '{"credentialSubject":{"id":"x","id":"y"}}',
    ],
)
def test_payload_that_is_not_a_strict_json_object(verifier: TestClient, signer: Signer, payload: str) -> None:
    assert_invalid(verifier, forge_raw(signer, payload), "malformed", "format")


def forge_raw(signer: Signer, payload: str | bytes) -> str:
    header = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT"}
    signing_input = segment(header) + "." + (segment(payload) if payload else "")
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode()))


def test_claims_with_nan_are_malformed(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    text = serialize_json(claims).decode().replace(f'"nbf":{claims["nbf"]}', '"nbf":NaN')
    assert '"nbf":NaN' in text
    assert_invalid(verifier, forge_raw(signer, text), "malformed", "format")


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b'{"a":"\xc3"}', b"\xef\xbb\xbf{}"])
def test_payload_not_utf8_json(verifier: TestClient, signer: Signer, raw: bytes) -> None:
    assert_invalid(verifier, forge_raw(signer, raw), "malformed", "format")


@pytest.mark.parametrize("raw_header", ["[]", "null", '"EdDSA"', "{", '{"alg":NaN}', "\xff"])
def test_header_that_is_not_a_json_object(verifier: TestClient, claims: dict[str, Any], raw_header: str) -> None:
    assert_invalid(verifier, segment(raw_header) + "." + segment(claims) + ".", "malformed", "format")


def test_deeply_nested_payload(verifier: TestClient, signer: Signer) -> None:
    assert_invalid(verifier, forge_raw(signer, "[" * 5000 + "]" * 5000), "malformed", "format")


def test_format_is_judged_before_the_header(verifier: TestClient, claims: dict[str, Any]) -> None:
    forged = segment({"alg": "none", "typ": "JWT"}) + "." + segment(claims) + ".c2lnbmF0dXJl=="
    assert_invalid(verifier, forged, "malformed", "format")


# --------------------------------------------------------------------------------------------------------------
# signature


def test_tampered_payload(verifier: TestClient, token: str, claims: dict[str, Any]) -> None:
    header, _, signature = token.split(".")
    tampered = copy.deepcopy(claims)
    names = [entry for entry in tampered["credentialSubject"]["identifier"] if entry["identityType"] == "name"]
    assert names[0]["identityHash"] == "Anna Nowak"
    names[0]["identityHash"] = "Anna Nowal"  # one character
    forged = f"{header}.{segment(tampered)}.{signature}"
    assert_invalid(verifier, forged, "bad_signature", "signature")


@pytest.mark.parametrize("field", ["validFrom", "name", "jti"])
def test_tampered_payload_fields(verifier: TestClient, token: str, claims: dict[str, Any], field: str) -> None:
    header, _, signature = token.split(".")
    tampered = copy.deepcopy(claims)
    value = tampered[field]
    tampered[field] = value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    assert_invalid(verifier, f"{header}.{segment(tampered)}.{signature}", "bad_signature", "signature")


def test_tampered_header_is_bad_signature(verifier: TestClient, token: str, header: dict[str, Any]) -> None:
    _, payload, signature = token.split(".")
    forged = segment({**header, "typ": "vc+jwt"}) + f".{payload}.{signature}"
    assert_invalid(verifier, forged, "bad_signature", "signature")


@pytest.mark.parametrize("keep", [63, 32, 1, 0])
def test_truncated_signature(verifier: TestClient, token: str, keep: int) -> None:
    header, payload, signature = token.split(".")
    short = b64url_decode(signature, "signature")[:keep]
    assert_invalid(verifier, f"{header}.{payload}.{b64url_encode(short)}", "bad_signature", "signature")


def test_extended_signature(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    longer = b64url_decode(signature, "signature") + b"\x00"
    assert_invalid(verifier, f"{header}.{payload}.{b64url_encode(longer)}", "bad_signature", "signature")


def test_flipped_signature_bit(verifier: TestClient, token: str) -> None:
    header, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature, "signature"))
    raw[10] ^= 0x01
    assert_invalid(verifier, f"{header}.{payload}.{b64url_encode(bytes(raw))}", "bad_signature", "signature")


def test_signature_of_another_token(
    verifier: TestClient, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], token: str
) -> None:
    other = issue(issuer, provider, achievement, allowDuplicate=True)["jwt"]
    header, payload, _ = token.split(".")
    assert_invalid(verifier, f"{header}.{payload}.{other.split('.')[2]}", "bad_signature", "signature")


# --------------------------------------------------------------------------------------------------------------
# claims (all correctly signed by the trusted provider's real key)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nbf", "NBF_AS_STRING"),
        ("nbf", True),
        ("nbf", False),
        ("nbf", None),
        ("nbf", [1700000000]),
        ("nbf", {"$date": 1700000000}),
        ("exp", [1]),
        ("exp", "2030-01-01T00:00:00Z"),
        ("exp", True),
        ("iat", "1700000000"),
        ("iat", None),
    ],
)
def test_numeric_dates_of_the_wrong_type(
    verifier: TestClient, signer: Signer, claims: dict[str, Any], name: str, value: Any
) -> None:
    if value == "NBF_AS_STRING":
        value = str(claims["nbf"])
    forged = forge(signer, {**claims, name: value})
    report = assert_invalid(verifier, forged, "claims_mismatch", "claims")
    assert name in first_failure(report)["message"]


def test_numeric_date_that_overflows_to_infinity(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    # 1e400 is valid JSON, but Python reads it as float('inf'): not a usable NumericDate.
    text = serialize_json(claims).decode().replace(f'"nbf":{claims["nbf"]}', '"nbf":1e400')
    assert '"nbf":1e400' in text
    report = assert_invalid(verifier, forge_raw(signer, text), "claims_mismatch", "claims")
    assert "nbf" in first_failure(report)["message"]


def test_numeric_date_too_large_for_a_float(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    """Regression: math.isfinite(10**400) raised OverflowError and the verdict became internal_error."""
    forged = forge_raw(signer, serialize_json(claims).decode().replace(f'"nbf":{claims["nbf"]}', '"nbf":1' + "0" * 400))
    assert_invalid(verifier, forged, "claims_mismatch", "claims")


@pytest.mark.parametrize("name", ["iss", "jti", "sub"])
@pytest.mark.parametrize("value", [1, None, ["x"], {"id": "x"}])
def test_string_claims_of_the_wrong_type(
    verifier: TestClient, signer: Signer, claims: dict[str, Any], name: str, value: Any
) -> None:
    if name == "iss":
        # iss decides which issuer's keys are used, so a non-string iss fails before the signature is checked.
        assert_invalid(verifier, forge(signer, {**claims, name: value}), "claims_mismatch", "issuer")
    else:
        assert_invalid(verifier, forge(signer, {**claims, name: value}), "claims_mismatch", "claims")


def test_iss_differs_from_issuer_id(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = copy.deepcopy(claims)
    forged["issuer"]["id"] = f"{ISSUER_URL}/issuers/someone-else"
    report = assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")
    assert "iss" in first_failure(report)["message"]


def test_jti_differs_from_id(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    report = assert_invalid(
        verifier,
        forge(signer, {**claims, "jti": f"{ISSUER_URL}/credentials/{uuid.uuid4()}"}),
        "claims_mismatch",
        "claims",
    )
    assert "jti" in first_failure(report)["message"]


def test_sub_differs_from_subject_id(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    report = assert_invalid(
        verifier, forge(signer, {**claims, "sub": f"urn:uuid:{uuid.uuid4()}"}), "claims_mismatch", "claims"
    )
    assert "sub" in first_failure(report)["message"]


def test_sub_without_subject_id(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = copy.deepcopy(claims)
    del forged["credentialSubject"]["id"]
    assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")


@pytest.mark.parametrize("delta", [1, -1, 3600, -86400])
def test_nbf_differs_from_valid_from(verifier: TestClient, signer: Signer, claims: dict[str, Any], delta: int) -> None:
    report = assert_invalid(
        verifier, forge(signer, {**claims, "nbf": claims["nbf"] + delta}), "claims_mismatch", "claims"
    )
    assert "nbf" in first_failure(report)["message"]


def test_nbf_without_valid_from(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    """nbf stands on its own, but an Open Badges credential must still have validFrom (its schema says so)."""
    forged = dict(claims)
    del forged["validFrom"]
    assert_invalid(verifier, forge(signer, forged), "schema_invalid", "schema")


def test_exp_without_valid_until_is_judged_by_exp(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    assert "validUntil" not in claims
    later = verify(verifier, forge(signer, {**claims, "exp": int(time.time()) + 86400 * 365}))
    assert later["verdict"] == "valid", later
    past = {**claims, "nbf": int(time.time()) - 86400 * 30, "exp": int(time.time()) - 86400}
    past["validFrom"] = datetime.fromtimestamp(past["nbf"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_invalid(verifier, forge(signer, past), "expired", "validity")


def test_valid_until_without_exp(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = {**claims, "validUntil": "2099-01-01T00:00:00Z"}
    report = assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")
    assert "exp" in first_failure(report)["message"]


def test_exp_differs_from_valid_until(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = {**claims, "validUntil": "2099-01-01T00:00:00Z", "exp": 4070908800 + 1}
    assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")
    assert verify(verifier, forge(signer, {**forged, "exp": 4070908800}))["verdict"] == "valid"


def test_missing_nbf_in_typ_jwt(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = {name: value for name, value in claims.items() if name != "nbf"}
    report = assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")
    assert "nbf" in first_failure(report)["message"]
    # The same payload is acceptable under VC-JOSE-COSE, which has no nbf.
    assert verify(verifier, forge(signer, forged, typ="vc+jwt"))["verdict"] == "valid"


def test_missing_iss_in_typ_jwt(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = {name: value for name, value in claims.items() if name != "iss"}
    report = assert_invalid(verifier, forge(signer, forged), "claims_mismatch", "claims")
    assert "iss" in first_failure(report)["message"]


@pytest.mark.parametrize("valid_from", ["2024-13-01T00:00:00Z", "2024-02-30T10:00:00Z", "yesterday", 1700000000])
def test_unreadable_valid_from(verifier: TestClient, signer: Signer, claims: dict[str, Any], valid_from: Any) -> None:
    assert_invalid(verifier, forge(signer, {**claims, "validFrom": valid_from}), "claims_mismatch", "claims")


def test_legacy_vc_1_1_token(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    credential = {name: value for name, value in claims.items() if name not in ("iss", "jti", "sub", "nbf")}
    credential["@context"] = ["https://www.w3.org/2018/credentials/v1"]
    legacy = {"iss": claims["iss"], "jti": claims["jti"], "sub": claims["sub"], "nbf": claims["nbf"], "vc": credential}
    report = assert_invalid(verifier, forge(signer, legacy), "legacy_format", "claims")
    assert "1.1" in first_failure(report)["message"]


def test_self_signed_credential_of_an_unknown_issuer(verifier: TestClient, claims: dict[str, Any]) -> None:
    key = generate_private_key("EdDSA")
    from credentials.keys import public_jwk

    rogue = PrivateKeySigner(public_jwk(key, "EdDSA")["kid"], "EdDSA", key)
    forged = copy.deepcopy(claims)
    forged["issuer"]["id"] = forged["iss"] = "https://evil.example/issuers/wsei"
    report = assert_invalid(verifier, encode_compact(forged, rogue), "untrusted_issuer", "issuer")
    assert "evil.example" in first_failure(report)["message"]


def test_unknown_issuer_on_the_trusted_host(verifier: TestClient, signer: Signer, claims: dict[str, Any]) -> None:
    forged = copy.deepcopy(claims)
    forged["issuer"]["id"] = forged["iss"] = f"{ISSUER_URL}/issuers/ghost"
    assert_invalid(verifier, forge(signer, forged), "untrusted_issuer", "issuer")


@pytest.mark.parametrize(
    "iss",
    [
        f"{ISSUER_URL}/issuers/wsei/",
        f"{ISSUER_URL.upper()}/issuers/wsei",
        f"{ISSUER_URL}/issuers/WSEI",
        f"{ISSUER_URL}/issuers/wsei#x",
    ],
)
def test_issuer_id_lookalikes_are_not_trusted(
    verifier: TestClient, signer: Signer, claims: dict[str, Any], iss: str
) -> None:
    forged = copy.deepcopy(claims)
    forged["issuer"]["id"] = forged["iss"] = iss
    assert_invalid(verifier, forge(signer, forged), "untrusted_issuer", "issuer")


@pytest.mark.parametrize(
    "breakage",
    [
        "no-criteria",
        "no-achievement-type",
        "type-missing-openbadge",
        "name-not-string",
        "issuer-no-type",
        "subject-type-wrong",
        "context-order",
    ],
)
def test_schema_invalid_credential_correctly_signed(
    verifier: TestClient, signer: Signer, claims: dict[str, Any], breakage: str
) -> None:
    forged = copy.deepcopy(claims)
    achievement = forged["credentialSubject"]["achievement"]
    if breakage == "no-criteria":
        del achievement["criteria"]
    elif breakage == "no-achievement-type":
        del achievement["type"]
    elif breakage == "type-missing-openbadge":
        forged["type"] = ["VerifiableCredential"]
    elif breakage == "name-not-string":
        forged["name"] = 42
    elif breakage == "issuer-no-type":
        del forged["issuer"]["type"]
    elif breakage == "subject-type-wrong":
        forged["credentialSubject"]["type"] = ["Person"]
    elif breakage == "context-order":
        forged["@context"] = list(reversed(forged["@context"]))
    report = assert_invalid(verifier, forge(signer, forged), "schema_invalid", "schema")
    # The identified credential is still summarised for the person reading the report.
    assert report["credential"]["id"] == claims["id"]


# --------------------------------------------------------------------------------------------------------------
# no input ever yields a 5xx; 4xx only for requests that cannot be read

INVALID = 200
GARBAGE: list[tuple[str, dict[str, Any], int, str | None]] = [
    # (id, request kwargs, expected HTTP status, expected first failure code when 200)
    ("empty-string", {"json": {"credential": ""}}, INVALID, "malformed"),
    ("blank", {"json": {"credential": " \n\t "}}, INVALID, "malformed"),
    ("dot", {"json": {"credential": "."}}, INVALID, "malformed"),
    ("two-dots", {"json": {"credential": ".."}}, INVALID, "malformed"),
    ("three-dots", {"json": {"credential": "..."}}, INVALID, "malformed"),
    ("abc", {"json": {"credential": "a.b.c"}}, INVALID, "malformed"),
    ("polish", {"json": {"credential": "Zażółć gęślą jaźń"}}, INVALID, "malformed"),
    ("emoji", {"json": {"credential": "😀.😀.😀"}}, INVALID, "malformed"),
    ("nul", {"json": {"credential": "\u0000"}}, INVALID, "malformed"),
    ("rtl-override", {"json": {"credential": "e30\u202e.e30.e30"}}, INVALID, "malformed"),
    ("very-long", {"json": {"credential": "A" * 40_000}}, INVALID, "malformed"),
    ("very-long-3-parts", {"json": {"credential": "QUFB." * 2 + "QUFB" * 5000}}, INVALID, "malformed"),
    ("empty-objects", {"json": {"credential": "e30.e30.e30"}}, INVALID, "unsupported_algorithm"),
    ("null-parts", {"json": {"credential": "bnVsbA.bnVsbA.bnVsbA"}}, INVALID, "malformed"),
    ("javascript-url", {"json": {"credential": "javascript:alert(1)"}}, INVALID, "malformed"),
    ("html", {"json": {"credential": "<script>alert(1)</script>"}}, INVALID, "malformed"),
    ("bare-scheme", {"json": {"credential": "http://"}}, INVALID, "untrusted_issuer"),
    ("foreign-link", {"json": {"credential": "https://evil.example/credentials/1"}}, INVALID, "untrusted_issuer"),
    ("broken-ipv6-link", {"json": {"credential": "http://[::1/credentials/1"}}, INVALID, "untrusted_issuer"),
    ("userinfo-link", {"json": {"credential": "http://user@issuer.test/credentials/1"}}, INVALID, "untrusted_issuer"),
    (
        "unknown-credential-link",
        {"json": {"credential": f"{ISSUER_URL}/credentials/{uuid.UUID(int=0)}"}},
        INVALID,
        "not_found",
    ),
    ("number", {"json": {"credential": 5}}, 422, None),
    ("null", {"json": {"credential": None}}, 422, None),
    ("list", {"json": {"credential": ["e30.e30.e30"]}}, 422, None),
    ("object", {"json": {"credential": {"jwt": "e30.e30.e30"}}}, INVALID, "malformed"),  # not an envelope
    ("no-field", {"json": {}}, 422, None),
    ("other-field", {"json": {"jwt": "e30.e30.e30"}}, 422, None),
    ("json-array", {"json": ["e30.e30.e30"]}, 422, None),
    ("json-string", {"json": "e30.e30.e30"}, 422, None),
    ("json-number", {"json": 42}, 422, None),
    ("json-null", {"content": b"null", "headers": {"content-type": "application/json"}}, 422, None),
    ("json-nan", {"content": b'{"credential": NaN}', "headers": {"content-type": "application/json"}}, 422, None),
    ("not-json", {"content": b"{", "headers": {"content-type": "application/json"}}, 400, None),
    ("empty-json-body", {"content": b"", "headers": {"content-type": "application/json"}}, 400, None),
    ("not-utf8", {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}, 400, None),
    (
        "form-encoded",
        {"content": b"credential=e30.e30.e30", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        400,
        None,
    ),
    ("too-large", {"json": {"credential": "A" * (MAX_BODY_BYTES + 1)}}, 413, None),
    ("text-empty", {"content": b"", "headers": {"content-type": "text/plain"}}, INVALID, "malformed"),
    (
        "text-garbage",
        {"content": b"nie token", "headers": {"content-type": "text/plain; charset=utf-8"}},
        INVALID,
        "malformed",
    ),
    (
        "text-json",
        {"content": b'{"credential": "e30.e30.e30"}', "headers": {"content-type": "text/plain"}},
        INVALID,
        "malformed",
    ),
    ("text-deep", {"content": b"[" * 50_000, "headers": {"content-type": "text/plain"}}, INVALID, "malformed"),
    ("text-not-utf8", {"content": b"\xc3\x28", "headers": {"content-type": "text/plain"}}, 400, None),
]


@pytest.mark.parametrize(("body", "status", "code"), [item[1:] for item in GARBAGE], ids=[item[0] for item in GARBAGE])
def test_garbage_never_yields_a_server_error(
    verifier: TestClient, body: dict[str, Any], status: int, code: str | None
) -> None:
    client = TestClient(verifier.app, base_url=VERIFIER_URL, raise_server_exceptions=False)
    response = client.post("/api/v1/verify", **body)
    assert response.status_code == status, response.text
    document = response.json()
    if status == INVALID:
        assert document["verdict"] == "invalid", document
        assert first_failure(document)["code"] == code, document
    else:
        assert document["error"]["code"] in ("malformed_request", "invalid_input", "too_large"), document
        assert document["error"]["message"]


def test_deeply_nested_json_body_is_a_bad_request(verifier: TestClient) -> None:
    """Regression: json.loads raised RecursionError (not a ValueError), which escaped as HTTP 500."""
    client = TestClient(verifier.app, base_url=VERIFIER_URL, raise_server_exceptions=False)
    response = client.post("/api/v1/verify", content=b"[" * 50_000, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.status_code
    assert response.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("link", [f"{ISSUER_URL}/credentials/\u0001", f"{ISSUER_URL}/credentials/a\u007fb"])
def test_link_with_control_characters_is_not_a_server_error(verifier: TestClient, link: str) -> None:
    """Regression: httpx.InvalidURL (not an httpx.HTTPError) escaped verifier/remote.py fetch as HTTP 500."""
    client = TestClient(verifier.app, base_url=VERIFIER_URL, raise_server_exceptions=False)
    response = client.post("/api/v1/verify", json={"credential": link})
    assert response.status_code == 200, response.status_code
    report = response.json()
    assert report["verdict"] in ("invalid", "indeterminate")
    assert first_failure(report)["id"] == "retrieval"
