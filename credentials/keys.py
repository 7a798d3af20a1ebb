"""Key material: generation, encrypted key files (OpenSSH format, bcrypt KDF), public JWKs and RFC 7638 thumbprints.

Every algorithm is fixed per key. A :class:`VerificationKey` is built only from a public JWK that names its
algorithm and whose key type matches it, so a token can never pick how its signature is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm as CryptoUnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import Algorithm

from credentials.encoding import b64url_encode
from credentials.errors import InvalidKey
from credentials.hashing import sha256

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

SIGNING_ALGORITHMS = ("RS256", "ES256", "EdDSA")
"""Algorithms an issuer may sign with. RS256 is Open Badges 3.0's interoperability minimum, and with ES256 one of
the two 1EdTech's validator accepts; EdDSA (Ed25519) is the fastest."""

VERIFY_ALGORITHMS = frozenset({"EdDSA", "ES256", "RS256"})
"""Algorithms a verifier accepts. RS256 is the Open Badges 3.0 interoperability minimum."""

MIN_RSA_BITS = 2048
"""Shortest RSA key a verifier accepts."""
NEW_RSA_BITS = 3072
"""Length of RSA keys this package generates (NIST SP 800-57: 128-bit security)."""
_KEY_TYPES = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256"), "RS256": ("RSA", None)}
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
"""JWK members of private (or symmetric) keys: never published, never accepted from anyone."""
_THUMBPRINT_MEMBERS = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n")}


def _algorithm(alg: str) -> Algorithm:
    return jwt.get_algorithm_by_name(alg)


def generate_private_key(alg: str) -> PrivateKey:
    """Return a new private key for ``alg``: Ed25519, P-256, or RSA of :data:`NEW_RSA_BITS` bits."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=NEW_RSA_BITS)
    raise InvalidKey(f"Cannot generate keys for '{alg}'.", alg=alg)


def public_jwk(key: PrivateKey | PublicKey, alg: str, **members: str) -> dict[str, Any]:
    """Return the public JWK of ``key`` with ``alg``, ``use: sig``, its thumbprint ``kid`` and ``members``."""
    public = key.public_key() if hasattr(key, "public_key") else key
    jwk: dict[str, Any] = _algorithm(alg).to_jwk(public, as_dict=True)
    jwk = {name: value for name, value in jwk.items() if name not in PRIVATE_MEMBERS}
    jwk.setdefault("kid", thumbprint(jwk))
    jwk.update(alg=alg, use="sig", **members)
    return jwk


def algorithm_for(jwk: Mapping[str, Any]) -> str | None:
    """The one accepted algorithm a JWK's ``kty``/``crv`` fits (``None`` if none does): Ed25519 → EdDSA, P-256 →
    ES256, RSA → RS256."""
    for alg, (kty, crv) in _KEY_TYPES.items():
        if jwk.get("kty") == kty and (crv is None or jwk.get("crv") == crv):
            return alg
    return None


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding. Raises
    :class:`InvalidKey` for an unknown key type, or a required member that is missing or not a string."""
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _THUMBPRINT_MEMBERS:
        raise InvalidKey(f"Unknown key type '{str(kty)[:20]}'.")
    required = {name: jwk.get(name) for name in _THUMBPRINT_MEMBERS[kty]}
    missing = sorted(name for name, value in required.items() if not isinstance(value, str))
    if missing:
        raise InvalidKey(f"The {kty} key has no usable '{missing[0]}' member.")
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(sha256(canonical))


KDF_ROUNDS = 32
"""bcrypt KDF rounds for key files: about 0.3 s per attempt on one core, so a stolen file resists guessing."""


def encrypt_private_key(key: PrivateKey, passphrase: bytes, rounds: int = KDF_ROUNDS) -> bytes:
    """Return ``key`` as an OpenSSH private key file encrypted under ``passphrase`` (bcrypt KDF, ``rounds``).

    OpenSSH's format is the one cryptography writes with a costly KDF; PKCS#8 there uses PBKDF2 with 2,048
    iterations, which a GPU tries by the million per second.
    """
    encryption = serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(rounds).build(passphrase)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption)


_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
"""The label of a PEM file's first block (RFC 7468), which names what it holds."""
OPENSSH_LABEL = b"OPENSSH PRIVATE KEY"


def is_current_format(pem: bytes) -> bool:
    """Whether a key file is in the format :func:`encrypt_private_key` writes (not legacy PKCS#8)."""
    found = _PEM_LABEL.match(pem.lstrip())
    return found is not None and found.group(1) == OPENSSH_LABEL


