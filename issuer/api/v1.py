"""The provider API: achievements and credentials, authenticated with API keys (checked by ``issuer.api.gate``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from issuer import repository
from issuer.achievements import AchievementIn, create_achievement, list_achievements, set_image
from issuer.api.deps import ContextDep, PrincipalDep
from issuer.api.error_responses import responses
from issuer.api.schemas import AchievementList, CredentialDetail, CredentialPage, IssuedCredential, Revoked
from issuer.api.strict_json_route import StrictJSONRoute
from issuer.context import IssuerContext
from issuer.errors import NotFound
from issuer.issuance import CredentialRequest, StoredCredential, issue_credentials
from issuer.models import Credential
from issuer.providers import profile_document, set_logo
from issuer.revocation import RevokeRequest, revocation_status, revoke_for

MAX_OFFSET = 2**31 - 1
"""Larger offsets would overflow the database's integers; no provider holds that many credentials."""
IDEMPOTENCY_KEY = r"^[\x20-\x7e]{1,255}$"
"""1-255 printable ASCII characters (what an HTTP header carries safely)."""

# Every route here may also be refused at the gate (401, 429) or find the database unavailable (503).
router = APIRouter(
    prefix="/api/v1",
    tags=["provider API"],
    route_class=StrictJSONRoute,
    responses=responses(401, 429, 503),
)
WITH_BODY = responses(400, 413, 422)


def credential_view(ctx: IssuerContext, record: Credential | StoredCredential) -> IssuedCredential:
    return IssuedCredential.model_validate(
        {"id": ctx.urls.credential(record.id), "jwt": record.jwt, "links": ctx.urls.links(record.id)}
    )


@router.post("/achievements", status_code=status.HTTP_201_CREATED, responses={**WITH_BODY, **responses(403)})
def post_achievement(payload: AchievementIn, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Create an achievement (badge template) from Open Badges 3.0 fields; needs the ``manage`` scope."""
    principal.require("manage")
    return create_achievement(ctx, principal.provider, payload, principal.actor).document


@router.get("/achievements")
def get_achievements(ctx: ContextDep, principal: PrincipalDep) -> AchievementList:
    return AchievementList(items=[item.document for item in list_achievements(ctx, principal.provider_id)])


@router.get("/achievements/{achievement_id}", responses=responses(404))
def get_achievement(achievement_id: str, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    with ctx.db.read() as session:
        found = repository.achievement(session, principal.provider_id, achievement_id)
    if found is None:
        raise NotFound("There is no such achievement for this provider.")
    return found.document


@router.post(
    "/credentials",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {
            "description": "Issued (or, for a repeated Idempotency-Key, the credential issued the first time).",
            "headers": {"Idempotent-Replayed": {"description": "true on a replay", "schema": {"type": "string"}}},
        },
        **WITH_BODY,
        **responses(403, 404, 409),
    },
)
def post_credential(
    payload: CredentialRequest,
    response: Response,
    ctx: ContextDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)] = None,
) -> IssuedCredential:
    """Issue one credential; needs the ``issue`` scope. Repeat with the same ``Idempotency-Key`` safely."""
    [issued] = issue_credentials(ctx, principal, [payload], idempotency_key=idempotency_key)
    if issued.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return credential_view(ctx, issued.record)


@router.get("/credentials", responses=responses(422))
def get_credentials(
    ctx: ContextDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CredentialPage:
    with ctx.db.read() as session:
        records = repository.provider_credentials(session, principal.provider_id, limit, offset)
    return CredentialPage(items=[credential_view(ctx, record) for record in records], limit=limit, offset=offset)


@router.get("/credentials/{credential_id}", responses=responses(404), response_model_exclude_none=True)
def get_credential(credential_id: str, ctx: ContextDep, principal: PrincipalDep) -> CredentialDetail:
    with ctx.db.read() as session:
        record = repository.provider_credential(session, principal.provider_id, credential_id)
    if record is None:
        raise NotFound("There is no such credential for this provider.")
    return CredentialDetail.model_validate(
        {
            **credential_view(ctx, record).model_dump(),
            "issuedAt": record.issued_at.isoformat(),
            "status": revocation_status(ctx, record),
            "credential": record.claims(),
        }
    )


@router.post(
    "/credentials/{credential_id}/revoke",
    responses={**WITH_BODY, **responses(403, 404)},
    response_model_exclude_none=True,
)
def post_revoke(
    credential_id: str, ctx: ContextDep, principal: PrincipalDep, payload: RevokeRequest | None = None
) -> Revoked:
    """Revoke a credential for good (``revoke`` scope). Revoking again changes nothing and answers the same."""
    revoked = revoke_for(ctx, principal, credential_id, payload.reason if payload else "")
    return Revoked.model_validate(
        {"id": ctx.urls.credential(revoked.record.id), **revocation_status(ctx, revoked.record)}
    )


IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
IMAGE_PATH = "/api/v1/achievements/{achievement_id}/image"


@router.put(
    IMAGE_PATH.removeprefix("/api/v1"),
    responses={**responses(403, 404, 413, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The image itself: PNG, JPEG or SVG, up to 1 MiB, at least 64×64 pixels.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in IMAGE_TYPES},
        }
    },
)
async def put_achievement_image(
    achievement_id: str, request: Request, ctx: ContextDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Set the achievement's image (the badge people see); needs the ``manage`` scope. PNG and JPEG are
    re-encoded as PNG, SVG is sanitised; credentials issued from now on show it, earlier ones keep theirs."""
    principal.require("manage")
    data = await request.body()
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower() or None
    record = await run_in_threadpool(
        set_image, ctx, principal.provider, achievement_id, data, declared, principal.actor
    )
    return record.document


LOGO_PATH = "/api/v1/profile/image"


@router.put(
    LOGO_PATH.removeprefix("/api/v1"),
    responses={**responses(403, 413, 422)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The logo itself: PNG, JPEG or SVG, up to 1 MiB, at least 64×64 pixels.",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in IMAGE_TYPES},
        }
    },
)
async def put_logo(request: Request, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Set the provider's logo, shown on its profile and beside its name on learners' pages; needs ``manage``.
    Cleaned like an achievement's image; credentials issued from now on name it in their issuer."""
    principal.require("manage")
    data = await request.body()
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower() or None
    provider = await run_in_threadpool(set_logo, ctx, principal.provider, data, declared, principal.actor)
    return profile_document(ctx, provider, with_context=False)
