"""A Verifiable Presentation (a learner's competence profile handed to an employer): every credential in it is
judged on its own, by the same rules as alone, through ``POST /api/v1/presentations/verify`` and the VC-API's
``POST /presentations/verify``; only something that is not a presentation is refused whole."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from credentials.ob3 import VC_CONTEXT
from issuer.context import IssuerContext
from tests.conftest import PLAIN_ACHIEVEMENT, ProviderFixture, add_provider, issue, path_of, payload_of
from verifier.presentation import MAX_CREDENTIALS, UNSIGNED


def enveloped(token: str) -> dict[str, Any]:
    return {"@context": [VC_CONTEXT], "type": "EnvelopedVerifiableCredential", "id": f"data:application/vc+jwt,{token}"}


def presentation(*entries: Any) -> dict[str, Any]:
    return {"@context": [VC_CONTEXT], "type": ["VerifiablePresentation"], "verifiableCredential": list(entries)}


def tampered(token: str) -> str:
    """The token with its payload changed (the course's name) and its signature kept."""
    header, _, signature = token.split(".")
    claims = {**payload_of(token), "name": "Nie ten kurs"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"


def learner(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], number: int) -> str:
    recipient = {"name": f"Uczestniczka {number}", "email": f"uczestniczka{number}@example.org"}
    token: str = issue(issuer, provider, achievement, recipient=recipient)["jwt"]
    return token


@pytest.fixture
def mixed(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> dict[str, Any]:
    """A valid credential, a revoked one, a forged one, one from an issuer the verifier does not trust, and an
    entry that is no credential at all."""
    valid = learner(issuer, provider, achievement, 1)
    revoked = issue(issuer, provider, achievement, recipient={"name": "Jan Nowak", "email": "jan@example.org"})
    response = issuer.post(path_of(revoked["links"]["self"]) + "/revoke", headers=provider.headers, json={})
    assert response.status_code == 200, response.text
    foreign = add_provider(ctx, "obca-szkola")
    foreign_achievement = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=foreign.headers).json()
    return presentation(
        enveloped(valid),
        enveloped(revoked["jwt"]),
        enveloped(tampered(learner(issuer, provider, achievement, 2))),
        enveloped(learner(issuer, foreign, foreign_achievement, 3)),
        {"type": "VerifiableCredential", "name": "not enveloped"},
    )


def test_each_credential_of_a_presentation_is_judged_on_its_own(verifier: TestClient, mixed: dict[str, Any]) -> None:
    response = verifier.post("/api/v1/presentations/verify", json={"presentation": mixed})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(report["verdict"], report["outcome"]) for report in body["credentials"]] == [
        ("valid", "valid"),
        ("invalid", "revoked"),
        ("invalid", "forged"),
        ("invalid", "untrusted"),
        ("invalid", "not_a_credential"),
    ]
    assert body["summary"] == {
        "credentials": 5,
        "valid": 1,
        "invalid": 4,
        "indeterminate": 0,
        "outcomes": {"valid": 1, "revoked": 1, "forged": 1, "untrusted": 1, "not_a_credential": 1},
    }
    assert body["credentials"][0]["credential"]["learner"] == {"name": "Uczestniczka 1"}
    assert body["warnings"] == [UNSIGNED]
    # The same credential alone gets the same report.
    alone = verifier.post("/api/v1/verify", json={"credential": mixed["verifiableCredential"][1]}).json()
    assert alone["checks"] == body["credentials"][1]["checks"]


def test_the_vc_api_answers_a_result_per_credential_and_verified_only_when_all_are(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    verifier: TestClient,
    mixed: dict[str, Any],
) -> None:
    response = verifier.post("/presentations/verify", json={"verifiablePresentation": mixed, "options": {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is False
    assert [result["verified"] for result in body["credentialResults"]] == [True, False, False, False, False]
    assert body["problemDetails"] == body["errors"] and body["problemDetails"]
    assert {problem["detail"].split(":")[0] for problem in body["problemDetails"]} == {
        f"Credential {position}" for position in (2, 3, 4, 5)
    }
    assert body["warnings"][0]["detail"] == UNSIGNED

    one = presentation(enveloped(learner(issuer, provider, achievement, 7)))
    one["verifiableCredential"] = one["verifiableCredential"][0]  # a single credential needs no list
    alone = verifier.post("/presentations/verify", json={"verifiablePresentation": one}).json()
    assert alone["verified"] is True and len(alone["credentialResults"]) == 1 and alone["problemDetails"] == []


@pytest.mark.parametrize(
    ("document", "named"),
    [
        (["not", "an", "object"], "JSON object"),
        ({**presentation(), "@context": ["https://www.w3.org/2018/credentials/v1"]}, "@context"),
        ({**presentation(), "type": ["VerifiableCredential"]}, "type"),
        (presentation(), "no credential"),
        ({key: value for key, value in presentation().items() if key != "verifiableCredential"}, "no credential"),
        (presentation(*[{"type": "EnvelopedVerifiableCredential"}] * (MAX_CREDENTIALS + 1)), "at most"),
        (presentation("data:application/vc+jwt,eyJ"), "Each verifiableCredential"),
    ],
)
def test_what_is_not_a_presentation_is_refused_whole_saying_why(
    verifier: TestClient, document: Any, named: str
) -> None:
    native = verifier.post("/api/v1/presentations/verify", json={"presentation": document})
    assert native.status_code == 422 and named in native.json()["error"]["message"], native.text
    vc_api = verifier.post("/presentations/verify", json={"verifiablePresentation": document})
    assert vc_api.status_code == 400 and named in vc_api.json()["problemDetails"][0]["detail"], vc_api.text


def test_a_request_that_is_not_json_or_has_no_presentation_is_refused(verifier: TestClient) -> None:
    assert verifier.post("/api/v1/presentations/verify", content=b"{").status_code == 400
    assert verifier.post("/api/v1/presentations/verify", json={"credential": "x"}).status_code == 422
    assert verifier.post("/presentations/verify", content=b"{").status_code == 400
    assert verifier.post("/presentations/verify", json={"verifiableCredential": {}}).status_code == 400
