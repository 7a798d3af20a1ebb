"""Private keys on disk, encrypted with the configured passphrase, one file per key (mode 0600).

The rest of the issuer only ever sees a :class:`credentials.jose.Signer`, so a KMS or HSM can replace this
module without touching issuance.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

from credentials.errors import InvalidKey
from credentials.jose import Signer
from credentials.keys import (
    PrivateKeySigner,
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    public_jwk,
)
from issuer.errors import ConfigurationError

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class KeyStore:
    """Encrypted PKCS#8 files under ``<root>/<provider slug>/<kid>.pem``; decrypted keys cached in memory."""

    def __init__(self, root: Path, passphrase: bytes) -> None:
        self.root = root
        self._passphrase = passphrase
        self._signers: dict[str, Signer] = {}
        self._lock = threading.Lock()

    def _path(self, slug: str, kid: str) -> Path:
        # kid is an RFC 7638 thumbprint and slug is validated, but never build a path from unchecked text.
        if not (_SAFE_NAME.fullmatch(slug) and _SAFE_NAME.fullmatch(kid)):
            raise ConfigurationError("Refusing an unsafe key file name.")
        return self.root / slug / f"{kid}.pem"

    def create(self, slug: str, alg: str, issuer_id: str) -> dict[str, Any]:
        """Generate a key for ``slug``, write it encrypted, and return its public JWK (``kid``, ``iss`` set)."""
        private_key = generate_private_key(alg)
        jwk = public_jwk(private_key, alg, iss=issuer_id)
        path = self._path(slug, jwk["kid"])
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = encrypt_private_key(private_key, self._passphrase)
        # O_EXCL: a kid is never reused, so an existing file means something is wrong.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with self._lock:
            self._signers[jwk["kid"]] = PrivateKeySigner(jwk["kid"], alg, private_key)
        return jwk

    def signer(self, slug: str, kid: str, alg: str) -> Signer:
        """Return the signer for key ``kid``. Raises :class:`ConfigurationError` if it cannot be loaded."""
        cached = self._signers.get(kid)
        if cached is not None:
            return cached
        path = self._path(slug, kid)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"The private key {kid} of provider '{slug}' cannot be read ({exc.strerror})."
            ) from exc
        try:
            private_key = decrypt_private_key(pem, self._passphrase)
        except InvalidKey as exc:
            raise ConfigurationError(
                f"The private key {kid} of provider '{slug}' cannot be decrypted; check the passphrase."
            ) from exc
        signer = PrivateKeySigner(kid, alg, private_key)
        with self._lock:
            self._signers[kid] = signer
        return signer
