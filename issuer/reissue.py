"""Reissuing: re-sign credentials under the provider's active key and revoke the old copies.

Used after a key compromise (``issuer credentials reissue SLUG --kid KID``): the learner keeps the same
achievement, dates and identity; the new copy gets a new id and status entry, the old one points to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from credentials.jose import parse_compact
from credentials.ob3 import NUMERIC_DATE_CLAIMS
from issuer import audit, deliveries, repository, status_lists
from issuer.context import IssuerContext
from issuer.issuance import Draft, StoredCredential, sign_and_store
from issuer.models import Credential, Provider
from issuer.providers import get_provider
from issuer.urls import last_segment

BATCH = 500
_JWT_CLAIMS = ("iss", "jti", "sub", *NUMERIC_DATE_CLAIMS)


@dataclass(frozen=True)
class Reissued:
    old_id: str
    new_id: str


def reissue(
    ctx: IssuerContext,
    slug: str,
    *,
    kid: str | None = None,
    credential_ids: list[str] | None = None,
    actor: str = "cli",
) -> list[Reissued]:
    """Reissue every unrevoked credential of ``slug`` signed with ``kid`` (or the listed ids)."""
    provider = get_provider(ctx, slug)
    assert provider.id is not None
    ids = [last_segment(reference) for reference in credential_ids] if credential_ids is not None else None
    kid = last_segment(kid) if kid is not None else None  # the key's URL or its thumbprint
    with ctx.db.read() as session:
        old_records = repository.unrevoked_credentials(session, provider.id, kid=kid, ids=ids)
    done: list[Reissued] = []
    for start in range(0, len(old_records), BATCH):
        done.extend(_reissue_batch(ctx, provider, old_records[start : start + BATCH], actor))
    return done


def _reissue_batch(ctx: IssuerContext, provider: Provider, batch: list[Credential], actor: str) -> list[Reissued]:
    assert provider.id is not None
    now = datetime.now(UTC)
    drafts = []
    for record in batch:
        document = {name: value for name, value in record.claims().items() if name not in _JWT_CLAIMS}
        document.pop("credentialStatus", None)
        new_id = str(uuid.uuid4())
        document["id"] = ctx.urls.credential(new_id)
        drafts.append(
            Draft(
                new_id,
                document,
                record.achievement_id,
                record.recipient_key,
                learner_name=record.learner_name,
                email_key=record.email_key,
                external_id=record.external_id,
                cohort_id=record.cohort_id,
            )
        )
    # Each copy is signed the way the original was: an Open Badges VC-JWT, or a vc+jwt posted through the VC-API.
    profiles = [parse_compact(record.jwt).profile for record in batch]
    with ctx.db.write(serialize_on=provider.id) as session:
        new_records: list[StoredCredential] = [None] * len(batch)  # type: ignore[list-item]
        for profile in ("ob3", "vc-jose-cose"):
            rows = [row for row, used in enumerate(profiles) if used == profile]
            if rows:
                signed = sign_and_store(
                    ctx, session, provider, [drafts[row] for row in rows], now, actor, profile=profile
                )
                for row, copy in zip(rows, signed, strict=True):
                    new_records[row] = copy
        _, signer = ctx.signer_for(session, provider, now)
        lists = set()
        replaced: set[str] = set()
        for old, new in zip(batch, new_records, strict=True):
            current = session.get(Credential, old.id)
            if current is None or current.revoked_at is not None:
                continue  # revoked meanwhile: leave it
            replaced.add(old.id)
            current.revoked_at = now
            current.revocation_reason = f"Reissued as {ctx.urls.credential(new.id)}"
            current.replaced_by = new.id
            session.add(current)
            if current.status_list_id is not None:
                lists.add(current.status_list_id)
            audit.record(
                session,
                actor=actor,
                action="credential.reissued",
                subject=ctx.urls.credential(old.id),
                provider_id=provider.id,
                details={"replaced_by": new.id, "old_kid": old.kid, "new_kid": new.kid},
            )
        deliveries.carry_over(
            ctx, session, [(old.id, new.id) for old, new in zip(batch, new_records, strict=True) if old.id in replaced]
        )
        for status_list_id in sorted(lists):
            status_lists.refresh(ctx, session, provider, status_list_id, signer, now)
    return [Reissued(old.id, new.id) for old, new in zip(batch, new_records, strict=True)]