def decrypt_private_key(pem: bytes, passphrase: bytes) -> PrivateKey:
    """Load an encrypted key file: OpenSSH (current) or PKCS#8 PEM (written by earlier versions).

    Raises :class:`InvalidKey` if it cannot be read with ``passphrase``.
    """
    try:
        if is_current_format(pem):
            key: Any = serialization.load_ssh_private_key(pem, password=passphrase)
        else:
            key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError, CryptoUnsupportedAlgorithm) as exc:
        raise InvalidKey("The private key cannot be decrypted with the configured passphrase.") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InvalidKey("The private key is of an unsupported type.")
    return key


@dataclass(frozen=True, slots=True)
class PrivateKeySigner:
    """A :class:`credentials.jose.Signer` over a private key held in memory."""

    kid: str
    alg: str
    private_key: PrivateKey

    def sign(self, data: bytes) -> bytes:
        # PyJWT returns raw r||s for ECDSA, as JWS requires.
        return _algorithm(self.alg).sign(data, self.private_key)

    def pkcs8(self) -> bytes:
        """The key as unencrypted PKCS#8 DER: only for handing it to another process of the same service through
        a pipe (:mod:`issuer.batch_signing`), never for a file."""
        return self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @classmethod
    def from_pkcs8(cls, kid: str, alg: str, der: bytes) -> PrivateKeySigner:
        """The signer whose key :meth:`pkcs8` gave. Raises :class:`InvalidKey` for anything else."""
        try:
            key: Any = serialization.load_der_private_key(der, password=None)
        except (ValueError, TypeError, CryptoUnsupportedAlgorithm) as exc:
            raise InvalidKey("The private key cannot be read.") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise InvalidKey("The private key is of an unsupported type.")
        return cls(kid, alg, key)


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key a verifier trusts, with the one algorithm it is bound to."""

    kid: str
    alg: str
    key: PublicKey
    algorithm: Algorithm
    issuer: str | None
    jwk: Mapping[str, Any]
    compromised_at: int | None = None
    """When the issuer declared the key compromised (the JWK's ``revoked.revoked_at``), or ``None``."""

    @property
    def thumbprint(self) -> str:
        """The key's RFC 7638 SHA-256 thumbprint."""
        return thumbprint(self.jwk)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], kid: str | None = None, issuer: str | None = None) -> VerificationKey:
        """Build a key from a published public JWK; ``kid`` and ``issuer`` stand in for the JWK's own ``kid``
        and ``iss`` (a DID document names its keys and their controller outside the JWK).

        A JWK without ``alg`` (RFC 7517 allows it) gets the one algorithm its ``kty``/``crv`` fits, and is bound to
        it. Raises :class:`InvalidKey` when the JWK carries private members, has no ``kid``, is not for
        signatures, or its key type, curve or size does not fit its algorithm.
        """
        if not isinstance(jwk, Mapping):
            raise InvalidKey("A JWK must be a JSON object.")
        if PRIVATE_MEMBERS & set(jwk):
            raise InvalidKey("A published JWK must not contain private key material.")
        kid = kid or jwk.get("kid")
        alg = jwk.get("alg", algorithm_for(jwk))
        if not isinstance(kid, str) or not kid:
            raise InvalidKey("A published JWK must have a kid.")
        if alg not in VERIFY_ALGORITHMS:
            raise InvalidKey(f"The key '{kid}' does not name an accepted algorithm.", kid=kid)
        if jwk.get("use", "sig") != "sig":
            raise InvalidKey(f"The key '{kid}' is not a signature key.", kid=kid)
        kty, crv = _KEY_TYPES[str(alg)]
        if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
            raise InvalidKey(f"The key '{kid}' does not fit its algorithm {alg}.", kid=kid)
        algorithm = _algorithm(str(alg))
        try:
            key = algorithm.from_jwk(dict(jwk))
        except (jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
            raise InvalidKey(f"The key '{kid}' cannot be read.", kid=kid) from exc
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            raise InvalidKey(f"The RSA key '{kid}' is shorter than {MIN_RSA_BITS} bits.", kid=kid)
        if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise InvalidKey(f"The key '{kid}' is not a public key.", kid=kid)
        issuer = issuer or jwk.get("iss")
        revoked = jwk.get("revoked")
        compromised_at = None
        if revoked is not None:
            # OpenID Federation's "revoked" JWK member: {"revoked_at": NumericDate, "reason": "compromised"}.
            at = revoked.get("revoked_at") if isinstance(revoked, Mapping) else None
            if isinstance(at, int | float) and not isinstance(at, bool) and 0 <= at < 2**53:
                compromised_at = int(at)
            else:
                compromised_at = 0  # an unreadable date still marks the key compromised
        return cls(
            kid=kid,
            alg=str(alg),
            key=key,
            algorithm=algorithm,
            issuer=issuer if isinstance(issuer, str) else None,
            jwk=dict(jwk),
            compromised_at=compromised_at,
        )
