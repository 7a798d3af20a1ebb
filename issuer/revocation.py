"""Revoking credentials: permanent, idempotent, and visible in the provider's status list at once.

The reason is kept with the credential and shown on its public page and record; it never enters the status
list (which only says *whether*) nor the audit log (free text may name a person).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from issuer import audit, deliveries, repository, status_lists
from issuer.api_keys import Principal
from issuer.context import IssuerContext
from issuer.errors import NotFound
from issuer.models import Credential, Provider
from issuer.urls import last_segment


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


@dataclass(frozen=True)
class Revoked:
    record: Credential
    changed: bool


def revoke(
    ctx: IssuerContext,
    provider: Provider,
    reference: str,
    reason: str,
    actor: str,
    *,
    replaced_by: str | None = None,
) -> Revoked:
    """Revoke one of ``provider``'s credentials; a second revoke changes nothing. Raises :class:`NotFound`."""
    assert provider.id is not None
    now = datetime.now(UTC)
    with ctx.db.write(serialize_on=provider.id) as session:
        record = repository.provider_credential(session, provider.id, last_segment(reference))
        if record is None:
            raise NotFound("There is no such credential for this provider.")
        if record.revoked_at is not None:
            return Revoked(record, changed=False)
        record.revoked_at = now
        record.revocation_reason = reason.strip() or None
        record.replaced_by = replaced_by
        session.add(record)
        if replaced_by is None:
            deliveries.erase(session, [record.id])
        if record.status_list_id is not None:
            _, signer = ctx.signer_for(session, provider, now)
            status_lists.refresh(ctx, session, provider, record.status_list_id, signer, now)
        audit.record(
            session,
            actor=actor,
            action="credential.revoked",
            subject=ctx.urls.credential(record.id),
            provider_id=provider.id,
            details={"status_index": record.status_index, "reissued": replaced_by is not None},
        )
    return Revoked(record, changed=True)


def revoke_many(ctx: IssuerContext, provider: Provider, references: Sequence[str], reason: str, actor: str) -> int:
    """Revoke several of ``provider``'s credentials with one reason, all or none, and return how many were newly
    revoked (those revoked before are left as they were). Each status list touched is re-signed once. Raises
    :class:`NotFound`, revoking nothing, when any of them is not the provider's."""
    assert provider.id is not None
    ids = list(dict.fromkeys(last_segment(reference) for reference in references))
    now = datetime.now(UTC)
    with ctx.db.write(serialize_on=provider.id) as session:
        records = [repository.provider_credential(session, provider.id, credential_id) for credential_id in ids]
        if any(record is None for record in records):
            raise NotFound("There is no such credential for this provider.")
        fresh = [record for record in records if record is not None and record.revoked_at is None]
        if not fresh:
            return 0
        for record in fresh:
            record.revoked_at = now
            record.revocation_reason = reason.strip() or None
            session.add(record)
        deliveries.erase(session, [record.id for record in fresh])
        lists = sorted({record.status_list_id for record in fresh if record.status_list_id is not None})
        if lists:
            _, signer = ctx.signer_for(session, provider, now)
            for status_list_id in lists:
                status_lists.refresh(ctx, session, provider, status_list_id, signer, now)
        for record in fresh:
            audit.record(
                session,
                actor=actor,
                action="credential.revoked",
                subject=ctx.urls.credential(record.id),
                provider_id=provider.id,
                details={"status_index": record.status_index, "reissued": False},
            )
    return len(fresh)


def revoke_for(ctx: IssuerContext, principal: Principal, reference: str, reason: str) -> Revoked:
    principal.require("revoke")
    return revoke(ctx, principal.provider, reference, reason, principal.actor)


def revocation_status(ctx: IssuerContext, record: Credential) -> dict[str, Any]:
    """What anyone may know about a credential's state: revoked or not, when, why, and its replacement."""
    status: dict[str, Any] = {"revoked": record.revoked_at is not None}
    if record.revoked_at is not None:
        status["revokedAt"] = record.revoked_at.isoformat()
        if record.revocation_reason:
            status["reason"] = record.revocation_reason
        if record.replaced_by:
            status["replacedBy"] = ctx.urls.credential(record.replaced_by)
    return status
