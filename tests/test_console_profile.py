"""The provider's profile in the console: name, website, public e-mail, a description in each language and the
logo; problems named by field; read-only for viewers; out of reach of other providers."""

from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import select

from issuer.context import IssuerContext
from issuer.migrate import alembic_config, upgrade
from issuer.models import AuditEntry, Provider, ProviderImage
from issuer.providers import description_in
from tests.conftest import ProviderFixture, add_provider, add_staff, console_client, csrf_of

PROFILE_FORM = {
    "name": "WSEI w Lublinie",
    "url": "https://www.wsei.lublin.pl",
    "email": "biuro@wsei.lublin.pl",
    "description-pl": "Uczelnia w Lublinie.\nKształcimy praktyków.",
    "description-en": "A university in Lublin.",
    "description-uk": "Університет у Любліні.",
}


def text(response: Any) -> str:
    """The page as read: character references decoded, no-break spaces as spaces."""
    return html.unescape(str(response.text)).replace("\u00a0", " ")


def png_of(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def stored(ctx: IssuerContext, slug: str = "wsei") -> Provider:
    with ctx.db.read() as session:
        found = session.exec(select(Provider).where(Provider.slug == slug)).one()
    return found


def post(client: TestClient, ctx: IssuerContext, form: dict[str, str], lang: str = "pl") -> Any:
    return client.post(f"/console/wsei/profile?lang={lang}", data={"csrf": csrf_of(client, ctx), **form})


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("pl", ("Profil organizatora", "Opis po angielsku", "Logo")),
        ("en", ("Provider profile", "Description in English", "Logo")),
        ("uk", ("Профіль організатора", "Опис англійською", "Логотип")),
    ],
)
def test_the_profile_page_speaks_each_language(
    owner_console: TestClient, provider: ProviderFixture, lang: str, words: tuple[str, ...]
) -> None:
    response = owner_console.get(f"/console/wsei/profile?lang={lang}")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    for word in words:
        assert word in text(response)
    assert 'value="Wyższa Szkoła Ekonomii i Innowacji"' in text(response)


def test_the_profile_is_saved_with_a_description_in_three_languages(
    owner_console: TestClient, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    response = post(owner_console, ctx, PROFILE_FORM)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/wsei/profile?done=prof_saved"
    saved = stored(ctx)
    assert (saved.name, saved.url, saved.email) == (
        "WSEI w Lublinie",
        "https://www.wsei.lublin.pl",
        "biuro@wsei.lublin.pl",
    )
    assert saved.description == "Uczelnia w Lublinie.\nKształcimy praktyków."
    assert saved.descriptions == {"en": "A university in Lublin.", "uk": "Університет у Любліні."}
    assert description_in(saved, "uk") == "Університет у Любліні."
    assert description_in(saved, "pl") == description_in(saved, "de") == saved.description

    page = owner_console.get(response.headers["location"])
    assert "Profil został zapisany." in text(page)
    assert ">Uczelnia w Lublinie.\nKształcimy praktyków.</textarea>" in html.unescape(page.text)
    profile = issuer.get("/issuers/wsei").json()
    assert profile["name"] == "WSEI w Lublinie" and profile["description"] == saved.description
    with ctx.db.read() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "provider.updated")).one()
    assert entry.actor.startswith("staff:")
    assert entry.details == {"fields": ["description", "descriptions", "email", "name", "url"]}

    cleared = post(owner_console, ctx, {**PROFILE_FORM, "description-en": " ", "description-uk": ""})
    assert cleared.status_code == 303 and stored(ctx).descriptions is None


