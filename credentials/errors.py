"""One exception tree for the shared package.

Every error carries a stable machine-readable ``code`` (the same codes the verifier reports) and a
human sentence. HTTP status codes do not live here; each app maps errors at its own edge.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CredentialError(Exception):
    """Base class: something about a token, key or credential is not acceptable."""

    code: ClassVar[str] = "invalid"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class MalformedToken(CredentialError):
    """The input is not a strict compact JWS (segments, base64url, JSON, size)."""

    code = "malformed"


class UnsupportedAlgorithm(CredentialError):
    """``alg`` is missing, not on the allow-list, or not the algorithm bound to the key."""

    code = "unsupported_algorithm"


class HeaderNotAllowed(CredentialError):
    """The protected header carries a member or value the profile forbids."""

    code = "header_not_allowed"


class InvalidKey(CredentialError):
    """A published key cannot be used: wrong type, too weak, private material, bad ``alg``."""

    code = "invalid_key"


class BadSignature(CredentialError):
    """The signature does not verify under the key the header points at."""

    code = "bad_signature"


class ClaimsMismatch(CredentialError):
    """JWT claims are of the wrong type or disagree with the credential they wrap."""

    code = "claims_mismatch"


class SchemaInvalid(CredentialError):
    """The credential does not validate against the Open Badges 3.0 JSON Schema."""

    code = "schema_invalid"

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message, errors=errors)
        self.errors = errors


class LegacyFormat(CredentialError):
    """A VC Data Model 1.1 JWT (credential inside a ``vc`` claim), which this profile does not accept."""

    code = "legacy_format"
