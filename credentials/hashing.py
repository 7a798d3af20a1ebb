"""Digests used outside the JWS itself (hashed learner e-mails, stored API keys), through ``cryptography``."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes


def sha256(data: bytes) -> bytes:
    """Return the SHA-256 digest of ``data``."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 digest of ``data`` as lower-case hex."""
    return sha256(data).hex()


def hash_email(email: str, salt: str) -> str:
    """Return the Open Badges ``identityHash`` of an e-mail address: ``sha256$<hex>`` over address + salt.

    The address is trimmed and lower-cased first so that a learner can prove it later by typing it.
    """
    normalised = email.strip().lower()
    return "sha256$" + sha256_hex((normalised + salt).encode("utf-8"))
