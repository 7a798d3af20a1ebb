"""How a third-party issuer's keys are found, and what its tokens may say, by the standard: credentials built and
signed by hand (RS256, ES256, EdDSA), not by our issuer app, and checked by the verifier over its API.

- ``kid`` URLs on the issuer's own site (OB 3.0's VC-JWT proof format), dereferenced to one public JWK that names
  the issuer or is also in its JWKS; never another origin, a redirect, a key set, a private key, or an unbounded
  answer;
- a ``jwk`` header (RFC 7515 §4.1.3): only a pointer, by RFC 7638 thumbprint, to a key the issuer publishes;
- JWKs without ``alg`` (RFC 7517 §4.4), bound to the one algorithm their key type fits;
- did:web issuers: their DID document's ``assertionMethod`` keys, under DID URLs;
- ``typ`` ``JWT``, ``vc+jwt`` or none, and the OB 3.0 JWT claims (``iss``/``nbf``/``jti``/``sub``, ``exp``);
- the 64 KiB token limit, EnvelopedVerifiableCredentials (and the W3C VC-API), and an unknown OB context version.

The partner's host is an ``httpx.MockTransport`` that records every request, to whatever host; nothing leaves the
process. The verifier runs with its production defaults (``require_https`` on).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from credentials.encoding import b64url_decode, b64url_encode
from credentials.jose import MAX_TOKEN_BYTES, serialize_json
from credentials.keys import PrivateKeySigner, algorithm_for, thumbprint
from credentials.ob3 import OB_CONTEXT, VC_CONTEXT
from credentials.schema import validate_credential
from tests.test_third_party import (
    ALGORITHMS,
    CREDENTIAL_URL,
    EXP_2024,
    EXP_2099,
    HOST,
    JWKS_URL,
    PARTNER,
    assert_valid,
    make_signer,
    ob3_claims,
    partner_credential,
    sign,
)
from verifier.app import create_app
from verifier.report import CHECKS
from verifier.settings import VerifierSettings
from verifier.vc_api import INDETERMINATE, PROBLEM_TYPES

OTHER_ISSUER = f"{HOST}/other-issuer"
VERIFIER = "http://verifier.test"
NEWER_OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.1.0.json"

Keys = dict[str, tuple[PrivateKeySigner, dict[str, Any]]]
Answer = httpx.Response | Awaitable[httpx.Response]


# ---------------------------------------------------------------------------------------------------------------
# keys, the partner's host, the verifier


@pytest.fixture(scope="module")
def keys() -> Keys:
    """The partner's keys, one per algorithm, each with its RFC 7638 thumbprint as ``kid`` (RSA: 3072 bits)."""
    return {alg: make_signer(alg) for alg in ALGORITHMS}


@pytest.fixture(scope="module")
def attacker_keys() -> Keys:
    return {alg: make_signer(alg) for alg in ALGORITHMS}


def key_url(jwk: dict[str, Any], issuer: str = PARTNER) -> str:
    """Where the partner publishes one key: ``{issuer id}/keys/{thumbprint}``."""
    return f"{issuer}/keys/{thumbprint(jwk)}"


def without(jwk: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in jwk.items() if name not in names}


def private_jwk(signer: PrivateKeySigner) -> dict[str, Any]:
    """The signer's key as a JWK with its private members (``d``, and ``p``, ``q``, ... for RSA)."""
    found: dict[str, Any] = jwt.get_algorithm_by_name(signer.alg).to_jwk(signer.private_key, as_dict=True)
    assert "d" in found
    return found


class KeyHost:
    """The partner's web server: a JWKS (404 when ``jwks`` is ``None``), JSON documents by URL, and hand-written
    answers (``routes``, sync or async). Records every request, whatever its host."""

    def __init__(self, jwks: list[dict[str, Any]] | None) -> None:
        self.jwks = jwks
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.routes: dict[str, Callable[[httpx.Request], Answer]] = {}
        self.requests: list[str] = []

    def publish(self, url: str, document: Any, media_type: str = "application/jwk+json") -> None:
        self.documents[url] = (json.dumps(document).encode(), media_type)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        if url in self.routes:
            answer = self.routes[url](request)
            return answer if isinstance(answer, httpx.Response) else await answer
        if url == JWKS_URL and self.jwks is not None:
            return httpx.Response(200, json={"keys": self.jwks}, headers={"content-type": "application/jwk-set+json"})
        if url in self.documents:
            body, media_type = self.documents[url]
            return httpx.Response(200, content=body, headers={"content-type": media_type})
        return httpx.Response(404, json={"error": "not found"})


@pytest.fixture
def make_verifier() -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def build(host: KeyHost, trusted: tuple[str, ...] = (PARTNER,), **options: Any) -> TestClient:
        client = httpx.AsyncClient(transport=httpx.MockTransport(host))
        # require_https as in production: the partner is reached over https.
        settings = VerifierSettings(
            public_url=VERIFIER, trusted_issuers=trusted, registry_url=None, require_https=True, **options
        )
        test_client = TestClient(create_app(settings, client=client), base_url=VERIFIER)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield build
    for test_client in opened:
        test_client.__exit__(None, None, None)


