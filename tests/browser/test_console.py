"""The provider console in Chromium: a coordinator signs in, creates a badge, issues it to a group of 500 from a
spreadsheet with 7 bad rows, watches the progress, downloads the result, revokes one badge and resends one
e-mail; a real SMTP server receives exactly one message per issued badge (and the one resent). Every console
page visited has no axe-core WCAG 2.1 A/AA violation and no sideways scrolling, in Polish and on a phone.

The issuer here runs its job worker in-process (as ``issuer serve`` does) and sends e-mail over SMTP to an
aiosmtpd server of the test.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from issuer import staff
from issuer.app import create_app as create_issuer_app
from issuer.context import IssuerContext
from issuer.providers import create_provider
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    Served,
    axe_violations,
    describe,
    free_socket,
    horizontal_overflow,
    issuer_context,
    screenshot,
    url_of,
)
from tests.conftest import TEST_ONLY_STAFF_PASSWORD

SLUG = "akademia"
OWNER = "koordynatorka@akademia.example"
GOOD = 493
BAD = 7


class Sink:
    """What the SMTP server received: one recipient list per message."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recipients: list[str] = []
        self.subjects: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.lock:
            self.recipients.extend(envelope.rcpt_tos)
            for line in envelope.content.decode("utf-8", "replace").splitlines():
                if line.startswith("Subject:"):
                    self.subjects.append(line)
                    break
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.recipients)


@dataclass
class Console:
    url: str
    ctx: IssuerContext
    sink: Sink


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    # aiosmtpd's own log quotes every recipient: it is the test's mail server, not the product; keep it quiet.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = Sink()
    probe = free_socket()
    smtp_port = probe.getsockname()[1]
    probe.close()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    sock = free_socket()
    base = issuer_context(tmp_path_factory.mktemp("console-issuer"), url_of(sock), "http://127.0.0.1:9")
    settings = base.settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{smtp_port}", "embedded_worker": True})
    base.close()
    ctx = IssuerContext.from_settings(settings)
    create_provider(
        ctx, SLUG, name="Lubelska Akademia Kompetencji", url="https://akademia.example", country="PL", algorithm="EdDSA"
    )
    link = staff.invite(ctx, provider_slug=SLUG, email=OWNER, role="owner", actor="test")
    staff.accept_invitation(
        ctx, link.rsplit("/", 1)[-1], name="Katarzyna Koordynator", password=TEST_ONLY_STAFF_PASSWORD
    )
    server = Served(create_issuer_app(context=ctx), sock, "console-issuer-server")
    server.start()
    try:
        yield Console(ctx.settings.public_url, ctx, sink)
    finally:
        server.stop()
        smtp.stop()
        ctx.close()


def participants_file(folder: Path) -> tuple[Path, list[str]]:
    """500 participants as Polish Excel saves them (semicolons, Windows-1250), 7 of them with a bad row."""
    rows = ["Imię i nazwisko;E-mail;Identyfikator uczestnika"]
    good = []
    for number in range(1, GOOD + BAD + 1):
        if number % 70 == 0 and len(rows) - len(good) - 1 < BAD:
            rows.append(f"Osoba Błędna {number};bez-malpy-{number};U{number}")
        else:
            address = f"uczestnik{number}@example.org"
            good.append(address)
            rows.append(f"Łukasz Żółć {number};{address};U{number}")
    path = folder / "uczestnicy.csv"
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1250"))
    return path, good


