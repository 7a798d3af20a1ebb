"""Cohorts: a participant file (or JSON rows) checked, previewed, confirmed and issued by the job queue, once.

Driven through the API and the CLI against a real database; the job queue is run in the test's thread. The
e-mails the cohorts queue are sent by test_deliveries.py: each renders a PDF certificate, so most tests here run
the cohort jobs alone and leave the e-mails waiting (``run_cohort_jobs``).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from issuer import cohorts
from issuer.api_keys import create_api_key
from issuer.context import IssuerContext
from issuer.models import Achievement, Cohort, CohortRow, Credential, Delivery
from issuer.providers import get_provider
from tests.conftest import ProviderFixture, add_provider, issue, payload_of

COHORTS = "/api/v1/cohorts"
POLISH_HEADER = ("Imię i nazwisko", "E-mail")


# -- helpers -------------------------------------------------------------------------------------------------------


def csv_bytes(
    rows: list[tuple[str, ...]], header: tuple[str, ...] = POLISH_HEADER, *, encoding: str = "utf-8"
) -> bytes:
    """A participant file as Polish Excel saves it: ``;`` between cells, CRLF line ends."""
    lines = [";".join(header)] + [";".join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def post_file(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    data: bytes,
    *,
    filename: str = "uczestnicy.csv",
    policy: str | None = None,
    preview: bool = False,
) -> Any:
    form = {"achievement": achievement["id"]}
    if policy is not None:
        form["policy"] = policy
    if preview:
        form["preview"] = "true"
    return issuer.post(COHORTS, files={"file": (filename, data, "text/csv")}, data=form, headers=provider.headers)


def post_rows(issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], rows: list[Any]) -> Any:
    return issuer.post(COHORTS, json={"achievement": achievement["id"], "rows": rows}, headers=provider.headers)


def accepted(response: Any) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def view(issuer: TestClient, provider: ProviderFixture, cohort_id: str) -> dict[str, Any]:
    response = issuer.get(f"{COHORTS}/{cohort_id}", headers=provider.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def rows_by_line(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["line"]: row for row in body["rows"]}


def run_cohort_jobs(ctx: IssuerContext) -> int:
    """Run the queued cohort jobs; the e-mails they queue are put back, waiting. Returns how many cohort jobs ran."""
    huey = ctx.jobs.huey
    later = []
    ran = 0
    while (task := huey.dequeue()) is not None:
        if task.name == "cohort":
            huey.execute(task)
            ran += 1
        else:
            later.append(task)
    for task in later:
        huey.enqueue(task)
    return ran


def credentials(ctx: IssuerContext, cohort_id: str | None = None) -> list[Credential]:
    query = select(Credential)
    if cohort_id is not None:
        query = query.where(Credential.cohort_id == cohort_id)  # type: ignore[arg-type]
    with ctx.db.read() as session:
        return list(session.scalars(query))


def learner_name(record: Credential) -> str:
    """The name the signed credential carries (read from the JWT, not from the issuer's own column)."""
    identifiers = payload_of(record.jwt)["credentialSubject"]["identifier"]
    [name] = [item["identityHash"] for item in identifiers if item["identityType"] == "name"]
    return str(name)


def held_by(ctx: IssuerContext, name: str) -> list[Credential]:
    """Unrevoked credentials whose signed subject has this name."""
    return [record for record in credentials(ctx) if learner_name(record) == name and record.revoked_at is None]


def url_of(ctx: IssuerContext, record: Credential) -> str:
    return ctx.urls.credential(record.id)


@contextmanager
def log_lines() -> Iterator[list[str]]:
    """Every log record from INFO up, of any logger, written while the block runs (message and traceback)."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep(logging.INFO)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lines
    finally:
        root.removeHandler(handler)


# -- from file to badges ---------------------------------------------------------------------------------------------

POLISH_LEARNERS = [
    ("Świętosław Źdźbło", "swietoslaw.zdzblo@example.org"),
    ("Łucja Żółć-Gęślą", "lucja.zolc@example.org"),
    ("Jan Kowalski", "jan.kowalski@example.org"),
]


def test_a_windows_1250_file_is_previewed_then_issued_only_once_confirmed(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    data = csv_bytes(POLISH_LEARNERS, encoding="cp1250")
    assert b"\x8c" in data and b"\x9f" in data  # Ś and ź: bytes only Windows-1250 reads as letters

    response = post_file(issuer, provider, achievement, data, preview=True)
    preview = accepted(response)
    assert response.headers["Location"] == f"{COHORTS}/{preview['id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert (preview["state"], preview["total"], preview["valid"], preview["invalid"]) == ("preview", 3, 3, 0)
    assert ctx.jobs.drain() == 0  # a preview queues nothing
    assert credentials(ctx) == []

    confirmed = issuer.post(f"{COHORTS}/{preview['id']}/confirm", headers=provider.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "queued"
    ctx.jobs.drain()  # the cohort, then its three e-mails

    done = view(issuer, provider, preview["id"])
    assert (done["state"], done["issued"], done["failed"], done["skipped"], done["pending"]) == ("done", 3, 0, 0, 0)
    issued = credentials(ctx, preview["id"])
    assert sorted(learner_name(record) for record in issued) == sorted(name for name, _ in POLISH_LEARNERS)
    assert sorted(row["credential"] for row in done["rows"]) == sorted(url_of(ctx, record) for record in issued)
    assert len(list(ctx.settings.mail_folder.glob("*.eml"))) == 3


def test_json_rows_are_checked_like_a_file_and_only_the_valid_ones_issued(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    rows = [
        {"name": "Anna Nowak", "email": "anna@example.org", "externalId": "S-1", "language": "en"},
        {"name": "Jan Kowalski", "email": "jan.kowalski.example.org"},
        {"name": "Zofia Wiśniewska", "email": "zofia@example.org", "validUntil": "2001-01-01"},
        {"name": "Piotr Zieliński", "email": "piotr@example.org", "result": "bardzo dobry"},
    ]
    body = accepted(post_rows(issuer, provider, achievement, rows))
    assert (body["state"], body["total"], body["valid"], body["invalid"]) == ("queued", 4, 2, 2)
    found = rows_by_line(body)  # line = index in "rows" + 2, as if row 1 were a header
    assert [(error["field"], error["code"]) for error in found[3]["errors"]] == [("email", "email_invalid")]
    assert [(error["field"], error["code"]) for error in found[4]["errors"]] == [("valid_until", "date_not_future")]
    assert found[3]["state"] == found[4]["state"] == "invalid"

    assert run_cohort_jobs(ctx) == 1
    done = view(issuer, provider, body["id"])
    assert (done["state"], done["issued"], done["failed"]) == ("done", 2, 2)
    assert sorted(learner_name(record) for record in credentials(ctx)) == ["Anna Nowak", "Piotr Zieliński"]
    assert "credential" not in rows_by_line(done)[3] and "credential" not in rows_by_line(done)[4]


def test_a_json_row_with_nothing_in_it_is_reported_not_dropped(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    rows = [{"name": "", "email": ""}, {"name": "Anna Nowak", "email": "anna@example.org"}]
    body = accepted(post_rows(issuer, provider, achievement, rows))
    assert (body["total"], body["valid"], body["invalid"]) == (2, 1, 1), "two rows sent, two accounted for"
    assert {(error["field"], error["code"]) for error in rows_by_line(body)[2]["errors"]} == {
        ("name", "missing"),
        ("email", "missing"),
    }


def test_a_workbook_with_a_date_cell_gives_the_credential_that_end_of_day(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Imię i nazwisko", "E-mail", "Ważne do"])
    sheet.append(["Świętosław Źdźbło", "swietoslaw.zdzblo@example.org", date(2030, 6, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    body = accepted(post_file(issuer, provider, achievement, buffer.getvalue(), filename="uczestnicy.xlsx"))
    run_cohort_jobs(ctx)
    [record] = credentials(ctx, body["id"])
    assert learner_name(record) == "Świętosław Źdźbło"
    ends = datetime.fromisoformat(payload_of(record.jwt)["validUntil"].replace("Z", "+00:00"))
    assert ends.astimezone(ZoneInfo("Europe/Warsaw")).replace(tzinfo=None) == datetime(2030, 6, 30, 23, 59, 59)


def test_the_same_file_uploaded_twice_at_once_is_one_cohort(
    ctx: IssuerContext, achievement: dict[str, Any], database_url: str
) -> None:
    """Two uploads of one file (a double click, a client's retry) whose transactions overlap."""
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite every write transaction runs alone (BEGIN IMMEDIATE): the uploads cannot overlap")
    submitter = cohorts.Submitter(get_provider(ctx, "wsei"), "test")
    data = csv_bytes(POLISH_LEARNERS)
    first = threading.current_thread()
    seen: list[str] = []
    other: dict[str, Any] = {}
    started: list[threading.Thread] = []

    def second_upload() -> None:
        try:
            other["upload"] = cohorts.upload(ctx, submitter, achievement["id"], data, "kopia.csv")
        except Exception as error:
            other["error"] = error

    def overlap(*args: Any) -> None:
        statement = str(args[2])
        if threading.current_thread() is not first or not re.match(r"SELECT\b.*\sFROM cohort\b", statement, re.DOTALL):
            return
        seen.append(statement)
        if len(seen) == 2:  # the check made again inside the writing transaction
            second = threading.Thread(target=second_upload)
            second.start()
            started.append(second)
            second.join(2)  # it reads, finds nothing yet, and waits for this transaction to end

    event.listen(ctx.db.engine, "after_cursor_execute", overlap)
    try:
        made = cohorts.upload(ctx, submitter, achievement["id"], data, "uczestnicy.csv")
    finally:
        event.remove(ctx.db.engine, "after_cursor_execute", overlap)
    for thread in started:
        thread.join(30)
    assert len(seen) >= 2 and "error" not in other, other
    assert {made.cohort.id, other["upload"].cohort.id} == {made.cohort.id}
    assert sorted([made.existing, other["upload"].existing]) == [False, True]


def test_every_problem_of_a_file_is_reported_by_row_and_field_and_those_rows_are_not_issued(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    header = ("Imię i nazwisko", "E-mail", "Ważne do", "Język")
    data = csv_bytes(
        [
            ("Anna Nowak", "anna@example.org", "30.06.2030", "pl"),  # 2: fine
            ("", "bez.nazwiska@example.org", "", ""),  # 3: no name
            ("Jan Kowalski", "jan.kowalski@example", "", ""),  # 4: no top-level domain
            ("Zofia Nowak", "zofia@example.org", "31.02.2030", "klingoński"),  # 5: no such day, no such language
            ("Anna Nowak-Bis", "ANNA@example.org", "", ""),  # 6: the address of row 2 again
        ],
        header,
    )
    preview = accepted(post_file(issuer, provider, achievement, data, preview=True))
    assert (preview["total"], preview["valid"], preview["invalid"]) == (5, 1, 4)
    problems = {
        line: [(error["field"], error["code"]) for error in row["errors"]]
        for line, row in rows_by_line(preview).items()
    }
    assert problems == {
        3: [("name", "missing")],
        4: [("email", "email_invalid")],
        5: [("valid_until", "date_impossible"), ("language", "language_unknown")],
        6: [("email", "duplicate_in_file")],
    }
    assert all(error["message"] for row in preview["rows"] for error in row["errors"])

    issuer.post(f"{COHORTS}/{preview['id']}/confirm", headers=provider.headers)
    run_cohort_jobs(ctx)
    done = view(issuer, provider, preview["id"])
    assert (done["issued"], done["failed"]) == (1, 4)
    assert [learner_name(record) for record in credentials(ctx)] == ["Anna Nowak"]


def test_the_results_csv_has_one_line_per_row_with_links_or_the_reason(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    held = issue(issuer, provider, achievement)  # Anna Nowak
    data = csv_bytes(
        [
            ("Anna Nowak", "anna@example.org"),  # 2: skipped, she holds it
            ("Jan Kowalski", "jan.kowalski@example.org"),  # 3: issued
            ("Zofia Nowak", "zofia(at)example.org"),  # 4: invalid
            ("Piotr Zieliński", "piotr@example.org"),  # 5: issued
        ]
    )
    cohort_id = accepted(post_file(issuer, provider, achievement, data))["id"]
    run_cohort_jobs(ctx)
    issued = {learner_name(record): record for record in credentials(ctx, cohort_id)}

    response = issuer.get(f"{COHORTS}/{cohort_id}/results.csv", headers=provider.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert lines[0] == ["Wiersz", "Imię i nazwisko", "Wynik", "Link do odznaki", "Link do weryfikacji", "Błąd"]
    assert [line[0] for line in lines[1:]] == ["2", "3", "4", "5"]
    skipped, jan, invalid, piotr = lines[1:]
    assert skipped[1:6] == ["Anna Nowak", "pominięto (już ma)", held["id"], "", ""]
    for line, name in ((jan, "Jan Kowalski"), (piotr, "Piotr Zieliński")):
        record = issued[name]
        assert line[1:6] == [name, "wydano", url_of(ctx, record), ctx.urls.short(record.id), ""]
    assert invalid[2:5] == ["błąd", "", ""] and invalid[5]

    english = issuer.get(f"{COHORTS}/{cohort_id}/results.csv?lang=en", headers=provider.headers)
    english_lines = list(csv.reader(io.StringIO(english.content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert english_lines[0][:3] == ["Row", "Name", "Outcome"]
    assert [line[2] for line in english_lines[1:]] == ["skipped (already holds it)", "issued", "failed", "issued"]
    assert "e-mail" in english_lines[3][5].lower()


def test_names_and_addresses_of_rows_that_failed_stay_out_of_the_logs(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    issue(issuer, provider, achievement, recipient={"name": "Anna Nowak", "email": "anna@example.org"})
    data = csv_bytes(
        [
            ("Anna Nowak", "anna@example.org"),  # refused: she holds it
            ("Grzegorz Brzęczyszczykiewicz", "grzegorz.b@@example.org"),  # invalid address
            ("Jan Kowalski", "jan.kowalski@example.org"),
        ]
    )
    with log_lines() as lines:
        body = accepted(post_file(issuer, provider, achievement, data, policy="refuse"))
        run_cohort_jobs(ctx)
        issuer.get(f"{COHORTS}/{body['id']}", headers=provider.headers)
        issuer.get(f"{COHORTS}/{body['id']}/results.csv", headers=provider.headers)
    assert any(COHORTS in line for line in lines), "the capture saw the access log"
    text = "\n".join(lines).lower()
    for personal in ("anna nowak", "anna@", "grzegorz", "brzęczyszczykiewicz", "kowalski", "@example.org"):
        assert personal not in text


def test_a_row_keeps_its_address_only_until_it_is_done(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    issue(issuer, provider, achievement)  # Anna Nowak holds it: her row is skipped
    data = csv_bytes([("Anna Nowak", "anna@example.org"), ("Jan Kowalski", "jan.kowalski@example.org")])
    cohort_id = accepted(post_file(issuer, provider, achievement, data))["id"]
    run_cohort_jobs(ctx)
    with ctx.db.read() as session:
        rows = list(session.scalars(select(CohortRow).where(CohortRow.cohort_id == cohort_id)))  # type: ignore[arg-type]
    assert {row.state for row in rows} == {"skipped", "issued"}
    assert all("@" not in str(row.data) for row in rows)


# -- nothing twice ---------------------------------------------------------------------------------------------------


def test_the_same_file_twice_is_the_same_cohort_and_issues_nothing_more(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    data = csv_bytes(POLISH_LEARNERS)
    first = accepted(post_file(issuer, provider, achievement, data))
    assert run_cohort_jobs(ctx) == 1
    assert len(credentials(ctx)) == 3

    again = post_file(issuer, provider, achievement, data, filename="uczestnicy (2).csv")
    assert again.status_code == 202, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first["id"]
    assert again.json()["state"] == "done"
    assert run_cohort_jobs(ctx) == 0
    assert len(credentials(ctx)) == 3


def test_the_same_json_rows_twice_are_the_same_cohort(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    body = {"achievement": achievement["id"], "rows": [{"name": "Anna Nowak", "email": "anna@example.org"}]}
    first = issuer.post(COHORTS, json=body, headers=provider.headers)
    run_cohort_jobs(ctx)
    second = issuer.post(COHORTS, json=body, headers=provider.headers)
    assert accepted(second)["id"] == accepted(first)["id"]
    assert second.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    run_cohort_jobs(ctx)
    assert len(credentials(ctx)) == 1


def test_the_same_file_for_another_achievement_is_another_cohort(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    other = issuer.post(
        "/api/v1/achievements",
        json={"name": "Zaawansowany Python", "description": "Pisze biblioteki.", "criteria": {"narrative": "Kurs."}},
        headers=provider.headers,
    ).json()
    data = csv_bytes(POLISH_LEARNERS[:1])
    first = accepted(post_file(issuer, provider, achievement, data))
    second = post_file(issuer, provider, other, data)
    assert accepted(second)["id"] != first["id"] and "Idempotent-Replayed" not in second.headers
    run_cohort_jobs(ctx)
    assert len(credentials(ctx)) == 2


def test_confirming_twice_issues_once(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    cohort_id = accepted(post_file(issuer, provider, achievement, csv_bytes(POLISH_LEARNERS), preview=True))["id"]
    confirm = f"{COHORTS}/{cohort_id}/confirm"
    first, second = (issuer.post(confirm, headers=provider.headers) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert second.json()["state"] == "queued"
    run_cohort_jobs(ctx)
    assert issuer.post(confirm, headers=provider.headers).json()["state"] == "done"
    run_cohort_jobs(ctx)
    assert len(credentials(ctx)) == 3
    assert view(issuer, provider, cohort_id)["issued"] == 3


@pytest.mark.parametrize(
    ("policy", "outcome", "copies_for_anna"), [("skip", "skipped", 1), ("allow", "issued", 2), ("refuse", "failed", 1)]
)
def test_a_learner_who_already_holds_the_badge_is_treated_as_the_policy_says(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    ctx: IssuerContext,
    policy: str,
    outcome: str,
    copies_for_anna: int,
) -> None:
    held = issue(issuer, provider, achievement)  # Anna Nowak, anna@example.org
    data = csv_bytes([("Anna Nowak", " ANNA@Example.org "), ("Jan Kowalski", "jan.kowalski@example.org")])
    cohort_id = accepted(post_file(issuer, provider, achievement, data, policy=policy))["id"]
    run_cohort_jobs(ctx)

    done = view(issuer, provider, cohort_id)
    anna, jan = rows_by_line(done)[2], rows_by_line(done)[3]
    assert (done["policy"], anna["state"], jan["state"]) == (policy, outcome, "issued")
    assert len(held_by(ctx, "Anna Nowak")) == copies_for_anna
    assert len(held_by(ctx, "Jan Kowalski")) == 1
    if policy == "skip":
        assert anna["credential"] == held["id"]  # linked to what she holds
    if policy == "allow":
        assert anna["credential"] != held["id"]
    if policy == "refuse":
        assert [(error["field"], error["code"]) for error in anna["errors"]] == [("email", "already_issued")]


@pytest.mark.parametrize(("policy", "outcome"), [("skip", "skipped"), ("refuse", "failed"), ("allow", "issued")])
def test_a_learner_id_seen_before_is_the_same_learner_whatever_the_address(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    ctx: IssuerContext,
    policy: str,
    outcome: str,
) -> None:
    header = ("Imię i nazwisko", "E-mail", "Identyfikator uczestnika")
    before = csv_bytes([("Jan Kowalski", "jan.kowalski@example.org", "S-1")], header)
    first = accepted(post_file(issuer, provider, achievement, before))
    run_cohort_jobs(ctx)
    [earlier] = credentials(ctx, first["id"])
    moved = [("Jan Kowalski", "j.kowalski@uczelnia.example.org", "S-1"), ("Zofia Nowak", "zofia@example.org", "S-2")]
    second = accepted(post_file(issuer, provider, achievement, csv_bytes(moved, header), policy=policy))
    run_cohort_jobs(ctx)

    found = rows_by_line(view(issuer, provider, second["id"]))
    jan, zofia = found[2], found[3]
    assert (jan["state"], zofia["state"]) == (outcome, "issued")
    if policy != "allow":
        assert jan["credential"] == url_of(ctx, earlier)
    else:
        assert jan["credential"] != url_of(ctx, earlier)


def test_a_revoked_badge_is_not_held_and_is_issued_again(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    held = issue(issuer, provider, achievement)
    revoked = issuer.post(f"/api/v1/credentials/{held['id'].rsplit('/', 1)[-1]}/revoke", headers=provider.headers)
    assert revoked.status_code == 200, revoked.text
    data = csv_bytes([("Anna Nowak", "anna@example.org")])
    cohort_id = accepted(post_file(issuer, provider, achievement, data))["id"]
    run_cohort_jobs(ctx)
    assert rows_by_line(view(issuer, provider, cohort_id))[2]["state"] == "issued"
    assert len(held_by(ctx, "Anna Nowak")) == 1


def test_the_policy_sent_with_the_order_to_issue_is_the_one_applied(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    """Preview with the default policy, then send the same file again to issue it, asking for ``allow``."""
    issue(issuer, provider, achievement)  # Anna Nowak
    data = csv_bytes([("Anna Nowak", "anna@example.org"), ("Jan Kowalski", "jan.kowalski@example.org")])
    accepted(post_file(issuer, provider, achievement, data, preview=True))
    body = accepted(post_file(issuer, provider, achievement, data, policy="allow"))
    run_cohort_jobs(ctx)
    assert body["policy"] == "allow", "the cohort is issued with the preview's policy, not the one now asked for"
    assert rows_by_line(view(issuer, provider, body["id"]))[2]["state"] == "issued"


def _pad_achievement_to_near_the_token_limit(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    """Grow the stored achievement until a credential without a narrative is about 1.4 kB under the 64 KiB a
    verifier reads (as an achievement stored before today's limits might be): a row's 2,000-character narrative
    then makes its credential too large to sign, and the other rows still fit."""
    from credentials.jose import MAX_TOKEN_BYTES

    reference = achievement["id"].rsplit("/", 1)[-1]

    def grow(characters: int) -> None:
        with ctx.db.write() as session:
            stored = session.get(Achievement, reference)
            assert stored is not None
            document = dict(stored.document)
            document["description"] = document["description"] + "x" * characters
            stored.document = document
            session.add(stored)

    grow(30_000)
    probe = issue(issuer, provider, achievement, recipient={"name": "Sonda Próbna", "email": "sonda@example.org"})
    target = MAX_TOKEN_BYTES - 1400
    grow((target - len(probe["jwt"])) * 3 // 4)
    probe = issue(issuer, provider, achievement, recipient={"name": "Sonda Druga", "email": "sonda2@example.org"})
    assert target - 100 < len(probe["jwt"]) <= target + 100


def test_a_row_too_large_to_sign_fails_alone_and_the_rows_beside_it_keep_their_outcome(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    held = issue(issuer, provider, achievement)  # Anna Nowak: skipped below
    _pad_achievement_to_near_the_token_limit(issuer, provider, achievement, ctx)
    header = ("Imię i nazwisko", "E-mail", "Opis")
    data = csv_bytes(
        [
            ("Anna Nowak", "anna@example.org", ""),  # 2: holds it → skipped
            ("Jan Kowalski", "jan.kowalski@example.org", ""),  # 3: fits → issued
            ("Zofia Nowak", "zofia@example.org", "n" * 2000),  # 4: too large to sign → failed
        ],
        header,
    )
    cohort_id = accepted(post_file(issuer, provider, achievement, data))["id"]
    run_cohort_jobs(ctx)
    found = rows_by_line(view(issuer, provider, cohort_id))
    outcome = {line: (row["state"], [error["code"] for error in row.get("errors", [])]) for line, row in found.items()}
    assert outcome == {2: ("skipped", []), 3: ("issued", []), 4: ("failed", ["not_issuable"])}
    assert found[2]["credential"] == held["id"]
    assert [learner_name(record) for record in credentials(ctx, cohort_id)] == ["Jan Kowalski"]


# -- who may -----------------------------------------------------------------------------------------------------------


def test_only_a_key_with_the_issue_scope_uploads_or_confirms(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    revoke_only = {"Authorization": f"Bearer {create_api_key(ctx, provider.slug, ['revoke'])}"}
    data = csv_bytes(POLISH_LEARNERS[:1])
    form = {"achievement": achievement["id"]}
    refused = issuer.post(COHORTS, files={"file": ("u.csv", data, "text/csv")}, data=form, headers=revoke_only)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    cohort_id = accepted(post_file(issuer, provider, achievement, data, preview=True))["id"]
    confirm = issuer.post(f"{COHORTS}/{cohort_id}/confirm", headers=revoke_only)
    assert confirm.status_code == 403 and confirm.json()["error"]["code"] == "permission_denied"
    assert view(issuer, provider, cohort_id)["state"] == "preview"
    assert ctx.jobs.drain() == 0 and credentials(ctx) == []


def test_another_providers_cohort_does_not_exist_for_you(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    other = add_provider(ctx, "inna-szkola")
    cohort_id = accepted(post_file(issuer, provider, achievement, csv_bytes(POLISH_LEARNERS), preview=True))["id"]
    for method, path in (
        ("GET", f"{COHORTS}/{cohort_id}"),
        ("POST", f"{COHORTS}/{cohort_id}/confirm"),
        ("GET", f"{COHORTS}/{cohort_id}/results.csv"),
    ):
        response = issuer.request(method, path, headers=other.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    borrowed = post_file(issuer, other, achievement, csv_bytes(POLISH_LEARNERS))
    assert borrowed.status_code == 404 and borrowed.json()["error"]["code"] == "not_found"
    assert ctx.jobs.drain() == 0 and credentials(ctx) == []


# -- the command line ------------------------------------------------------------------------------------------------


def test_the_cli_checks_a_file_then_issues_it_and_exits_1_for_the_rows_that_failed(
    issuer_cli: Any, achievement: dict[str, Any], ctx: IssuerContext, tmp_path: Path
) -> None:
    path = tmp_path / "uczestnicy.csv"
    path.write_bytes(csv_bytes([*POLISH_LEARNERS, ("Zofia Nowak", "zofia(at)example.org")], encoding="cp1250"))
    dry = issuer_cli("credentials", "import", "wsei", str(path), "--achievement", achievement["id"], "--dry-run")
    assert dry.exit_code == 1, dry.output
    assert "4 row(s): 3 ready, 1 with errors" in dry.output and "row 5" in dry.output
    assert credentials(ctx) == []

    real = issuer_cli("credentials", "import", "wsei", str(path), "--achievement", achievement["id"])
    assert real.exit_code == 1, real.output
    assert "3 issued, 0 skipped (already held), 1 failed, 0 pending (done)" in real.output
    assert sorted(learner_name(record) for record in credentials(ctx)) == sorted(n for n, _ in POLISH_LEARNERS)
    ctx.jobs.drain(limit=1)  # the job the confirmation queued finds the cohort done
    assert len(credentials(ctx)) == 3

    clean = tmp_path / "czysty.csv"
    clean.write_bytes(csv_bytes([("Piotr Zieliński", "piotr@example.org")]))
    ok = issuer_cli("credentials", "import", "wsei", str(clean), "--achievement", achievement["id"])
    assert ok.exit_code == 0, ok.output
    assert len(credentials(ctx)) == 4


def test_the_cli_applies_the_policy_it_is_given_after_a_dry_run(
    issuer: TestClient,
    provider: ProviderFixture,
    achievement: dict[str, Any],
    issuer_cli: Any,
    ctx: IssuerContext,
    tmp_path: Path,
) -> None:
    issue(issuer, provider, achievement)  # Anna Nowak
    path = tmp_path / "uczestnicy.csv"
    path.write_bytes(csv_bytes([("Anna Nowak", "anna@example.org"), ("Jan Kowalski", "jan.kowalski@example.org")]))
    command = ("credentials", "import", "wsei", str(path), "--achievement", achievement["id"])
    assert issuer_cli(*command, "--dry-run").exit_code == 0
    real = issuer_cli(*command, "--policy", "refuse")
    assert real.exit_code == 1, f"a refused row is a failed row:\n{real.output}"
    assert "1 issued, 0 skipped (already held), 1 failed" in real.output


def test_an_unknown_policy_or_achievement_is_refused_and_nothing_is_kept(
    issuer: TestClient, provider: ProviderFixture, achievement: dict[str, Any], ctx: IssuerContext
) -> None:
    data = csv_bytes(POLISH_LEARNERS)
    unknown = post_file(issuer, provider, achievement, data, policy="overwrite")
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"][0]["field"] == "policy"
    missing = post_file(issuer, provider, {"id": "00000000-0000-4000-8000-000000000000"}, data)
    assert missing.status_code == 404
    with ctx.db.read() as session:
        assert list(session.scalars(select(Cohort))) == []
    assert list(ctx.settings.mail_folder.glob("*.eml")) == []
    with ctx.db.read() as session:
        assert list(session.scalars(select(Delivery))) == []
