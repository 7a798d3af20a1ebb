"""What both apps do at their HTTP edge: security headers on every page, a docs page under a policy of its own,
request bodies refused by their length before they are read, and an access log without query strings."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import VERIFIER_URL, ProviderFixture, issue, path_of
from tests.helpers import ReceiveSpy
from verifier.app import MAX_BODY_BYTES as VERIFIER_MAX_BODY
from verifier.pages import MAX_UPLOAD_BYTES

STRICT = {
    "default-src": "'none'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
}


def policy(response: Any) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in (p.strip() for p in header.split(";")) if part}


def assert_secured(response: Any, *, strict: bool = True) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    found = policy(response)
    assert found["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    if strict:
        for directive, value in STRICT.items():
            assert found[directive] == value, (directive, found)
        assert found.get("script-src", "'self'") == "'self'", "pages run script files of their own origin only"


def inline_blocks(html: str) -> list[str]:
    """Script or style written into the page itself (an empty ``<script src=…></script>`` is not one)."""
    blocks = re.findall(r"<(?:script|style)[^>]*>(.*?)</(?:script|style)>", html, re.DOTALL)
    return [block for block in blocks if block.strip()]


@pytest.fixture
def pages(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> dict[str, str]:
    issued = issue(issuer, provider, achievement)
    return {"credential": path_of(issued["id"]), "profile": f"/issuers/{provider.slug}", "verify": issued["jwt"]}


def test_issuer_pages_carry_the_security_headers(issuer: TestClient, pages: dict[str, str]) -> None:
    for path in (pages["credential"], pages["profile"]):
        response = issuer.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert_secured(response)
        assert inline_blocks(response.text) == [], "no inline script or style: the policy allows none"
        assert 'href="/static/site.css"' in response.text
    css = issuer.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for path in ("/.well-known/jwks.json", "/nothing-here"):
        assert_secured(issuer.get(path))


def test_verifier_pages_carry_the_security_headers(verifier: TestClient, pages: dict[str, str]) -> None:
    for response in (
        verifier.get("/"),
        verifier.post("/verify", data={"credential": pages["verify"]}),
        verifier.get("/verify", params={"credential": pages["verify"]}),
    ):
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert_secured(response)
        assert policy(response)["script-src"] == "'self'", "script files of its own origin (the QR scanner)"
        assert response.headers["permissions-policy"] == "camera=(self)"
        assert inline_blocks(response.text) == []
    assert verifier.get("/static/site.css").status_code == 200
    assert_secured(verifier.post("/api/v1/verify", json={"credential": pages["verify"]}))


def test_hsts_only_over_https(issuer_app: Any, verifier: TestClient) -> None:
    with TestClient(issuer_app, base_url="https://issuer.test") as secure:
        assert secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in verifier.get("/healthz").headers


@pytest.mark.parametrize("app", ["issuer", "verifier"])
def test_docs_allow_exactly_their_own_inline_script(app: str, issuer: TestClient, verifier: TestClient) -> None:
    client = issuer if app == "issuer" else verifier
    response = client.get("/docs")
    assert response.status_code == 200
    assert_secured(response, strict=False)
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert scripts, "Swagger UI starts from one inline script"
    allowed = policy(response)["script-src"].split()
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed
    assert not [source for source in allowed if source != "'self'" and "sha256-" not in source], "no CDN"
    assert client.get("/redoc").status_code == 404
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', response.text):
        assert client.get(asset).status_code == 200, asset
    assert "https://" not in response.text.replace("https://fastapi.tiangolo.com", ""), "everything served locally"


# --------------------------------------------------------------------------------------------------------------
# The verifier's bodies


def test_verifier_refuses_a_large_body_before_reading_it(verifier: TestClient) -> None:
    spy = ReceiveSpy(verifier.app)
    with TestClient(spy, base_url=VERIFIER_URL) as client:
        response = client.post("/api/v1/verify", content=b"A" * (VERIFIER_MAX_BODY + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert spy.body_reads == 0


def test_verifier_upload_form_has_a_larger_limit_of_its_own(verifier: TestClient, pages: dict[str, str]) -> None:
    padding = "x" * (VERIFIER_MAX_BODY + 1024)
    ok = verifier.post("/verify", data={"credential": pages["verify"], "note": padding})
    assert ok.status_code == 200
    refused = verifier.post("/verify", data={"credential": pages["verify"], "note": "x" * MAX_UPLOAD_BYTES})
    assert refused.status_code == 413


# --------------------------------------------------------------------------------------------------------------
# The access log


def test_access_log_has_paths_without_query_strings(
    verifier: TestClient, pages: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="odznaka.access"):
        response = verifier.get("/verify", params={"credential": pages["verify"], "lang": "en"})
    assert response.status_code == 200
    lines = [record.getMessage() for record in caplog.records if record.name == "odznaka.access"]
    assert lines and lines[-1].startswith("GET /verify 200 ")
    # The test client's own request line (logger httpx) quotes the URL it sent; the apps' records must not.
    logged = "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("httpx"))
    assert pages["verify"][:40] not in logged and "credential=" not in logged and "Anna" not in logged
