"""The console's audit log (with the chain checked at every visit), API keys (shown once) and the team (invite,
change role, disable); who may see and change them, and one provider never reaching another's."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, text
from sqlmodel import col, select

from issuer import repository, staff
from issuer.context import IssuerContext
from issuer.models import ApiKey, AuditEntry, Staff
from tests.conftest import ProviderFixture, add_provider, add_staff, console_client, csrf_of, issue

AUDIT = "/console/wsei/audit"
KEYS = "/console/wsei/api-keys"
TEAM = "/console/wsei/staff"
SECRET = re.compile(r"odz_[A-Za-z0-9_-]{40,}")


def words(response: Any) -> str:
    return str(response.text).replace("\u00a0", " ")


def entries(ctx: IssuerContext, action: str | None = None) -> list[AuditEntry]:
    with ctx.db.read() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.seq))
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(session.exec(query).all())


def member_of(ctx: IssuerContext, email: str) -> Staff:
    found = staff.staff_by_email(ctx, email)
    assert found is not None
    return found


def keys_count(ctx: IssuerContext) -> int:
    with ctx.db.read() as session:
        return int(session.exec(select(func.count()).select_from(ApiKey)).one())


# --------------------------------------------------------------------------------------------------------------
# the audit log


@pytest.mark.parametrize(
    ("lang", "heading", "intact", "issued"),
    [
        (
            "pl",
            "Dziennik zdarzeń",
            "Dziennik jest nienaruszony: sprawdzono wszystkie wpisy programu ({n}).",
            "Wydano poświadczenie",
        ),
        ("en", "Audit log", "The log is intact: every entry of the programme was checked ({n}).", "Credential issued"),
        ("uk", "Журнал подій", "Журнал цілісний: перевірено всі записи програми ({n}).", "Видано посвідчення"),
    ],
)
def test_the_audit_log_says_the_chain_is_intact_and_reads_in_words(
    owner_console: TestClient,
    ctx: IssuerContext,
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    lang: str,
    heading: str,
    intact: str,
    issued: str,
) -> None:
    credential = issue(issuer, provider, achievement)
    credential_id = credential["id"].rsplit("/", 1)[-1]
    response = owner_console.get(f"{AUDIT}?lang={lang}")
    assert response.status_code == 200
    page = words(response)
    assert f"<h1>{heading}</h1>" in page
    assert intact.format(n=len(entries(ctx))) in page
    assert f"<td>{issued}</td>" in page
    assert f'<a href="/console/wsei/credentials/{credential_id}">' in page and "Anna Nowak" in page
    key_prefix = entries(ctx, "credential.issued")[0].actor.removeprefix("api-key:")
    assert key_prefix.startswith("odz_") and key_prefix in page
    joined = entries(ctx, "staff.joined")[0]
    assert joined.actor.startswith("staff:") and "<td>Ewa Zespół</td>" in page  # the owner, by name
    assert "<caption>" in page and "<script" not in page and "style=" not in page


def test_tampering_with_an_entry_shows_on_the_page(
    owner_console: TestClient,
    ctx: IssuerContext,
    issuer: TestClient,
    issuer_app: Any,
    provider: ProviderFixture,
    achievement: dict[str, Any],
) -> None:
    issue(issuer, provider, achievement)
    [target] = entries(ctx, "credential.issued")
    with ctx.db.write() as session:  # what an administrator of the database can do
        if ctx.db.dialect == "postgresql":
            session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(
            text("UPDATE audit_entry SET subject = :subject WHERE seq = :seq"),
            {"subject": "http://issuer.test/credentials/00000000-0000-0000-0000-000000000000", "seq": target.seq},
        )
    page = words(owner_console.get(AUDIT))
    assert "Dziennik NIE jest nienaruszony" in page
    assert f"audit entry {target.seq}: its MAC does not verify" in page
    assert "nie przechodzi weryfikacji" in page
    assert "Pozostałe problemy (2) dotyczą danych całego programu" in page  # other providers' ids stay hidden
    assert "no issuance entry in the audit log" not in page

    operator = console_client(issuer_app, ctx, add_staff(ctx, None, "operator@lublin.example", "operator"))
    seen = words(operator.get(AUDIT))
    assert f"audit entry {target.seq}: its MAC does not verify" in seen
    assert "no issuance entry in the audit log" in seen  # the operator sees every problem


def test_the_log_filters_by_action_and_shows_only_this_providers_entries(
    owner_console: TestClient, ctx: IssuerContext, issuer: TestClient, provider: ProviderFixture, achievement: Any
) -> None:
    issue(issuer, provider, achievement)
    other = add_provider(ctx, "inny", name="Inny Dostawca")
    page = words(owner_console.get(f"{AUDIT}?action=credential.issued"))
    assert "Wpisy: 1" in page and "<td>Wydano poświadczenie</td>" in page
    assert "<td>Utworzono odznakę</td>" not in page
    everything = words(owner_console.get(AUDIT))
    assert "<td>Utworzono odznakę</td>" in everything and '<option value="credential.issued">' in everything
    assert other.api_key[:12] not in everything and provider.api_key[:12] in everything
    with ctx.db.read() as session:
        wsei = repository.provider_by_slug(session, "wsei")
    assert wsei is not None
    own = f"Wpisy: {len([entry for entry in entries(ctx) if entry.provider_id == wsei.id])}"
    assert own in everything
    assert own in words(owner_console.get(f"{AUDIT}?action=nonsense"))  # an unknown action filters nothing


# --------------------------------------------------------------------------------------------------------------
# API keys


@pytest.mark.parametrize(
    ("lang", "heading", "create"),
    [("pl", "Klucze API", "Utwórz klucz"), ("en", "API keys", "Create the key"), ("uk", "Ключі API", "Створити ключ")],
)
def test_the_keys_page_speaks_each_language(
    owner_console: TestClient, provider: ProviderFixture, lang: str, heading: str, create: str
) -> None:
    response = owner_console.get(f"{KEYS}?lang={lang}")
    assert response.status_code == 200
    page = words(response)
    assert f"<h1>{heading}</h1>" in page and create in page and f"<code>{provider.api_key[:12]}…</code>" in page
    assert provider.api_key not in page and "<caption>" in page and "style=" not in page


def test_a_new_key_is_shown_once_works_and_stops_when_revoked(
    owner_console: TestClient, ctx: IssuerContext, issuer: TestClient
) -> None:
    created = owner_console.post(KEYS, data={"csrf": csrf_of(owner_console, ctx), "scope": ["manage", "issue"]})
    assert created.status_code == 200
    assert "Skopiuj klucz teraz" in words(created) and created.headers["cache-control"] == "no-store"
    secret = SECRET.search(created.text)
    assert secret is not None
    key = secret.group(0)
    listing = owner_console.get(KEYS)
    assert key not in listing.text and f"<code>{key[:12]}…</code>" in listing.text
    assert "wydawanie poświadczeń" in words(listing) and "zarządzanie odznakami i logo" in words(listing)

    headers = {"Authorization": f"Bearer {key}"}
    assert issuer.get("/api/v1/achievements", headers=headers).status_code == 200
    revoked = owner_console.post(f"{KEYS}/revoke", data={"csrf": csrf_of(owner_console, ctx), "prefix": key[:12]})
    assert revoked.status_code == 303 and revoked.headers["location"].endswith("done=keys_revoked")
    assert "Klucz API unieważniono." in words(owner_console.get(revoked.headers["location"]))
    assert issuer.get("/api/v1/achievements", headers=headers).status_code == 401
    assert [entry.subject for entry in entries(ctx, "api_key.revoked")] == [key[:12]]


def test_a_key_needs_a_permission(owner_console: TestClient, ctx: IssuerContext) -> None:
    before = keys_count(ctx)
    response = owner_console.post(KEYS, data={"csrf": csrf_of(owner_console, ctx), "scope": ["everything"]})
    assert response.status_code == 422
    page = words(response)
    assert '<a href="#scope-issue">Zaznacz co najmniej jedno uprawnienie.</a>' in page
    assert 'aria-describedby="scope-error"' in page and not SECRET.search(page)
    assert keys_count(ctx) == before


# --------------------------------------------------------------------------------------------------------------
# the team


@pytest.mark.parametrize(
    ("lang", "heading", "invite", "owner"),
    [
        ("pl", "Zespół", "Utwórz zaproszenie", "właściciel"),
        ("en", "Team", "Create the invitation", "owner"),
        ("uk", "Команда", "Створити запрошення", "власник"),
    ],
)
def test_the_team_page_speaks_each_language(
    owner_console: TestClient, lang: str, heading: str, invite: str, owner: str
) -> None:
    response = owner_console.get(f"{TEAM}?lang={lang}")
    assert response.status_code == 200
    page = words(response)
    assert f"<h1>{heading}</h1>" in page and invite in page and f"<td>{owner}</td>" in page
    assert "wlasciciel@wsei.example" in page and "<caption>" in page and "style=" not in page


def test_an_invitation_link_is_shown_once_and_accepted(owner_console: TestClient, ctx: IssuerContext) -> None:
    response = owner_console.post(
        TEAM, data={"csrf": csrf_of(owner_console, ctx), "email": " Nowa.Osoba@WSEI.example ", "role": "viewer"}
    )
    assert response.status_code == 200
    page = words(response)
    found = re.search(r'value="(http://issuer\.test/console/invitation/([A-Za-z0-9_-]+))"', page)
    assert found is not None and "7 dni" in page
    invited = staff.invitation(ctx, found.group(2))
    assert invited is not None and invited.email == "nowa.osoba@wsei.example" and invited.role == "viewer"
    listing = words(owner_console.get(TEAM))
    assert found.group(2) not in listing and "nowa.osoba@wsei.example" in listing and "zaproszenie ważne do" in listing
    assert owner_console.get(found.group(1).removeprefix("http://issuer.test")).status_code == 200


def test_an_invitation_names_what_is_wrong(owner_console: TestClient, ctx: IssuerContext) -> None:
    bad = owner_console.post(TEAM, data={"csrf": csrf_of(owner_console, ctx), "email": "nie-adres", "role": "boss"})
    assert bad.status_code == 422
    page = words(bad)
    assert '<a href="#invite-email">Wpisz poprawny adres e-mail.</a>' in page
    assert re.search(r'id="invite-email"[^>]*aria-describedby="invite-email-hint invite-email-error"', page)
    taken = owner_console.post(
        TEAM, data={"csrf": csrf_of(owner_console, ctx), "email": "wlasciciel@wsei.example", "role": "issuer"}
    )
    assert taken.status_code == 422 and "Ten adres ma już konto w panelu" in words(taken)
    assert "/console/invitation/" not in taken.text


def test_changing_a_role_and_disabling_an_account(
    owner_console: TestClient, ctx: IssuerContext, issuer_app: Any
) -> None:
    colleague = add_staff(ctx, "wsei", "kolega@wsei.example", "issuer", name="Piotr Kolega")
    their_browser = console_client(issuer_app, ctx, colleague)
    changed = owner_console.post(
        f"{TEAM}/{colleague.id}/role", data={"csrf": csrf_of(owner_console, ctx), "role": "viewer"}
    )
    assert changed.status_code == 303 and changed.headers["location"].endswith("done=team_role_changed")
    assert member_of(ctx, "kolega@wsei.example").role == "viewer"
    assert entries(ctx, "staff.role_changed")[-1].details == {"from": "issuer", "to": "viewer"}
    assert their_browser.get("/console/wsei").status_code == 303  # sessions end with the role change

    disabled = owner_console.post(f"{TEAM}/{colleague.id}/disable", data={"csrf": csrf_of(owner_console, ctx)})
    assert disabled.status_code == 303 and disabled.headers["location"].endswith("done=team_disabled")
    assert member_of(ctx, "kolega@wsei.example").disabled_at is not None
    assert "wyłączone" in words(owner_console.get(TEAM))


def test_the_last_owner_cannot_be_demoted(owner_console: TestClient, ctx: IssuerContext) -> None:
    owner = member_of(ctx, "wlasciciel@wsei.example")
    response = owner_console.post(
        f"{TEAM}/{owner.id}/role", data={"csrf": csrf_of(owner_console, ctx), "role": "viewer"}
    )
    assert response.status_code == 422
    assert "To ostatni właściciel konta organizatora" in words(response)
    assert member_of(ctx, "wlasciciel@wsei.example").role == "owner"
    disabled = owner_console.post(f"{TEAM}/{owner.id}/disable", data={"csrf": csrf_of(owner_console, ctx)})
    assert disabled.status_code == 422 and member_of(ctx, "wlasciciel@wsei.example").disabled_at is None


def test_another_providers_staff_is_not_on_the_team(owner_console: TestClient, ctx: IssuerContext) -> None:
    add_provider(ctx, "inny", name="Inny Dostawca")
    stranger = add_staff(ctx, "inny", "obcy@inny.example", "owner")
    for action, data in (("role", {"role": "viewer"}), ("disable", {}), ("role", {"role": "owner"})):
        response = owner_console.post(
            f"{TEAM}/{stranger.id}/{action}", data={"csrf": csrf_of(owner_console, ctx), **data}
        )
        assert response.status_code == 404 and "Tej osoby nie ma w Waszym zespole." in words(response)
    assert owner_console.post(f"{TEAM}/abc/disable", data={"csrf": csrf_of(owner_console, ctx)}).status_code == 404
    kept = member_of(ctx, "obcy@inny.example")
    assert kept.role == "owner" and kept.disabled_at is None


# --------------------------------------------------------------------------------------------------------------
# who may see and do what


def admin_posts(ctx: IssuerContext) -> list[tuple[str, dict[str, Any]]]:
    owner = member_of(ctx, "wlasciciel@wsei.example")
    return [
        (KEYS, {"scope": ["issue"]}),
        (f"{KEYS}/revoke", {"prefix": "odz_"}),
        (TEAM, {"email": "ktos@wsei.example", "role": "owner"}),
        (f"{TEAM}/{owner.id}/role", {"role": "viewer"}),
        (f"{TEAM}/{owner.id}/disable", {}),
    ]


@pytest.mark.parametrize("role", ["issuer", "viewer"])
def test_the_keys_and_the_team_are_the_owners(
    owner_console: TestClient, issuer_app: Any, ctx: IssuerContext, role: str
) -> None:
    client = console_client(issuer_app, ctx, add_staff(ctx, "wsei", f"{role}@wsei.example", role))
    assert client.get(AUDIT).status_code == 200
    page = client.get("/console/wsei/credentials").text
    assert 'href="/console/wsei/api-keys"' not in page and 'href="/console/wsei/staff"' not in page
    for url in (KEYS, TEAM):
        response = client.get(url)
        assert response.status_code == 403 and "Twoja rola nie pozwala" in words(response)
    before = keys_count(ctx)
    for url, data in admin_posts(ctx):
        assert client.post(url, data={"csrf": csrf_of(client, ctx), **data}).status_code == 403, url
    assert keys_count(ctx) == before and staff.staff_by_email(ctx, "ktos@wsei.example") is None


def test_the_operator_reads_the_log_keys_and_team_and_changes_nothing(
    owner_console: TestClient, issuer_app: Any, ctx: IssuerContext, provider: ProviderFixture
) -> None:
    operator = console_client(issuer_app, ctx, add_staff(ctx, None, "operator@lublin.example", "operator"))
    assert operator.get(AUDIT).status_code == 200
    for url in (KEYS, TEAM):
        response = operator.get(url)
        assert response.status_code == 200, url
        assert 'method="post" action="/console/wsei' not in response.text
        assert "w trybie podglądu" in words(response)
    assert provider.api_key[:12] in operator.get(KEYS).text
    before = keys_count(ctx)
    for url, data in admin_posts(ctx):
        assert operator.post(url, data={"csrf": csrf_of(operator, ctx), **data}).status_code == 403, url
    assert keys_count(ctx) == before and member_of(ctx, "wlasciciel@wsei.example").role == "owner"


def test_a_form_without_its_csrf_token_is_refused(owner_console: TestClient, ctx: IssuerContext) -> None:
    before = keys_count(ctx)
    for url, data in admin_posts(ctx):
        response = owner_console.post(url, data={**data, "csrf": "forged"})
        assert response.status_code == 403, url
        assert owner_console.post(url, data=data).status_code == 403, url
    assert keys_count(ctx) == before and staff.staff_by_email(ctx, "ktos@wsei.example") is None


def test_another_provider_reaches_none_of_these_pages(
    owner_console: TestClient, issuer_app: Any, ctx: IssuerContext, issuer: TestClient, provider: ProviderFixture
) -> None:
    add_provider(ctx, "inny", name="Inny Dostawca")
    outsider = console_client(issuer_app, ctx, add_staff(ctx, "inny", "wlasciciel@inny.example", "owner"))
    token = csrf_of(outsider, ctx)
    for url in (AUDIT, f"{AUDIT}?action=credential.issued", KEYS, TEAM):
        assert outsider.get(url).status_code == 404, url
    posts = admin_posts(ctx)
    posts[1] = (f"{KEYS}/revoke", {"prefix": provider.api_key[:12]})
    for url, data in posts:
        assert outsider.post(url, data={"csrf": token, **data}).status_code == 404, url
    wsei_owner = member_of(ctx, "wlasciciel@wsei.example")
    for action, data in (("role", {"role": "viewer"}), ("disable", {})):
        response = outsider.post(f"/console/inny/staff/{wsei_owner.id}/{action}", data={"csrf": token, **data})
        assert response.status_code == 404
    gone = outsider.post("/console/inny/api-keys/revoke", data={"csrf": token, "prefix": provider.api_key[:12]})
    assert gone.status_code == 404 and "Nie ma takiego klucza API." in words(gone)
    assert provider.api_key[:12] not in outsider.get("/console/inny/api-keys").text
    assert "wlasciciel@wsei.example" not in outsider.get("/console/inny/staff").text
    assert issuer.get("/api/v1/achievements", headers=provider.headers).status_code == 200
    kept = member_of(ctx, "wlasciciel@wsei.example")
    assert kept.role == "owner" and kept.disabled_at is None
