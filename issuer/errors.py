"""The issuer's error tree. Each error carries a stable ``code``; HTTP statuses live only in ``issuer.app``."""

from __future__ import annotations

from typing import Any


class IssuerError(Exception):
    code = "error"

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        """Which request fields are at fault: ``[{"field": "recipient.email", "message": "…"}]``."""
        self.details = details


class ConfigurationError(IssuerError):
    """The service is configured in a way it cannot run with (missing passphrase, unreadable key)."""

    code = "configuration_error"


class MalformedRequest(IssuerError):
    """The request body cannot be read as strict JSON; ``fields`` names where, when that is known."""

    code = "malformed_request"


class NotAuthenticated(IssuerError):
    code = "not_authenticated"


class PermissionDenied(IssuerError):
    code = "permission_denied"


class NotFound(IssuerError):
    code = "not_found"


class Withdrawn(IssuerError):
    """The credential is revoked or its key compromised: no artefact presents it as current any more."""

    code = "withdrawn"


class InvalidInput(IssuerError):
    """A request that was read but cannot be carried out; ``fields`` names each offending field."""

    code = "invalid_input"


class IdempotencyConflict(IssuerError):
    code = "idempotency_key_reused"


class RefusedCredential(IssuerError):
    """A credential posted to be signed that cannot be (VC-API: "invalid input"); ``fields`` names the part."""

    code = "invalid_credential"


class AlreadyExists(IssuerError):
    code = "already_exists"


class AlreadyIssued(IssuerError):
    code = "already_issued"


def schema_fields(errors: list[str], prefix: str = "") -> list[dict[str, str]]:
    """Turn ``SchemaInvalid.errors`` (``"field: message"``) into ``fields`` entries, optionally under ``prefix``."""
    fields = []
    for error in errors:
        field, _, message = error.partition(": ")
        fields.append({"field": f"{prefix}.{field}" if prefix else field, "message": message})
    return fields
