"""Conformance with the standards, checked from outside the project's own code.

- Keys: the rule 1EdTech's validator applies, restated: decode the header, dereference ``kid`` over HTTP, get
  exactly one public JWK, verify with it (PyJWT). For RS256, ES256 and EdDSA providers, for credentials and
  status lists alike; the JWKS and the did:web document list the same keys; providers choose their algorithm.
- JSON-LD: every credential and status list we sign expands (pyld, contexts read from files, no network) with no
  term dropped and no relative type; the bundled OB context is the official one.
- Independent JOSE libraries verify what we sign: jwcrypto, joserfc and node ``jose``.
- The W3C VC-API: ``POST /credentials/issue`` on the issuer, ``POST /credentials/verify`` on the verifier.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from pyld import jsonld

from issuer.app import create_app
from issuer.context import IssuerContext
from issuer.settings import IssuerSettings
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

ALGORITHMS = ("RS256", "ES256", "EdDSA")
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
JWT_CLAIMS = {"iss", "jti", "sub", "nbf", "exp", "iat"}

ROOT = Path(__file__).resolve().parents[1]
CONTEXT_DIR = ROOT / "credentials" / "contexts"
CONTEXT_FILES = {
    VC_CONTEXT: "credentials-v2.jsonld",
    OB_CONTEXT: "ob-context-3.0.3.json",
    OB_EXTENSIONS: "ob-extensions.json",
}
OFFICIAL_OB_CONTEXT = ROOT.parent / "shared" / "standards" / "ob3" / "context-3.0.3.json"
INTEROP_DIR = ROOT / "tests" / "interop"
REQUIRE_INTEROP = os.environ.get("ODZNAKA_REQUIRE_INTEROP") == "1"
"""Set by CI, where node ``jose`` is installed: a missing install fails the run instead of skipping."""


# --------------------------------------------------------------------------------------------------------------
# a credential and its status list, signed by a provider of each algorithm


@dataclass
class Signed:
    client: TestClient
    provider: ProviderFixture
    alg: str
    token: str
    status_token: str


@pytest.fixture(params=ALGORITHMS)
def signed(request: pytest.FixtureRequest, ctx: IssuerContext, issuer: TestClient) -> Signed:
    alg: str = request.param
    provider = add_provider(ctx, f"dostawca-{alg.lower()}", algorithm=alg)
    created = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=provider.headers)
    assert created.status_code == 201, created.text
    token = issue(issuer, provider, created.json())["jwt"]
    status_url = payload_of(token)["credentialStatus"]["statusListCredential"]
    listed = issuer.get(path_of(status_url))
    assert listed.status_code == 200, listed.text
    return Signed(issuer, provider, alg, token, listed.text)


def tokens_of(signed: Signed) -> list[str]:
    return [signed.token, signed.status_token]


def dereference_kid(client: TestClient, token: str) -> dict[str, Any]:
    """The validator's key rule: the header's ``kid`` is a URL that dereferences to one public JWK."""
    kid = b64u_json(token.split(".")[0])["kid"]
    parts = urlsplit(kid)
    assert parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" == ISSUER_URL, kid
    assert not parts.query and not parts.fragment, kid
    response = client.get(path_of(kid))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == "application/jwk+json"
    jwk: dict[str, Any] = response.json()
    assert isinstance(jwk, dict) and "kty" in jwk and "keys" not in jwk, "one JWK, not a set"
    assert not PRIVATE_MEMBERS & jwk.keys(), "a public key only"
    return jwk


# --------------------------------------------------------------------------------------------------------------
# keys at their URLs


def test_kid_dereferences_to_one_public_jwk_that_verifies(signed: Signed) -> None:
    for token in tokens_of(signed):
        header = b64u_json(token.split(".")[0])
        jwk = dereference_kid(signed.client, token)
        assert header["alg"] == signed.alg == jwk["alg"]
        assert jwk["kid"] == header["kid"]
        assert jwk["iss"] == signed.provider.issuer_id
        thumbprint = jwcrypto_jwk.JWK(**jwk).thumbprint()  # RFC 7638, SHA-256, computed by jwcrypto
        assert header["kid"] == f"{signed.provider.issuer_id}/keys/{thumbprint}"
        claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=[signed.alg], options={"verify_aud": False})
        assert claims["iss"] == signed.provider.issuer_id


def test_rsa_keys_are_3072_bits_and_ec_keys_p256(signed: Signed) -> None:
    jwk = dereference_kid(signed.client, signed.token)
    if signed.alg == "RS256":
        n = base64.urlsafe_b64decode(jwk["n"] + "=" * (-len(jwk["n"]) % 4))
        assert len(n) * 8 == 3072 and n[0] & 0x80
    elif signed.alg == "ES256":
        assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256")
    else:
        assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")


def test_jwks_and_did_document_list_the_same_keys(signed: Signed) -> None:
    client, provider = signed.client, signed.provider
    kid = b64u_json(signed.token.split(".")[0])["kid"]
    jwks = client.get("/.well-known/jwks.json").json()["keys"]
    own = {key["kid"]: key for key in jwks if key.get("iss") == provider.issuer_id}
    assert list(own) == [kid]
    did = client.get(f"/issuers/{provider.slug}/did.json").json()
    methods = {method["id"]: method for method in did["verificationMethod"]}
    assert [method["publicKeyJwk"]["kid"] for method in methods.values()] == [kid]
    assert set(did["assertionMethod"]) == set(methods)
    served = dereference_kid(client, signed.token)
    for method in methods.values():
        assert method["controller"] == did["id"]
        assert method["id"].split("#")[1] == kid.rsplit("/", 1)[1], "the method is named by the key's thumbprint"
        assert served == own[kid]
        assert method["publicKeyJwk"] == {name: value for name, value in served.items() if name != "iss"}


def test_unknown_and_foreign_key_urls_are_not_found(signed: Signed, provider: ProviderFixture) -> None:
    thumbprint = b64u_json(signed.token.split(".")[0])["kid"].rsplit("/", 1)[1]
    assert signed.client.get(f"/issuers/{signed.provider.slug}/keys/{'A' * 43}").status_code == 404
    assert signed.client.get(f"/issuers/{provider.slug}/keys/{thumbprint}").status_code == 404, "not its key"
    assert signed.client.get(f"/issuers/nobody/keys/{thumbprint}").status_code == 404


def test_providers_choose_their_algorithm_on_the_cli(issuer_cli: Any, issuer_settings: IssuerSettings) -> None:
    added = issuer_cli("providers", "add", "domyslny", "--name", "Dostawca domyślny")
    assert added.exit_code == 0, added.output
    assert "signs RS256" in added.output, "RS256 is the default"
    chosen = issuer_cli("providers", "add", "krzywa", "--name", "Dostawca ES256", "--algorithm", "ES256")
    assert chosen.exit_code == 0 and "signs ES256" in chosen.output, chosen.output
    refused = issuer_cli("providers", "add", "zly", "--name", "Dostawca HS256", "--algorithm", "HS256")
    assert refused.exit_code != 0 and "RS256, ES256, EdDSA" in refused.output, refused.output
    rotated = issuer_cli("keys", "rotate", "domyslny", "--algorithm", "EdDSA", "--delay", "0")
    assert rotated.exit_code == 0 and "(EdDSA)" in rotated.output, rotated.output
    bad_rotation = issuer_cli("keys", "rotate", "krzywa", "--algorithm", "none")
    assert bad_rotation.exit_code != 0 and "RS256, ES256, EdDSA" in bad_rotation.output

    context = IssuerContext.from_settings(issuer_settings)
    try:
        with TestClient(create_app(context=context), base_url=ISSUER_URL) as client:
            jwks = client.get("/.well-known/jwks.json").json()["keys"]
            assert client.get("/issuers/zly").status_code == 404, "a refused provider is not created"
    finally:
        context.close()
    by_issuer: dict[str, list[str]] = {}
    for key in jwks:
        by_issuer.setdefault(key["iss"].rsplit("/", 1)[1], []).append(key["alg"])
    assert sorted(by_issuer["domyslny"]) == ["EdDSA", "RS256"]
    assert by_issuer["krzywa"] == ["ES256"]


def test_credentials_signed_with_a_bare_thumbprint_kid_keep_verifying(
    signed: Signed, ctx: IssuerContext, verifier_factory: Any
) -> None:
    """Before keys had URLs, ``kid`` was the thumbprint alone; those credentials stay valid."""
    from credentials.jose import encode_compact

    thumbprint = b64u_json(signed.token.split(".")[0])["kid"].rsplit("/", 1)[1]
    old_style = encode_compact(payload_of(signed.token), ctx.keys.signer(signed.provider.slug, thumbprint, signed.alg))
    assert b64u_json(old_style.split(".")[0])["kid"] == thumbprint
    verifier = verifier_factory([signed.provider.issuer_id])
    assert verify(verifier, old_style)["verdict"] == "valid"
    assert verify(verifier, signed.token)["verdict"] == "valid"


# --------------------------------------------------------------------------------------------------------------
# JSON-LD: no undefined term


def load_context(url: str, _options: Any = None) -> dict[str, Any]:
    """Contexts from the bundled files only; any other URL fails the test (no network)."""
    if url not in CONTEXT_FILES:
        raise AssertionError(f"the document names a context that is not bundled: {url}")
    document = json.loads((CONTEXT_DIR / CONTEXT_FILES[url]).read_text("utf-8"))
    return {"contextUrl": None, "documentUrl": url, "document": document}


def terms_of(node: Any) -> set[str]:
    """Every property name in a JSON document, at any depth (``@context`` left out)."""
    if isinstance(node, list):
        return set().union(*(terms_of(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {name for name in node if name != "@context"}
    for name, value in node.items():
        if name != "@context":
            found |= terms_of(value)
    return found


def relative_types(node: Any) -> set[str]:
    """``@type`` values of an expanded document that are not absolute IRIs."""
    if isinstance(node, list):
        return set().union(*(relative_types(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set()
    for name, value in node.items():
        if name == "@type":
            found |= {item for item in (value if isinstance(value, list) else [value]) if ":" not in item}
        else:
            found |= relative_types(value)
    return found


def undefined_terms(document: dict[str, Any]) -> set[str]:
    """What JSON-LD safe mode refuses: properties that expansion drops, and types that stay relative IRIs.

    The JWT registered claims beside the credential in a VC-JWT payload are outside JSON-LD and left out.
    """
    body = {name: value for name, value in document.items() if name not in JWT_CLAIMS}
    options = {"documentLoader": load_context, "base": None}  # no base: an undefined type stays relative
    expanded = jsonld.expand(body, options)
    compacted = jsonld.compact(expanded, {"@context": body["@context"]}, options)
    return (terms_of(body) - terms_of(compacted)) | relative_types(expanded)


def test_the_undefined_term_check_finds_them() -> None:
    """The check itself: a dropped property and a relative type are found (and a clean document passes)."""
    clean = {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example/i",
        "credentialSubject": {"id": "did:example:learner", "name": "Uczestnik"},
    }
    assert undefined_terms(clean) == set()
    dirty = {**clean, "type": ["VerifiableCredential", "MadeUpCredential"], "favouriteColour": "green"}
    assert undefined_terms(dirty) == {"MadeUpCredential", "favouriteColour"}
    schema_type = {
        **clean,
        "credentialSchema": {"id": "https://schema.example/s.json", "type": "1EdTechJsonSchemaValidator2019"},
    }
    assert undefined_terms(schema_type) == {"1EdTechJsonSchemaValidator2019"}, "defined only in the extensions"
    assert undefined_terms({**schema_type, "@context": [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS]}) == set()


def test_credentials_and_status_lists_have_no_undefined_terms(signed: Signed) -> None:
    from credentials import jsonld as project_jsonld

    for token in tokens_of(signed):
        payload = payload_of(token)
        assert payload["@context"][0] == VC_CONTEXT
        assert undefined_terms(payload) == set(), payload["type"]
        assert project_jsonld.undefined_terms(payload) == [], "the project's own check agrees"
    assert payload_of(signed.token)["@context"] == [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS]


def test_bundled_open_badges_context_is_the_official_one() -> None:
    if not OFFICIAL_OB_CONTEXT.exists():
        pytest.skip(f"the official OB 3.0 context is not beside this checkout ({OFFICIAL_OB_CONTEXT})")
    bundled = json.loads((CONTEXT_DIR / CONTEXT_FILES[OB_CONTEXT]).read_text("utf-8"))
    assert bundled == json.loads(OFFICIAL_OB_CONTEXT.read_text("utf-8"))


# --------------------------------------------------------------------------------------------------------------
# independent JOSE libraries


def jwcrypto_verify(token: str, jwk: dict[str, Any], alg: str) -> dict[str, Any]:
    checked = jwcrypto_jws.JWS()
    checked.deserialize(token)
    checked.verify(jwcrypto_jwk.JWK(**jwk), alg=alg)
    payload: dict[str, Any] = json.loads(checked.payload)
    return payload


def joserfc_verify(token: str, jwk: dict[str, Any], alg: str) -> dict[str, Any]:
    from joserfc import jws as joserfc_jws
    from joserfc.jwk import JWKRegistry

    key = JWKRegistry.import_key({name: value for name, value in jwk.items() if name != "revoked"})
    found = joserfc_jws.deserialize_compact(token, key, algorithms=[alg])
    payload: dict[str, Any] = json.loads(found.payload)
    return payload


def node_jose_verify(token: str, jwk: dict[str, Any], alg: str) -> dict[str, Any]:
    node = shutil.which("node")
    installed = (INTEROP_DIR / "node_modules" / "jose" / "package.json").exists()
    if node is None or not installed:
        reason = "node `jose` is not installed: run `npm ci --prefix tests/interop` (Node.js 18 or newer)"
        if REQUIRE_INTEROP:
            pytest.fail(reason)
        pytest.skip(reason)
    run = subprocess.run(
        [node, str(INTEROP_DIR / "verify_jose.mjs")],
        input=json.dumps({"token": token, "jwk": jwk, "algorithms": [alg]}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if run.returncode != 0:
        raise ValueError(f"node jose refused the token: {run.stderr.strip()}")
    result = json.loads(run.stdout)
    assert result["header"] == b64u_json(token.split(".")[0])
    payload: dict[str, Any] = result["payload"]
    return payload


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = payload_of(token)
    claims["name"] = "Nie ten kurs"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert forged != payload
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("library", [jwcrypto_verify, joserfc_verify, node_jose_verify], ids=lambda f: f.__name__)
def test_independent_libraries_verify_what_we_sign(signed: Signed, library: Any) -> None:
    for token in tokens_of(signed):
        jwk = dereference_kid(signed.client, token)
        assert library(token, jwk, signed.alg) == payload_of(token)
        with pytest.raises(Exception):  # each library raises its own error type
            library(tampered(token), jwk, signed.alg)


# --------------------------------------------------------------------------------------------------------------
# W3C VC-API


def plain_credential(issuer_id: str, **extra: Any) -> dict[str, Any]:
    """A credential as the W3C VC 2.0 test suite posts it: the base context, a type and a subject."""
    return {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": issuer_id,
        "credentialSubject": {"id": "did:example:learner-1", "name": "Uczestnik"},
        **extra,
    }


def envelope_token(envelope: dict[str, Any]) -> str:
    assert set(envelope) == {"@context", "id", "type"}, envelope
    assert envelope["@context"] == [VC_CONTEXT] and envelope["type"] == "EnvelopedVerifiableCredential"
    prefix = "data:application/vc+jwt,"
    assert envelope["id"].startswith(prefix)
    return str(envelope["id"][len(prefix) :])


def post_issue(client: TestClient, provider: ProviderFixture, credential: Any, **body: Any) -> httpx.Response:
    return client.post("/credentials/issue", json={"credential": credential, **body}, headers=provider.headers)


def post_verify(verifier: TestClient, envelope: Any, **body: Any) -> httpx.Response:
    return verifier.post("/credentials/verify", json={"verifiableCredential": envelope, **body})


def strings_of(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings_of(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings_of(value)]
    return [node] if isinstance(node, str) else []


def test_vc_api_issue_signs_a_vc_jose_cose_credential(signed: Signed, verifier_factory: Any) -> None:
    client, provider = signed.client, signed.provider
    posted = plain_credential(provider.issuer_id)
    response = post_issue(client, provider, posted, options={"proofFormat": "unused", "anything": [1]})
    assert response.status_code == 201, response.text
    token = envelope_token(response.json())
    header_segment, payload_segment, _ = token.split(".")
    assert b64u_json(header_segment) == {
        "alg": signed.alg,
        "kid": b64u_json(header_segment)["kid"],
        "typ": "vc+jwt",
        "cty": "vc",
    }
    # The W3C suite reads the payload with JavaScript's atob: plain base64 must decode it to the same JSON.
    assert "-" not in payload_segment and "_" not in payload_segment
    plain = base64.b64decode(payload_segment + "=" * (-len(payload_segment) % 4)).decode("ascii")
    payload = json.loads(plain)
    assert payload == payload_of(token)
    assert not {"vc", "vp", "iss", "nbf", "jti", "sub"} & payload.keys(), "the credential is the whole payload"
    assert {name: payload[name] for name in posted} == posted
    assert payload["id"].startswith(f"{ISSUER_URL}/credentials/")
    assert payload["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert payload["credentialStatus"]["statusPurpose"] == "revocation"
    assert not any("?" in text for text in strings_of(payload) if "://" in text)
    assert undefined_terms(payload) == set()
    jwk = dereference_kid(client, token)
    assert jwcrypto_verify(token, jwk, signed.alg) == payload

    verifier = verifier_factory([provider.issuer_id])
    answer = post_verify(verifier, response.json(), options={"challenge": "ignored"})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["verified"] is True and result["problemDetails"] == [] and result["errors"] == []
    assert verify(verifier, json.dumps(response.json()))["verdict"] == "valid"

    # The issuer added the status entry, so the credential can be revoked like any other.
    credential_id = payload["id"].rsplit("/", 1)[1]
    revoked = client.post(f"/api/v1/credentials/{credential_id}/revoke", json={}, headers=provider.headers)
    assert revoked.status_code == 200, revoked.text
    after = post_verify(verifier_factory([provider.issuer_id]), response.json()).json()
    assert after["verified"] is False
    assert any(item["type"].endswith(":revoked") for item in after["problemDetails"]), after["problemDetails"]


def test_vc_api_issue_keeps_the_status_entries_a_credential_brings(
    issuer: TestClient, provider: ProviderFixture, verifier: TestClient, verifier_factory: Any
) -> None:
    """The issuer's own entry goes beside them, so the credential can still be revoked."""
    theirs = {"id": "https://status.example/2017/1", "type": "CredentialStatusList2017"}
    posted = {
        **plain_credential(provider.issuer_id, credentialStatus=theirs),
        "@context": [VC_CONTEXT, {"CredentialStatusList2017": "https://example.org/examples#CredentialStatusList2017"}],
    }
    response = post_issue(issuer, provider, posted)
    assert response.status_code == 201, response.text
    payload = payload_of(envelope_token(response.json()))
    first, ours = payload["credentialStatus"]
    assert first == theirs and ours["type"] == "BitstringStatusListEntry"
    assert undefined_terms(payload) == set()
    # This verifier cannot read a CredentialStatusList2017, so it cannot confirm the credential...
    result = post_verify(verifier, response.json()).json()
    assert result["verified"] is False
    assert result["problemDetails"][0]["type"] == "urn:odznaka:verification:indeterminate"
    # ...but it reads the issuer's own entry: once revoked, the credential is revoked.
    credential_id = payload["id"].rsplit("/", 1)[1]
    revoked = issuer.post(f"/api/v1/credentials/{credential_id}/revoke", json={}, headers=provider.headers)
    assert revoked.status_code == 200, revoked.text
    after = verify(verifier_factory([provider.issuer_id]), envelope_token(response.json()))  # no cached list
    assert (after["verdict"], check(after, "status")["code"]) == ("invalid", "revoked")


