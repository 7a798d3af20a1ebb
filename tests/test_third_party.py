"""Credentials from a third-party Open Badges 3.0 issuer (not our issuer app): built and signed by hand with RS256,
ES256 and EdDSA, in the OB 3.0 (``typ: JWT``) and VC-JOSE-COSE (``typ: vc+jwt``) forms. The partner's host is an
``httpx.MockTransport`` serving its JWKS (and, where needed, the credential and its status list).
"""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from credentials.encoding import b64url_encode
from credentials.jose import serialize_json
from credentials.keys import PrivateKeySigner, generate_private_key, public_jwk
from credentials.ob3 import OB_CONTEXT, OB_SCHEMA_TYPE, OB_SCHEMA_URL, VC_CONTEXT
from credentials.schema import validate_credential
from verifier.app import create_app
from verifier.report import CHECKS
from verifier.settings import VerifierSettings

HOST = "https://badges.partner.example"
PARTNER = f"{HOST}/issuer"
JWKS_URL = f"{HOST}/.well-known/jwks.json"
CREDENTIAL_URL = f"{HOST}/credentials/0b8f6a52-3a3e-4c5e-9d1c-8e7f0a1b2c3d"
STATUS_URL = f"{HOST}/status/revocation/1"
VALID_FROM = "2024-03-01T09:00:00Z"
VALID_FROM_NBF = 1709283600
ALGORITHMS = ("RS256", "ES256", "EdDSA")


# ---------------------------------------------------------------------------------------------------------------
# the partner: its keys, its credential, its host


def partner_credential() -> dict[str, Any]:
    """An OB 3.0 AchievementCredential written by hand, the way another vendor would."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": CREDENTIAL_URL,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Cloud Foundations",
        "issuer": {
            "id": PARTNER,
            "type": ["Profile"],
            "name": "Partner Academy Sp. z o.o.",
            "url": HOST,
            "email": "badges@partner.example",
        },
        "validFrom": VALID_FROM,
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"{HOST}/achievements/cloud-101",
                "type": ["Achievement"],
                "name": "Cloud Foundations",
                "description": "Deploys and monitors a simple service in a public cloud.",
                "criteria": {"narrative": "Passed the practical exam (70%)."},
                "achievementType": "Certificate",
            },
        },
        "credentialSchema": [{"id": OB_SCHEMA_URL, "type": OB_SCHEMA_TYPE}],
    }


def ob3_claims(credential: dict[str, Any], *, nbf: bool = True, iss: bool = True) -> dict[str, Any]:
    """OB 3.0 §8.2: the credential plus iss, jti, sub, nbf (and exp when validUntil is set)."""
    claims = dict(credential)
    if iss:
        claims["iss"] = credential["issuer"]["id"]
    claims["jti"] = credential["id"]
    claims["sub"] = credential["credentialSubject"]["id"]
    if nbf:
        claims["nbf"] = VALID_FROM_NBF if credential["validFrom"] == VALID_FROM else None
        assert claims["nbf"] is not None
    if "validUntil" in credential:
        claims["exp"] = EXP_2099 if credential["validUntil"] == VALID_UNTIL_2099 else EXP_2024
    return claims


VALID_UNTIL_2099 = "2099-01-01T00:00:00Z"
EXP_2099 = 4070908800
VALID_UNTIL_2024 = "2024-06-01T00:00:00Z"
EXP_2024 = 1717200000


def sign(signer: PrivateKeySigner, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """Compact JWS, assembled by hand (the header exactly as given)."""
    if header is None:
        header = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT"}
    signing_input = b64url_encode(serialize_json(header)) + "." + b64url_encode(serialize_json(claims))
    return signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))


def make_signer(alg: str, kid: str | None = None) -> tuple[PrivateKeySigner, dict[str, Any]]:
    key = generate_private_key(alg)
    jwk = public_jwk(key, alg)  # kty/crv/x(/y) or n/e, kid = RFC 7638 thumbprint, alg, use: sig
    if kid is not None:
        jwk["kid"] = kid
    return PrivateKeySigner(jwk["kid"], alg, key), jwk


@pytest.fixture(scope="module")
def signers() -> dict[str, tuple[PrivateKeySigner, dict[str, Any]]]:
    return {alg: make_signer(alg, kid=f"partner-{alg.lower()}-2024") for alg in ALGORITHMS}


class PartnerHost:
    """The partner's web server, as the network edge: JWKS, credentials by URL, status lists; counts requests."""

    def __init__(self, jwks: list[dict[str, Any]]) -> None:
        self.jwks = jwks
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        if url == JWKS_URL:
            return httpx.Response(
                200,
                json={"keys": self.jwks},
                headers={"content-type": "application/jwk-set+json", "cache-control": "public, max-age=600"},
            )
        if url in self.documents:
            body, media_type = self.documents[url]
            return httpx.Response(200, content=body, headers={"content-type": media_type})
        return httpx.Response(404, json={"error": "not found"})


