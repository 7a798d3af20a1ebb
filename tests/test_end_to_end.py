"""Issue through the issuer app, decode the QR image, open the link at the verifier, which fetches the
issuer's JWKS and the credential from the issuer app in-process."""

from __future__ import annotations

import io
from typing import Any

import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import ISSUER_URL, ProviderFixture, issue


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1
    return str(results[0].text)


def path_of(url: str) -> str:
    assert url.startswith(ISSUER_URL)
    return url[len(ISSUER_URL) :]


def test_issue_scan_and_verify(
    issuer: TestClient, verifier: TestClient, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)

    png = issuer.get(path_of(issued["links"]["qr_png"]))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    short = decode_qr(png.content)
    assert short == issued["links"]["short"]
    link = issuer.get(short.removeprefix("http://issuer.test"), follow_redirects=False).headers["location"]
    assert link == issued["links"]["verify"]

    page = verifier.get(link.removeprefix("http://verifier.test"), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'data-verdict="valid"' in page.text
    assert "Anna Nowak" in page.text and "Podstawy Pythona" in page.text

    api = verifier.post("/api/v1/verify", json={"credential": issued["jwt"]}).json()
    assert api["verdict"] == "valid", api
    assert [check["id"] for check in api["checks"]] == [
        "format",
        "header",
        "issuer",
        "key",
        "signature",
        "claims",
        "schema",
        "validity",
        "status",
    ]
    assert api["credential"]["learner"]["name"] == "Anna Nowak"
    assert api["credential"]["issuer"]["id"] == provider.issuer_id


def test_untrusted_issuer_is_invalid(
    issuer: TestClient, verifier_factory: Any, provider: ProviderFixture, achievement: dict[str, Any]
) -> None:
    issued = issue(issuer, provider, achievement)
    verifier = verifier_factory(["http://issuer.test/issuers/someone-else"])
    report = verifier.post("/api/v1/verify", json={"credential": issued["jwt"]}).json()
    assert report["verdict"] == "invalid"
    failed = [check for check in report["checks"] if check["status"] == "failed"]
    assert failed[0]["code"] == "untrusted_issuer"
