"""FastAPI dependencies: the issuer context and the calling provider."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from issuer.api_keys import Principal, authenticate
from issuer.context import IssuerContext


def get_context(request: Request) -> IssuerContext:
    context: IssuerContext = request.app.state.context
    return context


ContextDep = Annotated[IssuerContext, Depends(get_context)]


def get_principal(ctx: ContextDep, authorization: Annotated[str | None, Header()] = None) -> Principal:
    return authenticate(ctx, authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
