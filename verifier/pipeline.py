"""The verification pipeline: every rule of the product's verification section, in order, as a report.

An invalid credential is a normal result, never an exception that escapes: each step records a check,
and a step that fails stops the pipeline so no later step ever runs on something unchecked.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from credentials.errors import (
    ClaimsMismatch,
    CredentialError,
    InvalidKey,
    LegacyFormat,
    MalformedToken,
    SchemaInvalid,
)
from credentials.jose import MAX_TOKEN_BYTES, UnverifiedJWS, parse_compact, verify_signature
from credentials.keys import VerificationKey, thumbprint
from credentials.ob3 import (
    check_claims,
    is_open_badge,
    issuer_id,
    summarize,
    unknown_ob_context,
    validity_window,
)
from credentials.schema import validate_credential
from credentials.status_list import StatusListError
from credentials.vcdm import check_data_model
from verifier.links import credential_link_problem, expand_short_link
from verifier.remote import Fetcher, FetchError, origin, site_of
from verifier.report import Report
from verifier.status import StatusChecker, StatusResult
from verifier.trust import KeyResolver, KeysUnavailable, TrustList

log = logging.getLogger("verifier")

MAX_STATUS_ENTRIES = 4
"""Status entries of one credential that are checked (one per purpose is what issuers publish); a credential with
more is indeterminate rather than a way to make the verifier fetch without end."""


def _signs(jws: UnverifiedJWS, key: VerificationKey) -> bool:
    try:
        verify_signature(jws, key)
    except CredentialError:
        return False
    return True


def _date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class Verifier:
    """Verifies compact VC-JWTs (or links to them) against a trust list; holds no per-credential state."""

    def __init__(
        self,
        trust: TrustList,
        resolver: KeyResolver,
        status: StatusChecker,
        fetcher: Fetcher,
        *,
        leeway: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trust = trust
        self.resolver = resolver
        self.status = status
        self._fetcher = fetcher
        self._leeway = leeway
        self._clock = clock

    async def aclose(self) -> None:
        """Stop background refreshes (the app is shutting down)."""
        await self.status.aclose()
        await self.resolver.aclose()
        if self.trust.registry is not None:
            await self.trust.registry.aclose()

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
        """Fetch the credential a link names (only a credential link of a trusted issuer) and verify it."""
        report = Report()
        url = expand_short_link(url)
        if origin(url) is None or origin(url) not in await self.trust.origins():
            report.failed("retrieval", "untrusted_issuer", "The link does not lead to a trusted issuer's site.")
            return report.skip_rest()
        problem = credential_link_problem(url, await self.trust.all_issuer_ids())
        if problem is not None:
            report.failed("retrieval", "unsupported_link", problem)
            return report.skip_rest()
        try:
            fetched = await self._fetcher.get(url, "application/vc+jwt, application/jwt", MAX_TOKEN_BYTES)
        except FetchError as exc:
            if exc.not_found:
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
        decision = await self.trust.decide(issuer)
        if decision.trusted is None:
            report.unknown(
                "issuer",
                "registry_unavailable",
                f"Whether {issuer[:200]} is trusted cannot be told: {decision.reason}.",
            )
            return
        if not decision.trusted:
            report.failed("issuer", "untrusted_issuer", f"The issuer {issuer[:200]} is not trusted: {decision.reason}.")
            return
        report.issuer_name = decision.name
        # Only the trust list's own name is shown here: the token's claims are not verified yet.
        label = f"{decision.name} ({issuer})" if decision.name else issuer
        report.passed("issuer", f"{label} is a trusted issuer.")

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

        if not self._check_schema(report, claims):
            return

        self._check_validity(report, claims)
        # Out of its dates or not, a genuine credential's revocation is worth telling: expired is not revoked.
        await self._check_status(report, claims, issuer)

    async def _check_key_and_signature(self, report: Report, jws: UnverifiedJWS, issuer: str) -> bool:
        stale = ""
        try:
            found = await self.resolver.lookup(issuer, jws.kid)
        except KeysUnavailable as exc:
            report.unknown("key", "keys_unavailable", f"The issuer's keys could not be fetched: {exc}")
            return False
        keys = found.keys
        if found.stale:
            stale = " (its last known keys: the issuer cannot be reached now)"
            report.keys_stale = True
        embedded = jws.unverified_header.get("jwk")
        named: VerificationKey | None = None
        if isinstance(embedded, dict):
            # Only ever a pointer to one of the issuer's own keys: the key used is the published one.
            try:
                named = keys.get(thumbprint(embedded))
            except InvalidKey:
                named = None
            by_kid = keys.get(jws.kid) if jws.kid is not None else named
            # kid and jwk may both be given (RFC 7515): they must name the same key, by its thumbprint, since
            # one published key can be reached under several names (JWKS entry, kid URL, DID URL).
            if named is None or by_kid is None or by_kid.thumbprint != named.thumbprint:
                report.failed(
                    "key", "unknown_key", "The key embedded in the header (jwk) is not one the issuer publishes."
                )
                return False
        elif jws.kid is not None:
            named = keys.get(jws.kid)
            if named is None:
                report.failed("key", "unknown_key", "The issuer publishes no key with this key id (kid).")
                return False
        if named is not None:
            key = named
            if key.alg != jws.alg:
                report.failed(
                    "key", "unsupported_algorithm", f"The key signs with {key.alg}, but the token says {jws.alg}."
                )
                return False
            candidates = [key]
        else:
            # The same key may be listed under several names (kid, thumbprint): try each once.
            candidates = list({id(key): key for key in keys.values() if key.alg == jws.alg}.values())
            if not candidates:
                report.failed("key", "unknown_key", f"The token names no key and the issuer has no {jws.alg} key.")
                return False
        compromised = [key for key in candidates if key.compromised_at is not None]
        if compromised and len(compromised) == len(candidates):
            when = compromised[0].compromised_at
            since = f" on {_date(datetime.fromtimestamp(when, UTC))}" if when else ""
            report.failed(
                "key",
                "key_compromised",
                f"The issuer reported the signing key as compromised{since}; "
                "nothing signed with it can be trusted, whatever its dates say.",
            )
            if any(_signs(jws, key) for key in compromised):
                # Signed with that key indeed: the issuer may have reissued it under a new one, and its public
                # record of the credential points to the new copy.
                credential_id = jws.unverified_claims.get("id")
                report.revocation = await self._revocation_detail(credential_id, issuer) or None
            return False
        candidates = [key for key in candidates if key.compromised_at is None]
        report.passed("key", f"The signing key is published by the issuer ({jws.alg}){stale}.")
        if any(_signs(jws, key) for key in candidates):
            report.passed("signature", "The signature is valid.")
            return True
        report.failed("signature", "bad_signature", "The signature does not match: the token was altered or forged.")
        return False

    def _check_schema(self, report: Report, claims: dict[str, Any]) -> bool:
        if not is_open_badge(claims):
            try:
                check_data_model(claims)
            except SchemaInvalid as exc:
                report.failed("schema", exc.code, f"{exc.message} {'; '.join(exc.errors[:3])}")
                return False
            report.passed(
                "schema",
                "The credential follows the VC Data Model 2.0 (it is not an Open Badge).",
                code="vc_data_model",
            )
            return True
        newer = unknown_ob_context(claims)
        if newer is not None:
            report.unknown(
                "schema",
                "unsupported_context",
                f"The credential follows a version of Open Badges this verifier does not know ({newer[-20:]}), "
                "so it cannot be checked.",
            )
            return False
        try:
            validate_credential(claims)
        except SchemaInvalid as exc:
            report.failed("schema", exc.code, f"{exc.message} {'; '.join(exc.errors[:3])}")
            return False
        report.passed("schema", "The credential matches the Open Badges 3.0 schema.")
        return True

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

    async def _check_status(self, report: Report, claims: dict[str, Any], issuer: str) -> None:
        if "credentialStatus" not in claims:
            if report.keys_stale:
                report.unknown(
                    "status",
                    "status_unavailable",
                    "Signature and issuer verified with the issuer's last known keys; the issuer cannot be "
                    "reached, so the credential could not be confirmed.",
                )
                return
            report.skipped("status", "The credential has no revocation status list.", code="no_status_list")
            return
        # One entry, or several (VC 2.0 allows a list, e.g. one for revocation and one for suspension).
        given = claims["credentialStatus"]
        entries = given if isinstance(given, list) else [given]
        results: list[StatusResult] = []
        problems: list[str] = []
        for entry in entries[:MAX_STATUS_ENTRIES]:
            try:
                results.append(await self.status.check(entry, issuer))
            except StatusListError as exc:
                problems.append(exc.message)
        if len(entries) > MAX_STATUS_ENTRIES:
            problems.append(f"The credential has more than {MAX_STATUS_ENTRIES} status entries.")
        revoked = [result for result in results if result.set and result.purpose == "revocation"]
        if revoked:
            # A revocation stays a revocation, whatever else could not be checked and however old the list.
            await self._report_revoked(report, claims, issuer)
            return
        if problems or not entries:
            problem = problems[0] if problems else "The credential's status list is empty."
            report.unknown(
                "status",
                "status_unavailable",
                f"Signature and issuer verified; revocation status could not be checked. {problem}",
            )
            return
        if any(result.stale for result in results):
            # Anything but a revocation that an old copy of a list says may have changed.
            report.unknown(
                "status",
                "status_unavailable",
                "Signature and issuer verified; revocation status could not be checked. The issuer's status "
                "list could not be refreshed and its last copy has expired.",
            )
            return
        if any(result.set and result.purpose == "suspension" for result in results):
            report.failed("status", "suspended", "The issuer has suspended this credential.")
            return
        if report.keys_stale:
            # Keys from a stale copy cannot tell whether the key was since reported compromised.
            report.unknown(
                "status",
                "status_unavailable",
                "Signature and issuer verified with the issuer's last known keys; the issuer cannot be "
                "reached, so the revocation status could not be checked.",
            )
            return
        report.passed("status", "The issuer's status list shows the credential is not revoked.")

    async def _report_revoked(self, report: Report, claims: dict[str, Any], issuer: str) -> None:
        detail = await self._revocation_detail(claims.get("id"), issuer)
        report.revocation = detail
        when = f" on {detail['revokedAt'][:10]}" if detail.get("revokedAt") else ""
        why = f" Reason: {detail['reason']}" if detail.get("reason") else ""
        report.failed("status", "revoked", f"The issuer revoked this credential{when}.{why}")

    async def _revocation_detail(self, credential_id: object, issuer: str) -> dict[str, str]:
        """Date and reason from the issuer's public record of the credential; best effort, never required."""
        if not isinstance(credential_id, str) or origin(credential_id) != site_of(issuer):
            return {}
        try:
            fetched = await self._fetcher.get(f"{credential_id}/status", "application/json", 16 * 1024)
            document = json.loads(fetched.body)
        except (FetchError, ValueError):
            return {}
        if not isinstance(document, dict):
            return {}
        return {name: str(document[name])[:500] for name in ("revokedAt", "reason", "replacedBy") if document.get(name)}
