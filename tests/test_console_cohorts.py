"""The console's group issuing: template, upload, preview with every row's errors, confirmation, progress and the
result file; one provider never reaches another's cohorts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from issuer.cohort_file import read_sheet
from issuer.context import IssuerContext
from issuer.models import Credential
from tests.conftest import ProviderFixture, add_provider, add_staff, console_client, csrf_of

GOOD_ROWS = [("Łucja Wiśniewska", "lucja@example.org"), ("Żaneta Kołodziej", "zaneta@example.org")]
BAD_ROWS = [("Bez Adresu", ""), ("Zły Adres", "to-nie-adres")]


def participants(rows: list[tuple[str, str]]) -> bytes:
    """A file as Polish Excel saves it: semicolons, Windows-1250."""
    lines = ["Imię i nazwisko;E-mail"] + [f"{name};{email}" for name, email in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1250")


def credentials_count(ctx: IssuerContext) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Credential)) or 0)


def text(response: Any) -> str:
    return str(response.text).replace("\u00a0", " ")


def upload(client: TestClient, ctx: IssuerContext, achievement_id: str, data: bytes, **extra: str) -> Any:
    form = {"csrf": csrf_of(client, ctx), "achievement": achievement_id, "policy": "skip", **extra}
    return client.post("/console/wsei/cohorts", data=form, files={"file": ("uczestnicy.csv", data, "text/csv")})


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("pl", "Wydaj odznaki grupie"), ("en", "Issue badges to a group"), ("uk", "Видати бейджі групі")],
)
def test_the_upload_page_speaks_each_language(
    owner_console: TestClient, achievement: dict[str, Any], lang: str, heading: str
) -> None:
    response = owner_console.get(f"/console/wsei/cohorts?lang={lang}")
    assert response.status_code == 200
    assert heading in text(response)
    assert achievement["name"] in text(response)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
@pytest.mark.parametrize("lang", ["pl", "en", "uk"])
def test_the_template_is_read_back_as_a_valid_file(owner_console: TestClient, kind: str, lang: str) -> None:
    response = owner_console.get(f"/console/wsei/cohorts/template.{kind}?lang={lang}")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    sheet = read_sheet(response.content, f"template.{kind}", today=date(2026, 11, 30))
    assert {"name", "email"} <= set(sheet.mapping)
    assert sheet.problems == [] and len(sheet.rows) == 1


def test_a_file_that_is_not_a_table_is_refused_with_words_for_people(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    response = upload(owner_console, ctx, achievement["id"], b"%PDF-1.7 not a table")
    assert response.status_code == 422
    assert "To nie jest plik CSV ani XLSX" in text(response) or "CSV" in text(response)
    assert credentials_count(ctx) == 0


def test_preview_names_every_bad_row_and_issues_nothing_until_confirmed(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    response = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS + BAD_ROWS))
    assert response.status_code == 303
    preview = owner_console.get(response.headers["location"])
    page = text(preview)
    assert "poprawne: 2 · z błędami: 2" in page
    assert "Wiersz 4" in page and "Wiersz 5" in page and "E-mail" in page
    assert "Wydaj odznaki (2)" in page
    assert credentials_count(ctx) == 0

    cohort_path = response.headers["location"]
    confirmed = owner_console.post(
        f"{cohort_path}/confirm", data={"csrf": csrf_of(owner_console, ctx), "policy": "skip"}
    )
    assert confirmed.status_code == 303
    running = owner_console.get(cohort_path)
    assert 'id="progress"' in running.text and "console-progress.js" in running.text
    assert '<meta http-equiv="refresh"' in running.text  # the page refreshes itself without JavaScript

    ctx.jobs.drain()
    progress = owner_console.get(f"{cohort_path}/progress").json()
    assert progress == {**progress, "issued": 2, "failed": 2, "remaining": 0, "finished": True, "total": 4}
    assert credentials_count(ctx) == 2
    finished = owner_console.get(cohort_path)
    assert "console-progress.js" not in finished.text and "Gotowe" in text(finished)

    results = owner_console.get(f"{cohort_path}/results.csv")
    assert results.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in table[1:]] == ["2", "3", "4", "5"]
    assert table[1][1] == "Łucja Wiśniewska" and table[1][3].startswith("http://issuer.test/credentials/")
    assert table[3][3] == "" and "E-mail" in table[3][5]


def test_the_same_file_twice_shows_the_first_group_and_issues_nothing_twice(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    first = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS))
    owner_console.post(f"{first.headers['location']}/confirm", data={"csrf": csrf_of(owner_console, ctx)})
    ctx.jobs.drain()
    again = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS))
    assert again.headers["location"] == first.headers["location"] + "?again=1"
    owner_console.post(f"{first.headers['location']}/confirm", data={"csrf": csrf_of(owner_console, ctx)})
    ctx.jobs.drain()
    assert credentials_count(ctx) == 2
    assert "Nic nie zostanie wydane drugi raz" in text(owner_console.get(again.headers["location"]))


def test_a_form_without_its_token_changes_nothing(
    owner_console: TestClient, ctx: IssuerContext, achievement: dict[str, Any]
) -> None:
    response = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS), csrf="forged")
    assert response.status_code == 403
    assert "/cohorts/" not in response.headers.get("location", "")
    location = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS)).headers["location"]
    assert owner_console.post(f"{location}/confirm", data={}).status_code == 403
    ctx.jobs.drain()
    assert credentials_count(ctx) == 0


def test_a_viewer_sees_the_groups_but_cannot_upload_or_confirm(
    issuer_app: Any, ctx: IssuerContext, owner_console: TestClient, achievement: dict[str, Any]
) -> None:
    location = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS)).headers["location"]
    with console_client(issuer_app, ctx, add_staff(ctx, "wsei", "podglad@wsei.example", "viewer")) as viewer:
        page = viewer.get("/console/wsei/cohorts")
        assert page.status_code == 200 and 'enctype="multipart/form-data"' not in page.text
        assert "/confirm" not in viewer.get(location).text
        assert viewer.post(f"{location}/confirm", data={"csrf": csrf_of(viewer, ctx)}).status_code == 403
        assert upload(viewer, ctx, achievement["id"], participants(BAD_ROWS)).status_code == 403
    ctx.jobs.drain()
    assert credentials_count(ctx) == 0


def test_another_provider_never_reaches_these_cohorts(
    issuer_app: Any,
    ctx: IssuerContext,
    owner_console: TestClient,
    achievement: dict[str, Any],
    provider: ProviderFixture,
) -> None:
    location = upload(owner_console, ctx, achievement["id"], participants(GOOD_ROWS)).headers["location"]
    cohort_id = location.rsplit("/", 1)[-1]
    add_provider(ctx, "inna")
    with console_client(issuer_app, ctx, add_staff(ctx, "inna", "szef@inna.example", "owner")) as other:
        token = csrf_of(other, ctx)
        for path in (
            "/console/wsei/cohorts",
            location,
            f"{location}/progress",
            f"{location}/results.csv",
            "/console/wsei/cohorts/template.csv",
        ):
            assert other.get(path).status_code == 404, path
        for path in (f"{location}/confirm", f"{location}/cancel"):
            assert other.post(path, data={"csrf": token}).status_code == 404, path
        # Its own slug with the first provider's cohort id: not found either.
        for path in (f"/console/inna/cohorts/{cohort_id}", f"/console/inna/cohorts/{cohort_id}/results.csv"):
            assert other.get(path).status_code == 404, path
        assert other.post(f"/console/inna/cohorts/{cohort_id}/confirm", data={"csrf": token}).status_code == 404
    ctx.jobs.drain()
    assert credentials_count(ctx) == 0


def test_signed_out_visitors_are_sent_to_sign_in(issuer: TestClient) -> None:
    response = issuer.get("/console/wsei/cohorts", follow_redirects=False)
    assert response.status_code == 303
    assert re.fullmatch(r"/console/sign-in\?next=/console/wsei/cohorts", response.headers["location"])