def open_badge(issuer_id: str) -> dict[str, Any]:
    """An OB 3.0 credential posted whole (with the OB schema declared, as the spec's examples do)."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT, OB_EXTENSIONS],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Praca zespołowa",
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Dostawca szkoleń"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner-2",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": f"{issuer_id}/achievements/teamwork",
                "type": ["Achievement"],
                "name": "Praca zespołowa",
                "description": "Współpracuje w zespole projektowym.",
                "criteria": {"narrative": "Udział w projekcie zespołowym."},
            },
        },
        "credentialSchema": [
            {
                "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
                "type": "1EdTechJsonSchemaValidator2019",
            }
        ],
    }


def test_vc_api_issue_signs_an_open_badge(issuer: TestClient, provider: ProviderFixture, verifier: TestClient) -> None:
    response = post_issue(issuer, provider, open_badge(provider.issuer_id))
    assert response.status_code == 201, response.text
    payload = payload_of(envelope_token(response.json()))
    assert undefined_terms(payload) == set()
    result = post_verify(verifier, response.json()).json()
    assert result["verified"] is True, result["problemDetails"]


def refusals(issuer_id: str) -> dict[str, tuple[Any, str]]:
    """Posted credentials the issuer must refuse with 400, and the field the answer must name."""
    badge = open_badge(issuer_id)
    del badge["credentialSubject"]["achievement"]["criteria"]
    return {
        "another issuer": (plain_credential("https://other.example/issuer"), "credential.issuer"),
        "another issuer object": (plain_credential({"id": "https://other.example/issuer"}), "credential.issuer"),  # type: ignore[arg-type]
        "open badge with a status": (
            {
                **open_badge(issuer_id),
                "credentialStatus": {"id": "https://x.example/s#1", "type": "1EdTechRevocationList"},
            },
            "credential.credentialStatus",
        ),
        "undefined property": (plain_credential(issuer_id, favouriteColour="green"), "credential"),
        "undefined type": (
            {**plain_credential(issuer_id), "type": ["VerifiableCredential", "MadeUpCredential"]},
            "credential",
        ),
        "context not bundled": (
            {**plain_credential(issuer_id), "@context": [VC_CONTEXT, "https://contexts.example/v1"]},
            "credential.@context",
        ),
        "not a VerifiableCredential": ({**plain_credential(issuer_id), "type": ["Credential"]}, "credential"),
        "no subject": (
            {name: value for name, value in plain_credential(issuer_id).items() if name != "credentialSubject"},
            "credential",
        ),
        "invalid open badge": (badge, "credential"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "another issuer",
        "another issuer object",
        "open badge with a status",
        "undefined property",
        "undefined type",
        "context not bundled",
        "not a VerifiableCredential",
        "no subject",
        "invalid open badge",
    ],
)
def test_vc_api_issue_refuses_what_it_cannot_sign(issuer: TestClient, provider: ProviderFixture, case: str) -> None:
    credential, field = refusals(provider.issuer_id)[case]
    before = issuer.get("/api/v1/credentials", headers=provider.headers).json()["items"]
    response = post_issue(issuer, provider, credential)
    assert response.status_code == 400, response.text
    assert field in json.dumps(response.json()), response.json()
    assert issuer.get("/api/v1/credentials", headers=provider.headers).json()["items"] == before, "nothing stored"


def test_vc_api_issue_needs_an_api_key_with_the_issue_scope(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    posted = {"credential": plain_credential(provider.issuer_id)}
    assert issuer.post("/credentials/issue", json=posted).status_code == 401
    reader = add_provider(ctx, "tylko-odwolania", scopes=["revoke"])
    own = {"credential": plain_credential(reader.issuer_id)}
    assert issuer.post("/credentials/issue", json=own, headers=reader.headers).status_code == 403
    assert issuer.post("/credentials/issue", json={"options": {}}, headers=provider.headers).status_code == 422


ENVELOPE = {"@context": [VC_CONTEXT], "type": "EnvelopedVerifiableCredential"}


@pytest.mark.parametrize(
    "change",
    [
        {"@context": []},
        {"@context": "https://www.w3.org/ns/credentials/examples/v2"},
        {"@context": ["https://www.w3.org/ns/credentials/examples/v2"]},
        {"type": None},
        {"type": "VerifiableCredential"},
        {"id": "TOKEN"},
        {"id": "data:text/plain,TOKEN"},
        {"id": None},
    ],
    ids=lambda change: json.dumps(change),
)
def test_vc_api_verify_refuses_malformed_envelopes(
    verifier: TestClient, issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], change: Any
) -> None:
    token = issue(issuer, provider, achievement)["jwt"]
    envelope = {**ENVELOPE, "id": f"data:application/vc+jwt,{token}"}
    assert post_verify(verifier, envelope).json()["verified"] is True
    for name, value in change.items():
        if value is None:
            del envelope[name]
        else:
            envelope[name] = value.replace("TOKEN", token) if isinstance(value, str) else value
    response = post_verify(verifier, envelope)
    assert response.status_code == 400, response.text
    result = response.json()
    assert result["verified"] is False and result["problemDetails"][0]["type"].endswith("PARSING_ERROR")


@pytest.mark.parametrize(
    "body", [{}, {"verifiableCredential": "not an object"}, {"verifiableCredential": {}, "options": []}, []]
)
def test_vc_api_verify_refuses_malformed_requests(verifier: TestClient, body: Any) -> None:
    response = verifier.post("/credentials/verify", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["verified"] is False
    assert (
        verifier.post("/credentials/verify", content=b"{", headers={"content-type": "application/json"}).status_code
        == 400
    )


def test_vc_api_verify_answers_invalid_and_indeterminate_as_not_verified(
    verifier: TestClient,
    verifier_factory: Any,
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    token = issue(issuer, provider, achievement)["jwt"]
    accepted = post_verify(verifier, {**ENVELOPE, "id": f"data:application/jwt,{token}"}).json()
    assert accepted["verified"] is True, "data:application/jwt is an envelope too"

    forged = post_verify(verifier, {**ENVELOPE, "id": f"data:application/vc+jwt,{tampered(token)}"})
    assert forged.status_code == 200
    result = forged.json()
    assert result["verified"] is False
    assert [item["type"] for item in result["problemDetails"]] == [
        "https://www.w3.org/TR/vc-data-model#CRYPTOGRAPHIC_SECURITY_ERROR"
    ]

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("issuer down", request=request)

    offline = verifier_factory([provider.issuer_id], transport=httpx.MockTransport(unreachable))
    unknown = post_verify(offline, {**ENVELOPE, "id": f"data:application/vc+jwt,{token}"}).json()
    assert verify(offline, token)["verdict"] == "indeterminate"
    assert unknown["verified"] is False
    assert unknown["problemDetails"][0]["type"] == "urn:odznaka:verification:indeterminate"

    untrusted = verifier_factory(["https://someone-else.example/issuer"])
    assert post_verify(untrusted, {**ENVELOPE, "id": f"data:application/vc+jwt,{token}"}).json()["verified"] is False


def test_vc_api_routes_are_in_the_openapi_documents(issuer: TestClient, verifier: TestClient) -> None:
    assert "post" in issuer.get("/openapi.json").json()["paths"]["/credentials/issue"]
    assert "post" in verifier.get("/openapi.json").json()["paths"]["/credentials/verify"]


# --------------------------------------------------------------------------------------------------------------
# the VC Data Model 2.0 rules a credential that is not an Open Badge is held to


DIGEST = "sha384-MzNNbQTWCSUSi0bbz7dbua+RcENv7C6FvlmYJ1Y+I727HsPOHdzwELMYO9Mz68M26"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"@context": ["https://www.w3.org/ns/credentials/examples/v2"]}, "@context"),
        ({"@context": VC_CONTEXT}, "@context"),
        ({"type": ["ExampleCredential"]}, "type"),
        ({"id": "not a url"}, "id"),
        ({"issuer": "fake-issuer"}, "issuer"),
        ({"issuer": {"id": None}}, "issuer"),
        ({"credentialSubject": {}}, "credentialSubject"),
        ({"credentialSubject": [{"id": "did:example:1"}, {}]}, "credentialSubject"),
        ({"validFrom": "Sat 25 Feb 2023 07:16:31 PM CST"}, "validFrom"),
        ({"validFrom": "2026-01-02T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}, "validUntil"),
        ({"credentialStatus": {"id": "https://status.example/1"}}, "credentialStatus"),
        ({"credentialStatus": {"type": "BitstringStatusListEntry"}}, None),
        ({"credentialStatus": {"id": "not a url", "type": "BitstringStatusListEntry"}}, "credentialStatus"),
        ({"evidence": {"id": "evidence 1", "type": "Evidence"}}, "evidence"),
        ({"credentialSubject": {"id": "learner", "name": "Uczestnik"}}, "credentialSubject"),
        ({"credentialSchema": {"type": "JsonSchema"}}, "credentialSchema"),
        ({"credentialSchema": {"id": "https://schema.example/1", "type": "JsonSchema"}}, None),
        ({"evidence": {}}, "evidence"),
        ({"termsOfUse": {}}, "termsOfUse"),
        ({"refreshService": {"id": "https://refresh.example/1"}}, "refreshService"),
        ({"relatedResource": [{"id": "https://a.example/1", "digestSRI": DIGEST}]}, None),
        ({"relatedResource": ["https://a.example/1"]}, "relatedResource"),
        ({"relatedResource": [{"digestSRI": DIGEST}]}, "relatedResource"),
        ({"relatedResource": [{"id": "https://a.example/1", "digestSRI": DIGEST}] * 2}, "relatedResource"),
        ({"relatedResource": [{"id": "https://a.example/1"}]}, "relatedResource"),
    ],
    ids=lambda value: json.dumps(value)[:60] if isinstance(value, dict) else str(value),
)
def test_vc_data_model_rules(change: dict[str, Any], problem: str | None) -> None:
    from credentials.vcdm import data_model_problems

    found = data_model_problems({**plain_credential("https://issuer.example/i"), **change})
    assert [item.split(":")[0] for item in found] == ([problem] if problem else [])
