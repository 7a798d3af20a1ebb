"""Operator commands: ``issuer init | providers add | api-keys add | demo | serve``."""

from __future__ import annotations

import contextlib
import json
import shlex
from typing import Annotated

import typer

from issuer import repository
from issuer.achievements import AchievementIn, create_achievement
from issuer.api_keys import SCOPES, Principal, create_api_key
from issuer.context import IssuerContext
from issuer.errors import AlreadyExists, IssuerError
from issuer.migrate import upgrade
from issuer.providers import create_provider, get_provider
from issuer.settings import get_settings

app = typer.Typer(help="Odznaka issuer: set up, manage providers and keys, and serve the API.", no_args_is_help=True)
providers_app = typer.Typer(help="Training providers.", no_args_is_help=True)
api_keys_app = typer.Typer(help="API keys of a provider.", no_args_is_help=True)
app.add_typer(providers_app, name="providers")
app.add_typer(api_keys_app, name="api-keys")

DEMO_SLUG = "demo"


def _context() -> IssuerContext:
    try:
        return IssuerContext.from_settings(get_settings())
    except IssuerError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        raise typer.Exit(2) from exc


def _fail(exc: IssuerError) -> typer.Exit:
    message = exc.message + "".join(f"\n  {field['field']}: {field['message']}" for field in exc.fields)
    typer.secho(f"error: {message}", err=True, fg="red")
    return typer.Exit(1)


@app.command()
def init() -> None:
    """Create or upgrade the database (safe to run again)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url)
    typer.echo(f"database ready: {settings.sqlalchemy_url.split('@')[-1]}")


@providers_app.command("add")
def providers_add(
    slug: str,
    name: Annotated[str, typer.Option(help="Display name of the provider.")],
    url: Annotated[str | None, typer.Option(help="Home page.")] = None,
    email: Annotated[str | None, typer.Option(help="Contact e-mail of the provider.")] = None,
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 country code, e.g. PL.")] = None,
    region: Annotated[str | None, typer.Option(help="Region, e.g. lubelskie.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a training provider with its first signing key."""
    ctx = _context()
    try:
        provider = create_provider(
            ctx, slug, name=name, url=url, email=email, country=country, region=region, description=description
        )
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"provider {provider.slug}: issuer id {ctx.urls.issuer_id(provider.slug)}")


@api_keys_app.command("add")
def api_keys_add(
    slug: str,
    scope: Annotated[list[str] | None, typer.Option(help=f"Repeat for several: {', '.join(SCOPES)}.")] = None,
) -> None:
    """Create an API key for a provider; it is printed once, as the last line."""
    ctx = _context()
    try:
        key = create_api_key(ctx, slug, scope or list(SCOPES))
    except IssuerError as exc:
        raise _fail(exc) from exc
    typer.echo(f"API key for {slug} (scopes: {' '.join(sorted(scope or SCOPES))}); it is shown only now:")
    typer.echo(key)


DEMO_ACHIEVEMENT = {
    "name": "Analiza danych w Excelu i Power BI",
    "description": "Uczestnik przygotowuje, analizuje i wizualizuje dane biznesowe w Excelu i Power BI.",
    "criteria": {"narrative": "Ukończenie 24-godzinnego kursu i zaliczenie projektu końcowego."},
    "fieldOfStudy": "Analiza danych",
    "inLanguage": "pl",
    "tag": ["dane", "Power BI", "Kompetencje jutra"],
    "microCredential": {
        "learningOutcomes": [
            "Importuje i czyści dane z wielu źródeł",
            "Buduje raport w Power BI z miarami DAX",
        ],
        "ects": 1,
        "eqfLevel": 5,
        "prkLevel": 5,
        "assessment": "Projekt końcowy oceniany przez trenera",
        "participation": "blended",
        "qualityAssurance": "Wewnętrzny system zapewniania jakości dostawcy szkoleń",
    },
}


@app.command()
def demo() -> None:
    """Set up a demo provider with an achievement and print an API key and a curl that issues a badge."""
    init()
    ctx = _context()
    with contextlib.suppress(AlreadyExists):
        create_provider(
            ctx,
            DEMO_SLUG,
            name="Centrum Szkoleń Demo",
            url="https://lublin.eu/",
            email="kontakt@example.org",
            country="PL",
            region="lubelskie",
            description="Demonstration training provider of the Kompetencje jutra programme.",
        )
    provider = get_provider(ctx, DEMO_SLUG)
    principal = Principal(provider, frozenset(SCOPES), "cli")
    with ctx.db.read() as session:
        existing = repository.achievements(session, principal.provider_id)
    achievement = (
        existing[0]
        if existing
        else create_achievement(ctx, provider, AchievementIn.model_validate(DEMO_ACHIEVEMENT), "cli")
    )
    key = create_api_key(ctx, DEMO_SLUG, list(SCOPES))
    body = {"achievement": achievement.document["id"], "recipient": {"name": "Anna Nowak", "email": "anna@example.org"}}
    typer.echo(f"issuer id:  {ctx.urls.issuer_id(DEMO_SLUG)}")
    typer.echo(f"API key:    {key}")
    typer.echo("issue a badge:")
    typer.echo(
        f"  curl -sS -X POST {ctx.settings.public_url}/api/v1/credentials "
        f"-H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
        f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the issuer API and pages."""
    import uvicorn

    _context().load_signing_keys()  # refuse to start with an unreadable key, before binding the port
    uvicorn.run("issuer.app:create_app", factory=True, host=host, port=port, workers=workers)
