"""The layout's promises, checked on the source: crypto only in its two modules, the two apps never importing each
other, and the shared packages importing neither app."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("credentials", "http_edge", "issuer", "verifier")
CRYPTO = ("cryptography", "jwt", "hashlib", "hmac")
CRYPTO_MODULES = {"credentials/hashing.py", "credentials/keys.py"}
"""Every signature, digest, MAC and key derivation goes through these (PyJWT and cryptography underneath)."""


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_crypto_is_imported_only_by_its_modules(package: str) -> None:
    offenders = []
    for path in sources(package):
        relative = path.relative_to(ROOT).as_posix()
        used = {name for name in imports(path) if name.split(".")[0] in CRYPTO}
        if used and relative not in CRYPTO_MODULES:
            offenders.append(f"{relative}: {sorted(used)}")
    assert offenders == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("issuer", ("verifier",)),
        ("verifier", ("issuer",)),
        ("credentials", ("issuer", "verifier", "http_edge")),
        ("http_edge", ("issuer", "verifier")),
    ],
)
def test_packages_keep_to_their_side(package: str, forbidden: tuple[str, ...]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sources(package)
        for name in imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert offenders == []