@pytest.fixture
def host(signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]) -> PartnerHost:
    return PartnerHost([{**jwk, "iss": PARTNER} for _, jwk in signers.values()])


@pytest.fixture
def make_verifier() -> Iterator[Any]:
    opened: list[TestClient] = []

    def build(host: PartnerHost, trusted: tuple[str, ...] = (PARTNER,)) -> TestClient:
        client = httpx.AsyncClient(transport=httpx.MockTransport(host))
        settings = VerifierSettings(
            public_url="http://verifier.test", trusted_issuers=trusted, registry_url=None, require_https=False
        )
        test_client = TestClient(create_app(settings, client=client), base_url="http://verifier.test")
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield build
    for test_client in opened:
        test_client.__exit__(None, None, None)


def verify(verifier: TestClient, token: str) -> dict[str, Any]:
    response = verifier.post("/api/v1/verify", json={"credential": token})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def statuses(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {check["id"]: (check["status"], check["code"]) for check in report["checks"]}


def first_failure(report: dict[str, Any]) -> dict[str, Any]:
    return next(check for check in report["checks"] if check["status"] in ("failed", "unknown"))


def assert_valid(report: dict[str, Any]) -> None:
    assert report["verdict"] == "valid", report
    assert [check["id"] for check in report["checks"]] == list(CHECKS)
    states = statuses(report)
    assert all(state == ("passed", "ok") for name, state in states.items() if name != "status"), states
    assert states["status"] == ("skipped", "no_status_list")


# ---------------------------------------------------------------------------------------------------------------


def test_partner_credential_is_a_valid_ob3_document() -> None:
    credential = partner_credential()
    validate_credential(credential)
    validate_credential(ob3_claims(credential))
    validate_credential(ob3_claims({**credential, "validUntil": VALID_UNTIL_2099}))


PROFILES = [
    pytest.param("JWT", True, id="ob3-JWT"),
    pytest.param("vc+jwt", True, id="vc+jwt"),
    pytest.param("vc+jwt", False, id="vc+jwt-without-nbf"),
    pytest.param("application/vc+jwt", False, id="application-vc+jwt-without-nbf"),
]


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize(("typ", "with_nbf"), PROFILES)
@pytest.mark.parametrize("jwks_iss", [True, False], ids=["jwks-with-iss", "jwks-without-iss"])
def test_third_party_credential_is_valid(
    make_verifier: Any,
    signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]],
    alg: str,
    typ: str,
    with_nbf: bool,
    jwks_iss: bool,
) -> None:
    signer, _ = signers[alg]
    published = [{**other, "iss": PARTNER} if jwks_iss else other for _, other in signers.values()]
    host = PartnerHost(published)
    verifier = make_verifier(host)
    token = sign(signer, ob3_claims(partner_credential(), nbf=with_nbf), {"alg": alg, "kid": signer.kid, "typ": typ})
    report = verify(verifier, token)
    assert_valid(report)
    assert alg in next(check for check in report["checks"] if check["id"] == "header")["message"]
    summary = report["credential"]
    assert summary["id"] == CREDENTIAL_URL
    assert summary["issuer"] == {"id": PARTNER, "name": "Partner Academy Sp. z o.o."}
    assert summary["achievement"]["name"] == "Cloud Foundations"
    assert summary["validFrom"] == VALID_FROM
    # The verifier contacted the partner only for its keys.
    assert host.requests == [JWKS_URL]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_vc_jose_cose_without_iss_or_nbf(
    make_verifier: Any, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]], alg: str
) -> None:
    # VC-JOSE-COSE: the issuer is read from the credential itself.
    signer, _ = signers[alg]
    claims = ob3_claims(partner_credential(), nbf=False, iss=False)
    token = sign(signer, claims, {"alg": alg, "kid": signer.kid, "typ": "vc+jwt", "cty": "vc"})
    host = PartnerHost([jwk for _, jwk in signers.values()])
    assert_valid(verify(make_verifier(host), token))


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_ob3_form_requires_nbf(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]], alg: str
) -> None:
    signer, _ = signers[alg]
    report = verify(make_verifier(host), sign(signer, ob3_claims(partner_credential(), nbf=False)))
    assert report["verdict"] == "invalid"
    assert (first_failure(report)["id"], first_failure(report)["code"]) == ("claims", "claims_mismatch")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_without_kid_the_key_is_found_by_algorithm(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]], alg: str
) -> None:
    signer, _ = signers[alg]
    token = sign(signer, ob3_claims(partner_credential()), {"alg": alg, "typ": "JWT"})
    assert_valid(verify(make_verifier(host), token))


