"""Personal values the issuer must keep to do its job (a learner's address for "resend", a staff member's TOTP
secret), encrypted at rest under a key derived from the server secret: a copy of the database alone reads none
of them."""

from __future__ import annotations

from credentials.hashing import derive_key, hmac_sha256, seal, unseal

PURPOSE = "odznaka vault v1"
LOOKUP_PURPOSE = "odznaka e-mail lookup v1"


class Vault:
    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, PURPOSE)
        self._lookup = derive_key(secret, LOOKUP_PURPOSE)

    def seal(self, value: str) -> bytes:
        return seal(self._key, value.encode("utf-8"))

    def open(self, token: bytes) -> str | None:
        """The value, or ``None`` if the token was not sealed under this server secret (or was altered)."""
        plaintext = unseal(self._key, token)
        return plaintext.decode("utf-8") if plaintext is not None else None

    def email_key(self, email: str) -> str:
        """A keyed digest of the normalised address: finds a learner's credentials without storing the address,
        and without letting a copy of the database test guessed addresses."""
        return hmac_sha256(self._lookup, email.strip().lower().encode("utf-8")).hex()