def post(verifier: TestClient, value: str | dict[str, Any]) -> dict[str, Any]:
    response = verifier.post("/api/v1/verify", json={"credential": value})
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def outcome(report: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(verdict, the first check that did not pass, its code); ``None`` twice when every check passed."""
    assert [check["id"] for check in report["checks"]] == list(CHECKS), report
    for check in report["checks"]:
        if check["status"] in ("failed", "unknown"):
            return report["verdict"], check["id"], check["code"]
    return report["verdict"], None, None


def token(signer: PrivateKeySigner, claims: dict[str, Any] | None = None, **header: Any) -> str:
    """A compact JWS by ``signer``: header ``alg`` (the signer's), ``kid`` and ``typ: JWT`` unless overridden; a
    member given as ``None`` is left out."""
    fields = {"alg": signer.alg, "kid": signer.kid, "typ": "JWT", **header}
    fields = {name: value for name, value in fields.items() if value is not None}
    return sign(signer, claims if claims is not None else ob3_claims(partner_credential()), fields)


def envelope(compact: str, media_type: str = "application/vc+jwt") -> dict[str, Any]:
    return {"@context": [VC_CONTEXT], "type": "EnvelopedVerifiableCredential", "id": f"data:{media_type},{compact}"}


def tampered(compact: str) -> str:
    """The same token with another achievement name in its payload (the signature left as it was)."""
    header, payload, signature = compact.split(".")
    claims = json.loads(b64url_decode(payload, "payload"))
    claims["credentialSubject"]["achievement"]["name"] = "Cloud Architect"
    return f"{header}.{b64url_encode(serialize_json(claims))}.{signature}"


INVALID_KEY = ("invalid", "key", "unknown_key")
KEYS_UNAVAILABLE = ("indeterminate", "key", "keys_unavailable")
"""A kid URL that could not be read (no answer in time, a redirect, too large): whether the key is the issuer's
cannot be told, so neither can whether the credential is valid."""


# ---------------------------------------------------------------------------------------------------------------
# 1. kid URLs on the issuer's site


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("jwks", ["no-jwks", "empty-jwks", "jwks-lists-it"])
def test_kid_url_serving_the_issuers_jwk(make_verifier: Any, keys: Keys, alg: str, jwks: str) -> None:
    signer, jwk = keys[alg]
    url = key_url(jwk)
    published = {"no-jwks": None, "empty-jwks": [], "jwks-lists-it": [{**jwk, "iss": PARTNER}]}[jwks]
    host = KeyHost(published)
    host.publish(url, {**jwk, "kid": url, "iss": PARTNER})
    report = post(make_verifier(host), token(signer, kid=url))
    assert_valid(report)
    assert host.requests == [JWKS_URL, url]


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("jwks_iss", [True, False], ids=["jwks-with-iss", "jwks-without-iss"])
def test_kid_url_without_iss_counts_when_the_jwks_lists_the_key(
    make_verifier: Any, keys: Keys, alg: str, jwks_iss: bool
) -> None:
    signer, jwk = keys[alg]
    url = key_url(jwk)
    listed = {**jwk, "iss": PARTNER} if jwks_iss else jwk
    host = KeyHost([listed])
    host.publish(url, without({**jwk, "kid": url}, "iss"))
    assert_valid(post(make_verifier(host), token(signer, kid=url)))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize(
    "jwk_iss", [None, OTHER_ISSUER, "https://elsewhere.example/issuer"], ids=["no-iss", "other-issuer", "elsewhere"]
)
def test_kid_url_key_neither_named_for_the_issuer_nor_in_its_jwks(
    make_verifier: Any, keys: Keys, alg: str, jwk_iss: str | None
) -> None:
    signer, jwk = keys[alg]
    url = key_url(jwk)
    others = [{**other, "iss": PARTNER} for name, (_, other) in keys.items() if name != alg]
    host = KeyHost(others)
    host.publish(url, {**jwk, "kid": url} if jwk_iss is None else {**jwk, "kid": url, "iss": jwk_iss})
    report = post(make_verifier(host, trusted=(PARTNER, OTHER_ISSUER)), token(signer, kid=url))
    assert outcome(report) == INVALID_KEY
    assert url in host.requests  # it was looked at, and did not count


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize(
    "url",
    [
        "https://keys.elsewhere.example/partner/key-1",
        "http://badges.partner.example/issuer/keys/key-1",
        "https://badges.partner.example:8443/issuer/keys/key-1",
        "https://badges.partner.example@keys.elsewhere.example/issuer/keys/key-1",
        "https://badges.partner.example.elsewhere.example/issuer/keys/key-1",
    ],
    ids=["other-host", "http", "other-port", "userinfo", "suffix-host"],
)
def test_kid_url_on_another_origin_is_not_followed(make_verifier: Any, keys: Keys, alg: str, url: str) -> None:
    signer, jwk = keys[alg]
    host = KeyHost([])
    host.publish(url, {**jwk, "kid": url, "iss": PARTNER})
    report = post(make_verifier(host), token(signer, kid=url))
    assert outcome(report) == INVALID_KEY
    assert host.requests == [JWKS_URL]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", ["same-site", "elsewhere"])
def test_kid_url_redirect_is_not_followed(make_verifier: Any, keys: Keys, status: int, target: str) -> None:
    signer, jwk = keys["EdDSA"]
    url = key_url(jwk)
    location = f"{PARTNER}/keys/current" if target == "same-site" else "https://keys.elsewhere.example/k"
    host = KeyHost([])
    host.routes[url] = lambda _request: httpx.Response(status, headers={"location": location})
    host.publish(location, {**jwk, "kid": url, "iss": PARTNER})
    report = post(make_verifier(host), token(signer, kid=url))
    assert outcome(report) == KEYS_UNAVAILABLE
    assert host.requests == [JWKS_URL, url]


@pytest.mark.parametrize(
    ("status", "expected"), [(404, INVALID_KEY), (410, INVALID_KEY), (500, KEYS_UNAVAILABLE), (503, KEYS_UNAVAILABLE)]
)
def test_kid_url_the_site_does_not_serve(
    make_verifier: Any, keys: Keys, status: int, expected: tuple[str, str, str]
) -> None:
    # "No such key" is an answer: the token names a key its issuer does not have. A failing site is not.
    signer, jwk = keys["ES256"]
    url = key_url(jwk)
    host = KeyHost([])
    host.routes[url] = lambda _request: httpx.Response(status)
    assert outcome(post(make_verifier(host), token(signer, kid=url))) == expected
    assert host.requests == [JWKS_URL, url]


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("served", ["jwk-set", "private-jwk", "private-jwk-listed", "not-json", "jwk-for-encryption"])
def test_kid_url_serving_anything_but_one_public_signing_jwk(
    make_verifier: Any, keys: Keys, alg: str, served: str
) -> None:
    signer, jwk = keys[alg]
    url = key_url(jwk)
    # "private-jwk-listed": the public half is even in the JWKS, under its thumbprint; the kid still names a URL that
    # serves a private key, which no verifier may load.
    host = KeyHost([{**jwk, "iss": PARTNER}] if served == "private-jwk-listed" else [])
    if served == "jwk-set":
        host.publish(url, {"keys": [{**jwk, "kid": url, "iss": PARTNER}]}, "application/jwk-set+json")
    elif served.startswith("private-jwk"):
        host.publish(url, {**private_jwk(signer), "kid": url, "alg": alg, "iss": PARTNER})
    elif served == "not-json":
        host.documents[url] = (b"<html>key</html>", "text/html")
    else:
        host.publish(url, {**jwk, "kid": url, "iss": PARTNER, "use": "enc"})
    assert outcome(post(make_verifier(host), token(signer, kid=url))) == INVALID_KEY


def test_kid_url_oversize_answer_is_refused(make_verifier: Any, keys: Keys) -> None:
    signer, jwk = keys["ES256"]
    url = key_url(jwk)
    host = KeyHost([])
    # A real key, padded past the 256 KiB the verifier reads of any key document.
    host.publish(url, {**jwk, "kid": url, "iss": PARTNER, "x-padding": "A" * (300 * 1024)})
    assert outcome(post(make_verifier(host), token(signer, kid=url))) == KEYS_UNAVAILABLE
    assert host.requests == [JWKS_URL, url]


def test_kid_url_slow_answer_is_cut_off_at_the_fetch_deadline(make_verifier: Any, keys: Keys) -> None:
    signer, jwk = keys["EdDSA"]
    url = key_url(jwk)
    host = KeyHost([])

    async def slow(_request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={**jwk, "kid": url, "iss": PARTNER})

    host.routes[url] = slow
    verifier = make_verifier(host, fetch_deadline=0.3)
    started = time.monotonic()
    report = post(verifier, token(signer, kid=url))
    assert time.monotonic() - started < 5
    assert outcome(report) == KEYS_UNAVAILABLE
    assert host.requests == [JWKS_URL, url]
    # Meanwhile the site is remembered as not answering: the next request neither asks nor waits again.
    started = time.monotonic()
    assert post(verifier, token(signer, kid=url))["verdict"] != "valid"
    assert time.monotonic() - started < 2
    assert host.requests == [JWKS_URL, url]


# ---------------------------------------------------------------------------------------------------------------
# 2. the jwk header: a pointer to a published key, never a key by itself


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("kid", ["no-kid", "thumbprint-kid"])
@pytest.mark.parametrize("members", ["as-published", "bare"])
def test_jwk_header_naming_a_published_key(make_verifier: Any, keys: Keys, alg: str, kid: str, members: str) -> None:
    signer, jwk = keys[alg]
    host = KeyHost([{**published, "iss": PARTNER} for _, published in keys.values()])
    embedded = jwk if members == "as-published" else without(jwk, "kid", "alg", "use")
    compact = token(signer, jwk=embedded, kid=signer.kid if kid == "thumbprint-kid" else None)
    assert_valid(post(make_verifier(host), compact))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("jwks", ["key-url-only", "key-url-and-jwks"])
def test_jwk_header_with_a_kid_url(make_verifier: Any, keys: Keys, alg: str, jwks: str) -> None:
    # RFC 7515 §4.1.3/§4.1.4: kid and jwk may name the same key together, however many places publish it.
    signer, jwk = keys[alg]
    url = key_url(jwk)
    host = KeyHost([{**jwk, "iss": PARTNER}] if jwks == "key-url-and-jwks" else [])
    host.publish(url, {**jwk, "kid": url, "iss": PARTNER})
    assert_valid(post(make_verifier(host), token(signer, kid=url, jwk=without(jwk, "kid"))))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("kid", ["no-kid", "partners-kid", "attackers-kid"])
def test_jwk_header_with_an_attackers_own_key(
    make_verifier: Any, keys: Keys, attacker_keys: Keys, alg: str, kid: str
) -> None:
    attacker, own = attacker_keys[alg]
    partner_kid = keys[alg][0].kid
    host = KeyHost([{**published, "iss": PARTNER} for _, published in keys.values()])
    chosen = {"no-kid": None, "partners-kid": partner_kid, "attackers-kid": attacker.kid}[kid]
    report = post(make_verifier(host), token(attacker, jwk=own, kid=chosen))
    assert outcome(report) == INVALID_KEY


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_jwk_header_with_private_members_is_refused(make_verifier: Any, keys: Keys, alg: str) -> None:
    # RFC 7515 §4.1.3: jwk is the public key; a token carrying its private half is refused, published or not.
    signer, jwk = keys[alg]
    host = KeyHost([{**jwk, "iss": PARTNER}])
    report = post(make_verifier(host), token(signer, jwk=private_jwk(signer)))
    assert outcome(report) == ("invalid", "header", "header_not_allowed")
    assert host.requests == []


def test_jwk_header_and_kid_naming_two_different_published_keys(make_verifier: Any, keys: Keys) -> None:
    # Both keys are the partner's; the header contradicts itself, so neither is taken.
    signer, jwk = keys["EdDSA"]
    host = KeyHost([{**published, "iss": PARTNER} for _, published in keys.values()])
    report = post(make_verifier(host), token(signer, kid=keys["ES256"][0].kid, jwk=jwk))
    assert outcome(report) == INVALID_KEY


@pytest.mark.parametrize("value", ["a-key", ["a", "key"], 7])
def test_jwk_header_that_is_not_an_object(make_verifier: Any, keys: Keys, value: Any) -> None:
    signer, jwk = keys["EdDSA"]
    report = post(make_verifier(KeyHost([{**jwk, "iss": PARTNER}])), token(signer, jwk=value))
    assert outcome(report) == ("invalid", "header", "header_not_allowed")


@pytest.mark.parametrize(
    "embedded",
    [
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "EC", "crv": "P-256", "x": "AA"},
        {"kty": ["OKP"]},
        {"kty": "RSA", "n": 7, "e": "AQAB"},
    ],
    ids=["okp-without-x", "ec-without-y", "kty-a-list", "rsa-n-a-number"],
)
def test_jwk_header_that_is_not_a_whole_key(make_verifier: Any, keys: Keys, embedded: dict[str, Any]) -> None:
    # It names no key at all: a key the issuer does not publish, never an error of the verifier's own.
    signer, jwk = keys["EdDSA"]
    report = post(make_verifier(KeyHost([{**jwk, "iss": PARTNER}])), token(signer, jwk=embedded))
    assert outcome(report) == INVALID_KEY


# ---------------------------------------------------------------------------------------------------------------
# 3. JWKs without alg: bound to the algorithm their key type fits


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("with_kid", [True, False], ids=["kid", "no-kid"])
def test_jwks_keys_without_alg(make_verifier: Any, keys: Keys, alg: str, with_kid: bool) -> None:
    signer, jwk = keys[alg]
    assert algorithm_for(jwk) == alg
    host = KeyHost([without({**published, "iss": PARTNER}, "alg") for _, published in keys.values()])
    assert_valid(post(make_verifier(host), token(signer, kid=signer.kid if with_kid else None)))


@pytest.mark.parametrize(
    ("key_alg", "token_alg"),
    [("ES256", "RS256"), ("RS256", "ES256"), ("EdDSA", "ES256"), ("ES256", "EdDSA"), ("RS256", "EdDSA")],
)
@pytest.mark.parametrize("with_kid", [True, False], ids=["kid", "no-kid"])
def test_token_alg_must_fit_the_key_type(
    make_verifier: Any, keys: Keys, key_alg: str, token_alg: str, with_kid: bool
) -> None:
    signer, jwk = keys[key_alg]
    host = KeyHost([without({**jwk, "iss": PARTNER}, "alg")])  # the only key: nothing else could match
    report = post(make_verifier(host), token(signer, alg=token_alg, kid=signer.kid if with_kid else None))
    if with_kid:
        assert outcome(report) == ("invalid", "key", "unsupported_algorithm")
    else:
        assert outcome(report) == INVALID_KEY


# ---------------------------------------------------------------------------------------------------------------
# 4. did:web issuers

DID_ROOT = "did:web:badges.partner.example"
DID_PATH = "did:web:badges.partner.example:issuers:acme"
DID_PORT = "did:web:badges.partner.example%3A8443"
DID_DOCUMENTS = {
    DID_ROOT: f"{HOST}/.well-known/did.json",
    DID_PATH: f"{HOST}/issuers/acme/did.json",
    DID_PORT: "https://badges.partner.example:8443/.well-known/did.json",
}


def did_credential(did: str) -> dict[str, Any]:
    credential = partner_credential()
    credential["issuer"] = {**credential["issuer"], "id": did}
    return credential


def did_document(did: str, jwk: dict[str, Any], *, purpose: str = "assertionMethod", **extra: Any) -> dict[str, Any]:
    """A DID document as DID hosts write it: the key as a bare JsonWebKey (no kid, alg or use) at ``#key-1``."""
    method = {
        "id": f"{did}#key-1",
        "type": "JsonWebKey",
        "controller": did,
        "publicKeyJwk": without(jwk, "kid", "alg", "use"),
    }
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": [method],
        purpose: [f"{did}#key-1"],
        **extra,
    }


def did_host(did: str, document: dict[str, Any]) -> KeyHost:
    host = KeyHost(None)
    host.publish(DID_DOCUMENTS[did], document, "application/did+json")
    return host


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("did", [DID_ROOT, DID_PATH, DID_PORT], ids=["root", "path", "port"])
@pytest.mark.parametrize("kid_form", ["did-url", "fragment", "jwk-header", "did-url-and-jwk-header"])
def test_did_web_issuer(make_verifier: Any, keys: Keys, alg: str, did: str, kid_form: str) -> None:
    signer, jwk = keys[alg]
    host = did_host(did, did_document(did, jwk))
    header: dict[str, Any] = {"kid": "#key-1" if kid_form == "fragment" else f"{did}#key-1"}
    if kid_form.endswith("jwk-header"):
        header["jwk"] = without(jwk, "kid", "alg", "use")
    if kid_form == "jwk-header":
        header["kid"] = None
    credential = did_credential(did)
    validate_credential(credential)
    assert_valid(post(make_verifier(host, trusted=(did,)), token(signer, ob3_claims(credential), **header)))
    assert host.requests == [DID_DOCUMENTS[did]]  # the DID document only: no JWKS, nothing else


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_did_web_key_embedded_in_assertion_method(make_verifier: Any, keys: Keys, alg: str) -> None:
    signer, jwk = keys[alg]
    method = {"id": f"{DID_ROOT}#key-1", "type": "JsonWebKey", "controller": DID_ROOT, "publicKeyJwk": jwk}
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID_ROOT, "assertionMethod": [method]}
    host = did_host(DID_ROOT, document)
    compact = token(signer, ob3_claims(did_credential(DID_ROOT)), kid=f"{DID_ROOT}#key-1")
    assert_valid(post(make_verifier(host, trusted=(DID_ROOT,)), compact))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("purpose", ["authentication", "keyAgreement", "capabilityInvocation"])
