"""The provider API: achievements and credentials, authenticated with API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status

from issuer import repository
from issuer.achievements import AchievementIn, create_achievement, list_achievements
from issuer.api.deps import ContextDep, PrincipalDep
from issuer.api.strict_json_route import StrictJSONRoute
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound
from issuer.issuance import CredentialRequest, StoredCredential, issue_credentials
from issuer.models import Credential
from issuer.revocation import RevokeRequest, revocation_status, revoke_for

MAX_OFFSET = 2**31 - 1
"""Larger offsets would overflow the database's integers; no provider holds that many credentials."""

router = APIRouter(prefix="/api/v1", tags=["provider API"], route_class=StrictJSONRoute)


def credential_view(ctx: IssuerContext, record: Credential | StoredCredential, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": ctx.urls.credential(record.id),
        "jwt": record.jwt,
        "links": ctx.urls.links(record.id),
    }
    if full:
        assert isinstance(record, Credential)
        view["issuedAt"] = record.issued_at.isoformat()
        view["status"] = revocation_status(ctx, record)
        view["credential"] = record.claims()
    return view


@router.post("/achievements", status_code=status.HTTP_201_CREATED)
def post_achievement(payload: AchievementIn, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Create an achievement (badge template) from Open Badges 3.0 fields; needs the ``manage`` scope."""
    principal.require("manage")
    return create_achievement(ctx, principal.provider, payload, principal.actor).document


@router.get("/achievements")
def get_achievements(ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    return {"items": [item.document for item in list_achievements(ctx, principal.provider_id)]}


@router.get("/achievements/{achievement_id}")
def get_achievement(achievement_id: str, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    with ctx.db.read() as session:
        found = repository.achievement(session, principal.provider_id, achievement_id)
    if found is None:
        raise NotFound("There is no such achievement for this provider.")
    return found.document


@router.post("/credentials", status_code=status.HTTP_201_CREATED)
def post_credential(
    payload: CredentialRequest,
    response: Response,
    ctx: ContextDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Issue one credential; needs the ``issue`` scope. Repeat with the same ``Idempotency-Key`` safely."""
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255 and idempotency_key.isprintable()):
        raise InvalidInput(
            "The Idempotency-Key header must be 1-255 printable characters.",
            fields=[{"field": "Idempotency-Key", "message": "1-255 printable characters"}],
        )
    [issued] = issue_credentials(ctx, principal, [payload], idempotency_key=idempotency_key)
    if issued.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return credential_view(ctx, issued.record)


@router.get("/credentials")
def get_credentials(
    ctx: ContextDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    with ctx.db.read() as session:
        records = repository.provider_credentials(session, principal.provider_id, limit, offset)
    return {"items": [credential_view(ctx, record) for record in records], "limit": limit, "offset": offset}


@router.get("/credentials/{credential_id}")
def get_credential(credential_id: str, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    with ctx.db.read() as session:
        record = repository.provider_credential(session, principal.provider_id, credential_id)
    if record is None:
        raise NotFound("There is no such credential for this provider.")
    return credential_view(ctx, record, full=True)


@router.post("/credentials/{credential_id}/revoke")
def post_revoke(
    credential_id: str, ctx: ContextDep, principal: PrincipalDep, payload: RevokeRequest | None = None
) -> dict[str, Any]:
    """Revoke a credential for good (``revoke`` scope). Revoking again changes nothing and answers the same."""
    revoked = revoke_for(ctx, principal, credential_id, payload.reason if payload else "")
    return {"id": ctx.urls.credential(revoked.record.id), **revocation_status(ctx, revoked.record)}
