"""The issued VC-JWT, checked independently of the project's own code: header and claim mapping (OB 3.0 §8.2),
the official OB 3.0 JSON Schema via the python ``jsonschema`` library, the signature via PyJWT against the
published JWKS, the hashed e-mail, and the QR codes."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from jsonschema import Draft201909Validator
from PIL import Image, ImageDraw

from credentials.short_ids import compact
from issuer.app import create_app
from issuer.context import IssuerContext
from issuer.errors import ConfigurationError
from issuer.qr import qr_png, qr_version
from issuer.settings import IssuerSettings
from tests.conftest import (
    ISSUER_URL,
    PLAIN_ACHIEVEMENT,
    TEST_ONLY_KDF_ROUNDS,
    TEST_ONLY_PASSPHRASE,
    TEST_ONLY_SECRET_KEY,
    VERIFIER_URL,
    ProviderFixture,
    add_provider,
    issue,
)

STANDARDS = Path(__file__).resolve().parents[2] / "shared" / "standards" / "ob3"
SCHEMA_FILE = STANDARDS / "ob_v3p0_achievementcredential_schema.json"

MICRO_ACHIEVEMENT = {
    "name": "Analiza danych w Power BI",
    "description": "Przygotowuje i wizualizuje dane biznesowe.",
    "criteria": {"narrative": "Ukończenie kursu i projekt końcowy."},
    "inLanguage": "pl",
    "tag": ["dane"],
    "microCredential": {
        "learningOutcomes": ["Importuje i czyści dane", "Buduje raport"],
        "ects": 1,
        "workloadHours": 25,
        "eqfLevel": 5,
        "prkLevel": 5,
        "assessment": "Projekt końcowy",
        "participation": "online",
        "qualityAssurance": "Wewnętrzny system jakości",
        "supervision": "Egzamin nadzorowany online",
        "stackability": "Część ścieżki Analityk danych",
    },
}


def b64url_json(segment: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return value


def split(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    header, payload, signature = token.split(".")
    return b64url_json(header), b64url_json(payload), base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))


def path_of(url: str) -> str:
    assert url.startswith(ISSUER_URL + "/"), url
    return url[len(ISSUER_URL) :]


def rfc3339_seconds(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


@pytest.fixture(scope="module")
def validator() -> Draft201909Validator:
    if not SCHEMA_FILE.is_file():
        pytest.skip(f"the official OB 3.0 schema is not at {SCHEMA_FILE} (the shared standards folder is absent)")
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema, format_checker=Draft201909Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft201909Validator, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def jwks_of(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    keys: list[dict[str, Any]] = response.json()["keys"]
    return keys


def pyjwt_decode(client: TestClient, token: str, algorithm: str, issuer_id: str, **options: Any) -> dict[str, Any]:
    """Verify ``token`` with PyJWT using only the JWK that the issuer publishes under the token's kid."""
    kid = jwt.get_unverified_header(token)["kid"]
    [jwk] = [key for key in jwks_of(client) if key["kid"] == kid]
    assert jwk["iss"] == issuer_id
    key = jwt.PyJWK(jwk)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        issuer=issuer_id,
        options={"verify_aud": False, "require": ["iss", "jti", "sub", "nbf"], **options},
    )
    return claims


# --------------------------------------------------------------------------------------------------------------
# Header and claims
# --------------------------------------------------------------------------------------------------------------


