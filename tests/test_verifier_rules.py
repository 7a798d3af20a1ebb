"""The verification rules one by one: strict JOSE parsing and header rules, the OB 3.0 claim mapping and dates,
published-key admission and thumbprints, the validity window with the clock frozen, and the key cache.

Only the network edge is replaced (an ``httpx.MockTransport`` standing in for issuer hosts); keys are generated
at run time.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from credentials.encoding import b64url_decode, b64url_encode
from credentials.errors import (
    BadSignature,
    ClaimsMismatch,
    HeaderNotAllowed,
    InvalidKey,
    LegacyFormat,
    MalformedToken,
    UnsupportedAlgorithm,
)
from credentials.jose import (
    MAX_KID_LENGTH,
    MAX_TOKEN_BYTES,
    check_header,
    encode_compact,
    parse_compact,
    serialize_json,
    verify_signature,
)
from credentials.keys import (
    PrivateKeySigner,
    VerificationKey,
    generate_private_key,
    public_jwk,
    thumbprint,
)
from credentials.ob3 import (
    CONTEXTS,
    CREDENTIAL_TYPES,
    check_claims,
    format_datetime,
    jwt_claims_for,
    parse_datetime,
    validity_window,
)
from tests.conftest import ISSUER_URL, VERIFIER_URL, ProviderFixture, issue
from verifier.app import create_app as create_verifier_app
from verifier.remote import Fetcher
from verifier.settings import VerifierSettings
from verifier.trust import KeyResolver, KeysUnavailable, TrustList

EPOCH_2000 = 946684800  # 2000-01-01T00:00:00Z

# ==============================================================================================================
# helpers


def signer_for(alg: str, kid: str | None = None, **members: str) -> tuple[PrivateKeySigner, dict[str, Any]]:
    key = generate_private_key(alg)
    jwk = public_jwk(key, alg, **members)
    if kid is not None:
        jwk["kid"] = kid
    return PrivateKeySigner(jwk["kid"], alg, key), jwk


def b64json(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


def report_failure(report: dict[str, Any]) -> dict[str, Any]:
    for check in report["checks"]:
        if check["status"] in ("failed", "unknown"):
            return check  # type: ignore[no-any-return]
    raise AssertionError(f"nothing failed: {report}")


def minimal_credential(**overrides: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS),
        "id": "https://badges.example/credentials/1",
        "type": list(CREDENTIAL_TYPES),
        "issuer": {"id": "https://badges.example/issuer", "type": ["Profile"], "name": "Example"},
        "validFrom": "2000-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
    }
    credential.update(overrides)
    return credential


def with_claims(credential: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**credential, **jwt_claims_for(credential), **extra}


# ==============================================================================================================
# check_header


@pytest.mark.parametrize(
    ("header", "profile"),
    [
        ({"alg": "EdDSA", "kid": "k", "typ": "JWT"}, "ob3"),
        ({"alg": "ES256", "typ": "jwt"}, "ob3"),
        ({"alg": "RS256", "kid": "k", "typ": "JwT"}, "ob3"),
        ({"alg": "EdDSA", "kid": "k", "typ": "vc+jwt"}, "vc-jose-cose"),
        ({"alg": "EdDSA", "kid": "k", "typ": "VC+JWT"}, "vc-jose-cose"),
        ({"alg": "EdDSA", "kid": "k", "typ": "application/vc+jwt"}, "vc-jose-cose"),
        ({"alg": "EdDSA", "kid": "k", "typ": "vc+jwt", "cty": "vc"}, "vc-jose-cose"),
        ({"alg": "EdDSA", "kid": "k" * MAX_KID_LENGTH, "typ": "JWT"}, "ob3"),
    ],
)
def test_check_header_accepts_the_profiles(header: dict[str, Any], profile: str) -> None:
    assert check_header(header) == profile


@pytest.mark.parametrize(
    "alg",
    [
        None,
        "",
        "none",
        "None",
        "NONE",
        "nOnE",
        "HS256",
        "HS384",
        "HS512",
        "PS256",
        "ES384",
        "ES512",
        "RS384",
        "ES256K",
        "Ed25519",
        "EdDSA ",
        "eddsa",
        "RSA1_5",
        256,
        ["EdDSA"],
        True,
    ],
)
def test_check_header_refuses_algorithms(alg: Any) -> None:
    header = {"kid": "k", "typ": "JWT"} if alg is None else {"alg": alg, "kid": "k", "typ": "JWT"}
    with pytest.raises(UnsupportedAlgorithm) as caught:
        check_header(header)
    assert caught.value.code == "unsupported_algorithm"


def test_check_header_takes_a_jwk_object_only() -> None:
    """An embedded jwk passes the header rules (the key step decides whether it names a published key)."""
    assert check_header({"alg": "EdDSA", "kid": "k", "typ": "JWT", "jwk": {"kty": "OKP"}}) == "ob3"
    for value in ("k", ["k"], 1, None):
        with pytest.raises(HeaderNotAllowed):
            check_header({"alg": "EdDSA", "typ": "JWT", "jwk": value})


def test_check_header_without_typ_is_the_jwt_profile() -> None:
    assert check_header({"alg": "EdDSA", "kid": "k"}) == "ob3"


@pytest.mark.parametrize(
    "extra",
    [
        {"jku": "https://evil.example/k"},
        {"x5u": "https://evil.example/c"},
        {"x5c": ["MII"]},
        {"x5t": "abc"},
        {"x5t#S256": "abc"},
        {"crit": ["b64"]},
        {"b64": False},
        {"zip": "DEF"},
        {"nonce": "n"},
        {"url": "https://evil.example"},
        {"Kid": "k"},
    ],
)
def test_check_header_refuses_members(extra: dict[str, Any]) -> None:
    with pytest.raises(HeaderNotAllowed) as caught:
        check_header({"alg": "EdDSA", "kid": "k", "typ": "JWT", **extra})
    assert caught.value.details["member"] == next(iter(extra))
    assert caught.value.code == "header_not_allowed"


def test_algorithm_is_judged_before_other_members() -> None:
    # A token that is both unsigned and carries a key must be reported for the algorithm.
    with pytest.raises(UnsupportedAlgorithm):
        check_header({"alg": "none", "jwk": {}, "typ": "JWT"})


@pytest.mark.parametrize("kid", ["", 0, 7, 1.0, False, [], {}, "k" * (MAX_KID_LENGTH + 1)])
def test_check_header_refuses_kids(kid: Any) -> None:
    with pytest.raises(HeaderNotAllowed) as caught:
        check_header({"alg": "EdDSA", "kid": kid, "typ": "JWT"})
    assert caught.value.details["member"] == "kid"


@pytest.mark.parametrize(
    "member",
    [
        pytest.param("kid"),
        pytest.param("cty"),
    ],
)
def test_check_header_refuses_null_members(member: str) -> None:
    with pytest.raises(HeaderNotAllowed):
        check_header({"alg": "EdDSA", "kid": "k", "typ": "JWT", member: None})


@pytest.mark.parametrize(
    "typ", [None, "", "JOSE", "jose+json", "vc+ld+jwt", "vc+sd-jwt", "application/jwt", 1, ["JWT"]]
)
def test_check_header_refuses_types(typ: Any) -> None:
    header: dict[str, Any] = {"alg": "EdDSA", "kid": "k", "typ": typ}
    with pytest.raises(HeaderNotAllowed) as caught:
        check_header(header)
    assert caught.value.details["member"] == "typ"


@pytest.mark.parametrize("cty", ["JWT", "jwt", "application/jwt", "VC", "vc+jwt", "", 1, ["vc"]])
def test_check_header_refuses_content_types(cty: Any) -> None:
    with pytest.raises(HeaderNotAllowed) as caught:
        check_header({"alg": "EdDSA", "kid": "k", "typ": "vc+jwt", "cty": cty})
    assert caught.value.details["member"] == "cty"


# ==============================================================================================================
# parse_compact


@pytest.fixture(scope="module")
def ed_signer() -> PrivateKeySigner:
    return signer_for("EdDSA")[0]


def test_parse_compact_returns_unverified_parts(ed_signer: PrivateKeySigner) -> None:
    claims = {"iss": "https://badges.example/issuer", "zażółć": "gęślą"}
    token = encode_compact(claims, ed_signer)
    jws = parse_compact(token)
    assert jws.unverified_header == {"alg": "EdDSA", "kid": ed_signer.kid, "typ": "JWT"}
    assert jws.unverified_claims == claims
    assert jws.signing_input == token.rsplit(".", 1)[0].encode()
    assert len(jws.signature) == 64
    assert (jws.alg, jws.kid, jws.profile) == ("EdDSA", ed_signer.kid, "ob3")
    assert parse_compact(encode_compact(claims, ed_signer, profile="vc-jose-cose")).profile == "vc-jose-cose"


def test_parse_compact_length_limit() -> None:
    header = b64json({"alg": "EdDSA", "typ": "JWT"})
    target = (MAX_TOKEN_BYTES - len(header)) * 3 // 4
    exact = [
        f"{header}.{b64json({'x': 'a' * extra})}.{signature}"
        for signature in ("", "AA", "AAA")
        for extra in range(target - 20, target)
    ]
    token = next(candidate for candidate in exact if len(candidate) == MAX_TOKEN_BYTES)
    assert parse_compact(token).unverified_claims["x"].startswith("a")  # exactly at the limit: read
    with pytest.raises(MalformedToken) as caught:
        parse_compact(token + "A")
    assert caught.value.details == {"limit": MAX_TOKEN_BYTES}


H = b64json({"alg": "EdDSA", "typ": "JWT"})


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "..",
        "...",
        "a",
        "a.b",
        "a.b.c.d",
        "H.e30",
        "H.e30.e30.e30",
        ".e30.",
        "H..",
        "H..e30",
        "H.e30.e30=",
        "H==.e30.",
        "e30=.e30.",
        "H.e30=.",
        "H.e3 0.",
        "H.e30.\n",
        " H.e30.",
        "H.e30.+/",
        "H.e30.A",
        "H.e31.",
        "ė30.e30.",
        "H.e30.e30\u00a0",
        "H.e30.AB",
        "H.e30.AAB",
        "H\t.e30.",
    ],
)
def test_parse_compact_refuses_malformed(token: str) -> None:
    with pytest.raises(MalformedToken) as caught:
        parse_compact(token.replace("H", H))
    assert caught.value.code == "malformed"


def test_parse_compact_segment_counts_are_reported() -> None:
    with pytest.raises(MalformedToken) as caught:
        parse_compact("e30.e30.e30.e30")
    assert caught.value.details["parts"] == 4


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b'{"alg":"EdDSA","alg":"none","typ":"JWT"}', HeaderNotAllowed),
        (b'{"alg":"EdDSA","typ":"JWT","typ":"JWT"}', HeaderNotAllowed),
        (b"[]", MalformedToken),
        (b"null", MalformedToken),
        (b'{"alg":NaN,"typ":"JWT"}', MalformedToken),
        (b"\xff", MalformedToken),
    ],
)
def test_parse_compact_header_json(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_compact(f"{b64url_encode(raw)}.{b64json({})}.")


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"1",
        b'"s"',
        b'{"a":NaN}',
        b'{"a":Infinity}',
        b'{"a":-Infinity}',
        b'{"a":1,"a":1}',
        b'{"a":{"b":1,"b":2}}',
        b"\xc3\x28",
        b'{"a":1} x',
        b"[" * 3000 + b"]" * 3000,
    ],
)
def test_parse_compact_payload_json(raw: bytes) -> None:
    header = b64json({"alg": "EdDSA", "typ": "JWT"})
    with pytest.raises(MalformedToken) as caught:
        parse_compact(f"{header}.{b64url_encode(raw)}.")
    assert caught.value.details["segment"] == "payload"


def test_non_canonical_base64_is_refused() -> None:
    # "e30" is "{}"; "e31" decodes to the same bytes under a lenient decoder.
    assert base64.urlsafe_b64decode("e31=") == b"{}"
    with pytest.raises(MalformedToken):
        b64url_decode("e31", "payload")
    assert b64url_decode("e30", "payload") == b"{}"


def test_verify_signature_binds_the_algorithm_to_the_key(ed_signer: PrivateKeySigner) -> None:
    _, jwk = signer_for("EdDSA")
    key = VerificationKey.from_jwk(public_jwk(ed_signer.private_key, "EdDSA"))
    token = encode_compact({"x": 1}, ed_signer)
    verify_signature(parse_compact(token), key)  # no exception
    header, payload, signature = token.split(".")
    swapped = b64json({"alg": "ES256", "kid": ed_signer.kid, "typ": "JWT"})
    with pytest.raises(UnsupportedAlgorithm):
        verify_signature(parse_compact(f"{swapped}.{payload}.{signature}"), key)
    with pytest.raises(BadSignature):
        verify_signature(parse_compact(token), VerificationKey.from_jwk(jwk))
    with pytest.raises(BadSignature):
        verify_signature(parse_compact(f"{header}.{payload}."), key)


# ==============================================================================================================
# parse_datetime, jwt_claims_for, check_claims


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2000-01-01T00:00:00Z", EPOCH_2000),
        ("2000-01-01t00:00:00z", EPOCH_2000),
        ("2000-01-01T01:00:00+01:00", EPOCH_2000),
        ("1999-12-31T19:30:00-04:30", EPOCH_2000),
        ("2000-01-01T00:00:00.5Z", EPOCH_2000 + 0.5),
        ("2000-01-01T00:00:00.123456789Z", EPOCH_2000 + 0.123456),
        ("2000-01-01T00:00:00+00:00", EPOCH_2000),
    ],
)
def test_parse_datetime_accepts_rfc3339_with_zone(text: str, expected: float) -> None:
    parsed = parse_datetime(text)
    assert parsed.tzinfo is not None
    assert parsed.timestamp() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "value",
    [
        "2000-01-01T00:00:00",
        "2000-01-01",
        "2000-01-01 00:00:00Z",
        "2000-01-01T00:00Z",
        "20000101T000000Z",
        "2000-01-01T00:00:00.Z",
        "2000-01-01T00:00:00.1234567890Z",
        "2000-13-01T00:00:00Z",
        "2000-02-30T00:00:00Z",
        "2000-01-01T24:00:00Z",
        "2000-01-01T00:00:00+2400",
        "2000-01-01T00:00:00+25:00",
        " 2000-01-01T00:00:00Z",
        "2000-01-01T00:00:00Z\n",
        "2000-01-01T00:00:00UTC",
        "٢٠٠٠-01-01T00:00:00Z",
        "",
        None,
        946684800,
        [],
        {},
    ],
)
def test_parse_datetime_refuses(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


def test_format_datetime_round_trips() -> None:
    moment = datetime(2026, 11, 27, 10, 0, 0, 999_999, tzinfo=UTC)
    assert format_datetime(moment) == "2026-11-27T10:00:00Z"
    assert parse_datetime(format_datetime(moment)) == moment.replace(microsecond=0)


def test_jwt_claims_for_maps_every_field() -> None:
    credential = minimal_credential(validFrom="2000-01-01T01:00:00.999+01:00", validUntil="2001-01-01T00:00:00Z")
    assert jwt_claims_for(credential) == {
        "iss": "https://badges.example/issuer",
        "jti": "https://badges.example/credentials/1",
        "sub": "did:example:learner",
        "nbf": EPOCH_2000,
        "exp": EPOCH_2000 + 366 * 86400,  # 2000 is a leap year
    }


def test_jwt_claims_for_only_what_is_present() -> None:
    assert jwt_claims_for({"issuer": "https://badges.example/issuer"}) == {"iss": "https://badges.example/issuer"}
    assert jwt_claims_for({"issuer": {"name": "no id"}, "credentialSubject": {"identifier": []}}) == {}
    assert jwt_claims_for({"validFrom": "1969-12-31T23:59:59.5Z"}) == {"nbf": -1}  # floor, not round
    with pytest.raises(ValueError):
        jwt_claims_for({"validFrom": "yesterday"})


def test_check_claims_accepts_a_consistent_credential() -> None:
    credential = with_claims(minimal_credential(validUntil="2030-01-01T00:00:00Z"))
    check_claims(credential, "ob3")
    check_claims(credential, "vc-jose-cose")
    check_claims({**credential, "nbf": credential["nbf"] + 0.75}, "ob3")  # same second
    check_claims({**credential, "iat": 1_700_000_000}, "ob3")
    without = {k: v for k, v in credential.items() if k not in ("iss", "nbf", "exp", "jti", "sub")}
    check_claims(without, "vc-jose-cose")  # VC-JOSE-COSE: the credential alone carries the meaning


@pytest.mark.parametrize(
    ("change", "claim"),
    [
        ({"nbf": "946684800"}, "nbf"),
        ({"nbf": True}, "nbf"),
        ({"nbf": None}, "nbf"),
        ({"nbf": float("nan")}, "nbf"),
        ({"nbf": float("inf")}, "nbf"),
        ({"exp": [1]}, "exp"),
        ({"iat": "now"}, "iat"),
        ({"iss": 1}, "iss"),
        ({"jti": None}, "jti"),
        ({"sub": ["x"]}, "sub"),
        ({"iss": "https://other.example/issuer"}, "iss"),
        ({"jti": "https://badges.example/credentials/2"}, "jti"),
        ({"sub": "did:example:someone-else"}, "sub"),
        ({"nbf": EPOCH_2000 + 1}, "nbf"),
        ({"nbf": EPOCH_2000 - 0.5}, "nbf"),
    ],
)
def test_check_claims_mismatches(change: dict[str, Any], claim: str) -> None:
    claims = {**with_claims(minimal_credential()), **change}
    with pytest.raises(ClaimsMismatch) as caught:
        check_claims(claims, "ob3")
    assert caught.value.code == "claims_mismatch"
    assert claim in caught.value.message


def test_check_claims_exp_without_valid_until_stands_on_its_own() -> None:
    claims = {**with_claims(minimal_credential()), "exp": EPOCH_2000 + 10}
    check_claims(claims, "ob3")
    assert validity_window(claims)[1] == datetime.fromtimestamp(EPOCH_2000 + 10, UTC)


@pytest.mark.parametrize("claim", ["vc", "vp"])
def test_check_claims_refuses_vc_or_vp_beside_the_credential_in_vc_jwt(claim: str) -> None:
    claims = {**with_claims(minimal_credential()), claim: {}}
    with pytest.raises(ClaimsMismatch) as caught:
        check_claims(claims, "vc-jose-cose")
    assert caught.value.details["claim"] == claim


def test_check_claims_open_badge_subject_needs_id_or_identifier() -> None:
    credential = minimal_credential()
    credential["credentialSubject"] = {"type": ["AchievementSubject"], "achievement": {}}
    with pytest.raises(ClaimsMismatch, match="neither an id nor an identifier"):
        check_claims(with_claims(credential), "ob3")


@pytest.mark.parametrize("missing", ["iss", "nbf", "jti", "sub"])
def test_check_claims_requires_iss_nbf_jti_and_sub_in_ob3(missing: str) -> None:
    claims = {k: v for k, v in with_claims(minimal_credential()).items() if k != missing}
    with pytest.raises(ClaimsMismatch) as caught:
        check_claims(claims, "ob3")
    assert caught.value.details["claim"] == missing
    check_claims(claims, "vc-jose-cose")


def test_check_claims_exp_must_accompany_valid_until_in_ob3() -> None:
    claims = with_claims(minimal_credential(validUntil="2030-01-01T00:00:00Z"))
    del claims["exp"]
    with pytest.raises(ClaimsMismatch) as caught:
        check_claims(claims, "ob3")
    assert caught.value.details["claim"] == "exp"
    check_claims(claims, "vc-jose-cose")


@pytest.mark.parametrize("field", ["validFrom", "validUntil"])
def test_check_claims_unreadable_dates(field: str) -> None:
    claims = with_claims(minimal_credential())
    claims[field] = "2000-01-01T00:00:00"  # no zone
    with pytest.raises(ClaimsMismatch):
        check_claims(claims, "ob3")


def test_check_claims_without_issuer_id() -> None:
    claims = with_claims(minimal_credential())
    claims["issuer"] = {"type": ["Profile"], "name": "nobody"}
    with pytest.raises(ClaimsMismatch) as caught:
        check_claims(claims, "ob3")
    assert caught.value.details["claim"] == "iss"


def test_check_claims_detects_legacy_vc_1_1() -> None:
    legacy = {"iss": "https://badges.example/issuer", "nbf": EPOCH_2000, "vc": minimal_credential()}
    with pytest.raises(LegacyFormat) as caught:
        check_claims(legacy, "ob3")
    assert caught.value.code == "legacy_format"
    # A VC 2.0 credential that merely has a "vc" member is not legacy; it is judged on its claims.
    check_claims({**with_claims(minimal_credential()), "vc": {}}, "ob3")


def test_check_claims_huge_integer_numeric_date() -> None:
    """Regression: math.isfinite(10**400) raised OverflowError instead of ClaimsMismatch."""
    with pytest.raises(ClaimsMismatch):
        check_claims({**with_claims(minimal_credential()), "nbf": 10**400}, "ob3")


# ==============================================================================================================
# VerificationKey.from_jwk and thumbprints


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_from_jwk_reads_published_keys(alg: str) -> None:
    signer, jwk = signer_for(alg, iss="https://badges.example/issuer")
    key = VerificationKey.from_jwk(jwk)
    assert (key.kid, key.alg, key.issuer, key.compromised_at) == (
        jwk["kid"],
        alg,
        "https://badges.example/issuer",
        None,
    )
    assert key.kid == thumbprint(jwk)
    token = encode_compact({"x": 1}, signer)
    verify_signature(parse_compact(token), key)
    no_use = {k: v for k, v in jwk.items() if k != "use"}
    assert VerificationKey.from_jwk(no_use).alg == alg


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_from_jwk_refuses_private_members(member: str) -> None:
    _, jwk = signer_for("EdDSA")
    with pytest.raises(InvalidKey) as caught:
        VerificationKey.from_jwk({**jwk, member: "AAAA"})
    assert "private" in caught.value.message


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_from_jwk_refuses_a_full_private_jwk(alg: str) -> None:
    import jwt

    private = generate_private_key(alg)
    full = json.loads(jwt.get_algorithm_by_name(alg).to_jwk(private))
    full.update(kid="k", alg=alg, use="sig")
    assert "d" in full
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk(full)


@pytest.mark.parametrize("bits", [1024, 2040])
def test_from_jwk_refuses_short_rsa(bits: int) -> None:
    import jwt

    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    jwk = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(private.public_key()))
    jwk.update(kid="short", alg="RS256", use="sig")
    with pytest.raises(InvalidKey) as caught:
        VerificationKey.from_jwk(jwk)
    assert "2048" in caught.value.message


def test_from_jwk_accepts_rsa_2048_and_larger() -> None:
    import jwt

    for bits in (2048, 3072):
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        jwk = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(private.public_key()))
        jwk.update(kid=f"rsa-{bits}", alg="RS256")
        assert VerificationKey.from_jwk(jwk).key.key_size == bits  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key_alg", "claimed_alg"),
    [
        ("EdDSA", "ES256"),
        ("EdDSA", "RS256"),
        ("ES256", "EdDSA"),
        ("ES256", "RS256"),
        ("RS256", "ES256"),
        ("RS256", "EdDSA"),
    ],
)
def test_from_jwk_refuses_kty_alg_mismatch(key_alg: str, claimed_alg: str) -> None:
    _, jwk = signer_for(key_alg)
    with pytest.raises(InvalidKey) as caught:
        VerificationKey.from_jwk({**jwk, "alg": claimed_alg})
    assert "does not fit" in caught.value.message


def test_from_jwk_refuses_the_wrong_curve() -> None:
    import jwt

    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    jwk = json.loads(jwt.get_algorithm_by_name("ES384").to_jwk(p384))
    jwk.update(kid="p384", alg="ES256")
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk(jwk)
    _, ed = signer_for("EdDSA")
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk({**ed, "crv": "X25519"})


def test_from_jwk_refuses_a_point_off_the_curve() -> None:
    _, jwk = signer_for("ES256")
    y = bytearray(b64url_decode(jwk["y"], "y"))
    y[-1] ^= 0x01
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk({**jwk, "y": b64url_encode(bytes(y))})


@pytest.mark.parametrize("use", ["enc", "", "SIG", 1])
def test_from_jwk_refuses_non_signature_use(use: Any) -> None:
    _, jwk = signer_for("EdDSA")
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk({**jwk, "use": use})


@pytest.mark.parametrize(
    "change",
    [
        {"kid": None},
        {"kid": ""},
        {"kid": 5},
        {"alg": "none"},
        {"alg": "HS256"},
        {"alg": "PS256"},
        {"kty": "oct"},
        {"x": "not base64!"},
        {"x": "AAAA"},
    ],
)
def test_from_jwk_refuses_unusable(change: dict[str, Any]) -> None:
    _, jwk = signer_for("EdDSA")
    candidate = {**jwk, **change}
    for name, value in change.items():
        if value is None:
            del candidate[name]
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk(candidate)


def test_from_jwk_without_alg_is_bound_to_the_one_its_key_type_fits() -> None:
    for alg in ("EdDSA", "ES256", "RS256"):
        _, jwk = signer_for(alg)
        assert VerificationKey.from_jwk({k: v for k, v in jwk.items() if k != "alg"}).alg == alg
    _, jwk = signer_for("EdDSA")
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk({**{k: v for k, v in jwk.items() if k != "alg"}, "crv": "X25519"})


@pytest.mark.parametrize("value", [None, [], "jwk", 1])
def test_from_jwk_refuses_non_objects(value: Any) -> None:
    with pytest.raises(InvalidKey):
        VerificationKey.from_jwk(value)


@pytest.mark.parametrize(
    ("revoked", "expected"),
    [
        ({"revoked_at": 1_700_000_000, "reason": "compromised"}, 1_700_000_000),
        ({}, 0),
        ("yes", 0),
        ({"revoked_at": "2020"}, 0),
    ],
)
def test_from_jwk_reads_the_revoked_member(revoked: Any, expected: int) -> None:
    _, jwk = signer_for("EdDSA")
    assert VerificationKey.from_jwk({**jwk, "revoked": revoked}).compromised_at == expected


@pytest.mark.parametrize("raw", ["1e400", "NaN"])
def test_from_jwk_non_finite_revoked_at(raw: str) -> None:
    _, jwk = signer_for("EdDSA")
    document = json.loads(json.dumps(jwk)[:-1] + f', "revoked": {{"revoked_at": {raw}}}}}')
    try:
        key = VerificationKey.from_jwk(document)
    except InvalidKey:
        return
    assert key.compromised_at is not None


RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
    "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZH"
    "zu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU"
    "8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_thumbprint_rfc7638_section_3_1() -> None:
    assert thumbprint(RFC7638_KEY) == RFC7638_THUMBPRINT
    # Only the required members count, in any order, whatever else the JWK carries.
    shuffled = {"e": "AQAB", "use": "sig", "kty": "RSA", "n": RFC7638_KEY["n"], "iss": "x", "kid": "other"}
    assert thumbprint(shuffled) == RFC7638_THUMBPRINT
    # The RFC's key is a 2048-bit RSA key and is accepted for RS256.
    assert VerificationKey.from_jwk(RFC7638_KEY).kid == "2011-04-29"


def test_thumbprint_rfc8037_ed25519() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_refuses_unknown_types() -> None:
    with pytest.raises(InvalidKey):
        thumbprint({"kty": "oct", "k": "AAAA"})
    with pytest.raises(InvalidKey):
        thumbprint({})
    for partial in ({"kty": "OKP", "crv": "Ed25519"}, {"kty": "RSA", "n": 1, "e": "AQAB"}, {"kty": ["EC"]}):
        with pytest.raises(InvalidKey):
            thumbprint(partial)


# ==============================================================================================================
# the validity window, with the clock frozen


def _at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def window(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> tuple[datetime, datetime, str]:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0, second=0)
    end = start + timedelta(days=30)
    issued = issue(issuer, provider, achievement, validFrom=start.isoformat(), validUntil=end.isoformat())
    claims = json.loads(b64url_decode(issued["jwt"].split(".")[1], "payload"))
    assert claims["validFrom"] == format_datetime(start) and claims["validUntil"] == format_datetime(end)
    assert (claims["nbf"], claims["exp"]) == (int(start.timestamp()), int(end.timestamp()))
    return start, end, issued["jwt"]


def _verify(verifier: TestClient, token: str) -> dict[str, Any]:
    response = verifier.post("/api/v1/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _validity(report: dict[str, Any]) -> dict[str, Any]:
    return next(check for check in report["checks"] if check["id"] == "validity")


def test_expired_credential(verifier: TestClient, window: tuple[datetime, datetime, str]) -> None:
    _, end, token = window
    with _at(end + timedelta(days=3)):
        report = _verify(verifier, token)
    assert report["verdict"] == "invalid"
    check = report_failure(report)
    assert (check["id"], check["status"], check["code"]) == ("validity", "failed", "expired")
    assert end.strftime("%Y-%m-%d %H:%M") in check["message"]


def test_expiry_boundary_is_the_leeway(verifier: TestClient, window: tuple[datetime, datetime, str]) -> None:
    _, end, token = window
    with _at(end + timedelta(seconds=60)):
        assert report_failure(_verify(verifier, token))["code"] == "expired"
    with _at(end + timedelta(seconds=59)):
        report = _verify(verifier, token)
    assert report["verdict"] == "valid", report
    assert _validity(report)["status"] == "passed"


def test_not_yet_valid_credential(verifier: TestClient, window: tuple[datetime, datetime, str]) -> None:
    start, _, token = window
    with _at(start - timedelta(hours=1)):
        report = _verify(verifier, token)
    assert report["verdict"] == "invalid"
    check = report_failure(report)
    assert (check["id"], check["status"], check["code"]) == ("validity", "failed", "not_yet_valid")
    assert start.strftime("%Y-%m-%d %H:%M") in check["message"]
    with _at(start - timedelta(seconds=61)):
        assert report_failure(_verify(verifier, token))["code"] == "not_yet_valid"


@pytest.mark.parametrize("offset", [-60, -30, 0, 30])
def test_within_the_leeway_of_valid_from(
    verifier: TestClient, window: tuple[datetime, datetime, str], offset: int
) -> None:
    start, _, token = window
    with _at(start + timedelta(seconds=offset)):
        report = _verify(verifier, token)
    assert report["verdict"] == "valid", report
    assert _validity(report)["status"] == "passed"


def test_inside_the_window(verifier: TestClient, window: tuple[datetime, datetime, str]) -> None:
    start, end, token = window
    with _at(start + (end - start) / 2):
        report = _verify(verifier, token)
    assert report["verdict"] == "valid", report
    assert end.strftime("%Y-%m-%d") in _validity(report)["message"]


def test_leeway_is_configurable(
    verifier_factory: Any, provider: ProviderFixture, window: tuple[datetime, datetime, str]
) -> None:
    _, end, token = window
    strict = verifier_factory([provider.issuer_id], clock_leeway=0)
    with _at(end):
        assert report_failure(_verify(strict, token))["code"] == "expired"
    with _at(end - timedelta(seconds=1)):
        assert _verify(strict, token)["verdict"] == "valid"


# ==============================================================================================================
# the key cache (KeyResolver), through the verifier with a counting transport


class CountingIssuer:
    """The network edge: serves the issuer app's pages, but its published keys (the JWKS, and each key at its
    kid URL) from ``jwks`` (mutable), and counts JWKS fetches."""

    def __init__(self, issuer_app: Any, jwks: dict[str, Any] | None = None, cache_control: str = "max-age=300"):
        self.asgi = httpx.ASGITransport(app=issuer_app)
        self.jwks = jwks
        self.cache_control = cache_control
        self.jwks_fetches = 0
        self.requests: list[str] = []
        self.failure: Callable[[httpx.Request], httpx.Response] | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if "/keys/" in request.url.path and (self.jwks is not None or self.failure is not None):
            if self.failure is not None:
                return self.failure(request)
            assert self.jwks is not None
            found = [jwk for jwk in self.jwks["keys"] if jwk.get("kid") == str(request.url)]
            if len(found) != 1:
                return httpx.Response(404)
            return httpx.Response(200, json=found[0], headers={"content-type": "application/jwk+json"})
        if request.url.path == "/.well-known/jwks.json":
            self.jwks_fetches += 1
            if self.failure is not None:
                return self.failure(request)
            if self.jwks is not None:
                return httpx.Response(
                    200,
                    json=self.jwks,
                    headers={"content-type": "application/jwk-set+json", "cache-control": self.cache_control},
                )
        upstream = await self.asgi.handle_async_request(request)
        body = await upstream.aread()
        return httpx.Response(upstream.status_code, headers=upstream.headers, content=body)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@pytest.fixture
def published(issuer: TestClient) -> dict[str, Any]:
    document: dict[str, Any] = issuer.get("/.well-known/jwks.json").json()
    return document


@pytest.fixture
def issued_token(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> str:
    token: str = issue(issuer, provider, achievement)["jwt"]
    return token


def _with_kid(token: str, kid: str) -> str:
    header = json.loads(b64url_decode(token.split(".")[0], "header"))
    return b64json({**header, "kid": kid}) + token[token.index(".") :]


def test_keys_cached_within_ttl(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    edge = CountingIssuer(issuer_app, published)
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    for _ in range(8):
        assert _verify(verifier, issued_token)["verdict"] == "valid"
    assert edge.jwks_fetches == 1


def test_issuer_max_age_shortens_the_cache(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    edge = CountingIssuer(issuer_app, published, cache_control="no-cache")
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    for _ in range(4):
        assert _verify(verifier, issued_token)["verdict"] == "valid"
    assert edge.jwks_fetches >= 4


def test_unknown_kid_does_not_hammer_the_issuer(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    edge = CountingIssuer(issuer_app, published)
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    assert _verify(verifier, issued_token)["verdict"] == "valid"
    assert edge.jwks_fetches == 1
    for number in range(10):
        report = _verify(verifier, _with_kid(issued_token, f"unknown-{number}"))
        assert report_failure(report)["code"] == "unknown_key"
    assert edge.jwks_fetches == 1  # all within the refresh interval of the first fetch


def test_unknown_kid_refetches_once_the_interval_allows(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    edge = CountingIssuer(issuer_app, published)
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport(), key_refresh_interval=0)
    assert _verify(verifier, issued_token)["verdict"] == "valid"
    for number in range(3):
        assert report_failure(_verify(verifier, _with_kid(issued_token, f"unknown-{number}")))["code"] == "unknown_key"
    assert edge.jwks_fetches == 1 + 3  # exactly one refetch per unknown kid, never a retry loop
    assert _verify(verifier, issued_token)["verdict"] == "valid"  # a known kid is served from the cache
    assert edge.jwks_fetches == 4


def test_jwk_naming_another_issuer_is_ignored(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    relabelled = {"keys": [{**jwk, "iss": f"{ISSUER_URL}/issuers/someone-else"} for jwk in published["keys"]]}
    edge = CountingIssuer(issuer_app, relabelled)
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    report = _verify(verifier, issued_token)
    check = report_failure(report)
    assert (report["verdict"], check["id"], check["code"]) == ("invalid", "key", "unknown_key")


def test_jwk_without_iss_on_a_shared_host_is_ignored(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    anonymous = {"keys": [{k: v for k, v in jwk.items() if k != "iss"} for jwk in published["keys"]]}
    alone = verifier_factory([provider.issuer_id], transport=CountingIssuer(issuer_app, anonymous).transport())
    assert _verify(alone, issued_token)["verdict"] == "valid"
    shared = verifier_factory(
        [provider.issuer_id, f"{ISSUER_URL}/issuers/neighbour"],
        transport=CountingIssuer(issuer_app, anonymous).transport(),
    )
    assert report_failure(_verify(shared, issued_token))["code"] == "unknown_key"


def test_kid_published_twice_is_trusted_in_neither_copy(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    real = next(jwk for jwk in published["keys"] if jwk["iss"] == provider.issuer_id)
    _, impostor = signer_for("EdDSA", kid=real["kid"], iss=provider.issuer_id)
    edge = CountingIssuer(issuer_app, {"keys": [real, impostor]})
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    assert report_failure(_verify(verifier, issued_token))["code"] == "unknown_key"


def test_unusable_jwks_entries_are_skipped(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any]
) -> None:
    junk: list[Any] = [
        None,
        1,
        "jwk",
        [],
        {},
        {"kty": "oct", "k": "AAAA", "kid": "s", "alg": "HS256"},
        {**published["keys"][0], "kid": "with-private", "d": "AAAA"},
    ]
    edge = CountingIssuer(issuer_app, {"keys": junk + published["keys"]})
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    assert _verify(verifier, issued_token)["verdict"] == "valid"


@pytest.mark.parametrize("raw", ["1e400", "NaN"])
def test_one_broken_jwk_does_not_spoil_the_set(
    verifier_factory: Any,
    issuer_app: Any,
    provider: ProviderFixture,
    issued_token: str,
    published: dict[str, Any],
    raw: str,
) -> None:
    _, extra = signer_for("EdDSA", iss=provider.issuer_id)
    broken = json.dumps(extra)[:-1] + f', "revoked": {{"revoked_at": {raw}}}}}'
    body = ('{"keys": [' + ",".join([*(json.dumps(jwk) for jwk in published["keys"]), broken]) + "]}").encode()
    edge = CountingIssuer(issuer_app)
    edge.failure = lambda request: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    report = _verify(verifier, issued_token)
    assert report["verdict"] == "valid", report


def _failing(kind: str) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        if kind == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if kind == "503":
            return httpx.Response(503, text="maintenance")
        if kind == "404":
            return httpx.Response(404, text="no keys")
        if kind == "304":
            return httpx.Response(304)
        if kind == "html":
            return httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})
        if kind == "not-a-set":
            return httpx.Response(200, json={"keys": {"kid": "x"}})
        if kind == "array":
            return httpx.Response(200, json=[{"kid": "x"}])
        if kind == "huge":
            return httpx.Response(200, content=b'{"keys": [' + b" " * (300 * 1024) + b"]}")
        raise AssertionError(kind)

    return respond


@pytest.mark.parametrize("kind", ["connect", "timeout", "503", "404", "304", "html", "not-a-set", "array", "huge"])
def test_jwks_failure_with_a_cold_cache_is_indeterminate(
    verifier_factory: Any, issuer_app: Any, provider: ProviderFixture, issued_token: str, kind: str
) -> None:
    edge = CountingIssuer(issuer_app)
    edge.failure = _failing(kind)
    verifier = verifier_factory([provider.issuer_id], transport=edge.transport())
    report = _verify(verifier, issued_token)
    assert report["verdict"] == "indeterminate", report
    check = report_failure(report)
    assert (check["id"], check["status"], check["code"]) == ("key", "unknown", "keys_unavailable")
    assert [c["status"] for c in report["checks"][report["checks"].index(check) + 1 :]] == ["skipped"] * 5


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_jwks_redirects_are_not_followed(
    issuer_app: Any, provider: ProviderFixture, issued_token: str, published: dict[str, Any], status: int
) -> None:
    edge = CountingIssuer(issuer_app, published)
    edge.failure = lambda request: httpx.Response(status, headers={"location": f"{ISSUER_URL}/elsewhere/jwks.json"})
    elsewhere = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/elsewhere/jwks.json":
            elsewhere.append(request)
            return httpx.Response(200, json=published, headers={"content-type": "application/jwk-set+json"})
        return await edge(request)

    # Even a client configured to follow redirects must not follow them for keys.
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
    app = create_verifier_app(
        VerifierSettings(public_url=VERIFIER_URL, trusted_issuers=(provider.issuer_id,), require_https=False),
        client=http,
    )
    with TestClient(app, base_url=VERIFIER_URL) as verifier:
        report = _verify(verifier, issued_token)
    assert elsewhere == []
    assert edge.jwks_fetches == 1
    assert report["verdict"] == "indeterminate", report
    assert report_failure(report)["code"] == "keys_unavailable"


# ==============================================================================================================
# KeyResolver on its own, with a hand-driven clock


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


PARTNER = "https://keys.example/issuer"


def fetcher(client: httpx.AsyncClient, clock: Callable[[], float] = time.monotonic) -> Fetcher:
    return Fetcher(client, deadline=5, failure_ttl=30, clock=clock)


@pytest.fixture
def partner_keys() -> list[dict[str, Any]]:
    return [signer_for("EdDSA", iss=PARTNER)[1], signer_for("ES256", iss=PARTNER)[1]]


class StaticJwks:
    def __init__(self, keys: list[dict[str, Any]], cache_control: str = "") -> None:
        self.keys = keys
        self.cache_control = cache_control
        self.fetches = 0
        self.fail = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == "https://keys.example/.well-known/jwks.json"
        self.fetches += 1
        if self.fail:
            return httpx.Response(500)
        headers = {"cache-control": self.cache_control} if self.cache_control else {}
        return httpx.Response(200, json={"keys": self.keys}, headers=headers)


@pytest.fixture
def resolver_env(partner_keys: list[dict[str, Any]]) -> Iterator[tuple[KeyResolver, StaticJwks, Clock]]:
    served = StaticJwks(partner_keys)
    clock = Clock()
    client = httpx.AsyncClient(transport=httpx.MockTransport(served))
    resolver = KeyResolver(fetcher(client, clock), TrustList.of([PARTNER]), ttl=300, refresh_interval=30, clock=clock)
    yield resolver, served, clock
    asyncio.run(client.aclose())


def test_resolver_caches_and_expires(
    resolver_env: tuple[KeyResolver, StaticJwks, Clock], partner_keys: list[dict[str, Any]]
) -> None:
    resolver, served, clock = resolver_env
    kid = partner_keys[0]["kid"]

    async def scenario() -> None:
        keys = await resolver.keys_for(PARTNER, kid)
        assert set(keys) == {jwk["kid"] for jwk in partner_keys}
        for _ in range(20):
            await resolver.keys_for(PARTNER, kid)
            await resolver.keys_for(PARTNER, None)
        assert served.fetches == 1
        clock.now += 299
        await resolver.keys_for(PARTNER, kid)
        assert served.fetches == 1
        clock.now += 1  # the TTL has run out
        await resolver.keys_for(PARTNER, kid)
        assert served.fetches == 2

    asyncio.run(scenario())


def test_resolver_unknown_kid_refetches_at_most_once_per_interval(
    resolver_env: tuple[KeyResolver, StaticJwks, Clock], partner_keys: list[dict[str, Any]]
) -> None:
    resolver, served, clock = resolver_env

    async def scenario() -> None:
        await resolver.keys_for(PARTNER, partner_keys[0]["kid"])
        assert served.fetches == 1
        for second in range(29):
            clock.now = 1000 + second
            assert "nope" not in await resolver.keys_for(PARTNER, "nope")
        assert served.fetches == 1
        clock.now = 1030
        await resolver.keys_for(PARTNER, "nope")
        assert served.fetches == 2
        for kid in ("nope", "other", "third"):
            await resolver.keys_for(PARTNER, kid)
        assert served.fetches == 2
        # A key the issuer added in the meantime is found on the next allowed refetch.
        _, rotated = signer_for("EdDSA", iss=PARTNER)
        served.keys = [*served.keys, rotated]
        clock.now = 1059
        assert rotated["kid"] not in await resolver.keys_for(PARTNER, rotated["kid"])
        clock.now = 1060
        assert rotated["kid"] in await resolver.keys_for(PARTNER, rotated["kid"])
        assert served.fetches == 3

    asyncio.run(scenario())


def test_resolver_concurrent_unknown_kids_share_one_fetch(resolver_env: tuple[KeyResolver, StaticJwks, Clock]) -> None:
    resolver, served, _ = resolver_env

    async def scenario() -> None:
        await asyncio.gather(*(resolver.keys_for(PARTNER, f"kid-{n}") for n in range(25)))

    asyncio.run(scenario())
    assert served.fetches == 1


def test_resolver_keeps_a_fresh_copy_when_a_refresh_fails(
    resolver_env: tuple[KeyResolver, StaticJwks, Clock], partner_keys: list[dict[str, Any]]
) -> None:
    resolver, served, clock = resolver_env
    kid = partner_keys[0]["kid"]

    async def scenario() -> None:
        await resolver.keys_for(PARTNER, kid)
        served.fail = True
        clock.now += 100
        assert kid in await resolver.keys_for(PARTNER, "unknown")  # refresh failed, fresh copy still stands
        assert served.fetches == 2
        clock.now += 200  # past the TTL: no stale keys are used
        with pytest.raises(KeysUnavailable):
            await resolver.keys_for(PARTNER, kid)

    asyncio.run(scenario())


def test_resolver_cold_cache_failure(resolver_env: tuple[KeyResolver, StaticJwks, Clock]) -> None:
    resolver, served, _ = resolver_env
    served.fail = True
    with pytest.raises(KeysUnavailable):
        asyncio.run(resolver.keys_for(PARTNER, "any"))


def test_resolver_honours_a_shorter_max_age(partner_keys: list[dict[str, Any]]) -> None:
    served = StaticJwks(partner_keys, cache_control="public, max-age=10")
    clock = Clock()
    resolver = KeyResolver(
        fetcher(httpx.AsyncClient(transport=httpx.MockTransport(served)), clock),
        TrustList.of([PARTNER]),
        ttl=300,
        refresh_interval=30,
        clock=clock,
    )

    async def scenario() -> None:
        await resolver.keys_for(PARTNER, None)
        clock.now += 9
        await resolver.keys_for(PARTNER, None)
        assert served.fetches == 1
        clock.now += 1
        await resolver.keys_for(PARTNER, None)
        assert served.fetches == 2

    asyncio.run(scenario())


def test_resolver_filters_by_issuer(partner_keys: list[dict[str, Any]]) -> None:
    _, foreign = signer_for("EdDSA", iss="https://keys.example/other-issuer")
    _, anonymous = signer_for("EdDSA")
    served = StaticJwks([*partner_keys, foreign, anonymous])
    client = httpx.AsyncClient(transport=httpx.MockTransport(served))

    alone = KeyResolver(fetcher(client), TrustList.of([PARTNER]), ttl=300, refresh_interval=30)
    keys = asyncio.run(alone.keys_for(PARTNER, None))
    assert set(keys) == {partner_keys[0]["kid"], partner_keys[1]["kid"], anonymous["kid"]}
    assert foreign["kid"] not in keys

    shared = KeyResolver(
        fetcher(client), TrustList.of([PARTNER, "https://keys.example/other-issuer"]), ttl=300, refresh_interval=30
    )
    keys = asyncio.run(shared.keys_for(PARTNER, None))
    assert set(keys) == {partner_keys[0]["kid"], partner_keys[1]["kid"]}


@pytest.mark.parametrize("issuer_id", ["did:example:keys", "urn:uuid:1234", "ftp://keys.example/issuer", "did:web:"])
def test_resolver_never_fetches_for_non_http_issuers(issuer_id: str) -> None:
    requests: list[httpx.Request] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: requests.append(r) or httpx.Response(500)))
    resolver = KeyResolver(fetcher(client), TrustList.of([issuer_id]), ttl=300, refresh_interval=30)
    with pytest.raises(KeysUnavailable):
        asyncio.run(resolver.keys_for(issuer_id, "k"))
    assert requests == []


def test_kid_is_never_followed(partner_keys: list[dict[str, Any]]) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"keys": partner_keys})

    resolver = KeyResolver(
        fetcher(httpx.AsyncClient(transport=httpx.MockTransport(handler))),
        TrustList.of([PARTNER]),
        ttl=300,
        refresh_interval=0,
    )

    async def scenario() -> None:
        for kid in ("https://evil.example/jwks.json", "../../etc/passwd", "/.well-known/other.json"):
            assert kid not in await resolver.keys_for(PARTNER, kid)

    asyncio.run(scenario())
    assert set(seen) == {"https://keys.example/.well-known/jwks.json"}


def test_numeric_helpers_sanity() -> None:
    # The NumericDate mapping floors, like a JWT library comparing whole seconds.
    assert jwt_claims_for({"validFrom": "2000-01-01T00:00:00.999999Z"})["nbf"] == EPOCH_2000
    assert serialize_json({"ą": 1}) == '{"ą":1}'.encode()