def test_did_web_key_not_for_assertions(make_verifier: Any, keys: Keys, alg: str, purpose: str) -> None:
    signer, jwk = keys[alg]
    host = did_host(DID_ROOT, did_document(DID_ROOT, jwk, purpose=purpose))
    compact = token(signer, ob3_claims(did_credential(DID_ROOT)), kid=f"{DID_ROOT}#key-1")
    assert outcome(post(make_verifier(host, trusted=(DID_ROOT,)), compact)) == INVALID_KEY


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("document_id", [DID_PATH, "did:web:elsewhere.example", None], ids=["path", "other", "none"])
def test_did_web_document_of_another_did(make_verifier: Any, keys: Keys, alg: str, document_id: str | None) -> None:
    # Not the issuer's DID document: its keys cannot be had, so nothing can be confirmed (the verifier's choice:
    # indeterminate, keys_unavailable; never valid).
    signer, jwk = keys[alg]
    document = did_document(DID_ROOT, jwk)
    if document_id is None:
        del document["id"]
    else:
        document["id"] = document_id
    host = did_host(DID_ROOT, document)
    compact = token(signer, ob3_claims(did_credential(DID_ROOT)), kid=f"{DID_ROOT}#key-1")
    report = post(make_verifier(host, trusted=(DID_ROOT,)), compact)
    assert outcome(report) == ("indeterminate", "key", "keys_unavailable")


