"""Revocation status lists (W3C Bitstring Status List v1.0), one series per provider.

Indexes are drawn at random from the provider's current list inside the issuing transaction and are never
reused (a unique constraint backs this up); drawing one takes the same time whether the list is empty or nearly
full. A list is regenerated and re-signed inside the transaction that changes it, so what is served is always
what was committed, and a refresh keeps every bit the last published list had set: a revocation cannot be
undone, not even by clearing it in the database.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import struct
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from credentials import status_list
from credentials.encoding import b64url_decode
from credentials.jose import Signer, encode_compact
from credentials.ob3 import VC_CONTEXT, format_datetime, jwt_claims_for
from issuer import repository
from issuer.context import IssuerContext
from issuer.models import Provider, StatusIndexPool, StatusList, table_of, utcnow
from issuer.urls import Urls

_random = secrets.SystemRandom()
log = logging.getLogger("issuer.status_lists")


def status_entry(urls: Urls, slug: str, number: int, index: int) -> dict[str, str]:
    """The ``credentialStatus`` object a credential carries."""
    url = urls.status_list(slug, number)
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
    return sign_bits(ctx, provider, number, status_list.set_bits(status_list.new_bitstring(length), revoked), signer)


def sign_bits(ctx: IssuerContext, provider: Provider, number: int, bits: bytearray, signer: Signer) -> str:
    """Sign the ``BitstringStatusListCredential`` of list ``number`` carrying ``bits``."""
    url = ctx.urls.status_list(provider.slug, number)
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


SPARSE_FILL = 4
"""Below 1/SPARSE_FILL full, indexes are drawn at random and checked against the database (fewer than 1.34
draws per index on average); from there on they come from the list's shuffled pool of free indexes."""
POOL_CHUNK = 4096
_POOL_ENTRY = struct.Struct("<I")


def _draw_sparse(session: Session, current: StatusList, wanted: int) -> list[int]:
    """Rejection sampling against the database: a few indexed lookups while the list is mostly empty."""
    picked: set[int] = set()
    assert current.id is not None
    # Reading every index handed out costs less than looking up twice as many candidates, as long as the list
    # holds at most a few times more than this draw wants (an API batch of many rows); a single credential looks
    # up two. (A cohort reserves its indexes ahead, from the pool.)
    used = repository.used_status_indexes(session, current.id) if current.allocated <= 16 * wanted else None
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


def _build_pool(session: Session, current: StatusList) -> None:
    """Store the list's free indexes in a random order, in chunks; done once per list, when it fills up."""
    assert current.id is not None
    used = repository.used_status_indexes(session, current.id)
    free = [index for index in range(current.length) if index not in used] if used else range(current.length)
    # A uniformly random order: each index sorted by a 64-bit key of its own from the operating system's CSPRNG
    # (a tie is harmless).
    keys = memoryview(os.urandom(8 * current.length)).cast("Q")
    order = sorted(free, key=keys.__getitem__)
    rows = [
        {
            "status_list_id": current.id,
            "chunk": number,
            "indexes": struct.pack(f"<{len(part)}I", *part),
        }
        for number, start in enumerate(range(0, len(order), POOL_CHUNK))
        if (part := order[start : start + POOL_CHUNK])
    ]
    if rows:
        session.execute(insert(table_of(StatusIndexPool)), rows)
    current.allocated = len(used)
    current.pool_start = len(used)


def _draw_pooled(session: Session, current: StatusList, wanted: int) -> list[int]:
    """The next ``wanted`` indexes of the pool: one or two chunk reads, however full the list is."""
    assert current.id is not None and current.pool_start is not None
    first = current.allocated - current.pool_start
    last = first + wanted - 1
    chunks = repository.pool_chunks(session, current.id, first // POOL_CHUNK, last // POOL_CHUNK)
    return [
        _POOL_ENTRY.unpack_from(chunks[position // POOL_CHUNK], (position % POOL_CHUNK) * _POOL_ENTRY.size)[0]
        for position in range(first, last + 1)
    ]


def allocate(
    ctx: IssuerContext, session: Session, provider: Provider, count: int, signer: Signer, *, ahead: bool = False
) -> list[tuple[StatusList, int]]:
    """Reserve ``count`` random, never-used indexes, starting new lists as the current one fills up.

    Must run inside the provider's serialized write transaction (``Database.write(serialize_on=...)``). While a
    list is sparse, random draws are checked against the credentials stored on it, so the credentials must be
    stored in the same transaction; ``ahead=True`` is for credentials stored by a later one (a cohort signs a
    batch between two): the indexes then come from the list's shuffled pool (built now if need be), whose
    positions the list's counter uses up, so none is handed out twice meanwhile.
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
        if current.pool_start is None and (ahead or current.allocated + wanted > current.length // SPARSE_FILL):
            _build_pool(session, current)
            wanted = min(count - len(allocated), current.length - current.allocated)
        if current.pool_start is None:
            indexes = _draw_sparse(session, current, wanted)
        else:
            indexes = _draw_pooled(session, current, wanted)
        current.allocated += wanted
        session.add(current)
        allocated.extend((current, index) for index in indexes)
    return allocated


def published_bits(listed: StatusList) -> bytearray:
    """The bitstring of the list as last signed and served (this issuer's own stored token)."""
    payload = json.loads(b64url_decode(listed.jwt.split(".")[1], "payload"))
    bits = status_list.decode(payload["credentialSubject"]["encodedList"], max_bytes=listed.length // 8)
    if len(bits) != listed.length // 8:
        raise ValueError("the stored status list has the wrong length")
    return bytearray(bits)


def refresh(
    ctx: IssuerContext, session: Session, provider: Provider, status_list_id: int, signer: Signer, now: datetime
) -> None:
    """Re-sign a list from the revocations committed so far (plus those pending in this transaction), keeping
    every bit the last published list had set."""
    session.flush()
    listed = session.get(StatusList, status_list_id)
    assert listed is not None
    revoked = repository.revoked_status_indexes(session, status_list_id)
    try:
        previous = published_bits(listed)
    except (ValueError, KeyError, TypeError, status_list.StatusListError):
        # Unreadable means someone wrote it by hand: `issuer audit verify` names it; the database's
        # revocations still go out.
        log.warning(
            "status list %s of provider %s could not be read back; re-signed from the database",
            listed.number,
            provider.slug,
        )
        previous = status_list.new_bitstring(listed.length)
    bits = status_list.set_bits(previous, revoked)
    listed.jwt = sign_bits(ctx, provider, listed.number, bits, signer)
    listed.updated_at = now
    session.add(listed)
