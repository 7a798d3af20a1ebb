"""The issuer's HTTP surface: authentication and scopes, provider isolation, achievements (plain and EU
micro-credential), issuance (shape, idempotency, duplicates, validation) and the public documents."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from credentials.encoding import b64url_decode
from credentials.short_ids import compact
from issuer.api_keys import create_api_key
from issuer.context import IssuerContext
from issuer.models import Credential
from tests.conftest import ISSUER_URL, PLAIN_ACHIEVEMENT, VERIFIER_URL, ProviderFixture, add_provider, issue

RECIPIENT = {"name": "Anna Nowak", "email": "anna@example.org"}

MICRO_CREDENTIAL = {
    "learningOutcomes": ["Importuje i czyści dane", "Buduje raport w Power BI"],
    "ects": 2,
    "eqfLevel": 5,
    "prkLevel": 5,
    "assessment": "Projekt końcowy oceniany przez trenera",
    "participation": "blended",
    "qualityAssurance": "Wewnętrzny system zapewniania jakości",
}

MICRO_ACHIEVEMENT = {
    "name": "Analiza danych w Power BI",
    "description": "Przygotowuje i wizualizuje dane biznesowe.",
    "criteria": {"narrative": "Ukończenie kursu i projekt końcowy."},
    "microCredential": MICRO_CREDENTIAL,
}


def path_of(url: str) -> str:
    assert url.startswith(ISSUER_URL + "/"), url
    return url[len(ISSUER_URL) :]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def payload_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = json.loads(b64url_decode(token.split(".")[1], "payload"))
    return claims


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def field_names(error: dict[str, Any]) -> list[str]:
    return [entry["field"] for entry in error.get("fields", [])]


def credential_body(achievement: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"achievement": achievement["id"], "recipient": dict(RECIPIENT)}
    body.update(extra)
    return body


@pytest.fixture
def other(ctx: IssuerContext) -> ProviderFixture:
    """A second provider on the same host."""
    return add_provider(ctx, "inny", name="Inny Dostawca", country="PL", region="mazowieckie")


# --------------------------------------------------------------------------------------------------------------
# Authentication and scopes
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/achievements"),
        ("post", "/api/v1/achievements"),
        ("get", "/api/v1/credentials"),
        ("post", "/api/v1/credentials"),
        ("get", "/api/v1/credentials/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_missing_api_key_is_401_with_bearer_challenge(
    issuer: TestClient, provider: ProviderFixture, method: str, path: str
) -> None:
    response = issuer.request(method, path, json=PLAIN_ACHIEVEMENT if method == "post" else None)
    error = error_of(response, 401, "not_authenticated")
    assert "Bearer" in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer odz_this-key-was-never-issued",
        "Bearer ",
        "Bearer",
        "Token {key}",
        "Basic {key}",
        "{key}",
    ],
)
def test_invalid_api_key_is_401(issuer: TestClient, provider: ProviderFixture, authorization: str) -> None:
    response = issuer.get("/api/v1/credentials", headers={"Authorization": authorization.format(key=provider.api_key)})
    error_of(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_bearer_scheme_is_case_insensitive(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.get("/api/v1/credentials", headers={"Authorization": f"bearer {provider.api_key}"})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


def test_revoked_api_key_is_401(issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture) -> None:
    from issuer.models import ApiKey

    assert issuer.get("/api/v1/credentials", headers=provider.headers).status_code == 200
    with ctx.db.write() as session:
        for key in session.exec(select(ApiKey)).all():
            key.revoked_at = datetime.now(UTC)
            session.add(key)
    response = issuer.get("/api/v1/credentials", headers=provider.headers)
    error_of(response, 401, "not_authenticated")


def test_issue_needs_issue_scope(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    key = create_api_key(ctx, provider.slug, ["revoke", "manage"])
    response = issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=bearer(key))
    error = error_of(response, 403, "permission_denied")
    assert error["scope"] == "issue"
    assert "'issue'" in error["message"]
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


def test_create_achievement_needs_manage_scope(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    key = create_api_key(ctx, provider.slug, ["issue"])
    response = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=bearer(key))
    error = error_of(response, 403, "permission_denied")
    assert error["scope"] == "manage"
    listed = issuer.get("/api/v1/achievements", headers=provider.headers)
    assert listed.json() == {"items": []}


def test_issue_scope_alone_can_issue(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    key = create_api_key(ctx, provider.slug, ["issue"])
    response = issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=bearer(key))
    assert response.status_code == 201, response.text


# --------------------------------------------------------------------------------------------------------------
# Provider isolation
# --------------------------------------------------------------------------------------------------------------


def test_other_provider_cannot_read_credential(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    own = issuer.get(path_of(issued["links"]["self"]), headers=provider.headers)
    assert own.status_code == 200 and own.json()["id"] == issued["id"]

    response = issuer.get(path_of(issued["links"]["self"]), headers=other.headers)
    error = error_of(response, 404, "not_found")
    assert issued["jwt"] not in response.text and "credential" not in error

    listed = issuer.get("/api/v1/credentials", headers=other.headers)
    assert listed.status_code == 200 and listed.json()["items"] == []
    own_list = issuer.get("/api/v1/credentials", headers=provider.headers).json()["items"]
    assert [item["id"] for item in own_list] == [issued["id"]]


def test_other_provider_cannot_read_achievement(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture, achievement: dict[str, Any]
) -> None:
    uuid = achievement["id"].rsplit("/", 1)[-1]
    own = issuer.get(f"/api/v1/achievements/{uuid}", headers=provider.headers)
    assert own.status_code == 200 and own.json() == achievement

    error_of(issuer.get(f"/api/v1/achievements/{uuid}", headers=other.headers), 404, "not_found")
    assert issuer.get("/api/v1/achievements", headers=other.headers).json() == {"items": []}
    assert issuer.get("/api/v1/achievements", headers=provider.headers).json() == {"items": [achievement]}


@pytest.mark.parametrize("reference", ["url", "uuid"])
def test_other_provider_cannot_issue_with_foreign_achievement(
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    other: ProviderFixture,
    achievement: dict[str, Any],
    reference: str,
) -> None:
    value = achievement["id"] if reference == "url" else achievement["id"].rsplit("/", 1)[-1]
    body = {"achievement": value, "recipient": RECIPIENT}
    response = issuer.post("/api/v1/credentials", json=body, headers=other.headers)
    error = error_of(response, 404, "not_found")
    assert field_names(error) == ["achievement"]
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


def test_other_provider_cannot_revoke_credential(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    response = issuer.post(path_of(issued["links"]["self"]) + "/revoke", json={"reason": "x"}, headers=other.headers)
    error_of(response, 404, "not_found")
    detail = issuer.get(path_of(issued["links"]["self"]), headers=provider.headers).json()
    assert detail["status"] == {"revoked": False}


def test_idempotency_keys_are_per_provider(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture, achievement: dict[str, Any]
) -> None:
    theirs = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=other.headers).json()
    first = issuer.post(
        "/api/v1/credentials", json=credential_body(achievement), headers={**provider.headers, "Idempotency-Key": "k-1"}
    )
    second = issuer.post(
        "/api/v1/credentials", json=credential_body(theirs), headers={**other.headers, "Idempotency-Key": "k-1"}
    )
    assert first.status_code == 201 and second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert payload_of(second.json()["jwt"])["iss"] == other.issuer_id


# --------------------------------------------------------------------------------------------------------------
# Achievements
# --------------------------------------------------------------------------------------------------------------


def test_plain_achievement_keeps_ob_fields(issuer: TestClient, provider: ProviderFixture) -> None:
    body = {
        **PLAIN_ACHIEVEMENT,
        "alignment": [
            {
                "targetName": "Programowanie w Pythonie",
                "targetUrl": "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d",
                "targetType": "ext:ESCO",
                "targetFramework": "ESCO",
            }
        ],
        "creditsAvailable": 1.5,
        "fieldOfStudy": "Informatyka",
        "humanCode": "PY-101",
        "image": "https://wsei.example/badges/python.png",
        "inLanguage": "pl",
        "tag": ["python", "programowanie"],
        "version": "1.0",
    }
    response = issuer.post("/api/v1/achievements", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    document = response.json()
    assert document["id"].startswith(f"{ISSUER_URL}/achievements/")
    assert document["type"] == ["Achievement"]
    for field in (
        "name",
        "description",
        "criteria",
        "achievementType",
        "creditsAvailable",
        "fieldOfStudy",
        "humanCode",
        "inLanguage",
        "tag",
        "version",
    ):
        assert document[field] == body[field], field
    assert document["image"] == {"id": body["image"], "type": "Image"}
    assert document["alignment"] == [{"type": ["Alignment"], **body["alignment"][0]}]
    assert "microCredential" not in document

    public = issuer.get(path_of(document["id"]))
    assert public.status_code == 200 and public.json() == document


def test_achievement_with_criteria_id_only(issuer: TestClient, provider: ProviderFixture) -> None:
    body = {**PLAIN_ACHIEVEMENT, "criteria": {"id": "https://wsei.example/kursy/python"}}
    response = issuer.post("/api/v1/achievements", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    assert response.json()["criteria"] == {"id": "https://wsei.example/kursy/python"}


def test_achievement_without_criteria_content_is_refused(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.post("/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, "criteria": {}}, headers=provider.headers)
    error = error_of(response, 422, "invalid_input")
    assert field_names(error) == ["criteria"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"description": ""}, "description"),
        ({"criteria": None}, "criteria"),
        ({"creditsAvailable": -1}, "creditsAvailable"),
        ({"tag": "python"}, "tag"),
        ({"badgeColour": "red"}, "badgeColour"),
        ({"criteria": {"narrative": "x", "extra": 1}}, "criteria.extra"),
        ({"microCredential": {**MICRO_CREDENTIAL, "colour": "red"}}, "microCredential.colour"),
        ({"microCredential": {**MICRO_CREDENTIAL, "participation": "hybrid"}}, "microCredential.participation"),
        ({"microCredential": {**MICRO_CREDENTIAL, "eqfLevel": 9}}, "microCredential.eqfLevel"),
        ({"microCredential": {**MICRO_CREDENTIAL, "ects": 0}}, "microCredential.ects"),
    ],
)
def test_achievement_field_errors_are_named(
    issuer: TestClient, provider: ProviderFixture, change: dict[str, Any], field: str
) -> None:
    body = {**PLAIN_ACHIEVEMENT, **change}
    if change.get("criteria", ...) is None:
        del body["criteria"]
    response = issuer.post("/api/v1/achievements", json=body, headers=provider.headers)
    error = error_of(response, 422, "invalid_input")
    assert field in field_names(error), error


def test_micro_credential_accepted_and_mapped(issuer: TestClient, provider: ProviderFixture) -> None:
    esco = {
        "targetName": "Analiza danych",
        "targetUrl": "http://data.europa.eu/esco/skill/analyse-data",
        "targetType": "ext:ESCO",
    }
    body = {
        **MICRO_ACHIEVEMENT,
        "alignment": [esco],
        "microCredential": {**MICRO_CREDENTIAL, "workloadHours": 50, "prerequisites": "Podstawy Excela"},
    }
    response = issuer.post("/api/v1/achievements", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    document = response.json()
    url = document["id"]
    assert document["achievementType"] == "MicroCredential"
    assert document["creditsAvailable"] == 2
    assert "microCredential" not in document

    alignment = document["alignment"]
    assert alignment[0] == {"type": ["Alignment"], **esco}, "the provider's own alignment comes first"
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in alignment:
        assert entry["type"] == ["Alignment"]
        by_type.setdefault(entry["targetType"], []).append(entry)
    assert [entry["targetName"] for entry in by_type["ext:LearningOutcome"]] == MICRO_CREDENTIAL["learningOutcomes"]
    assert [entry["targetUrl"] for entry in by_type["ext:LearningOutcome"]] == [
        f"{url}#learning-outcome-1",
        f"{url}#learning-outcome-2",
    ]
    [eqf] = by_type["ext:EQF"]
    assert eqf["targetCode"] == "5" and eqf["targetFramework"] == "European Qualifications Framework"
    assert eqf["targetUrl"].startswith("https://")
    [prk] = by_type["ext:PRK"]
    assert prk["targetCode"] == "5" and prk["targetFramework"] == "Polska Rama Kwalifikacji"
    [workload] = by_type["ext:NotionalWorkload"]
    assert workload["targetCode"] == "PT50H" and workload["targetName"] == "50 hours"
    [assessment] = by_type["ext:AssessmentType"]
    assert assessment["targetName"] == MICRO_CREDENTIAL["assessment"]
    [participation] = by_type["ext:ParticipationForm"]
    assert participation["targetName"] == participation["targetCode"] == "blended"
    [quality] = by_type["ext:QualityAssurance"]
    assert quality["targetName"] == MICRO_CREDENTIAL["qualityAssurance"]
    [prerequisites] = by_type["ext:Prerequisites"]
    assert prerequisites["targetName"] == "Podstawy Excela"
    assert "ext:Supervision" not in by_type and "ext:Stackability" not in by_type

    # The credential carries the whole mapped achievement, and the issuer's country is in the Profile.
    issued = issue(issuer, provider, document)
    claims = payload_of(issued["jwt"])
    assert claims["credentialSubject"]["achievement"] == document
    assert claims["issuer"]["address"]["addressCountry"] == "PL"
    assert claims["issuer"]["address"]["addressRegion"] == "lubelskie"


def test_micro_credential_with_workload_hours_instead_of_ects(issuer: TestClient, provider: ProviderFixture) -> None:
    block = {key: value for key, value in MICRO_CREDENTIAL.items() if key != "ects"}
    response = issuer.post(
        "/api/v1/achievements",
        json={**MICRO_ACHIEVEMENT, "microCredential": {**block, "workloadHours": 24}},
        headers=provider.headers,
    )
    assert response.status_code == 201, response.text
    document = response.json()
    assert "creditsAvailable" not in document
    assert [
        entry["targetCode"] for entry in document["alignment"] if entry["targetType"] == "ext:NotionalWorkload"
    ] == ["PT24H"]


@pytest.mark.parametrize(
    ("remove", "blank", "field"),
    [
        ("learningOutcomes", None, "microCredential.learningOutcomes"),
        (None, {"learningOutcomes": []}, "microCredential.learningOutcomes"),
        (None, {"learningOutcomes": ["Analizuje dane", "  "]}, "microCredential.learningOutcomes"),
        ("ects", None, "microCredential.ects"),
        ("eqfLevel", None, "microCredential.eqfLevel"),
        ("prkLevel", None, "microCredential.prkLevel"),
        ("assessment", None, "microCredential.assessment"),
        (None, {"assessment": "   "}, "microCredential.assessment"),
        ("participation", None, "microCredential.participation"),
        ("qualityAssurance", None, "microCredential.qualityAssurance"),
        (None, {"qualityAssurance": ""}, "microCredential.qualityAssurance"),
    ],
)
def test_micro_credential_missing_element_is_named(
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    remove: str | None,
    blank: dict[str, Any] | None,
    field: str,
) -> None:
    block = {key: value for key, value in MICRO_CREDENTIAL.items() if key != remove}
    block.update(blank or {})
    response = issuer.post(
        "/api/v1/achievements", json={**MICRO_ACHIEVEMENT, "microCredential": block}, headers=provider.headers
    )
    error = error_of(response, 422, "invalid_input")
    assert field_names(error) == [field], error
    assert "EU micro-credential" in error["fields"][0]["message"]
    assert issuer.get("/api/v1/achievements", headers=provider.headers).json() == {"items": []}


def test_micro_credential_empty_block_names_every_missing_element(
    issuer: TestClient, provider: ProviderFixture
) -> None:
    response = issuer.post(
        "/api/v1/achievements", json={**MICRO_ACHIEVEMENT, "microCredential": {}}, headers=provider.headers
    )
    error = error_of(response, 422, "invalid_input")
    assert sorted(field_names(error)) == sorted(
        [
            "microCredential.learningOutcomes",
            "microCredential.ects",
            "microCredential.eqfLevel",
            "microCredential.prkLevel",
            "microCredential.assessment",
            "microCredential.participation",
            "microCredential.qualityAssurance",
        ]
    )


def test_micro_credential_needs_issuer_country(issuer: TestClient, ctx: IssuerContext) -> None:
    stateless = add_provider(ctx, "bez-kraju", country=None, region=None)
    response = issuer.post("/api/v1/achievements", json=MICRO_ACHIEVEMENT, headers=stateless.headers)
    error = error_of(response, 422, "invalid_input")
    assert field_names(error) == ["issuer.address.addressCountry"]


def test_prk_level_only_required_for_polish_issuer(issuer: TestClient, ctx: IssuerContext) -> None:
    czech = add_provider(ctx, "praha", country="CZ", region="Praha")
    block = {key: value for key, value in MICRO_CREDENTIAL.items() if key != "prkLevel"}
    response = issuer.post(
        "/api/v1/achievements", json={**MICRO_ACHIEVEMENT, "microCredential": block}, headers=czech.headers
    )
    assert response.status_code == 201, response.text
    assert not any(entry["targetType"] == "ext:PRK" for entry in response.json()["alignment"])


@pytest.mark.parametrize(
    ("alignment", "expected"),
    [
        ({"targetName": "Bez adresu", "targetType": "ext:ESCO"}, "targetUrl"),
        ({"targetName": "Zły typ", "targetUrl": "https://example.org/x", "targetType": "bogus"}, "targetType"),
        ({"targetName": "Zły typ", "targetUrl": "https://example.org/x", "type": "Alignment"}, "type"),
    ],
)
def test_schema_invalid_alignment_is_refused_with_field(
    issuer: TestClient, provider: ProviderFixture, alignment: dict[str, Any], expected: str
) -> None:
    response = issuer.post(
        "/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, "alignment": [alignment]}, headers=provider.headers
    )
    error = error_of(response, 422, "invalid_input")
    assert error["fields"], error
    named = " ".join(entry["field"] + " " + entry["message"] for entry in error["fields"])
    assert all("alignment" in entry["field"] for entry in error["fields"]), error
    assert expected in named, error
    assert issuer.get("/api/v1/achievements", headers=provider.headers).json() == {"items": []}


# --------------------------------------------------------------------------------------------------------------
# Issuance
# --------------------------------------------------------------------------------------------------------------


def test_issue_response_shape_and_links(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    response = issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=provider.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "jwt", "links"}
    credential_id = body["id"]
    uuid = credential_id.rsplit("/", 1)[-1]
    assert credential_id == f"{ISSUER_URL}/credentials/{uuid}" and len(uuid) == 36
    assert body["links"] == {
        "self": f"{ISSUER_URL}/api/v1/credentials/{uuid}",
        "page": credential_id,
        "verify": f"{VERIFIER_URL}/verify?credential={ISSUER_URL}/credentials/{uuid}",
        "short": f"{ISSUER_URL}/q/{compact(uuid)}",
        "qr_png": f"{credential_id}/qr.png",
        "qr_svg": f"{credential_id}/qr.svg",
        "jwt": f"{credential_id}/credential.jwt",
        "json": f"{credential_id}/credential.json",
        "pdf": f"{credential_id}/certificate.pdf",
        "png": f"{credential_id}/badge.png",
        "svg": f"{credential_id}/badge.svg",
    }
    assert body["jwt"].count(".") == 2
    assert payload_of(body["jwt"])["id"] == credential_id

    full = issuer.get(path_of(body["links"]["self"]), headers=provider.headers)
    assert full.status_code == 200
    detail = full.json()
    assert detail["id"] == credential_id and detail["jwt"] == body["jwt"] and detail["links"] == body["links"]
    assert detail["status"] == {"revoked": False}
    assert detail["credential"] == payload_of(body["jwt"])
    assert datetime.fromisoformat(detail["issuedAt"]).tzinfo is not None


def test_issue_accepts_achievement_uuid(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    body = {"achievement": achievement["id"].rsplit("/", 1)[-1], "recipient": RECIPIENT}
    response = issuer.post("/api/v1/credentials", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    assert payload_of(response.json()["jwt"])["credentialSubject"]["achievement"]["id"] == achievement["id"]


def test_issue_unknown_achievement_is_404_naming_field(issuer: TestClient, provider: ProviderFixture) -> None:
    body = {"achievement": f"{ISSUER_URL}/achievements/00000000-0000-0000-0000-000000000000", "recipient": RECIPIENT}
    error = error_of(issuer.post("/api/v1/credentials", json=body, headers=provider.headers), 404, "not_found")
    assert field_names(error) == ["achievement"]


def test_idempotency_replay_returns_same_credential(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    headers = {**provider.headers, "Idempotency-Key": "order-2024-0001"}
    first = issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # Same body with members in another order is the same request.
    reordered = {
        "recipient": {"email": RECIPIENT["email"], "name": RECIPIENT["name"]},
        "achievement": achievement["id"],
    }
    second = issuer.post("/api/v1/credentials", json=reordered, headers=headers)
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    with ctx.db.read() as session:
        assert len(session.exec(select(Credential)).all()) == 1


def test_idempotency_key_with_different_body_is_422(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    headers = {**provider.headers, "Idempotency-Key": "order-2024-0002"}
    first = issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=headers)
    assert first.status_code == 201, first.text
    other_learner = credential_body(achievement, recipient={"name": "Jan Kowalski", "email": "jan@example.org"})
    response = issuer.post("/api/v1/credentials", json=other_learner, headers=headers)
    error = error_of(response, 422, "idempotency_key_reused")
    assert field_names(error) == ["Idempotency-Key"]
    narrated = credential_body(achievement, narrative="Inny opis")
    error_of(issuer.post("/api/v1/credentials", json=narrated, headers=headers), 422, "idempotency_key_reused")
    with ctx.db.read() as session:
        assert [record.id for record in session.exec(select(Credential)).all()] == [
            first.json()["id"].rsplit("/", 1)[-1]
        ]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_bad_idempotency_key_is_422(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], key: str
) -> None:
    response = issuer.post(
        "/api/v1/credentials", json=credential_body(achievement), headers={**provider.headers, "Idempotency-Key": key}
    )
    error = error_of(response, 422, "invalid_input")
    assert field_names(error) == ["Idempotency-Key"]


def test_duplicate_learner_and_achievement_is_409(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    first = issue(issuer, provider, achievement)
    # The e-mail is compared case- and whitespace-insensitively.
    again = credential_body(achievement, recipient={"name": "Anna N.", "email": " ANNA@Example.org "})
    response = issuer.post("/api/v1/credentials", json=again, headers=provider.headers)
    error = error_of(response, 409, "already_issued")
    assert field_names(error) == ["recipient.email"]
    assert "allowDuplicate" in error["message"]
    assert error["credential"] == first["id"]
    with ctx.db.read() as session:
        assert len(session.exec(select(Credential)).all()) == 1


def test_allow_duplicate_issues_a_second_credential(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    first = issue(issuer, provider, achievement)
    second = issue(issuer, provider, achievement, allowDuplicate=True)
    assert second["id"] != first["id"]
    items = issuer.get("/api/v1/credentials", headers=provider.headers).json()["items"]
    assert {item["id"] for item in items} == {first["id"], second["id"]}


def test_same_learner_other_achievement_is_not_a_duplicate(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issue(issuer, provider, achievement)
    second_achievement = issuer.post(
        "/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, "name": "Python II"}, headers=provider.headers
    ).json()
    issue(issuer, provider, second_achievement)


def test_revoked_credential_does_not_block_reissue(
    issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    first = issue(issuer, provider, achievement)
    error_of(
        issuer.post("/api/v1/credentials", json=credential_body(achievement), headers=provider.headers),
        409,
        "already_issued",
    )
    revoked = issuer.post(
        path_of(first["links"]["self"]) + "/revoke", json={"reason": "błąd"}, headers=provider.headers
    )
    assert revoked.status_code == 200, revoked.text
    second = issue(issuer, provider, achievement)
    assert second["id"] != first["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipient": {"name": "Anna Nowak", "email": "not-an-address"}}, "recipient.email"),
        ({"recipient": {"name": "Anna Nowak", "email": "anna@localhost"}}, "recipient.email"),
        ({"recipient": {"name": "Anna Nowak"}}, "recipient.email"),
        ({"recipient": {"name": "   ", "email": "anna@example.org"}}, "recipient.name"),
        ({"recipient": {"name": "A" * 201, "email": "anna@example.org"}}, "recipient.name"),
        ({"recipient": {"email": "anna@example.org"}}, "recipient.name"),
        ({"recipient": {"name": "Anna", "email": "anna@example.org", "id": "no uri"}}, "recipient.id"),
        ({"recipient": {"name": "Anna", "email": "anna@example.org", "phone": "123"}}, "recipient.phone"),
        ({"recipient": "anna@example.org"}, "recipient"),
        ({"achievement": ""}, "achievement"),
        ({"validFrom": "2030-01-01T10:00:00"}, "validFrom"),
        ({"validFrom": "yesterday"}, "validFrom"),
        ({"validUntil": "2000-01-01T00:00:00Z"}, "validUntil"),
        ({"validFrom": "2031-01-01T00:00:00Z", "validUntil": "2030-01-01T00:00:00Z"}, "validUntil"),
        ({"validFrom": "2030-01-01T00:00:00Z", "validUntil": "2030-01-01T00:00:00Z"}, "validUntil"),
        ({"allowDuplicate": "maybe"}, "allowDuplicate"),
        ({"evidence": [{}] * 51}, "evidence"),
        ({"evidence": "https://example.org"}, "evidence"),
        ({"unknownField": 1}, "unknownField"),
        ({"credentialSubject": {"id": "did:example:1"}}, "credentialSubject"),
    ],
)
def test_issue_validation_errors_name_the_field(
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**credential_body(achievement), **change}
    response = issuer.post("/api/v1/credentials", json=body, headers=provider.headers)
    error = error_of(response, 422, "invalid_input")
    assert field in field_names(error), error
    for entry in error["fields"]:
        assert entry["message"], entry
    with ctx.db.read() as session:
        assert session.exec(select(Credential)).all() == []


@pytest.mark.parametrize(
    ("change", "valid_from", "valid_until"),
    [
        # Winter (UTC+1) and summer (UTC+2) in Lublin: a day is that day there, whole.
        ({"validUntil": "2030-01-01"}, None, "2030-01-01T22:59:59Z"),
        ({"validUntil": "2030-07-01"}, None, "2030-07-01T21:59:59Z"),
        ({"validFrom": "2030-01-01", "validUntil": "2030-12-31"}, "2029-12-31T23:00:00Z", "2030-12-31T22:59:59Z"),
        (
            {"validFrom": "2030-01-01T12:00:00Z", "validUntil": "2030-01-01"},
            "2030-01-01T12:00:00Z",
            "2030-01-01T22:59:59Z",
        ),
    ],
)
def test_dates_without_a_time_are_whole_days_in_lublin(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    change: dict[str, Any],
    valid_from: str | None,
    valid_until: str,
) -> None:
    credential = payload_of(issue(issuer, provider, achievement, **change)["jwt"])
    assert credential["validUntil"] == valid_until
    if valid_from is not None:
        assert credential["validFrom"] == valid_from


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2030-01-01T10:00:00", "needs its time zone"),
        ("2030-02-30", "not a date in the calendar"),
        ("1 stycznia 2030", "write a date (2030-01-01)"),
    ],
)
def test_date_errors_are_sentences(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], value: str, words: str
) -> None:
    body = {**credential_body(achievement), "validUntil": value}
    error = error_of(issuer.post("/api/v1/credentials", json=body, headers=provider.headers), 422, "invalid_input")
    [entry] = [entry for entry in error["fields"] if entry["field"] == "validUntil"]
    assert words in entry["message"] and not entry["message"].startswith("Value error"), entry


def test_issue_schema_problem_is_422_with_field(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    body = credential_body(achievement, result=[{"type": "NotAnArray"}])
    error = error_of(issuer.post("/api/v1/credentials", json=body, headers=provider.headers), 422, "invalid_input")
    assert any("result" in field for field in field_names(error)), error


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"achievement": "x",}', b'{"achievement": "x", "recipient": {', b"\xef\xbb\xbf{}x"],
)
def test_malformed_json_is_400(issuer: TestClient, provider: ProviderFixture, content: bytes) -> None:
    response = issuer.post(
        "/api/v1/credentials", content=content, headers={**provider.headers, "Content-Type": "application/json"}
    )
    error = error_of(response, 400, "malformed_request")
    assert "JSON" in error["message"]


def test_body_that_is_not_utf8_is_400(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.post(
        "/api/v1/credentials", content=b"\xff\xfe\x00", headers={**provider.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] in ("malformed_request", "http_error") and "body" in error["message"].lower()


@pytest.mark.parametrize("body", [[], "text", 42, None])
def test_non_object_body_is_422(issuer: TestClient, provider: ProviderFixture, body: Any) -> None:
    response = issuer.post(
        "/api/v1/credentials",
        content=json.dumps(body),
        headers={**provider.headers, "Content-Type": "application/json"},
    )
    error = error_of(response, 422, "invalid_input")
    assert field_names(error) == ["body"]


def test_list_limit_is_validated(issuer: TestClient, provider: ProviderFixture) -> None:
    error = error_of(issuer.get("/api/v1/credentials?limit=0", headers=provider.headers), 422, "invalid_input")
    assert field_names(error) == ["limit"]
    error = error_of(issuer.get("/api/v1/credentials?offset=-1", headers=provider.headers), 422, "invalid_input")
    assert field_names(error) == ["offset"]


def test_validfrom_with_three_digit_year_is_not_a_500(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """Regression: format_datetime wrote '999-01-01T…' (no zero padding), which jwt_claims_for then rejected: a 500."""
    response = issuer.post(
        "/api/v1/credentials",
        json=credential_body(achievement, validFrom="0999-01-01T00:00:00Z"),
        headers=provider.headers,
    )
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert "validFrom" in field_names(response.json()["error"])
    else:
        assert payload_of(response.json()["jwt"])["validFrom"] == "0999-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "change",
    [{"validFrom": "0001-01-01T00:00:00+01:00"}, {"validUntil": "9999-12-31T23:59:59-01:00"}],
    ids=["validFrom", "validUntil"],
)
def test_datetime_at_range_edge_is_not_a_500(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], change: dict[str, str]
) -> None:
    """Regression: astimezone(UTC) overflowed at the edges of the datetime range: a 500."""
    response = issuer.post("/api/v1/credentials", json=credential_body(achievement, **change), headers=provider.headers)
    assert response.status_code == 422, response.text
    assert next(iter(change)) in field_names(response.json()["error"])


# --------------------------------------------------------------------------------------------------------------
# Public documents
# --------------------------------------------------------------------------------------------------------------


def test_jwks_content_type_and_members(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture, achievement: dict[str, Any]
) -> None:
    response = issuer.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert len(keys) == 2
    for jwk in keys:
        assert {"kid", "alg", "use", "iss", "kty"} <= set(jwk), jwk
        assert jwk["use"] == "sig" and jwk["alg"] == "EdDSA" and jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & set(jwk), "no private material"
    assert sorted(jwk["iss"] for jwk in keys) == sorted([provider.issuer_id, other.issuer_id])
    assert len({jwk["kid"] for jwk in keys}) == 2

    issued = issue(issuer, provider, achievement)
    header = json.loads(b64url_decode(issued["jwt"].split(".")[0], "header"))
    [signing] = [jwk for jwk in keys if jwk["kid"] == header["kid"]]
    assert signing["iss"] == provider.issuer_id


def test_jwks_etag_and_if_none_match(issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture) -> None:
    first = issuer.get("/.well-known/jwks.json")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2

    cached = issuer.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    listed = issuer.get("/.well-known/jwks.json", headers={"If-None-Match": f'"0000", {etag}'})
    assert listed.status_code == 304

    stale = issuer.get("/.well-known/jwks.json", headers={"If-None-Match": '"not-the-etag"'})
    assert stale.status_code == 200 and stale.json() == first.json()

    # A new key changes the document and so its ETag.
    add_provider(ctx, "nowy")
    changed = issuer.get("/.well-known/jwks.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert len(changed.json()["keys"]) == 2


def test_jwks_if_none_match_star(issuer: TestClient, provider: ProviderFixture) -> None:
    """RFC 9110 §13.1.2: 'If-None-Match: *' matches any current representation (was answered 200)."""
    assert issuer.get("/.well-known/jwks.json", headers={"If-None-Match": "*"}).status_code == 304


def test_profile_json(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.get(f"/issuers/{provider.slug}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["etag"]
    profile = response.json()
    assert profile["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert profile["id"] == provider.issuer_id == f"{ISSUER_URL}/issuers/{provider.slug}"
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Wyższa Szkoła Ekonomii i Innowacji"
    assert profile["url"] == "https://wsei.example"
    assert profile["address"]["addressCountry"] == "PL"
    assert profile["address"]["addressRegion"] == "lubelskie"
    assert (
        issuer.get(f"/issuers/{provider.slug}", headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    )


def test_profile_negotiation_is_marked_vary_accept(issuer: TestClient, provider: ProviderFixture) -> None:
    """Regression: a cacheable, content-negotiated response must say 'Vary: Accept' (it did not)."""
    response = issuer.get(f"/issuers/{provider.slug}", headers={"Accept": "application/json"})
    assert response.status_code == 200 and "public" in response.headers["cache-control"]
    vary = [value.strip().lower() for value in response.headers.get("vary", "").split(",")]
    assert "accept" in vary


def test_profile_html(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.get(f"/issuers/{provider.slug}", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Wyższa Szkoła Ekonomii i Innowacji" in response.text.replace("\u00a0", " ")
    assert provider.issuer_id in response.text
    assert "lubelskie" in response.text


def test_profile_html_escapes_provider_text(issuer: TestClient, ctx: IssuerContext) -> None:
    add_provider(ctx, "xss", name="<script>alert(1)</script>")
    response = issuer.get("/issuers/xss", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_unknown_issuer_is_404(issuer: TestClient, provider: ProviderFixture) -> None:
    error_of(issuer.get("/issuers/nobody"), 404, "not_found")
    error_of(issuer.get("/issuers/nobody/did.json"), 404, "not_found")
    assert_not_found_page(issuer.get("/issuers/nobody", headers={"Accept": "text/html"}))


def assert_not_found_page(response: Any) -> None:
    """What a browser gets for a page that is not there: a page saying so, in Polish unless asked otherwise."""
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Nie znaleziono</h1>" in response.text


def test_did_document_lists_the_same_kids(
    issuer: TestClient, provider: ProviderFixture, other: ProviderFixture
) -> None:
    response = issuer.get(f"/issuers/{provider.slug}/did.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/did+json")
    document = response.json()
    did = "did:web:issuer.test:issuers:wsei"
    assert document["id"] == did
    assert provider.issuer_id in document["alsoKnownAs"]
    jwks = [jwk for jwk in issuer.get("/.well-known/jwks.json").json()["keys"] if jwk["iss"] == provider.issuer_id]
    methods = document["verificationMethod"]
    assert sorted(method["publicKeyJwk"]["kid"] for method in methods) == sorted(jwk["kid"] for jwk in jwks)
    assert len(methods) == 1
    for method in methods:
        assert method["id"] == f"{did}#{method['publicKeyJwk']['kid'].rsplit('/', 1)[-1]}"
        assert method["controller"] == did
        [jwk] = [jwk for jwk in jwks if jwk["kid"] == method["publicKeyJwk"]["kid"]]
        assert method["publicKeyJwk"] == {name: value for name, value in jwk.items() if name != "iss"}
    assert document["assertionMethod"] == [method["id"] for method in methods]
    other_did = issuer.get(f"/issuers/{other.slug}/did.json").json()
    assert {m["publicKeyJwk"]["kid"] for m in other_did["verificationMethod"]}.isdisjoint(
        {m["publicKeyJwk"]["kid"] for m in methods}
    )


def test_credential_content_negotiation(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    url = path_of(issued["id"])

    token = issuer.get(url, headers={"Accept": "application/vc+jwt"})
    assert token.status_code == 200
    assert token.headers["content-type"] == "application/vc+jwt"
    assert token.text == issued["jwt"]

    plain_jwt = issuer.get(url, headers={"Accept": "application/jwt"})
    assert plain_jwt.status_code == 200 and plain_jwt.text == issued["jwt"]

    as_json = issuer.get(url, headers={"Accept": "application/json"})
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == payload_of(issued["jwt"])

    ld = issuer.get(url, headers={"Accept": "application/ld+json"})
    assert ld.status_code == 200 and ld.json() == payload_of(issued["jwt"])

    page = issuer.get(url, headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Anna Nowak" in page.text and "Podstawy Pythona" in page.text
    assert "Wyższa Szkoła Ekonomii i Innowacji" in page.text.replace("\u00a0", " ")
    assert issued["links"]["qr_svg"] in page.text
    assert issued["links"]["jwt"] in page.text
    assert issued["links"]["verify"] in page.text.replace("&amp;", "&")
    assert issued["jwt"] not in page.text


def test_credential_accept_is_case_insensitive(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    """Regression: 'Accept: Application/VC+JWT' raised StopIteration in the handler: a 500."""
    issued = issue(issuer, provider, achievement)
    response = issuer.get(path_of(issued["id"]), headers={"Accept": "Application/VC+JWT"})
    assert response.status_code == 200
    assert response.text == issued["jwt"]


def test_credential_page_escapes_learner_name(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(
        issuer, provider, achievement, recipient={"name": "<img src=x onerror=alert(1)>", "email": "x@example.org"}
    )
    page = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<img src=x onerror=alert(1)>" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_credential_page_in_english(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    issued = issue(issuer, provider, achievement)
    polish = issuer.get(path_of(issued["id"]), headers={"Accept": "text/html"})
    english = issuer.get(path_of(issued["id"]) + "?lang=en", headers={"Accept": "text/html"})
    assert polish.status_code == english.status_code == 200
    assert 'lang="pl"' in polish.text and 'lang="en"' in english.text
    assert "Anna Nowak" in english.text


def test_credential_jwt_download(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> None:
    issued = issue(issuer, provider, achievement)
    response = issuer.get(path_of(issued["links"]["jwt"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    uuid = issued["id"].rsplit("/", 1)[-1]
    assert response.headers["content-disposition"] == f'attachment; filename="{uuid}.jwt"'
    assert response.text == issued["jwt"]


def test_qr_codes_are_served_and_cacheable(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    png = issuer.get(path_of(issued["links"]["qr_png"]))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (
        issuer.get(path_of(issued["links"]["qr_png"]), headers={"If-None-Match": png.headers["etag"]}).status_code
        == 304
    )
    svg = issuer.get(path_of(issued["links"]["qr_svg"]))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


@pytest.mark.parametrize("suffix", ["", "/credential.jwt", "/qr.png", "/qr.svg"], ids=["page", "jwt", "png", "svg"])
@pytest.mark.parametrize("accept", ["text/html", "application/vc+jwt", "application/json"])
def test_unknown_credential_is_404(issuer: TestClient, provider: ProviderFixture, suffix: str, accept: str) -> None:
    response = issuer.get(f"/credentials/00000000-0000-0000-0000-000000000000{suffix}", headers={"Accept": accept})
    if accept == "text/html":
        assert_not_found_page(response)
    else:
        error_of(response, 404, "not_found")


def test_unknown_credential_via_api_is_404(issuer: TestClient, provider: ProviderFixture) -> None:
    response = issuer.get("/api/v1/credentials/00000000-0000-0000-0000-000000000000", headers=provider.headers)
    error_of(response, 404, "not_found")
    error_of(issuer.get("/api/v1/achievements/nope", headers=provider.headers), 404, "not_found")
    error_of(issuer.get("/achievements/00000000-0000-0000-0000-000000000000"), 404, "not_found")


def test_unknown_route_is_404_json(issuer: TestClient, provider: ProviderFixture) -> None:
    error_of(issuer.get("/no/such/page"), 404, "not_found")
    response = issuer.delete("/.well-known/jwks.json")
    error_of(response, 405, "method_not_allowed")


def test_public_achievement_document(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    response = issuer.get(path_of(achievement["id"]))
    assert response.status_code == 200
    assert response.json() == achievement
    assert (
        issuer.get(path_of(achievement["id"]), headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    )


def test_healthz(issuer: TestClient) -> None:
    response = issuer.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_response_to_post_does_not_echo_email(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    body = credential_body(achievement, recipient={"name": "Ola", "email": "Ola.Kowalska@Example.org"})
    response = issuer.post("/api/v1/credentials", json=copy.deepcopy(body), headers=provider.headers)
    assert response.status_code == 201
    assert "ola.kowalska@example.org" not in response.text.lower()
    detail = issuer.get(path_of(response.json()["links"]["self"]), headers=provider.headers)
    assert "ola.kowalska@example.org" not in detail.text.lower()