def test_with_valid_until_and_exp(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["ES256"]
    verifier = make_verifier(host)
    current = ob3_claims({**partner_credential(), "validUntil": VALID_UNTIL_2099})
    report = verify(verifier, sign(signer, current))
    assert report["verdict"] == "valid", report
    assert "2099-01-01" in next(check for check in report["checks"] if check["id"] == "validity")["message"]
    lapsed = ob3_claims({**partner_credential(), "validUntil": VALID_UNTIL_2024})
    report = verify(verifier, sign(signer, lapsed))
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "expired")
    assert "2024-06-01" in first_failure(report)["message"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_untrusted_third_party_issuer(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]], alg: str
) -> None:
    signer, _ = signers[alg]
    token = sign(signer, ob3_claims(partner_credential()))
    verifier = make_verifier(host, trusted=("http://issuer.test/issuers/wsei", f"{HOST}/other-issuer"))
    report = verify(verifier, token)
    assert report["verdict"] == "invalid"
    failure = first_failure(report)
    assert (failure["id"], failure["status"], failure["code"]) == ("issuer", "failed", "untrusted_issuer")
    assert PARTNER in failure["message"]
    assert host.requests == []  # an untrusted issuer's host is never contacted


def test_untrusted_even_when_the_token_says_vc_jwt(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["EdDSA"]
    token = sign(
        signer,
        ob3_claims(partner_credential(), nbf=False, iss=False),
        {"alg": "EdDSA", "kid": signer.kid, "typ": "vc+jwt"},
    )
    report = verify(make_verifier(host, trusted=()), token)
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "untrusted_issuer")


def test_jwks_without_iss_on_a_host_with_two_trusted_issuers(
    make_verifier: Any, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["EdDSA"]
    token = sign(signer, ob3_claims(partner_credential()))
    anonymous = PartnerHost([jwk for _, jwk in signers.values()])
    both = (PARTNER, f"{HOST}/other-issuer")
    report = verify(make_verifier(anonymous, trusted=both), token)
    assert (report["verdict"], first_failure(report)["id"], first_failure(report)["code"]) == (
        "invalid",
        "key",
        "unknown_key",
    )
    # Naming the issuer in each JWK resolves the ambiguity.
    labelled = PartnerHost([{**jwk, "iss": PARTNER} for _, jwk in signers.values()])
    assert_valid(verify(make_verifier(labelled, trusted=both), token))


def test_key_of_the_other_issuer_on_the_same_host(
    make_verifier: Any, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, jwk = signers["EdDSA"]
    host = PartnerHost([{**jwk, "iss": f"{HOST}/other-issuer"}])
    report = verify(
        make_verifier(host, trusted=(PARTNER, f"{HOST}/other-issuer")), sign(signer, ob3_claims(partner_credential()))
    )
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "unknown_key")


def test_signature_by_an_unpublished_key(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    real, _ = signers["ES256"]
    impostor, _ = make_signer("ES256", kid=real.kid)  # same kid, different key
    report = verify(make_verifier(host), sign(impostor, ob3_claims(partner_credential())))
    assert (report["verdict"], first_failure(report)["id"], first_failure(report)["code"]) == (
        "invalid",
        "signature",
        "bad_signature",
    )


def test_es256_signature_in_der_form_is_refused(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["ES256"]
    header = {"alg": "ES256", "kid": signer.kid, "typ": "JWT"}
    signing_input = (
        b64url_encode(serialize_json(header)) + "." + b64url_encode(serialize_json(ob3_claims(partner_credential())))
    )
    assert isinstance(signer.private_key, ec.EllipticCurvePrivateKey)
    der = signer.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))  # ASN.1, not JWS r||s
    report = verify(make_verifier(host), f"{signing_input}.{b64url_encode(der)}")
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "bad_signature")


