"""What every ``issuer`` command group shares: the context from the settings, and errors said on one line."""

from __future__ import annotations

import typer

from issuer.context import IssuerContext
from issuer.errors import IssuerError
from issuer.settings import get_settings


def context() -> IssuerContext:
    """The issuer's context, or exit 2 with the reason the settings cannot be used."""
    try:
        return IssuerContext.from_settings(get_settings())
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc


def fail(exc: IssuerError) -> typer.Exit:
    """Say what went wrong (and which fields) and exit 1."""
    message = exc.message + "".join(f"\n  {field['field']}: {field['message']}" for field in exc.fields)
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(1)