def test_header_is_exactly_alg_kid_typ(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    header, _, signature = split(issued["jwt"])
    assert set(header) == {"alg", "kid", "typ"}
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "JWT"
    [jwk] = [key for key in jwks_of(issuer) if key["iss"] == provider.issuer_id]
    assert header["kid"] == jwk["kid"]
    assert len(signature) == 64  # Ed25519
    # Compact serialization: unpadded base64url segments only.
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", issued["jwt"])


def test_kid_is_the_keys_url_ending_in_its_rfc7638_thumbprint(issuer: TestClient, provider: ProviderFixture) -> None:
    for jwk in jwks_of(issuer):
        required = {name: jwk[name] for name in ("crv", "kty", "x")}
        canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode()
        expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
        assert jwk["kid"] == f"{provider.issuer_id}/keys/{expected}"


def test_payload_claims_map_to_credential_fields(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    before = int(datetime.now(UTC).timestamp())
    issued = issue(
        issuer,
        provider,
        achievement,
        recipient={"name": "Anna Nowak", "email": "anna@example.org", "id": "did:example:anna"},
    )
    after = int(datetime.now(UTC).timestamp())
    _, claims, _ = split(issued["jwt"])

    assert claims["iss"] == claims["issuer"]["id"] == provider.issuer_id
    assert claims["jti"] == claims["id"] == issued["id"]
    assert claims["sub"] == claims["credentialSubject"]["id"] == "did:example:anna"
    assert isinstance(claims["nbf"], int) and not isinstance(claims["nbf"], bool)
    assert claims["nbf"] == rfc3339_seconds(claims["validFrom"])
    assert before - 1 <= claims["nbf"] <= after
    assert "exp" not in claims and "validUntil" not in claims
    assert "vc" not in claims, "OB 3.0 on VC 2.0: the credential is the payload, not inside a vc claim"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", claims["validFrom"])


def test_random_subject_id_when_learner_has_none(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    first = split(issue(issuer, provider, achievement)["jwt"])[1]
    second = split(issue(issuer, provider, achievement, allowDuplicate=True)["jwt"])[1]
    for claims in (first, second):
        assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", claims["sub"])
        assert claims["sub"] == claims["credentialSubject"]["id"]
    assert first["sub"] != second["sub"]


def test_valid_from_and_until_map_to_nbf_and_exp(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(
        issuer, provider, achievement, validFrom="2030-01-01T10:00:00+02:00", validUntil="2032-06-30T23:59:59Z"
    )
    _, claims, _ = split(issued["jwt"])
    assert claims["validFrom"] == "2030-01-01T08:00:00Z"
    assert claims["validUntil"] == "2032-06-30T23:59:59Z"
    assert claims["nbf"] == 1893484800
    assert claims["exp"] == 1972252799
    assert claims["exp"] == rfc3339_seconds(claims["validUntil"])


def test_credential_document_shape(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    issued = issue(issuer, provider, achievement, narrative="Zaliczył z wyróżnieniem.")
    _, claims, _ = split(issued["jwt"])
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in claims["@context"]
    assert isinstance(claims["type"], list)
    assert "VerifiableCredential" in claims["type"]
    assert {"OpenBadgeCredential", "AchievementCredential"} & set(claims["type"])
    assert claims["issuer"]["type"] == ["Profile"]
    assert claims["issuer"]["name"] == "Wyższa Szkoła Ekonomii i Innowacji"
    subject = claims["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"] == achievement
    assert subject["narrative"] == "Zaliczył z wyróżnieniem."
    names = [entry for entry in subject["identifier"] if entry["identityType"] == "name"]
    assert names == [{"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": "Anna Nowak"}]
    assert claims["credentialSchema"] == [
        {
            "id": "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
            "type": "1EdTechJsonSchemaValidator2019",
        }
    ]
    status = claims.get("credentialStatus")
    assert isinstance(status, dict), "PRODUCT §3.4: each credential carries one credentialStatus object"
    assert status["id"] and status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert re.fullmatch(r"\d+", status["statusListIndex"])


# --------------------------------------------------------------------------------------------------------------
# Learner privacy: hashed e-mail
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["anna@example.org", "Anna.Nowak@Example.ORG", "ąę+tag@przykład.pl"])
def test_email_is_salted_sha256_and_never_raw(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], email: str
) -> None:
    issued = issue(issuer, provider, achievement, recipient={"name": "Anna Nowak", "email": email})
    header, claims, _ = split(issued["jwt"])
    [entry] = [entry for entry in claims["credentialSubject"]["identifier"] if entry["identityType"] == "emailAddress"]
    assert entry["type"] == "IdentityObject"
    assert entry["hashed"] is True
    salt = entry["salt"]
    assert isinstance(salt, str) and len(salt) >= 16
    expected = "sha256$" + hashlib.sha256((email.lower() + salt).encode("utf-8")).hexdigest()
    assert entry["identityHash"] == expected

    decoded = json.dumps(header, ensure_ascii=False) + json.dumps(claims, ensure_ascii=False)
    for form in {email, email.lower(), email.split("@")[0], email.split("@")[0].lower()}:
        assert form not in decoded
        assert form not in issued["jwt"]
    as_json = issuer.get(path_of(issued["id"]), headers={"Accept": "application/json"})
    assert email.lower() not in as_json.text.lower()
    page = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html"})
    assert email.lower() not in page.text.lower()


def test_salt_is_per_credential(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    hashes = []
    for _ in range(3):
        claims = split(issue(issuer, provider, achievement, allowDuplicate=True)["jwt"])[1]
        [entry] = [e for e in claims["credentialSubject"]["identifier"] if e["identityType"] == "emailAddress"]
        hashes.append((entry["salt"], entry["identityHash"]))
    assert len({salt for salt, _ in hashes}) == 3
    assert len({digest for _, digest in hashes}) == 3


# --------------------------------------------------------------------------------------------------------------
# The official OB 3.0 JSON Schema (python jsonschema, independent of the project's jsonschema_rs)
# --------------------------------------------------------------------------------------------------------------


def test_schema_validator_catches_problems(validator: Draft201909Validator) -> None:
    """The validator used below is not vacuous: it rejects a broken credential and a bad date-time."""
    assert schema_errors(validator, {"id": "urn:x"})
    minimal = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.org", "type": ["Profile"]},
        "validFrom": "2024-01-01",
        "name": "x",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "urn:x", "achievement": {}},
    }
    errors = " ".join(schema_errors(validator, minimal))
    assert "validFrom" in errors and "date-time" in errors


@pytest.mark.parametrize("kind", ["plain", "full", "micro"])
def test_issued_payload_validates_against_official_schema(
    validator: Draft201909Validator,
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    kind: str,
) -> None:
    extra: dict[str, Any] = {}
    target = achievement
    if kind == "full":
        extra = {
            "narrative": "Projekt: dashboard sprzedaży.",
            "evidence": [{"id": "https://wsei.example/projekty/42", "name": "Projekt końcowy"}],
            "result": [{"value": "5"}],
            "validFrom": "2025-03-01T09:00:00+01:00",
            "validUntil": "2030-03-01T09:00:00+01:00",
            "recipient": {"name": "Jan Kowalski", "email": "jan@example.org", "id": "did:example:jan"},
        }
    elif kind == "micro":
        response = issuer.post("/api/v1/achievements", json=MICRO_ACHIEVEMENT, headers=provider.headers)
        assert response.status_code == 201, response.text
        target = response.json()
    issued = issue(issuer, provider, target, **extra)
    _, claims, _ = split(issued["jwt"])
    assert schema_errors(validator, claims) == []
    # The JSON served at the credential URL is the same document, and validates too.
    served = issuer.get(path_of(issued["id"]), headers={"Accept": "application/json"}).json()
    assert served == claims
    assert schema_errors(validator, served) == []


def test_micro_credential_fields_in_payload(
    validator: Draft201909Validator, issuer: TestClient, provider: ProviderFixture
) -> None:
    target = issuer.post("/api/v1/achievements", json=MICRO_ACHIEVEMENT, headers=provider.headers).json()
    _, claims, _ = split(issue(issuer, provider, target)["jwt"])
    achievement = claims["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["creditsAvailable"] == 1
    types = [entry["targetType"] for entry in achievement["alignment"]]
    for required in (
        "ext:LearningOutcome",
        "ext:EQF",
        "ext:PRK",
        "ext:NotionalWorkload",
        "ext:AssessmentType",
        "ext:ParticipationForm",
        "ext:QualityAssurance",
        "ext:Supervision",
        "ext:Stackability",
    ):
        assert required in types, required
    assert claims["issuer"]["address"]["addressCountry"] == "PL"
    assert claims["awardedDate"] and claims["name"] == MICRO_ACHIEVEMENT["name"]


# --------------------------------------------------------------------------------------------------------------
# Independent signature verification with PyJWT against the published JWKS
# --------------------------------------------------------------------------------------------------------------


def test_pyjwt_verifies_eddsa_token(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    issued = issue(issuer, provider, achievement, validUntil="2099-01-01T00:00:00Z")
    claims = pyjwt_decode(issuer, issued["jwt"], "EdDSA", provider.issuer_id)
    assert claims == split(issued["jwt"])[1]
    assert claims["exp"] == 4070908800


def test_pyjwt_rejects_tampered_token_and_foreign_key(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    token = issue(issuer, provider, achievement)["jwt"]
    header, payload, signature = token.split(".")
    claims = b64url_json(payload)
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_decode(issuer, f"{header}.{forged_payload}.{signature}", "EdDSA", provider.issuer_id)

    add_provider(ctx, "obcy")
    [foreign] = [key for key in jwks_of(issuer) if key["iss"].endswith("/obcy")]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, jwt.PyJWK(foreign), algorithms=["EdDSA"], options={"verify_aud": False})
    with pytest.raises(jwt.InvalidAlgorithmError):
        pyjwt_decode(issuer, token, "ES256", provider.issuer_id)


def test_future_valid_from_is_not_yet_valid_for_pyjwt(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    token = issue(issuer, provider, achievement, validFrom="2090-01-01T00:00:00Z")["jwt"]
    with pytest.raises(jwt.ImmatureSignatureError):
        pyjwt_decode(issuer, token, "EdDSA", provider.issuer_id)
    claims = pyjwt_decode(issuer, token, "EdDSA", provider.issuer_id, verify_nbf=False)
    assert claims["nbf"] == 3786912000


def test_largest_accepted_request_stays_verifiable(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    from credentials.jose import MAX_TOKEN_BYTES

    body = {
        "achievement": achievement["id"],
        "recipient": {"name": "Anna Nowak", "email": "anna@example.org"},
        "narrative": "Zażółć gęślą jaźń. " * 520,
    }
    assert len(body["narrative"]) <= 10_000
    response = issuer.post("/api/v1/credentials", json=body, headers=provider.headers)
    if response.status_code == 422:
        assert "narrative" in [entry["field"] for entry in response.json()["error"]["fields"]]
        return
    assert response.status_code == 201, response.text
    token = response.json()["jwt"]
    assert len(token) <= MAX_TOKEN_BYTES
    report = verifier.post("/api/v1/verify", json={"credential": token}).json()
    assert report["verdict"] == "valid", report["checks"][0]


def test_token_from_every_url_is_the_signed_one(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    downloads = [
        issuer.get(path_of(issued["links"]["jwt"])).text,
        issuer.get(path_of(issued["id"]), headers={"Accept": "application/vc+jwt"}).text,
        issuer.get(path_of(issued["links"]["self"]), headers=provider.headers).json()["jwt"],
    ]
    for token in downloads:
        assert token == issued["jwt"]
        pyjwt_decode(issuer, token, "EdDSA", provider.issuer_id)


@pytest.fixture
def es256(tmp_path: Path, database_url: str) -> Iterator[tuple[TestClient, ProviderFixture]]:
    settings = IssuerSettings(
        data_dir=tmp_path / "es256",
        database_url=database_url,
        public_url=ISSUER_URL,
        verifier_url=VERIFIER_URL,
        key_passphrase=TEST_ONLY_PASSPHRASE,
        secret_key=TEST_ONLY_SECRET_KEY,
        key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
        key_algorithm="ES256",
    )
    context = IssuerContext.from_settings(settings)
    provider = add_provider(context, "ecdsa", name="Dostawca ES256")
    with TestClient(create_app(context=context), base_url=ISSUER_URL) as client:
        yield client, provider
    context.close()


def test_es256_provider_verifies_with_pyjwt(
    validator: Draft201909Validator, es256: tuple[TestClient, ProviderFixture]
) -> None:
    client, provider = es256
    created = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=provider.headers)
    assert created.status_code == 201, created.text
    issued = issue(client, provider, created.json())
    header, claims, signature = split(issued["jwt"])
    assert header == {"alg": "ES256", "kid": header["kid"], "typ": "JWT"}
    assert len(signature) == 64, "JWS ECDSA signatures are raw r||s, not DER"
    [jwk] = [key for key in jwks_of(client) if key["kid"] == header["kid"]]
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256" and jwk["use"] == "sig"
    assert "d" not in jwk
    assert pyjwt_decode(client, issued["jwt"], "ES256", provider.issuer_id) == claims
    with pytest.raises(jwt.InvalidAlgorithmError):
        pyjwt_decode(client, issued["jwt"], "EdDSA", provider.issuer_id)
    assert schema_errors(validator, claims) == []
    did = client.get(f"/issuers/{provider.slug}/did.json").json()
    assert [method["publicKeyJwk"]["kid"] for method in did["verificationMethod"]] == [header["kid"]]


def test_unknown_key_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="RS256, ES256, EdDSA"):
        IssuerSettings(key_algorithm="HS256", key_passphrase=TEST_ONLY_PASSPHRASE)


# --------------------------------------------------------------------------------------------------------------
# QR codes
# --------------------------------------------------------------------------------------------------------------


def decode_png(png: bytes) -> zxingcpp.Result:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return results[0]


def test_png_qr_decodes_to_the_short_link_that_leads_to_the_verdict(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    response = issuer.get(path_of(issued["links"]["qr_png"]))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    result = decode_png(response.content)
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    assert result.text == issued["links"]["short"] == f"{ISSUER_URL}/q/{compact(path_of(issued['id'])[13:])}"
    extra = result.extra if isinstance(result.extra, dict) else json.loads(result.extra or "{}")
    assert int(extra.get("Version", qr_version(result.text))) <= 5
    assert extra.get("ECLevel", "Q") in ("M", "Q", "H")
    followed = issuer.get(path_of(result.text), follow_redirects=False)
    assert followed.status_code == 303
    assert followed.headers["location"] == issued["links"]["verify"]


def test_short_links_of_no_credential_are_not_found(issuer: TestClient) -> None:
    for reference in ("AAAAAAAAAAAAAAAAAAAAAA", "not-a-reference", "A" * 23):
        assert issuer.get(f"/q/{reference}", follow_redirects=False).status_code == 404


def rasterize_svg_paths(svg: bytes, scale: float = 10.0) -> Image.Image:
    """Draw the rectangles of a ``qrcode`` SvgPathImage (``M x,y H x2 V y2 H x z``) so that it can be decoded."""
    root = ET.fromstring(svg)
    width, height = (float(value) for value in root.attrib["viewBox"].split()[2:])
    image = Image.new("L", (int(width * scale) + 1, int(height * scale) + 1), 255)
    draw = ImageDraw.Draw(image)
    paths = [element for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "path"]
    assert paths, "the SVG QR code is drawn with a path"
    for element in paths:
        for x, y, x2, y2 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", element.attrib["d"]):
            draw.rectangle([float(x) * scale, float(y) * scale, float(x2) * scale - 1, float(y2) * scale - 1], fill=0)
    return image


def test_svg_qr_is_svg_with_path_and_decodes(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    response = issuer.get(path_of(issued["links"]["qr_svg"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert any(element.tag == "{http://www.w3.org/2000/svg}path" for element in root.iter())
    results = zxingcpp.read_barcodes(rasterize_svg_paths(response.content), formats=zxingcpp.BarcodeFormat.QRCode)
    assert [result.text for result in results] == [issued["links"]["short"]]


def test_qr_version_stays_within_5_at_the_url_limit(tmp_path: Path, database_url: str) -> None:
    """The longest public URL the issuer accepts still gives a version ≤ 5 code; one byte more is refused."""
    uuid = "ffffffff-ffff-ffff-ffff-ffffffffffff"
    fixed = len("/q/") + 22
    longest = "https://o.test/" + "a" * (84 - fixed - len("https://o.test/"))

    def settings(public_url: str) -> IssuerSettings:
        return IssuerSettings(
            data_dir=tmp_path / "qr",
            database_url=database_url,
            public_url=public_url,
            verifier_url=VERIFIER_URL,
            key_passphrase=TEST_ONLY_PASSPHRASE,
            secret_key=TEST_ONLY_SECRET_KEY,
            key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
        )

    context = IssuerContext.from_settings(settings(longest))
    try:
        link = context.urls.short(uuid)
        assert len(link.encode()) == 84
        assert qr_version(link) == 5
        result = decode_png(qr_png(link))
        assert result.text == link
    finally:
        context.close()
    with pytest.raises(ConfigurationError, match="QR"):
        IssuerContext.from_settings(settings(longest + "b"))


def test_a_typical_short_link_fits_version_5_at_error_correction_q() -> None:
    link = "https://odznaka.lublin.eu/q/" + compact("ffffffff-ffff-ffff-ffff-ffffffffffff")
    result = decode_png(qr_png(link))
    extra = result.extra if isinstance(result.extra, dict) else json.loads(result.extra or "{}")
    assert result.text == link
    assert (int(extra["Version"]), extra["ECLevel"]) == (qr_version(link), "Q")
    assert qr_version(link) <= 5
