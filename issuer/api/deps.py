"""FastAPI dependencies: the issuer context and the calling provider."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from issuer.api_keys import Principal
from issuer.context import IssuerContext
from issuer.errors import NotAuthenticated


def get_context(request: Request) -> IssuerContext:
    context: IssuerContext = request.app.state.context
    return context


ContextDep = Annotated[IssuerContext, Depends(get_context)]

# Declares the scheme in the OpenAPI document; the key itself is checked by issuer.api.gate, before the body.
_bearer = HTTPBearer(auto_error=False, description="An API key of the provider: `Authorization: Bearer odz_…`.")


def get_principal(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None
) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise NotAuthenticated("Send an API key as 'Authorization: Bearer <key>'.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