def test_did_web_signature_by_another_key(make_verifier: Any, keys: Keys, attacker_keys: Keys) -> None:
    _, jwk = keys["ES256"]
    forger, _ = attacker_keys["ES256"]
    host = did_host(DID_ROOT, did_document(DID_ROOT, jwk))
    compact = token(forger, ob3_claims(did_credential(DID_ROOT)), kid=f"{DID_ROOT}#key-1")
    assert outcome(post(make_verifier(host, trusted=(DID_ROOT,)), compact)) == ("invalid", "signature", "bad_signature")


def test_http_issuer_is_not_contacted_while_https_is_required(make_verifier: Any, keys: Keys) -> None:
    # VERIFIER_REQUIRE_HTTPS (on by default): an issuer whose id is a plain-http URL is trusted, but its keys are
    # never fetched, so nothing it signed can be confirmed (did:web ids always resolve over https).
    signer, jwk = keys["EdDSA"]
    plain = PARTNER.replace("https://", "http://")
    credential = partner_credential()
    credential["issuer"] = {**credential["issuer"], "id": plain}
    host = KeyHost([{**jwk, "iss": plain}])
    host.publish(f"{plain}/keys/{thumbprint(jwk)}", {**jwk, "iss": plain})
    for kid in (signer.kid, f"{plain}/keys/{thumbprint(jwk)}"):
        report = post(make_verifier(host, trusted=(plain,)), token(signer, ob3_claims(credential), kid=kid))
        assert outcome(report) == ("indeterminate", "key", "keys_unavailable")
    assert host.requests == []


