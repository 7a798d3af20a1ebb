"""The verification pipeline: every rule of the product's verification section, in order, as a report.

An invalid credential is a normal result, never an exception that escapes: each step records a check,
and a step that fails stops the pipeline so no later step ever runs on something unchecked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from credentials.errors import ClaimsMismatch, CredentialError, LegacyFormat, MalformedToken, SchemaInvalid
from credentials.jose import MAX_TOKEN_BYTES, UnverifiedJWS, parse_compact, verify_signature
from credentials.ob3 import check_claims, issuer_id, summarize, validity_window
from credentials.schema import validate_credential
from verifier.remote import FetchError, fetch, origin
from verifier.report import Report
from verifier.trust import KeyResolver, KeysUnavailable, TrustList

log = logging.getLogger("verifier")


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Verifier:
    """Verifies compact VC-JWTs (or links to them) against a trust list; holds no per-credential state."""

    def __init__(
        self,
        trust: TrustList,
        resolver: KeyResolver,
        client: httpx.AsyncClient,
        *,
        leeway: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trust = trust
        self.resolver = resolver
        self._client = client
        self._leeway = leeway
        self._clock = clock

    async def verify(self, token: str, *, expected_id: str | None = None) -> Report:
        """Run every check on ``token``; ``expected_id`` is the credential id a link promised."""
        report = Report()
        try:
            await self._run(report, token, expected_id)
        except Exception:  # a defect must not turn into "valid" nor into a 500
            log.exception("verification crashed")
            report.unknown("internal", "internal_error", "The verifier hit an internal error; try again later.")
        return report.skip_rest()

    async def verify_reference(self, url: str) -> Report:
        """Fetch the credential a link names (only from a trusted issuer's site) and verify it."""
        report = Report()
        if origin(url) is None or origin(url) not in self.trust.origins():
            report.failed("retrieval", "untrusted_issuer", "The link does not lead to a trusted issuer's site.")
            return report.skip_rest()
        try:
            fetched = await fetch(self._client, url, "application/vc+jwt, application/jwt", MAX_TOKEN_BYTES)
        except FetchError as exc:
            if exc.status in (404, 410):
                report.failed("retrieval", "not_found", "The issuer has no such credential.")
            else:
                report.unknown(
                    "retrieval", "credential_unavailable", f"The credential could not be fetched: {exc.message}"
                )
            return report.skip_rest()
        report.passed("retrieval", "The credential was fetched from its issuer.")
        result = await self.verify(fetched.body.decode("ascii", "replace").strip(), expected_id=url)
        result.checks[:0] = report.checks
        return result

    async def _run(self, report: Report, token: str, expected_id: str | None) -> None:
        try:
            jws = parse_compact(token)
        except MalformedToken as exc:
            report.failed("format", exc.code, exc.message)
            return
        except CredentialError as exc:
            report.passed("format", "The token is a well-formed compact JWS.")
            report.failed("header", exc.code, exc.message)
            return
        report.passed("format", "The token is a well-formed compact JWS.")
        report.passed("header", f"The header uses {jws.alg} and only the allowed members.")
        claims = jws.unverified_claims

        issuer = claims.get("iss") if "iss" in claims else issuer_id(claims)
        if not isinstance(issuer, str):
            report.failed("issuer", "claims_mismatch", "The token does not name its issuer (iss).")
            return
        if not self.trust.is_trusted(issuer):
            report.failed(
                "issuer", "untrusted_issuer", f"The issuer {issuer[:200]} is not on this verifier's trust list."
            )
            return
        name = self.trust.issuers.get(issuer)
        report.passed("issuer", f"{name or issuer} is a trusted issuer.")

        if not await self._check_key_and_signature(report, jws, issuer):
            return
        report.credential = summarize(claims)

        try:
            check_claims(claims, jws.profile)
            if expected_id is not None and claims.get("id") != expected_id:
                raise ClaimsMismatch("The credential is not the one the link names.")
        except (ClaimsMismatch, LegacyFormat) as exc:
            report.failed("claims", exc.code, exc.message)
            return
        report.passed("claims", "The JWT claims match the credential.")

        try:
            validate_credential(claims)
        except SchemaInvalid as exc:
            report.failed("schema", exc.code, f"{exc.message} {'; '.join(exc.errors[:3])}")
            return
        report.passed("schema", "The credential matches the Open Badges 3.0 schema.")

        if not self._check_validity(report, claims):
            return
        self._check_status(report, claims)

    async def _check_key_and_signature(self, report: Report, jws: UnverifiedJWS, issuer: str) -> bool:
        try:
            keys = await self.resolver.keys_for(issuer, jws.kid)
        except KeysUnavailable as exc:
            report.unknown("key", "keys_unavailable", f"The issuer's keys could not be fetched: {exc}")
            return False
        if jws.kid is not None:
            key = keys.get(jws.kid)
            if key is None:
                report.failed("key", "unknown_key", "The issuer publishes no key with this key id (kid).")
                return False
            if key.alg != jws.alg:
                report.failed(
                    "key", "unsupported_algorithm", f"The key signs with {key.alg}, but the token says {jws.alg}."
                )
                return False
            candidates = [key]
        else:
            candidates = [key for key in keys.values() if key.alg == jws.alg]
            if not candidates:
                report.failed("key", "unknown_key", f"The token names no key and the issuer has no {jws.alg} key.")
                return False
        report.passed("key", f"The signing key is published by the issuer ({jws.alg}).")
        for key in candidates:
            try:
                verify_signature(jws, key)
            except CredentialError:
                continue
            report.passed("signature", "The signature is valid.")
            return True
        report.failed("signature", "bad_signature", "The signature does not match: the token was altered or forged.")
        return False

    def _check_validity(self, report: Report, claims: dict[str, Any]) -> bool:
        valid_from, valid_until = validity_window(claims)  # readable: the claims check parsed them
        now = self._clock()
        if valid_from is not None and now + self._leeway < valid_from.timestamp():
            report.failed("validity", "not_yet_valid", f"The credential is valid only from {_date(valid_from)}.")
            return False
        if valid_until is not None and now - self._leeway >= valid_until.timestamp():
            report.failed("validity", "expired", f"The credential expired on {_date(valid_until)}.")
            return False
        until = f" until {_date(valid_until)}" if valid_until else ""
        report.passed("validity", f"The credential is within its validity period{until}.")
        return True

    def _check_status(self, report: Report, claims: dict[str, Any]) -> None:
        if "credentialStatus" not in claims:
            report.skipped("status", "The credential has no revocation status list.", code="no_status_list")
            return
        report.unknown(
            "status",
            "status_unavailable",
            "Signature and issuer verified; revocation status could not be checked.",
        )
