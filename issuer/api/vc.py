"""The W3C VC-API issuing endpoint (authenticated by API key like the provider API, checked at the gate)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from issuer.api.deps import ContextDep, PrincipalDep
from issuer.api.error_responses import responses
from issuer.api.strict_json_route import StrictJSONRoute
from issuer.vc_api import envelope, issue_posted

ISSUE_PATH = "/credentials/issue"
MAX_ISSUE_BODY = 128 * 1024
"""Largest body of a credential posted to be signed (a signed token may be 64 KiB)."""

router = APIRouter(tags=["W3C VC-API"], route_class=StrictJSONRoute, responses=responses(401, 429, 503))


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    credential: dict[str, Any] = Field(description="The unsecured credential; its issuer must be the provider's.")
    options: dict[str, Any] | None = Field(
        default=None, description="Accepted; options this issuer does not use are ignored."
    )


class EnvelopedCredential(BaseModel):
    context: list[str] = Field(alias="@context")
    id: str = Field(description="data:application/vc+jwt,<the signed credential>")
    type: str


@router.post(
    ISSUE_PATH,
    status_code=status.HTTP_201_CREATED,
    response_model=EnvelopedCredential,
    responses=responses(400, 403, 413, 422),
)
def issue_credential(payload: IssueRequest, ctx: ContextDep, principal: PrincipalDep) -> JSONResponse:
    """Sign the posted credential (``issue`` scope); the answer is the bare EnvelopedVerifiableCredential."""
    stored = issue_posted(ctx, principal, payload.credential)
    return JSONResponse(envelope(stored.jwt), status_code=status.HTTP_201_CREATED)