def check(page: Any, name: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{name}: {describe(violations)}"
    assert horizontal_overflow(page) == 0, name
    screenshot(page, f"console-{name}")


def sign_in(page: Any, console: Console, target: str) -> None:
    page.goto(f"{console.url}{target}")
    assert "/console/sign-in" in page.url
    check(page, "sign-in")
    page.get_by_label("Adres e-mail").fill(OWNER)
    page.get_by_label("Hasło").fill(TEST_ONLY_STAFF_PASSWORD)
    page.get_by_role("button", name="Zaloguj się").click()
    page.wait_for_url(f"{console.url}{target}")


def test_a_coordinator_issues_a_group_from_a_spreadsheet(console: Console, page_at: Any, tmp_path: Path) -> None:
    page = page_at(DESKTOP, accept_downloads=True, locale="pl-PL")
    sign_in(page, console, f"/console/{SLUG}")
    check(page, "dashboard")

    # A badge, then the group page with its template.
    page.goto(f"{console.url}/console/{SLUG}/achievements/new")
    check(page, "achievement-new")
    page.locator("#name").fill("Obsługa klienta w języku angielskim")
    page.locator("#description").fill("Prowadzi rozmowę z klientem po angielsku na poziomie B2.")
    page.locator("#criteria").fill("Zaliczenie rozmowy sprawdzającej.")
    page.locator("form.achievement-form button[type=submit]").click()
    page.wait_for_url(f"{console.url}/console/{SLUG}/achievements/*")
    check(page, "achievement")

    page.goto(f"{console.url}/console/{SLUG}/cohorts")
    check(page, "cohorts")
    path, good = participants_file(tmp_path)
    page.get_by_label("Odznaka").select_option(label="Obsługa klienta w języku angielskim")
    page.get_by_label("Plik z listą uczestników").set_input_files(str(path))
    page.get_by_role("button", name="Sprawdź plik").click()

    page.wait_for_selector("text=poprawne: 493 · z błędami: 7")
    check(page, "cohort-preview")
    assert page.locator("table.data tbody tr").count() == BAD
    assert console.sink.count() == 0
    page.get_by_role("button", name="Wydaj odznaki (493)").click()

    # The progress page updates itself and shows the result when the job is done.
    page.wait_for_selector("#finished:not([hidden])", timeout=240_000)
    check(page, "cohort-done")
    assert page.locator('[data-count="issued"]').inner_text() == str(GOOD)
    assert page.locator('[data-count="failed"]').inner_text() == str(BAD)
    with page.expect_download() as download:
        page.get_by_role("link", name="Pobierz wyniki (CSV dla Excela)").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + GOOD + BAD
    assert sum(1 for row in rows[1:] if row[3].startswith(console.url)) == GOOD
    assert all(row[5] for row in rows[1:] if not row[3])

    # Every good row's learner gets exactly one e-mail (the worker sends them in the background).
    wait_for(lambda: console.sink.count() >= GOOD, seconds=900)  # a PDF certificate per message: CPU-bound
    assert Counter(console.sink.recipients) == Counter(good)
    assert all("Obsługa klienta" in subject or "=?utf-8?" in subject.lower() for subject in console.sink.subjects)

    # Revoke one, resend another, from the list of issued badges.
    page.goto(f"{console.url}/console/{SLUG}/credentials?name=%C5%81ukasz+%C5%BB%C3%B3%C5%82%C4%87+17")
    check(page, "credentials")
    page.get_by_role("link", name="Łukasz Żółć 17", exact=False).first.click()
    page.wait_for_url(f"{console.url}/console/{SLUG}/credentials/*")
    check(page, "credential")
    page.locator("#revoke-reason").fill("Wydane przez pomyłkę")
    page.get_by_role("button", name="Unieważnij poświadczenie").click()
    page.wait_for_load_state()
    check(page, "credential-revoked")
    assert page.get_by_role("button", name="Unieważnij poświadczenie").count() == 0

    page.goto(f"{console.url}/console/{SLUG}/credentials?name=%C5%81ukasz+%C5%BB%C3%B3%C5%82%C4%87+23")
    page.get_by_role("link", name="Łukasz Żółć 23", exact=False).first.click()
    page.wait_for_url(f"{console.url}/console/{SLUG}/credentials/*")
    page.get_by_role("button", name="Wyślij ponownie").click()
    page.wait_for_load_state()
    wait_for(lambda: console.sink.count() >= GOOD + 1, seconds=120)
    resent = Counter(console.sink.recipients) - Counter(good)
    assert sum(resent.values()) == 1 and next(iter(resent)).startswith("uczestnik23")


def wait_for(condition: Any, seconds: float) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.25)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda viewport: viewport.name)
@pytest.mark.parametrize("lang", ["pl", "en", "uk"])
def test_every_console_page_passes_axe(console: Console, page_at: Any, lang: str, viewport: Any) -> None:
    page = page_at(viewport, locale="pl-PL")
    sign_in(page, console, f"/console/{SLUG}")
    for path in (
        "",
        "/achievements",
        "/achievements/new",
        "/issue",
        "/cohorts",
        "/credentials",
        "/audit",
        "/api-keys",
        "/profile",
        "/staff",
    ):
        page.goto(f"{console.url}/console/{SLUG}{path}?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        check(page, f"{lang}-{viewport.name}{path.replace('/', '-') or '-dashboard'}")
    page.goto(f"{console.url}/console/account?lang={lang}")
    check(page, f"{lang}-{viewport.name}-account")
