"""Digests and MACs used outside the JWS itself (hashed learner e-mails, stored API keys, the keyed audit chain and
duplicate guard), and the sealing of values kept at rest (AES-256-GCM), through ``cryptography``."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SHA256 of ``data`` under ``key``."""
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def derive_key(secret: bytes, purpose: str) -> bytes:
    """Return a 32-byte key for one ``purpose`` from a server secret (HKDF-SHA256), so that one secret can key
    several HMACs without any two sharing a key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode("utf-8")).derive(secret)


def seal(key: bytes, plaintext: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under a 32-byte ``key``: a random 96-bit nonce, then AES-256-GCM."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, None)


def unseal(key: bytes, token: bytes) -> bytes | None:
    """The plaintext of a :func:`seal` token, or ``None`` if it was sealed under another key or altered."""
    try:
        return AESGCM(key).decrypt(token[:12], token[12:], None)
    except (InvalidTag, ValueError):
        return None
