"""Both apps against their own OpenAPI documents, with schemathesis and every one of its checks: no server error,
no status code, media type, header or body the document does not describe, every schema-valid request accepted
and every invalid one refused. Examples per operation are bounded (``ODZNAKA_CONTRACT_EXAMPLES``, 25 by default)
and the seed fixed, so a run is repeatable.

The apps are built when this module is imported (schemathesis reads their documents while collecting), on an
SQLite database in a temporary folder that is removed when the run ends: the contract is about HTTP, and the
database-backed behaviour is tested on both backends elsewhere.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from fastapi.testclient import TestClient

from issuer.api_keys import SCOPES, create_api_key
from issuer.app import create_app as create_issuer_app
from issuer.context import IssuerContext
from issuer.migrate import upgrade
from issuer.settings import IssuerSettings
from tests.conftest import (
    ISSUER_URL,
    PLAIN_ACHIEVEMENT,
    TEST_ONLY_KDF_ROUNDS,
    TEST_ONLY_PASSPHRASE,
    TEST_ONLY_SECRET_KEY,
    VERIFIER_URL,
    add_provider,
    issue,
)
from verifier.app import create_app as create_verifier_app
from verifier.settings import VerifierSettings

EXAMPLES = int(os.environ.get("ODZNAKA_CONTRACT_EXAMPLES", "25"))


def contract(**extra: Any) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {"seed": 20261129, "checks": {"enabled": True}, "generation": {"max-examples": EXAMPLES}, **extra}
    )


def _build() -> tuple[Any, Any, str]:
    folder = Path(tempfile.mkdtemp(prefix="odznaka-contract-"))
    settings = IssuerSettings(
        data_dir=folder,
        public_url=ISSUER_URL,
        verifier_url=VERIFIER_URL,
        key_passphrase=TEST_ONLY_PASSPHRASE,
        secret_key=TEST_ONLY_SECRET_KEY,
        key_kdf_rounds=TEST_ONLY_KDF_ROUNDS,
        # schemathesis sends many bad keys on purpose; the limit on failures has tests of its own
        auth_failures_per_minute=10_000,
    )
    upgrade(settings.sqlalchemy_url)
    ctx = IssuerContext.from_settings(settings)
    provider = add_provider(ctx, "kontrakt")
    issuer = create_issuer_app(context=ctx)
    with TestClient(issuer, base_url=ISSUER_URL) as client:
        made = client.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=provider.headers).json()
        issue(client, provider, made)
    key = create_api_key(ctx, "kontrakt", list(SCOPES))
    verifier = create_verifier_app(
        VerifierSettings(public_url=VERIFIER_URL, trusted_issuers=(provider.issuer_id,), require_https=False),
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app=issuer), base_url=ISSUER_URL),
    )

    def clean_up() -> None:
        ctx.close()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(clean_up)
    return issuer, verifier, key


ISSUER_APP, VERIFIER_APP, API_KEY = _build()
# Achievements and credentials carry rules JSON Schema cannot state (the EU micro-credential elements, the
# OB 3.0 schema, validUntil after validFrom, the size of the signed token), an image must decode as one and a
# participant file must be a readable CSV or XLSX: a schema-valid body may be refused with 422 there, naming
# the field.
RULES_BEYOND_THE_SCHEMA = {
    "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}
}
issuer_schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    ISSUER_APP,
    config=contract(
        auth={"openapi": {"HTTPBearer": {"bearer": API_KEY}}},
        operations=[
            *(
                {"include-name": name, "checks": RULES_BEYOND_THE_SCHEMA}
                for name in (
                    "POST /api/v1/achievements",
                    "POST /api/v1/credentials",
                    "PUT /api/v1/achievements/{achievement_id}/image",
                    "PUT /api/v1/profile/image",
                    "POST /api/v1/cohorts",
                )
            ),
            # A posted credential whose issuer is not the caller's, or that breaks the data model, is "invalid
            # input" to the VC-API: 400.
            {
                "include-name": "POST /credentials/issue",
                "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "422"]}},
            },
        ],
    ),
)
verifier_schema = schemathesis.openapi.from_asgi("/openapi.json", VERIFIER_APP, config=contract())


@issuer_schema.parametrize()
def test_issuer_keeps_its_contract(case: Any) -> None:
    case.call_and_validate()


@verifier_schema.parametrize()
def test_verifier_keeps_its_contract(case: Any) -> None:
    case.call_and_validate()


def test_the_contract_run_is_authenticated() -> None:
    """A wrong key would turn every call into a 401, which every check accepts: make sure this one works."""
    case = issuer_schema["/api/v1/achievements"]["GET"].Case()
    response = case.call(headers={"Authorization": f"Bearer {API_KEY}"})
    assert response.status_code == 200, response.text
