"""What a verification answers: a verdict and every check, each with a stable code and a human sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Verdict = Literal["valid", "invalid", "indeterminate"]
Status = Literal["passed", "failed", "skipped", "unknown"]
Outcome = Literal[
    "valid",
    "revoked",
    "suspended",
    "expired",
    "not_yet_valid",
    "key_compromised",
    "forged",
    "untrusted",
    "not_found",
    "not_a_credential",
    "indeterminate",
]

_OUTCOME_OF_FAILURE: dict[str, Outcome] = {
    # The failure that names what happened, most telling first: a revocation outranks an expiry.
    "revoked": "revoked",
    "suspended": "suspended",
    "key_compromised": "key_compromised",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
    "untrusted_issuer": "untrusted",
    "not_found": "not_found",
    "malformed": "not_a_credential",
    "unsupported_link": "not_a_credential",
    "legacy_format": "not_a_credential",
}

CHECKS = ("format", "header", "issuer", "key", "signature", "claims", "schema", "validity", "status")
"""Every check, in the order they run. A check after a failed or unknown one is reported as skipped."""


@dataclass(slots=True)
class Check:
    id: str
    status: Status
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status, "code": self.code, "message": self.message}


@dataclass(slots=True)
class Report:
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    issuer_name: str | None = None
    revocation: dict[str, str] | None = None
    keys_stale: bool = False
    """The signature was checked with an expired copy of the issuer's keys (the issuer was unreachable)."""
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def passed(self, check_id: str, message: str, code: str = "ok") -> None:
        self.checks.append(Check(check_id, "passed", code, message))

    def failed(self, check_id: str, code: str, message: str) -> None:
        self.checks.append(Check(check_id, "failed", code, message))

    def unknown(self, check_id: str, code: str, message: str) -> None:
        self.checks.append(Check(check_id, "unknown", code, message))

    def skipped(self, check_id: str, message: str, code: str = "not_checked") -> None:
        self.checks.append(Check(check_id, "skipped", code, message))

    def skip_rest(self) -> Report:
        done = {check.id for check in self.checks}
        for check_id in CHECKS:
            if check_id not in done:
                self.skipped(check_id, "Not checked because an earlier check did not pass.")
        return self

    @property
    def verdict(self) -> Verdict:
        statuses = {check.status for check in self.checks}
        if "failed" in statuses:
            return "invalid"
        if "unknown" in statuses:
            return "indeterminate"
        return "valid"

    @property
    def outcome(self) -> Outcome:
        """What a person needs to know first: valid, or which way it is not (any other failure: forged)."""
        verdict = self.verdict
        if verdict != "invalid":
            return verdict
        failures = {check.code for check in self.checks if check.status == "failed"}
        for code, outcome in _OUTCOME_OF_FAILURE.items():
            if code in failures:
                return outcome
        return "forged"

    def as_dict(self) -> dict[str, Any]:
        credential = self.credential
        if credential is not None:
            credential = {**credential, "registryName": self.issuer_name}
            if self.revocation is not None:
                credential["revocation"] = self.revocation
        return {
            "verdict": self.verdict,
            "outcome": self.outcome,
            "checkedAt": self.checked_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "checks": [check.as_dict() for check in self.checks],
            "credential": credential,
        }
