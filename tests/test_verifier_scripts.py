"""The verifier's scripts: a policy that lets its own script files run and nothing else, the camera for its own
pages only, the vendored QR decoder exactly as published, and no ``eval`` in anything it serves."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from http_edge.headers import (
    CONTENT_SECURITY_POLICY,
    SCRIPT_FILES_POLICY,
    VERIFIER_PERMISSIONS_POLICY,
    SecurityHeaders,
)

STATIC = Path(__file__).resolve().parent.parent / "verifier" / "static"
JSQR_SHA256 = "bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859"
"""dist/jsQR.js of the npm package jsqr 1.4.0, as published."""
SCRIPTS = [STATIC / "scan.js", STATIC / "vendor" / "jsQR.js"]


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip() for part in policy.split(";"))
    return {name: value for name, _, value in (part.partition(" ") for part in parts if part)}


def served(**options: str) -> TestClient:
    async def page(_request: object) -> HTMLResponse:
        return HTMLResponse("<p>page</p>")

    return TestClient(SecurityHeaders(Starlette(routes=[Route("/", page)]), **options))


def test_pages_with_scripts_run_their_own_script_files_and_nothing_else() -> None:
    with_scripts = directives(SCRIPT_FILES_POLICY)
    without = directives(CONTENT_SECURITY_POLICY)

    assert with_scripts.pop("script-src") == "'self'", "no inline script, no eval, no other origin"
    assert with_scripts == without, "every other directive as strict as without scripts"
    assert "script-src" not in without and without["default-src"] == "'none'"


def test_the_middleware_sends_the_verifiers_policy_and_camera_permission() -> None:
    response = served(content_security_policy=SCRIPT_FILES_POLICY, permissions_policy=VERIFIER_PERMISSIONS_POLICY).get(
        "/"
    )
    assert response.headers["content-security-policy"] == SCRIPT_FILES_POLICY
    assert response.headers["permissions-policy"] == "camera=(self)"
    assert response.headers["x-frame-options"] == "DENY"


def test_by_default_no_script_and_no_permissions_header() -> None:
    response = served().get("/")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "permissions-policy" not in response.headers


def test_the_vendored_decoder_is_the_published_one_with_its_licence() -> None:
    assert hashlib.sha256((STATIC / "vendor" / "jsQR.js").read_bytes()).hexdigest() == JSQR_SHA256
    licence = (STATIC / "vendor" / "jsQR.LICENSE").read_text("utf-8")
    assert "Apache License" in licence and "Version 2.0" in licence


# What 'self' without 'unsafe-eval' refuses to run, and what would need 'unsafe-inline'.
EVAL_LIKE = re.compile(r"\beval\s*\(|\bnew\s+Function\s*\(|\bset(?:Timeout|Interval)\s*\(\s*['\"`]|\bimportScripts\b")
INLINE_LIKE = re.compile(r"\.innerHTML\b|\bon[a-z]+\s*=\s*['\"]|\bdocument\.write\b|\bsetAttribute\(\s*['\"]on")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_need_neither_eval_nor_inline_code(script: Path) -> None:
    source = script.read_text("utf-8")
    assert EVAL_LIKE.findall(source) == []
    assert INLINE_LIKE.findall(source) == []


def test_the_scanner_loads_nothing_from_elsewhere() -> None:
    assert re.findall(r"https?://|//[a-z0-9-]+\.[a-z]", (STATIC / "scan.js").read_text("utf-8")) == []


def test_the_verifier_serves_the_scripts_as_javascript(verifier: TestClient) -> None:
    for path in ("/static/scan.js", "/static/vendor/jsQR.js"):
        response = verifier.get(path)
        assert response.status_code == 200, path
        assert "javascript" in response.headers["content-type"], "nosniff: a browser runs only a JavaScript type"
