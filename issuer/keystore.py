"""Private keys on disk, encrypted with the configured passphrase (OpenSSH format, bcrypt KDF), one file per key
(mode 0600, in folders of mode 0700).

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
    KDF_ROUNDS,
    PrivateKey,
    PrivateKeySigner,
    decrypt_private_key,
    encrypt_private_key,
    generate_private_key,
    is_current_format,
    public_jwk,
)
from issuer.errors import ConfigurationError

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class KeyStore:
    """Encrypted key files under ``<root>/<provider slug>/<thumbprint>.pem``; decrypted keys cached in memory."""

    def __init__(self, root: Path, passphrase: bytes, kdf_rounds: int = KDF_ROUNDS) -> None:
        self.root = root
        self._passphrase = passphrase
        self._kdf_rounds = kdf_rounds
        self._keys: dict[str, PrivateKey] = {}
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
        _private_folder(path.parent)
        pem = encrypt_private_key(private_key, self._passphrase, self._kdf_rounds)
        # O_EXCL: a kid is never reused, so an existing file means something is wrong.
        _write_private(path, pem, exclusive=True)
        with self._lock:
            self._keys[jwk["kid"]] = private_key
        return jwk

    def signer(self, slug: str, kid: str, alg: str, header_kid: str | None = None) -> Signer:
        """Return a signer for the key ``kid`` (its thumbprint, or its URL ending in the thumbprint), putting
        ``header_kid`` in the headers it signs (``kid`` itself when not given). Raises
        :class:`ConfigurationError` if it cannot be loaded."""
        thumbprint = kid.rsplit("/", 1)[-1]
        cached = self._keys.get(thumbprint)
        if cached is None:
            cached = self._load(slug, thumbprint)
        return PrivateKeySigner(header_kid or kid, alg, cached)

    def _load(self, slug: str, kid: str) -> PrivateKey:
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
        with self._lock:
            self._keys[kid] = private_key
        return private_key

    def reencrypt(self, slug: str, kid: str, new_passphrase: bytes) -> bool:
        """Rewrite one key file under ``new_passphrase`` in the current format; ``False`` if it was already so.

        The new file replaces the old one atomically, so a crash leaves one of the two, never neither.
        Raises :class:`ConfigurationError` if the file cannot be read or decrypted with the current passphrase.
        """
        path = self._path(slug, kid)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"The private key {kid} of provider '{slug}' cannot be read.") from exc
        if is_current_format(pem) and new_passphrase == self._passphrase:
            return False
        try:
            private_key = decrypt_private_key(pem, self._passphrase)
        except InvalidKey as exc:
            raise ConfigurationError(f"The private key {kid} of provider '{slug}' cannot be decrypted.") from exc
        staged = path.with_name(f".{path.name}.new")
        staged.unlink(missing_ok=True)
        _write_private(staged, encrypt_private_key(private_key, new_passphrase, self._kdf_rounds), exclusive=True)
        os.replace(staged, path)
        _fsync_folder(path.parent)
        return True


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)


def _write_private(path: Path, data: bytes, *, exclusive: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
