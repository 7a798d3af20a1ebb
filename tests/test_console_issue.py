"""Issuing one credential from the console: the form, the e-mail queued in the learner's language, the duplicate
guard with "issue again anyway", problems named by field, and who may do it."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from issuer.api_keys import Principal
from issuer.context import IssuerContext
from issuer.models import AuditEntry, Credential, Delivery, Provider
from tests.conftest import ProviderFixture, add_provider, add_staff, console_client, csrf_of, payload_of, verify

LEARNER = {"name": "Anna Nowak", "email": "anna@example.org"}


def text(response: Any) -> str:
    """The page as read: character references decoded, no-break spaces as spaces."""
    return html.unescape(str(response.text)).replace("\u00a0", " ")


def uuid_of(achievement: dict[str, Any]) -> str:
    return str(achievement["id"]).rsplit("/", 1)[-1]


def form_for(achievement: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"achievement": uuid_of(achievement), **LEARNER, "notify": "on", "language": "pl", **extra}


def post(client: TestClient, ctx: IssuerContext, form: dict[str, str], lang: str = "pl") -> Any:
    return client.post(f"/console/wsei/issue?lang={lang}", data={"csrf": csrf_of(client, ctx), **form})


def credentials(ctx: IssuerContext) -> list[Credential]:
    with ctx.db.read() as session:
        return list(session.exec(select(Credential)).all())


def issued_id(response: Any) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/console/wsei/credentials/([0-9a-f-]{36})\?done=issue_done", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("pl", ("Wydaj jedną odznakę", "Imię i nazwisko", "Język wiadomości")),
        ("en", ("Issue one badge", "Full name", "Language of the e-mail")),
        ("uk", ("Видати один бейдж", "Ім'я та прізвище", "Мова листа")),
    ],
)
def test_the_issue_page_speaks_each_language(
    owner_console: TestClient, achievement: dict[str, Any], lang: str, words: tuple[str, ...]
) -> None:
    response = owner_console.get(f"/console/wsei/issue?lang={lang}&achievement={uuid_of(achievement)}")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    for word in words:
        assert word in text(response)
    assert f'<option value="{uuid_of(achievement)}" selected>Podstawy Pythona</option>' in response.text
    assert 'name="notify" value="on" checked' in response.text, "sending the e-mail is on by default"


def test_one_credential_is_issued_signed_and_its_email_queued(
    owner_console: TestClient, ctx: IssuerContext, verifier: TestClient, achievement: dict[str, Any]
) -> None:
    form = form_for(
        achievement,
        language="en",
        narrative="Projekt: analiza danych miejskich",
        evidence="https://github.com/anna/projekt",
        result="92%",
        validUntil="2031-06-30",
    )
    credential_id = issued_id(post(owner_console, ctx, form))
    [record] = credentials(ctx)
    assert record.id == credential_id and record.learner_name == "Anna Nowak"
    claims = payload_of(record.jwt)
    subject = claims["vc"]["credentialSubject"] if "vc" in claims else claims["credentialSubject"]
    assert subject["narrative"] == "Projekt: analiza danych miejskich"
    assert subject["result"] == [{"type": ["Result"], "value": "92%"}]
    assert verify(verifier, record.jwt)["verdict"] == "valid"
    with ctx.db.read() as session:
        delivery = session.get(Delivery, credential_id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "credential.issued")).one()
    assert delivery is not None and (delivery.state, delivery.language) == ("queued", "en")
    assert re.fullmatch(r"staff:\d+", entry.actor), "the audit log names the staff member, not an API key"


def test_without_the_email_nothing_is_queued(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    form = form_for(achievement)
    del form["notify"]
    credential_id = issued_id(post(owner_console, ctx, form))
    with ctx.db.read() as session:
        assert session.get(Delivery, credential_id) is None


def test_a_second_credential_for_the_same_learner_is_offered_not_issued(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    first = issued_id(post(owner_console, ctx, form_for(achievement)))
    again = post(owner_console, ctx, form_for(achievement, email="ANNA@example.org "))
    assert again.status_code == 409
    page = text(again)
    assert "Ten uczestnik ma już ważne poświadczenie tej odznaki." in page
    assert f'href="/console/wsei/credentials/{first}"' in page
    assert '<button class="button" type="submit" name="allowDuplicate" value="1"' in page
    assert 'value="Anna Nowak"' in page, "what was typed stays for the second try"
    assert len(credentials(ctx)) == 1
    second = issued_id(post(owner_console, ctx, form_for(achievement, allowDuplicate="1")))
    assert second != first and len(credentials(ctx)) == 2


def test_wrong_fields_are_named_and_nothing_is_issued(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    form = form_for(achievement, name=" ", email="anna(at)example", evidence="moj projekt", validUntil="2031-02-30")
    response = post(owner_console, ctx, form, lang="en")
    assert response.status_code == 422
    page = text(response)
    assert '<a href="#name">Full name: Fill this in.</a>' in page
    assert '<a href="#email">E-mail address: Enter an e-mail address' in page
    assert '<a href="#evidence">Evidence address (URL): Enter a full address' in page
    assert '<a href="#validUntil">Valid until: Enter a date in the calendar' in page
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in page
    assert 'value="anna(at)example"' in page
    past = post(owner_console, ctx, form_for(achievement, validUntil="2020-01-01"), lang="en")
    assert past.status_code == 422 and "Valid until: The date must be later than today." in text(past)
    nothing = post(owner_console, ctx, {**form_for(achievement), "achievement": ""}, lang="en")
    assert nothing.status_code == 422 and '<a href="#achievement">Badge: Choose an active badge' in text(nothing)
    assert credentials(ctx) == []


def test_the_staff_principal_names_the_staff_member() -> None:
    principal = Principal(Provider(id=1, slug="wsei", name="WSEI"), frozenset({"issue"}), "console", "staff:7")
    assert principal.actor == "staff:7" and principal.provider_id == 1
    principal.require("issue")


def test_another_provider_can_neither_open_the_page_nor_issue_from_its_badges(
    issuer_app: Any, ctx: IssuerContext, owner_console: TestClient, achievement: dict[str, Any]
) -> None:
    add_provider(ctx, "umcs", name="Uniwersytet Marii Curie-Skłodowskiej")
    with console_client(issuer_app, ctx, add_staff(ctx, "umcs", "wlasciciel@umcs.example", "owner")) as other:
        data = {"csrf": csrf_of(other, ctx), **form_for(achievement)}
        assert other.get("/console/wsei/issue").status_code == 404
        assert other.post("/console/wsei/issue", data=data).status_code == 404
        own_page = other.get("/console/umcs/issue")
        assert own_page.status_code == 200 and uuid_of(achievement) not in own_page.text
        refused = other.post("/console/umcs/issue", data=data)
        assert refused.status_code == 422 and "Wybierz aktywną odznakę z listy." in text(refused)
    assert credentials(ctx) == []


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_a_viewer_cannot_issue(
    issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture, achievement: dict[str, Any], role: str
) -> None:
    member = add_staff(ctx, None if role == "operator" else "wsei", f"{role}@wsei.example", role)
    with console_client(issuer_app, ctx, member) as client:
        assert client.get("/console/wsei/issue").status_code == 403
        data = {"csrf": csrf_of(client, ctx), **form_for(achievement)}
        assert client.post("/console/wsei/issue", data=data).status_code == 403
    assert credentials(ctx) == []


def test_a_form_without_its_csrf_token_issues_nothing(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    assert owner_console.post("/console/wsei/issue", data=form_for(achievement)).status_code == 403
    forged = owner_console.post("/console/wsei/issue", data={"csrf": "forged", **form_for(achievement)})
    assert forged.status_code == 403
    assert credentials(ctx) == []