@pytest.mark.parametrize(("key_alg", "token_alg"), [("ES256", "RS256"), ("RS256", "ES256"), ("EdDSA", "ES256")])
def test_token_alg_must_match_the_published_key(
    make_verifier: Any,
    host: PartnerHost,
    signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]],
    key_alg: str,
    token_alg: str,
) -> None:
    signer, _ = signers[key_alg]
    token = sign(signer, ob3_claims(partner_credential()), {"alg": token_alg, "kid": signer.kid, "typ": "JWT"})
    report = verify(make_verifier(host), token)
    assert (report["verdict"], first_failure(report)["id"], first_failure(report)["code"]) == (
        "invalid",
        "key",
        "unsupported_algorithm",
    )


def test_weak_rsa_key_is_not_trusted(make_verifier: Any) -> None:
    import jwt

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    jwk = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(weak.public_key()))
    jwk.update(kid="partner-rsa-1024", alg="RS256", use="sig", iss=PARTNER)
    signer = PrivateKeySigner("partner-rsa-1024", "RS256", weak)
    report = verify(make_verifier(PartnerHost([jwk])), sign(signer, ob3_claims(partner_credential())))
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "unknown_key")


def test_partner_credential_by_link(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["RS256"]
    host.documents[CREDENTIAL_URL] = (sign(signer, ob3_claims(partner_credential())).encode(), "application/vc+jwt")
    verifier = make_verifier(host)
    report = verify(verifier, CREDENTIAL_URL)
    assert report["verdict"] == "valid", report
    assert report["checks"][0] == {
        "id": "retrieval",
        "status": "passed",
        "code": "ok",
        "message": report["checks"][0]["message"],
    }
    # A link that serves a different credential than the one it names is refused.
    other_url = f"{HOST}/credentials/other"
    host.documents[other_url] = host.documents[CREDENTIAL_URL]
    report = verify(verifier, other_url)
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "claims_mismatch")
    report = verify(verifier, f"{HOST}/credentials/missing")
    assert (report["verdict"], first_failure(report)["code"]) == ("invalid", "not_found")


# ---------------------------------------------------------------------------------------------------------------
# the partner's own Bitstring Status List


def status_list_token(
    signer: PrivateKeySigner,
    revoked: set[int],
    length: int = 131_072,
    purpose: str = "revocation",
    url: str = STATUS_URL,
) -> str:
    bits = bytearray(length // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    document = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": PARTNER,
        "validFrom": VALID_FROM,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": "u" + b64url_encode(gzip.compress(bytes(bits))),
        },
    }
    claims = {**document, "iss": PARTNER, "jti": url, "sub": f"{url}#list", "nbf": VALID_FROM_NBF}
    return sign(signer, claims)


def with_status(index: int, url: str = STATUS_URL) -> dict[str, Any]:
    credential = partner_credential()
    credential["credentialStatus"] = {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }
    validate_credential(credential)
    return credential


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_partner_status_list(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]], alg: str
) -> None:
    signer, _ = signers[alg]
    host.documents[STATUS_URL] = (status_list_token(signer, {94567}).encode(), "application/vc+jwt")
    verifier = make_verifier(host)

    standing = verify(verifier, sign(signer, ob3_claims(with_status(94566))))
    assert standing["verdict"] == "valid", standing
    assert statuses(standing)["status"] == ("passed", "ok")

    revoked = verify(verifier, sign(signer, ob3_claims(with_status(94567))))
    assert revoked["verdict"] == "invalid", revoked
    assert (first_failure(revoked)["id"], first_failure(revoked)["code"]) == ("status", "revoked")
    # The list was fetched once and cached; the credential itself never told the partner which one was checked.
    assert host.requests.count(STATUS_URL) == 1