@pytest.mark.parametrize("trusted", [(PARTNER,), (DID_PATH,), ()], ids=["https-id", "other-did", "none"])
def test_did_web_issuer_not_on_the_trust_list(make_verifier: Any, keys: Keys, trusted: tuple[str, ...]) -> None:
    signer, jwk = keys["EdDSA"]
    host = did_host(DID_ROOT, did_document(DID_ROOT, jwk))
    compact = token(signer, ob3_claims(did_credential(DID_ROOT)), kid=f"{DID_ROOT}#key-1")
    report = post(make_verifier(host, trusted=trusted), compact)
    assert outcome(report) == ("invalid", "issuer", "untrusted_issuer")
    assert host.requests == []


# ---------------------------------------------------------------------------------------------------------------
# 5. typ: JWT, vc+jwt, or none (the OB 3.0 JWT profile)


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("typ", ["JWT", "jwt", "vc+jwt", "application/vc+jwt", "VC+JWT", None], ids=str)
def test_typ_profiles(make_verifier: Any, keys: Keys, alg: str, typ: str | None) -> None:
    signer, jwk = keys[alg]
    host = KeyHost([{**jwk, "iss": PARTNER}])
    assert_valid(post(make_verifier(host), token(signer, typ=typ)))


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("missing", ["nbf", "jti", "sub", "iss"])
@pytest.mark.parametrize("typ", ["JWT", None], ids=["JWT", "no-typ"])
def test_ob3_profile_requires_its_claims(
    make_verifier: Any, keys: Keys, alg: str, missing: str, typ: str | None
) -> None:
    signer, jwk = keys[alg]
    claims = without(ob3_claims(partner_credential()), missing)
    report = post(make_verifier(KeyHost([{**jwk, "iss": PARTNER}])), token(signer, claims, typ=typ))
    assert outcome(report) == ("invalid", "claims", "claims_mismatch")
    assert f"'{missing}' is required" in next(check for check in report["checks"] if check["id"] == "claims")["message"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_vc_jwt_profile_reads_the_credential_itself(make_verifier: Any, keys: Keys, alg: str) -> None:
    # The same claims that the OB 3.0 profile refuses (no iss, nbf, jti, sub) are complete under vc+jwt.
    signer, jwk = keys[alg]
    claims = without(ob3_claims(partner_credential()), "iss", "nbf", "jti", "sub")
    assert_valid(post(make_verifier(KeyHost([{**jwk, "iss": PARTNER}])), token(signer, claims, typ="vc+jwt")))


# ---------------------------------------------------------------------------------------------------------------
# 6. the claims under the OB 3.0 profile

IDENTITY_SALT = "5f1c0e2a9b7d"
IDENTITY = {
    "type": "IdentityObject",
    "identityHash": "sha256$" + hashlib.sha256(b"learner-0001@partner.example" + IDENTITY_SALT.encode()).hexdigest(),
    "identityType": "emailAddress",
    "hashed": True,
    "salt": IDENTITY_SALT,
}


def claims_with(change: str) -> tuple[dict[str, Any], str]:
    """Claims for one case of the table below, and the token's typ."""
    credential = partner_credential()
    subject = credential["credentialSubject"]
    if change in ("no-subject-id", "identifier-only"):
        del subject["id"]
        if change == "identifier-only":
            subject["identifier"] = [IDENTITY]
    claims = ob3_claims({**credential, "credentialSubject": {"id": "", **subject}})
    claims["credentialSubject"] = subject
    if "id" not in subject:
        del claims["sub"]  # OB 3.0: sub is the subject's id, when it has one
    typ = "JWT"
    match change:
        case "no-jti" | "no-sub":
            del claims[change[3:]]
        case "jti-differs":
            claims["jti"] = f"{HOST}/credentials/another"
        case "sub-differs":
            claims["sub"] = "did:example:another-subject"
        case "vc-claim" | "vp-claim":
            claims[change[:2]] = {"type": ["VerifiableCredential"]}
            typ = "vc+jwt"
        case "exp-past":
            claims["exp"] = EXP_2024
        case "exp-future":
            claims["exp"] = EXP_2099
    return claims, typ


MISMATCH = ("invalid", "claims", "claims_mismatch")
CLAIM_CASES = [
    pytest.param("none", ("valid", None, None), "", id="as-issued"),
    pytest.param("no-jti", MISMATCH, "'jti' is required", id="missing-jti"),
    pytest.param("jti-differs", MISMATCH, "'jti' does not match", id="jti-not-id"),
    pytest.param("no-sub", MISMATCH, "'sub' is required", id="missing-sub"),
    pytest.param("sub-differs", MISMATCH, "'sub' does not match", id="sub-not-subject-id"),
    pytest.param("no-subject-id", MISMATCH, "neither an id nor an identifier", id="subject-without-id-or-identifier"),
    pytest.param("identifier-only", ("valid", None, None), "", id="subject-identifier-only"),
    pytest.param("vc-claim", MISMATCH, "'vc' claim", id="vc-claim-under-vc+jwt"),
    pytest.param("vp-claim", MISMATCH, "'vp' claim", id="vp-claim-under-vc+jwt"),
    pytest.param("exp-past", ("invalid", "validity", "expired"), "2024-06-01", id="exp-past-without-validUntil"),
    pytest.param("exp-future", ("valid", None, None), "", id="exp-future-without-validUntil"),
]


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize(("change", "expected", "says"), CLAIM_CASES)
def test_ob3_claims(
    make_verifier: Any, keys: Keys, alg: str, change: str, expected: tuple[str, str | None, str | None], says: str
) -> None:
    signer, jwk = keys[alg]
    claims, typ = claims_with(change)
    if expected[0] == "valid":
        validate_credential(claims)
    report = post(make_verifier(KeyHost([{**jwk, "iss": PARTNER}])), token(signer, claims, typ=typ))
    assert outcome(report) == expected
    if expected[1] is not None:
        assert says in next(check for check in report["checks"] if check["id"] == expected[1])["message"]
    if change == "exp-future":
        assert "2099-01-01" in next(check for check in report["checks"] if check["id"] == "validity")["message"]


# ---------------------------------------------------------------------------------------------------------------
# 7. size: up to 64 KiB of token, refused beyond before anything in it is read


def padded_token(signer: PrivateKeySigner, image_bytes: int) -> str:
    """A token whose achievement carries a PNG-sized data: URL image of ``image_bytes`` random-looking bytes."""
    credential = partner_credential()
    data = hashlib.shake_256(b"partner-badge-image").digest(image_bytes)
    credential["credentialSubject"]["achievement"]["image"] = {
        "id": "data:image/png;base64," + base64.b64encode(data).decode(),
        "type": "Image",
    }
    return token(signer, ob3_claims(credential))


def largest_image_that_fits(signer: PrivateKeySigner) -> int:
    """The largest image (bytes) whose token is at most MAX_TOKEN_BYTES long."""
    low, high = 0, MAX_TOKEN_BYTES
    while low < high:
        middle = (low + high + 1) // 2
        if len(padded_token(signer, middle)) <= MAX_TOKEN_BYTES:
            low = middle
        else:
            high = middle - 1
    return low


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_token_up_to_64_kib_is_verified_and_one_more_byte_is_refused(make_verifier: Any, keys: Keys, alg: str) -> None:
    signer, jwk = keys[alg]
    host = KeyHost([{**jwk, "iss": PARTNER}])
    verifier = make_verifier(host)
    image = largest_image_that_fits(signer)
    fits, too_long = padded_token(signer, image), padded_token(signer, image + 1)
    assert MAX_TOKEN_BYTES - 4 <= len(fits) <= MAX_TOKEN_BYTES < len(too_long)
    payload = b64url_decode(fits.split(".")[1], "payload")
    assert len(payload) > 48_000  # the credential itself: about 48 KB of JSON
    assert_valid(post(verifier, fits))
    assert host.requests == [JWKS_URL]

    report = post(verifier, too_long)
    assert outcome(report) == ("invalid", "format", "malformed")
    assert str(MAX_TOKEN_BYTES) in report["checks"][0]["message"]
    assert report["credential"] is None
    assert host.requests == [JWKS_URL]  # nothing further fetched for the refused token


@pytest.mark.parametrize(
    "oversize",
    [
        pytest.param("A" * (MAX_TOKEN_BYTES + 1), id="no-dots"),
        pytest.param("e30." + "!" * MAX_TOKEN_BYTES + ".sig", id="not-base64url"),
        pytest.param("eyJhbGciOiJub25lIn0." + "e30" * (MAX_TOKEN_BYTES // 3) + ".", id="alg-none"),
    ],
)
def test_oversize_token_is_refused_by_its_size_before_parsing(make_verifier: Any, oversize: str) -> None:
    host = KeyHost([])
    report = post(make_verifier(host), oversize)
    assert outcome(report) == ("invalid", "format", "malformed")
    assert str(MAX_TOKEN_BYTES) in report["checks"][0]["message"]  # the size, not the first thing wrong inside
    assert host.requests == []


# ---------------------------------------------------------------------------------------------------------------
# 8. EnvelopedVerifiableCredentials, and the W3C VC-API


def summary_of(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(check["id"], check["status"], check["code"]) for check in report["checks"]]


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("altered", [False, True], ids=["intact", "tampered"])
def test_envelope_forms_give_the_tokens_verdict(make_verifier: Any, keys: Keys, alg: str, altered: bool) -> None:
    signer, jwk = keys[alg]
    verifier = make_verifier(KeyHost([{**jwk, "iss": PARTNER}]))
    compact = token(signer, typ="vc+jwt")
    if altered:
        compact = tampered(compact)
    bare = post(verifier, compact)
    if altered:
        assert outcome(bare) == ("invalid", "signature", "bad_signature")
    else:
        assert_valid(bare)
    forms: list[str | dict[str, Any]] = [
        envelope(compact),
        json.dumps(envelope(compact)),
        f"data:application/vc+jwt,{compact}",
        envelope(compact, "application/jwt"),
        f"  data:application/jwt,{compact}\n",
    ]
    for form in forms:
        report = post(verifier, form)
        assert summary_of(report) == summary_of(bare), form
        assert report["verdict"] == bare["verdict"]


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_vc_api_verify(make_verifier: Any, keys: Keys, alg: str) -> None:
    signer, jwk = keys[alg]
    verifier = make_verifier(KeyHost([{**jwk, "iss": PARTNER}]))
    compact = token(signer, typ="vc+jwt", cty="vc")

    response = verifier.post("/credentials/verify", json={"verifiableCredential": envelope(compact), "options": {}})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["verified"] is True
    assert result["problemDetails"] == [] == result["errors"]
    assert result["results"]["proof"] == [{"verified": True}]

    response = verifier.post("/credentials/verify", json={"verifiableCredential": envelope(tampered(compact))})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["verified"] is False
    assert [problem["type"] for problem in result["problemDetails"]] == [PROBLEM_TYPES["bad_signature"]]
    assert result["results"]["proof"] == [{"verified": False}]


# ---------------------------------------------------------------------------------------------------------------
# 9. an Open Badges context version this verifier does not know


@pytest.mark.parametrize("alg", ALGORITHMS)
@pytest.mark.parametrize("contexts", ["replaced", "added"])
def test_unknown_ob_context_version_is_never_valid(make_verifier: Any, keys: Keys, alg: str, contexts: str) -> None:
    signer, jwk = keys[alg]
    verifier = make_verifier(KeyHost([{**jwk, "iss": PARTNER}]))
    credential = partner_credential()
    credential["@context"] = (
        [VC_CONTEXT, NEWER_OB_CONTEXT] if contexts == "replaced" else [VC_CONTEXT, OB_CONTEXT, NEWER_OB_CONTEXT]
    )
    compact = token(signer, ob3_claims(credential))
    report = post(verifier, compact)
    assert outcome(report) == ("indeterminate", "schema", "unsupported_context")
    assert "3.1.0" in next(check for check in report["checks"] if check["id"] == "schema")["message"]
    checks = {check["id"]: check["status"] for check in report["checks"]}
    assert [checks[name] for name in ("signature", "claims", "validity")] == ["passed", "passed", "skipped"]

    result = verifier.post("/credentials/verify", json={"verifiableCredential": envelope(compact)}).json()
    assert result["verified"] is False
    assert result["problemDetails"][0]["type"] == INDETERMINATE
    assert report["credential"]["id"] == CREDENTIAL_URL
