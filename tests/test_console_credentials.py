"""The console's issued credentials: the search (by name, e-mail digest, badge, Lublin dates, status, group), the
CSV for Excel, one credential's page, revoking one or many, reissuing and resending; who may do what, and one
provider never reaching another's credentials."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from issuer.api_keys import authenticate, create_api_key
from issuer.context import IssuerContext
from issuer.issuance import CredentialRequest, issue_credentials
from issuer.models import AuditEntry, Credential, Delivery, table_of
from tests.conftest import (
    PLAIN_ACHIEVEMENT,
    ProviderFixture,
    add_provider,
    add_staff,
    check,
    console_client,
    csrf_of,
    issue,
    verify,
)

BASE = "/console/wsei/credentials"
REASON = "Plagiat w projekcie końcowym"


def text(response: Any) -> str:
    return str(response.text).replace("\u00a0", " ")


def recipient(name: str, email: str) -> dict[str, Any]:
    return {"recipient": {"name": name, "email": email}}


def record(ctx: IssuerContext, credential_id: str) -> Credential:
    with ctx.db.read() as session:
        found = session.get(Credential, credential_id)
    assert found is not None
    return found


def delivery(ctx: IssuerContext, credential_id: str) -> Delivery | None:
    with ctx.db.read() as session:
        return session.get(Delivery, credential_id)


def set_columns(ctx: IssuerContext, credential_id: str, **values: Any) -> None:
    with ctx.db.write() as session:
        table = table_of(Credential)
        session.execute(update(table).where(table.c.id == credential_id).values(**values))


def shown_ids(response: Any) -> set[str]:
    """The credentials the list links to."""
    return set(re.findall(r'href="/console/wsei/credentials/([0-9a-f-]{36})"', response.text))


def last(credential: dict[str, Any]) -> str:
    return str(credential["id"]).rsplit("/", 1)[-1]


@pytest.fixture
def three(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        issue(issuer, provider, achievement, **recipient("Anna Nowak", "anna@example.org")),
        issue(issuer, provider, achievement, **recipient("Łucja Żak", "lucja@example.org")),
        issue(issuer, provider, achievement, **recipient("Jan Kowalski", "jan@example.org")),
    ]


def member(issuer_app: Any, ctx: IssuerContext, role: str, slug: str | None = "wsei") -> TestClient:
    return console_client(issuer_app, ctx, add_staff(ctx, slug, f"{role}@{slug or 'lublin'}.example", role))


# --------------------------------------------------------------------------------------------------------------
# the pages in three languages


@pytest.mark.parametrize(
    ("lang", "heading", "revoke", "status"),
    [
        ("pl", "Wydane poświadczenia", "Unieważnij zaznaczone", "ważne"),
        ("en", "Issued credentials", "Revoke the selected", "valid"),
        ("uk", "Видані посвідчення", "Анулювати вибрані", "дійсне"),
    ],
)
def test_the_list_and_a_credential_speak_each_language(
    owner_console: TestClient, three: list[dict[str, Any]], lang: str, heading: str, revoke: str, status: str
) -> None:
    listing = owner_console.get(f"{BASE}?lang={lang}")
    assert listing.status_code == 200
    page = text(listing)
    assert f"<h1>{heading}</h1>" in page and revoke in page and f'<span class="pill good">{status}</span>' in page
    assert f'<html lang="{lang}">' in page
    assert "<caption>" in page and '<th scope="col">' in page and '<th scope="row">Łucja Żak</th>' in page
    assert "<script" not in page and "style=" not in page and "<style" not in page  # the CSP allows neither
    assert shown_ids(listing) == {last(item) for item in three}

    detail = owner_console.get(f"{BASE}/{last(three[0])}?lang={lang}")
    assert detail.status_code == 200
    assert "Anna Nowak" in text(detail)
    assert "<script" not in detail.text and "style=" not in detail.text
    assert detail.headers["cache-control"] == "no-store"


def test_a_credential_page_shows_its_badge_dates_links_and_delivery(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any], three: list[dict[str, Any]]
) -> None:
    credential_id = last(three[0])
    ctx.jobs.drain()
    page = text(owner_console.get(f"{BASE}/{credential_id}?lang=en"))
    achievement_id = achievement["id"].rsplit("/", 1)[-1]
    assert f'<a href="/console/wsei/achievements/{achievement_id}">Podstawy Pythona</a>' in page
    assert ctx.urls.credential(credential_id) in page and ctx.urls.short(credential_id) in page
    assert "Attempts to send</dt><dd>1</dd>" in page and "Messages sent</dt><dd>1</dd>" in page
    assert '<span class="pill good">sent</span>' in page
    assert "Opened from the e-mail" in page and "Checked by employers" in page
    for action in ("revoke", "reissue", "resend"):
        assert f'action="/console/wsei/credentials/{credential_id}/{action}"' in page


# --------------------------------------------------------------------------------------------------------------
# searching


def test_search_by_part_of_a_name_in_any_letter_case(owner_console: TestClient, three: list[dict[str, Any]]) -> None:
    found = owner_console.get(f"{BASE}?name=ŁUCJA")
    assert shown_ids(found) == {last(three[1])}
    assert "Znaleziono: 1" in text(found)
    assert shown_ids(owner_console.get(f"{BASE}?name=nowa")) == {last(three[0])}
    assert shown_ids(owner_console.get(f"{BASE}?name=%25")) == set()  # a wildcard typed is a character sought


def test_search_by_e_mail_matches_its_digest_and_keeps_the_address_nowhere(
    owner_console: TestClient, ctx: IssuerContext, three: list[dict[str, Any]], database_url: str
) -> None:
    typed = "  Lucja@Example.ORG "
    posted = owner_console.post(f"{BASE}/search", data={"csrf": csrf_of(owner_console, ctx), "email": typed})
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert "example" not in location.lower() and "lucja" not in location.lower()
    assert f"ek={ctx.vault.email_key('lucja@example.org')}" in location
    found = owner_console.get(location)
    assert shown_ids(found) == {last(three[1])}
    assert "lucja@example.org" not in found.text.lower()
    assert "wpisany adres e-mail" in text(found)

    other = owner_console.post(
        f"{BASE}/search", data={"csrf": csrf_of(owner_console, ctx), "email": "ktos.inny@example.org"}
    )
    assert shown_ids(owner_console.get(other.headers["location"])) == set()

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        stored = b"".join(path.read_bytes() for path in Path(str(url.database)).parent.glob("issuer.db*"))
        assert b"ktos.inny" not in stored and b"lucja@example" not in stored.lower()


def test_search_by_badge_status_and_group(
    owner_console: TestClient,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    three: list[dict[str, Any]],
) -> None:
    created = issuer.post("/api/v1/achievements", json={**PLAIN_ACHIEVEMENT, "name": "Excel"}, headers=provider.headers)
    excel = issue(issuer, provider, created.json(), **recipient("Ewa Lis", "ewa@example.org"))
    excel_id = created.json()["id"].rsplit("/", 1)[-1]
    assert shown_ids(owner_console.get(f"{BASE}?achievement={excel_id}")) == {last(excel)}

    set_columns(ctx, last(three[0]), revoked_at=datetime.now(UTC), revocation_reason=REASON)
    set_columns(ctx, last(three[1]), valid_until=datetime(2025, 1, 31, tzinfo=UTC))
    set_columns(ctx, last(three[2]), cohort_id="a-group")
    assert shown_ids(owner_console.get(f"{BASE}?status=revoked")) == {last(three[0])}
    assert shown_ids(owner_console.get(f"{BASE}?status=expired")) == {last(three[1])}
    assert shown_ids(owner_console.get(f"{BASE}?status=active")) == {last(three[2]), last(excel)}
    page = text(owner_console.get(f"{BASE}?status=expired"))
    assert '<span class="pill warn">wygasłe</span>' in page
    assert shown_ids(owner_console.get(f"{BASE}?cohort=a-group")) == {last(three[2])}


def test_search_by_dates_counts_days_in_lublin(
    owner_console: TestClient, ctx: IssuerContext, three: list[dict[str, Any]]
) -> None:
    # 22:30 UTC on 31 March is already 1 April in Lublin (summer time, UTC+2).
    set_columns(ctx, last(three[0]), issued_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    set_columns(ctx, last(three[1]), issued_at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    set_columns(ctx, last(three[2]), issued_at=datetime(2026, 4, 2, 12, 0, tzinfo=UTC))
    assert shown_ids(owner_console.get(f"{BASE}?from=2026-04-01&to=2026-04-01")) == {last(three[0])}
    assert shown_ids(owner_console.get(f"{BASE}?to=2026-03-31")) == {last(three[1])}
    assert shown_ids(owner_console.get(f"{BASE}?from=2026-04-02")) == {last(three[2])}


def test_a_date_that_is_not_one_is_named_at_its_field(owner_console: TestClient, three: list[dict[str, Any]]) -> None:
    response = owner_console.get(f"{BASE}?from=31.03.2026&to=2026-02-30")
    assert response.status_code == 422
    page = text(response)
    assert '<a href="#search-from">Wpisz datę w postaci RRRR-MM-DD' in page
    assert '<a href="#search-to">' in page
    assert re.search(r'id="search-from"[^>]*aria-describedby="search-from-hint search-from-error"', page)
    assert re.search(r'id="search-from"[^>]*aria-invalid="true"', page)
    assert shown_ids(response) == set()


def test_fifty_to_a_page_newest_first(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    principal = authenticate(ctx, f"Bearer {create_api_key(ctx, 'wsei', ['issue'])}")
    requests = [
        CredentialRequest.model_validate(
            {"achievement": achievement["id"], "recipient": {"name": f"Uczestnik {n}", "email": f"u{n}@example.org"}}
        )
        for n in range(51)
    ]
    issued = issue_credentials(ctx, principal, requests)
    oldest = issued[0].record.id
    set_columns(ctx, oldest, issued_at=datetime(2026, 1, 1, tzinfo=UTC))
    first = owner_console.get(BASE)
    assert len(shown_ids(first)) == 50 and oldest not in shown_ids(first)
    assert "Strona 1 z 2" in text(first) and 'rel="next"' in first.text
    second = owner_console.get(f"{BASE}?page=2")
    assert shown_ids(second) == {oldest}


# --------------------------------------------------------------------------------------------------------------
# the CSV for Excel


def test_the_export_is_excel_ready_neutralised_and_holds_no_address(
    owner_console: TestClient,
    issuer: TestClient,
    ctx: IssuerContext,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    three: list[dict[str, Any]],
) -> None:
    hostile = issue(issuer, provider, achievement, **recipient('=HYPERLINK("http://x")', "zly@example.org"))
    set_columns(ctx, last(three[0]), revoked_at=datetime.now(UTC), revocation_reason="@SUM(1)")
    response = owner_console.get(f"{BASE}/export.csv?lang=en")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body
    assert b"@example.org" not in body and b"example.org" not in body
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == [
        "Learner",
        "Badge",
        "Issued",
        "Valid until",
        "Status",
        "Reason for revoking",
        "E-mail notification",
        "Badge link",
        "Verification link",
    ]
    rows = {row[0]: row for row in table[1:]}
    assert len(rows) == 4
    assert rows['\'=HYPERLINK("http://x")'][7] == ctx.urls.credential(last(hostile))
    assert rows['\'=HYPERLINK("http://x")'][8] == ctx.urls.short(last(hostile))
    assert rows["Anna Nowak"][4:6] == ["revoked", "'@SUM(1)"]
    assert rows["Jan Kowalski"][4] == "valid" and rows["Jan Kowalski"][6] == "queued"

    only_jan = owner_console.get(f"{BASE}/export.csv?name=kowal")
    assert len(list(csv.reader(io.StringIO(only_jan.content.decode("utf-8-sig")), delimiter=";"))) == 2


# --------------------------------------------------------------------------------------------------------------
# revoking, reissuing, resending


def test_revoking_the_selected_revokes_them_all_at_the_verifier_and_nothing_else(
    owner_console: TestClient, ctx: IssuerContext, verifier_factory: Any, provider: ProviderFixture, three: list[Any]
) -> None:
    chosen = [last(three[0]), last(three[1])]
    response = owner_console.post(
        f"{BASE}/revoke",
        data={"csrf": csrf_of(owner_console, ctx), "id": chosen, "reason": REASON, "back": "status=active"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{BASE}?status=active&done=cred_revoked_many&n=2"
    assert "Unieważniono poświadczenia: 2." in text(owner_console.get(response.headers["location"]))

    verifier = verifier_factory([provider.issuer_id])
    for item in three[:2]:
        status = check(verify(verifier, item["jwt"]), "status")
        assert (status["status"], status["code"]) == ("failed", "revoked")
        assert REASON in status["message"]
    assert verify(verifier, three[2]["jwt"])["verdict"] == "valid"
    for credential_id in chosen:
        assert record(ctx, credential_id).revocation_reason == REASON
        found = delivery(ctx, credential_id)
        assert found is not None and found.address is None
    kept = delivery(ctx, last(three[2]))
    assert kept is not None and kept.address is not None and record(ctx, last(three[2])).revoked_at is None
    with ctx.db.read() as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "credential.revoked")).all()
    assert sorted(entry.subject for entry in entries) == sorted(ctx.urls.credential(i) for i in chosen)
    assert all(entry.actor.startswith("staff:") for entry in entries)

    again = owner_console.post(
        f"{BASE}/revoke", data={"csrf": csrf_of(owner_console, ctx), "id": chosen, "reason": "Inny powód"}
    )
    assert again.headers["location"].endswith("done=cred_revoked_many&n=0")
    assert record(ctx, chosen[0]).revocation_reason == REASON


def test_revoking_the_selected_needs_a_choice_and_a_reason(
    owner_console: TestClient, ctx: IssuerContext, three: list[Any]
) -> None:
    response = owner_console.post(f"{BASE}/revoke", data={"csrf": csrf_of(owner_console, ctx), "reason": ""})
    assert response.status_code == 422
    page = text(response)
    assert f'<a href="#pick-{last(three[2])}">Zaznacz w tabeli co najmniej jedno poświadczenie.</a>' in page
    assert '<a href="#revoke-reason">Podaj powód unieważnienia.</a>' in page
    assert re.search(r'id="revoke-reason"[^>]*aria-invalid="true"', page)
    kept = owner_console.post(
        f"{BASE}/revoke", data={"csrf": csrf_of(owner_console, ctx), "id": [last(three[0])], "reason": " "}
    )
    assert kept.status_code == 422 and f'value="{last(three[0])}"' in kept.text and "checked" in kept.text
    assert all(record(ctx, last(item)).revoked_at is None for item in three)


def test_another_providers_credential_among_the_selected_revokes_none(
    owner_console: TestClient, ctx: IssuerContext, issuer: TestClient, three: list[Any]
) -> None:
    other = add_provider(ctx, "inny", name="Inny Dostawca")
    made = issuer.post("/api/v1/achievements", json=PLAIN_ACHIEVEMENT, headers=other.headers).json()
    theirs = issue(issuer, other, made, **recipient("Ewa Lis", "ewa@example.org"))
    response = owner_console.post(
        f"{BASE}/revoke",
        data={"csrf": csrf_of(owner_console, ctx), "id": [last(three[0]), last(theirs)], "reason": REASON},
    )
    assert response.status_code == 404
    assert record(ctx, last(three[0])).revoked_at is None and record(ctx, last(theirs)).revoked_at is None


def test_revoking_one_with_its_reason(
    owner_console: TestClient, ctx: IssuerContext, verifier_factory: Any, provider: ProviderFixture, three: list[Any]
) -> None:
    credential_id = last(three[0])
    response = owner_console.post(
        f"{BASE}/{credential_id}/revoke", data={"csrf": csrf_of(owner_console, ctx), "reason": REASON}
    )
    assert response.status_code == 303
    page = text(owner_console.get(response.headers["location"]))
    assert "Poświadczenie unieważniono." in page and REASON in page and "/revoke" not in page
    status = check(verify(verifier_factory([provider.issuer_id]), three[0]["jwt"]), "status")
    assert status["code"] == "revoked"
    missing = owner_console.post(f"{BASE}/{last(three[1])}/revoke", data={"csrf": csrf_of(owner_console, ctx)})
    assert missing.status_code == 422 and "Podaj powód unieważnienia." in text(missing)
    assert record(ctx, last(three[1])).revoked_at is None


def test_reissuing_revokes_the_old_copy_and_e_mails_the_new_one(
    owner_console: TestClient, ctx: IssuerContext, verifier_factory: Any, provider: ProviderFixture, three: list[Any]
) -> None:
    old_id = last(three[0])
    ctx.jobs.drain()
    response = owner_console.post(f"{BASE}/{old_id}/reissue", data={"csrf": csrf_of(owner_console, ctx)})
    assert response.status_code == 303
    new_id = response.headers["location"].split("/")[-1].split("?")[0]
    assert new_id != old_id and response.headers["location"].endswith("done=cred_reissued")
    old, new = record(ctx, old_id), record(ctx, new_id)
    assert old.revoked_at is not None and old.replaced_by == new_id
    assert new.revoked_at is None and new.learner_name == "Anna Nowak"
    queued = delivery(ctx, new_id)
    assert queued is not None and queued.state == "queued" and queued.address is not None
    erased = delivery(ctx, old_id)
    assert erased is not None and erased.address is None
    page = text(owner_console.get(f"{BASE}/{old_id}"))
    assert f'href="/console/wsei/credentials/{new_id}"' in page

    verifier = verifier_factory([provider.issuer_id])
    assert check(verify(verifier, three[0]["jwt"]), "status")["code"] == "revoked"
    assert verify(verifier, new.jwt)["verdict"] == "valid"
    again = owner_console.post(f"{BASE}/{old_id}/reissue", data={"csrf": csrf_of(owner_console, ctx)})
    assert again.status_code == 422 and "Unieważnionego poświadczenia nie można wydać ponownie." in text(again)


def test_resending_queues_a_new_message(owner_console: TestClient, ctx: IssuerContext, three: list[Any]) -> None:
    credential_id = last(three[0])
    ctx.jobs.drain()
    before = delivery(ctx, credential_id)
    assert before is not None and before.state == "sent"
    mails = len(list(ctx.settings.mail_folder.glob("*.eml")))
    response = owner_console.post(f"{BASE}/{credential_id}/resend", data={"csrf": csrf_of(owner_console, ctx)})
    assert response.status_code == 303 and response.headers["location"].endswith("done=cred_resent")
    after = delivery(ctx, credential_id)
    assert after is not None and after.state == "queued" and after.message_id != before.message_id
    ctx.jobs.drain()
    assert len(list(ctx.settings.mail_folder.glob("*.eml"))) == mails + 1
    sent = delivery(ctx, credential_id)
    assert sent is not None and sent.state == "sent" and sent.sends == 2


def test_resending_without_an_address_says_why(
    owner_console: TestClient, issuer: TestClient, ctx: IssuerContext, provider: ProviderFixture, achievement: Any
) -> None:
    quiet = issue(issuer, provider, achievement, notify=False)
    page = owner_console.get(f"{BASE}/{last(quiet)}")
    assert "Nie mamy adresu e-mail tego uczestnika" in text(page) and "/resend" not in page.text
    response = owner_console.post(f"{BASE}/{last(quiet)}/resend", data={"csrf": csrf_of(owner_console, ctx)})
    assert response.status_code == 422
    assert "Nie mamy adresu e-mail tego uczestnika" in text(response)


# --------------------------------------------------------------------------------------------------------------
# who may do what


def posts(credential_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{BASE}/revoke", {"id": [credential_id], "reason": REASON}),
        (f"{BASE}/{credential_id}/revoke", {"reason": REASON}),
        (f"{BASE}/{credential_id}/reissue", {}),
        (f"{BASE}/{credential_id}/resend", {}),
    ]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_the_operator_read_but_change_nothing(
    issuer_app: Any, ctx: IssuerContext, three: list[Any], role: str
) -> None:
    client = member(issuer_app, ctx, role, slug=None if role == "operator" else "wsei")
    credential_id = last(three[0])
    listing = client.get(BASE)
    assert listing.status_code == 200 and shown_ids(listing) == {last(item) for item in three}
    assert "/revoke" not in listing.text and 'type="checkbox"' not in listing.text
    detail = client.get(f"{BASE}/{credential_id}")
    assert detail.status_code == 200
    assert not re.search(r'action="[^"]*/(revoke|reissue|resend)"', detail.text)
    assert client.get(f"{BASE}/export.csv").status_code == 200
    searched = client.post(f"{BASE}/search", data={"csrf": csrf_of(client, ctx), "name": "anna"})
    assert searched.status_code == 303  # looking is allowed
    for url, data in posts(credential_id):
        response = client.post(url, data={"csrf": csrf_of(client, ctx), **data})
        assert response.status_code == 403, url
    assert record(ctx, credential_id).revoked_at is None


def test_an_issuer_may_revoke_and_resend(issuer_app: Any, ctx: IssuerContext, three: list[Any]) -> None:
    client = member(issuer_app, ctx, "issuer")
    credential_id = last(three[0])
    assert client.post(f"{BASE}/{credential_id}/resend", data={"csrf": csrf_of(client, ctx)}).status_code == 303
    revoked = client.post(f"{BASE}/{credential_id}/revoke", data={"csrf": csrf_of(client, ctx), "reason": REASON})
    assert revoked.status_code == 303 and record(ctx, credential_id).revoked_at is not None


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    owner_console: TestClient, ctx: IssuerContext, three: list[Any]
) -> None:
    credential_id = last(three[0])
    for url, data in posts(credential_id):
        for token in (None, "forged"):
            response = owner_console.post(url, data={**data, **({"csrf": token} if token else {})})
            assert response.status_code == 403, url
            assert "Formularz wygasł" in text(response)
    assert owner_console.post(f"{BASE}/search", data={"email": "anna@example.org"}).status_code == 403
    assert record(ctx, credential_id).revoked_at is None
    sent = delivery(ctx, credential_id)
    assert sent is not None and sent.address is not None


def test_another_provider_reaches_none_of_these_pages(
    issuer_app: Any, ctx: IssuerContext, issuer: TestClient, three: list[Any]
) -> None:
    add_provider(ctx, "inny", name="Inny Dostawca")
    outsider = console_client(issuer_app, ctx, add_staff(ctx, "inny", "wlasciciel@inny.example", "owner"))
    token = csrf_of(outsider, ctx)
    credential_id = last(three[0])
    for url in (BASE, f"{BASE}/export.csv", f"{BASE}/{credential_id}", f"{BASE}?name=anna"):
        assert outsider.get(url).status_code == 404, url
    for url, data in [*posts(credential_id), (f"{BASE}/search", {"name": "anna"})]:
        assert outsider.post(url, data={"csrf": token, **data}).status_code == 404, url
    own = "/console/inny/credentials"
    assert outsider.get(own).status_code == 200 and shown_ids(outsider.get(own)) == set()
    assert outsider.get(f"{own}/{credential_id}").status_code == 404
    for url, data in posts(credential_id):
        response = outsider.post(url.replace(BASE, own), data={"csrf": token, **data})
        assert response.status_code == 404, url
    assert b"Anna" not in outsider.get(f"{own}/export.csv").content
    assert record(ctx, credential_id).revoked_at is None and record(ctx, credential_id).replaced_by is None
    with ctx.db.read() as session:
        resent = session.exec(
            select(AuditEntry).where(col(AuditEntry.action).in_(["credential.notification_resent"]))
        ).all()
    assert resent == []


def test_a_typed_search_comes_back_as_typed(owner_console: TestClient) -> None:
    """Pages tie one-letter words with a no-break space for reading; a value typed into a field must not be
    changed by it, or searching again would look for another name."""
    response = owner_console.get("/console/wsei/credentials", params={"name": "Jan z Lublina"})
    assert response.status_code == 200
    [value] = re.findall(r'id="search-name"[^>]*value="([^"]*)"', response.text)
    assert "\u00a0" not in html.unescape(value) and html.unescape(value) == "Jan z Lublina"