def test_wrong_fields_are_named_and_nothing_changes(
    owner_console: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    form = {**PROFILE_FORM, "name": "", "url": "www.wsei.pl", "email": "biuro wsei", "description-uk": "я" * 2001}
    response = post(owner_console, ctx, form, lang="en")
    assert response.status_code == 422
    page = text(response)
    assert '<a href="#name">Provider name: Fill this in.</a>' in page
    assert '<a href="#url">Website: Enter a full address' in page
    assert '<a href="#email">Public contact e-mail: Enter an e-mail address' in page
    assert '<a href="#description-uk">Description in Ukrainian: This text is too long.</a>' in page
    assert 'aria-describedby="url-hint url-error" aria-invalid="true"' in page
    assert 'value="www.wsei.pl"' in page and ">A university in Lublin.</textarea>" in page
    assert stored(ctx).name == "Wyższa Szkoła Ekonomii i Innowacji" and stored(ctx).descriptions is None


def test_the_logo_is_uploaded_or_refused(
    owner_console: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    csrf = {"csrf": csrf_of(owner_console, ctx)}
    refused = owner_console.post(
        "/console/wsei/profile/logo", data=csrf, files={"logo": ("logo.png", b"GIF89a", "image/png")}
    )
    assert refused.status_code == 422
    assert "Tego pliku nie można użyć jako logo." in text(refused)
    assert 'aria-describedby="logo-hint logo-error" aria-invalid="true"' in refused.text
    empty = owner_console.post(
        "/console/wsei/profile/logo", data=csrf, files={"logo": ("", b"", "application/octet-stream")}
    )
    assert empty.status_code == 422 and "Wybierz plik z logo." in text(empty)

    good = owner_console.post(
        "/console/wsei/profile/logo", data=csrf, files={"logo": ("logo.png", png_of((120, 120)), "image/png")}
    )
    assert good.status_code == 303 and good.headers["location"].endswith("?done=prof_logo")
    assert stored(ctx).image == "http://issuer.test/issuers/wsei/image"
    with ctx.db.read() as session:
        assert session.get(ProviderImage, stored(ctx).id) is not None
    page = text(owner_console.get(good.headers["location"]))
    assert "Logo zostało zapisane." in page and 'src="/issuers/wsei/image?v=' in page


@pytest.mark.parametrize("role", ["viewer", "issuer", "operator"])
def test_who_cannot_manage_the_profile_reads_it_and_cannot_post(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture, role: str
) -> None:
    member = add_staff(ctx, None if role == "operator" else "wsei", f"{role}@wsei.example", role)
    with console_client(issuer_app, ctx, member) as client:
        page = client.get("/console/wsei/profile")
        assert page.status_code == 200 and "Wyższa Szkoła Ekonomii i Innowacji" in text(page)
        assert 'action="/console/wsei/profile' not in page.text and 'type="file"' not in page.text
        csrf = {"csrf": csrf_of(client, ctx)}
        assert client.post("/console/wsei/profile", data={**csrf, **PROFILE_FORM}).status_code == 403
        logo = {"logo": ("logo.png", png_of((120, 120)), "image/png")}
        assert client.post("/console/wsei/profile/logo", data=csrf, files=logo).status_code == 403
    assert stored(ctx).name == "Wyższa Szkoła Ekonomii i Innowacji" and stored(ctx).image is None


def test_another_providers_owner_finds_no_profile_page(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    add_provider(ctx, "umcs", name="Uniwersytet Marii Curie-Skłodowskiej")
    with console_client(issuer_app, ctx, add_staff(ctx, "umcs", "wlasciciel@umcs.example", "owner")) as other:
        csrf = {"csrf": csrf_of(other, ctx)}
        assert other.get("/console/wsei/profile").status_code == 404
        assert other.post("/console/wsei/profile", data={**csrf, **PROFILE_FORM}).status_code == 404
        logo = {"logo": ("logo.png", png_of((120, 120)), "image/png")}
        assert other.post("/console/wsei/profile/logo", data=csrf, files=logo).status_code == 404
    assert stored(ctx).name == "Wyższa Szkoła Ekonomii i Innowacji" and stored(ctx).image is None


def test_a_form_without_its_csrf_token_changes_nothing(
    owner_console: TestClient, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    assert owner_console.post("/console/wsei/profile", data=PROFILE_FORM).status_code == 403
    logo = {"logo": ("logo.png", png_of((120, 120)), "image/png")}
    assert owner_console.post("/console/wsei/profile/logo", files=logo).status_code == 403
    assert stored(ctx).name == "Wyższa Szkoła Ekonomii i Innowacji" and stored(ctx).image is None


def test_the_descriptions_column_comes_and_goes_with_its_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'issuer.db'}"
    upgrade(url)
    engine = sa.create_engine(url)
    assert "descriptions" in {column["name"] for column in sa.inspect(engine).get_columns("provider")}
    from alembic import command

    command.downgrade(alembic_config(url), "0006")
    assert "descriptions" not in {column["name"] for column in sa.inspect(engine).get_columns("provider")}
    engine.dispose()