def test_status_list_on_another_host_is_indeterminate(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["EdDSA"]
    elsewhere = "https://tracker.example/status/1"
    report = verify(make_verifier(host), sign(signer, ob3_claims(with_status(5, elsewhere))))
    assert report["verdict"] == "indeterminate", report
    assert (first_failure(report)["id"], first_failure(report)["status"], first_failure(report)["code"]) == (
        "status",
        "unknown",
        "status_unavailable",
    )
    assert not any(url.startswith("https://tracker.example") for url in host.requests)


def test_status_list_missing_is_indeterminate(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["EdDSA"]
    report = verify(make_verifier(host), sign(signer, ob3_claims(with_status(5))))
    assert report["verdict"] == "indeterminate", report
    assert first_failure(report)["code"] == "status_unavailable"


def test_status_list_signed_by_someone_else_is_indeterminate(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["EdDSA"]
    forger, _ = make_signer("EdDSA", kid=signer.kid)
    host.documents[STATUS_URL] = (status_list_token(forger, set()).encode(), "application/vc+jwt")
    report = verify(make_verifier(host), sign(signer, ob3_claims(with_status(5))))
    assert report["verdict"] == "indeterminate", report
    assert first_failure(report)["code"] == "status_unavailable"


SUSPENSION_URL = f"{HOST}/status/suspension/1"


def status_entry(index: int, purpose: str = "revocation", url: str = STATUS_URL) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def vc_with_statuses(signer: PrivateKeySigner, entries: list[dict[str, Any]]) -> str:
    """A VC 2.0 credential that is not an Open Badge (whose schema allows one status entry), as vc+jwt."""
    credential = {
        "@context": [VC_CONTEXT],
        "id": CREDENTIAL_URL,
        "type": ["VerifiableCredential"],
        "issuer": PARTNER,
        "validFrom": VALID_FROM,
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "name": "Member"},
        "credentialStatus": entries,
    }
    return sign(signer, credential, {"alg": signer.alg, "kid": signer.kid, "typ": "vc+jwt", "cty": "vc"})


@pytest.mark.parametrize(
    ("revoked", "suspended", "expected"),
    [
        (set(), set(), ("valid", None)),
        ({7}, set(), ("invalid", "revoked")),
        (set(), {7}, ("invalid", "suspended")),
        ({7}, {7}, ("invalid", "revoked")),
        ({8}, {6}, ("valid", None)),
    ],
)
def test_several_status_entries_are_each_checked(
    make_verifier: Any,
    host: PartnerHost,
    signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]],
    revoked: set[int],
    suspended: set[int],
    expected: tuple[str, str | None],
) -> None:
    """VC 2.0 allows a list of status entries, e.g. one for revocation and one for suspension."""
    signer, _ = signers["ES256"]
    host.documents[STATUS_URL] = (status_list_token(signer, revoked).encode(), "application/vc+jwt")
    suspension = status_list_token(signer, suspended, purpose="suspension", url=SUSPENSION_URL)
    host.documents[SUSPENSION_URL] = (suspension.encode(), "application/vc+jwt")
    token = vc_with_statuses(signer, [status_entry(7), status_entry(7, "suspension", SUSPENSION_URL)])
    report = verify(make_verifier(host), token)
    failure = None if report["verdict"] == "valid" else first_failure(report)["code"]
    assert (report["verdict"], failure) == expected, report
    assert statuses(report)["status"][0] == ("passed" if expected[0] == "valid" else "failed")


def test_a_status_entry_that_cannot_be_checked_leaves_the_answer_open(
    make_verifier: Any, host: PartnerHost, signers: dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
) -> None:
    signer, _ = signers["ES256"]
    host.documents[STATUS_URL] = (status_list_token(signer, {7}).encode(), "application/vc+jwt")
    foreign = {"id": f"{HOST}/status-2017/1", "type": "CredentialStatusList2017"}
    verifier = make_verifier(host)
    standing = verify(verifier, vc_with_statuses(signer, [status_entry(8), foreign]))
    assert (standing["verdict"], first_failure(standing)["code"]) == ("indeterminate", "status_unavailable")
    # A revocation the verifier can read is a revocation, whatever else it cannot.
    revoked = verify(verifier, vc_with_statuses(signer, [foreign, status_entry(7)]))
    assert (revoked["verdict"], first_failure(revoked)["code"]) == ("invalid", "revoked")
    too_many = verify(verifier, vc_with_statuses(signer, [status_entry(index) for index in range(8, 13)]))
    assert (too_many["verdict"], first_failure(too_many)["code"]) == ("indeterminate", "status_unavailable")
    empty = verify(verifier, vc_with_statuses(signer, []))
    assert (empty["verdict"], first_failure(empty)["code"]) == ("indeterminate", "status_unavailable")


def test_claims_copy_is_not_shared() -> None:
    # Guard for the helpers above: building claims never mutates the template credential.
    credential = partner_credential()
    before = copy.deepcopy(credential)
    ob3_claims(credential)
    assert credential == before
