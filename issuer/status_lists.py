"""Revocation status lists (W3C Bitstring Status List v1.0), one series per provider.

Indexes are drawn at random from the provider's current list inside the issuing transaction and are never
reused (a unique constraint backs this up). A list is regenerated and re-signed inside the transaction that
changes it, so what is served is always what was committed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from credentials import status_list
from credentials.jose import Signer, encode_compact
from credentials.ob3 import VC_CONTEXT, format_datetime, jwt_claims_for
from issuer import repository
from issuer.context import IssuerContext
from issuer.models import Provider, StatusList, utcnow

_random = secrets.SystemRandom()


def list_url(ctx: IssuerContext, slug: str, number: int) -> str:
    return f"{ctx.settings.public_url}/status/{slug}/{number}"


def status_entry(ctx: IssuerContext, slug: str, number: int, index: int) -> dict[str, str]:
    """The ``credentialStatus`` object a credential carries."""
    url = list_url(ctx, slug, number)
    return {
        "id": f"{url}#{index}",
        "type": status_list.ENTRY_TYPE,
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }


def signed_list(
    ctx: IssuerContext, provider: Provider, number: int, length: int, revoked: Sequence[int], signer: Signer
) -> str:
    """Build and sign the ``BitstringStatusListCredential`` with the revoked indexes set."""
    url = list_url(ctx, provider.slug, number)
    bits = status_list.set_bits(status_list.new_bitstring(length), revoked)
    document = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", status_list.LIST_TYPE],
        "issuer": ctx.urls.issuer_id(provider.slug),
        "validFrom": format_datetime(utcnow()),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": status_list.SUBJECT_TYPE,
            "statusPurpose": "revocation",
            "encodedList": status_list.encode(bits),
            "ttl": ctx.settings.status_list_ttl * 1000,  # milliseconds, as the specification counts
        },
    }
    document.update(jwt_claims_for(document))
    return encode_compact(document, signer)


def _draw_sparse(session: Session, current: StatusList, wanted: int) -> list[int]:
    """Rejection sampling against the database: cheap while the list is at most half full."""
    picked: set[int] = set()
    assert current.id is not None
    used = repository.used_status_indexes(session, current.id) if wanted > 1000 else None
    while len(picked) < wanted:
        candidates = {_random.randrange(current.length) for _ in range(2 * (wanted - len(picked)))} - picked
        if used is None:
            taken = repository.used_status_indexes(session, current.id, among=candidates)
        else:
            taken = used & candidates
        for index in candidates - taken:
            if len(picked) < wanted:
                picked.add(index)
    return list(picked)


def allocate(
    ctx: IssuerContext, session: Session, provider: Provider, count: int, signer: Signer
) -> list[tuple[StatusList, int]]:
    """Reserve ``count`` random, never-used indexes, starting new lists as the current one fills up.

    Must run inside the provider's serialized write transaction (``Database.write(serialize_on=...)``).
    """
    assert provider.id is not None
    allocated: list[tuple[StatusList, int]] = []
    current = repository.current_status_list(session, provider.id)
    while len(allocated) < count:
        if current is None or current.allocated >= current.length:
            number = 1 if current is None else current.number + 1
            length = ctx.settings.status_list_length
            current = StatusList(
                provider_id=provider.id,
                number=number,
                length=length,
                jwt=signed_list(ctx, provider, number, length, (), signer),
            )
            session.add(current)
            session.flush()
        assert current.id is not None
        wanted = min(count - len(allocated), current.length - current.allocated)
        if current.allocated + wanted <= current.length // 2:
            indexes = _draw_sparse(session, current, wanted)
        else:
            used = repository.used_status_indexes(session, current.id)
            free = [index for index in range(current.length) if index not in used]
            indexes = _random.sample(free, wanted)
        current.allocated += wanted
        session.add(current)
        allocated.extend((current, index) for index in indexes)
    return allocated


def refresh(
    ctx: IssuerContext, session: Session, provider: Provider, status_list_id: int, signer: Signer, now: datetime
) -> None:
    """Re-sign a list from the revocations committed so far (plus those pending in this transaction)."""
    session.flush()
    listed = session.get(StatusList, status_list_id)
    assert listed is not None
    revoked = repository.revoked_status_indexes(session, status_list_id)
    listed.jwt = signed_list(ctx, provider, listed.number, listed.length, revoked, signer)
    listed.updated_at = now
    session.add(listed)
