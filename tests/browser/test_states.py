"""Every state a badge can be in, on each page that shows it, in Chromium at a desktop and a phone size, in
Polish, English and Ukrainian.

The states: valid; expired; revoked; compromised (signed with a key its provider has reported compromised, and
not reissued); reissued (the same, but the provider has reissued it: the old copy's pages lead to the new one);
indeterminate (its issuer cannot be reached); forged (the payload changed, the signature kept); and garbage (a
pasted text that is no token). Each has a verdict page on the verifier; the five that are badges of a running
issuer have a learner's page too.

Each page must name its state in its markup (``data-outcome``, ``data-state``) and in the reader's words, with
the date in the reader's format where the state has one; be in the asked language with one ``h1``; fit the
window; and pass axe-core's WCAG 2.1 A/AA rules. It is saved as ``state-{page}-{state}-{lang}-{viewport}.png``
under tests/browser/screenshots/ to be looked at. Then: the keyboard alone opens a verdict's technical details
and reaches the learner's sharing and downloads, with a visible focus; without JavaScript every page says the
same and keeps its links; and a reissued badge's old pages lead to its new copy.

The badges come from ``state_sites`` (conftest): an issuer of their own, so that reporting a key compromised here
leaves every other test's badges valid.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from issuer.i18n import MESSAGES
from issuer.key_lifecycle import compromise
from issuer.reissue import reissue
from issuer.urls import last_segment
from tests.browser.conftest import (
    DESKTOP,
    VIEWPORTS,
    StateSites,
    Viewport,
    axe_violations,
    describe,
    horizontal_overflow,
    screenshot,
)
from tests.helpers import segment_json, with_learner_renamed
from verifier.i18n import CHECK_NAMES, OUTCOMES, TEXT

pytestmark = pytest.mark.browser

LANGS = ["pl", "en", "uk"]
VERDICTS: dict[str, tuple[str, str]] = {
    "valid": ("valid", "valid"),
    "expired": ("invalid", "expired"),
    "revoked": ("invalid", "revoked"),
    "compromised": ("invalid", "key_compromised"),
    "reissued": ("invalid", "key_compromised"),
    "indeterminate": ("indeterminate", "indeterminate"),
    "forged": ("invalid", "forged"),
    "garbage": ("invalid", "not_a_credential"),
}
"""Each state's verdict page: its ``data-verdict`` and ``data-outcome``."""
LEARNER_STATES: dict[str, str] = {
    "valid": "valid",
    "expired": "expired",
    "revoked": "revoked",
    "compromised": "key_compromised",
    "reissued": "key_compromised",
}
"""The states with a learner's page, and its ``data-state``."""
WITHDRAWN = {"revoked", "compromised", "reissued"}
"""States whose learner's page offers no QR code, sharing or downloads."""
PASTED = {"forged", "garbage"}
"""States reached by pasting a token into the verifier's form; the others open the badge's verify link."""

LUBLIN = ZoneInfo("Europe/Warsaw")
EXPIRY = date(2024, 6, 30)
"""The expired badge's last day (``validUntil: "2024-06-30"`` ends at 23:59:59 in Lublin)."""
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LEARNERS = {
    "valid": ("Zofia Kowalska", "zofia@example.org"),
    "expired": ("Piotr Kowalski", "piotr@example.org"),
    "revoked": ("Ewa Kowalska", "ewa@example.org"),
    "compromised": ("Adam Kowalski", "adam@example.org"),
    "reissued": ("Ola Kowalska", "ola@example.org"),
}
"""Each badge's learner; the suite's check of the logs looks for them all ("kowalsk", "@example.org")."""
GARBAGE = "Dzień dobry, w załączniku przesyłam moją odznakę z kursu."


# --------------------------------------------------------------------------------------------------------------
# the badges


@dataclass(frozen=True)
class Badges:
    """A badge in each state that has one (the issuer's 201 bodies), and what tells the states apart."""

    issued: dict[str, dict[str, Any]]
    new_copy: str
    """The id (its page's address) of the reissued badge's new copy."""
    revoked_on: date
    """The day, in Lublin, the revoked badge was revoked."""

    def pasted(self, state: str) -> str:
        return with_learner_renamed(self.issued["valid"]["jwt"], LEARNERS["valid"][0]) if state == "forged" else GARBAGE


@pytest.fixture(scope="module")
def badges(state_sites: StateSites) -> Badges:
    """Issue, revoke, report a key compromised and reissue, once for the module."""
    steady, exposed = state_sites.steady, state_sites.compromised
    issued = {
        "valid": steady.issue_credential(*LEARNERS["valid"]),
        # The issuer takes dates in the past as long as validUntil comes after validFrom: a badge that has expired.
        "expired": steady.issue_credential(*LEARNERS["expired"], validFrom="2024-01-01", validUntil=EXPIRY.isoformat()),
        "revoked": steady.issue_credential(*LEARNERS["revoked"]),
        "compromised": exposed.issue_credential(*LEARNERS["compromised"]),
        "reissued": exposed.issue_credential(*LEARNERS["reissued"]),
        "indeterminate": state_sites.unreachable,
    }
    steady.revoke_credential(issued["revoked"]["id"], "Wydane przez pomyłkę")
    revoked_on = datetime.now(LUBLIN).date()
    slug = last_segment(exposed.issuer_id)
    kid = segment_json(issued["compromised"]["jwt"], 0)["kid"]
    assert segment_json(issued["reissued"]["jwt"], 0)["kid"] == kid, "both badges are signed with the key to compromise"
    compromise(exposed.ctx, slug, kid)
    copies = reissue(exposed.ctx, slug, kid=kid, credential_ids=[issued["reissued"]["id"]])
    assert [copy.old_id for copy in copies] == [last_segment(issued["reissued"]["id"])]
    return Badges(issued, exposed.ctx.urls.credential(copies[0].new_id), revoked_on)


# --------------------------------------------------------------------------------------------------------------
# what the pages should say


def in_reader_format(day: date, lang: str) -> str:
    """``30.06.2024`` for Polish and Ukrainian readers, ``30 Jun 2024`` for English ones."""
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}" if lang == "en" else f"{day:%d.%m.%Y}"


def day_of(state: str, badges: Badges) -> date | None:
    return {"expired": EXPIRY, "revoked": badges.revoked_on}.get(state)


def verdict_words(state: str, lang: str, badges: Badges) -> str:
    """The verdict banner's headline: the outcome's words, with the day in the reader's format if it has one."""
    words = OUTCOMES[lang][VERDICTS[state][1]][0]
    day = day_of(state, badges)
    assert ("{date}" in words) == (day is not None), words
    return words.replace("{date}", in_reader_format(day, lang)) if day else words


def learner_words(state: str, lang: str, badges: Badges) -> str:
    """The learner's page's status headline."""
    t = MESSAGES[lang]
    day = day_of(state, badges)
    dated = in_reader_format(day, lang) if day else ""
    return {
        "valid": t["status_valid"],
        "expired": t["status_expired"].format(date=dated),
        "revoked": t["status_revoked"].format(date=dated),
        "compromised": t["status_compromised"],
        "reissued": t["status_compromised"],
    }[state]


def words(text: str) -> str:
    """Text with its runs of white space (no-break spaces too: short words are tied to the next) as one space."""
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------------------------
# opening and checking pages


def with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def open_verdict(page: Any, state_sites: StateSites, badges: Badges, state: str, lang: str) -> None:
    """The verdict as a person gets it: the badge's verify link (its QR code), or a token pasted in the form."""
    if state in PASTED:
        page.goto(f"{state_sites.verifier_url}/?lang={lang}")
        page.locator("form textarea").fill(badges.pasted(state))
        with page.expect_navigation():
            page.locator("form [type=submit]").click()
    else:
        page.goto(with_lang(badges.issued[state]["links"]["verify"], lang))


def verdict_of(page: Any) -> tuple[str | None, str | None, str]:
    heading = page.locator("h1#verdict")
    return heading.get_attribute("data-verdict"), heading.get_attribute("data-outcome"), words(heading.inner_text())


def learner_state_of(page: Any) -> tuple[str | None, str]:
    status = page.locator("section.status[data-state]")
    return status.get_attribute("data-state"), words(status.locator(".status-headline strong").inner_text())


def check_statuses(page: Any) -> list[str | None]:
    """The statuses of the listed checks, in the order the page lists them (folded under technical details)."""
    return [item.get_attribute("data-status") for item in page.locator("details li[data-check]").all()]


def check_page(page: Any, name: str, lang: str) -> None:
    """What every page must be: in the asked language, one h1, no sideways scrolling, no axe violation."""
    screenshot(page, name)
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").count() == 1, "one h1 per page"
    overflow = horizontal_overflow(page)
    assert not overflow, f"the page is {overflow} px wider than the window"
    violations = axe_violations(page)
    assert not violations, describe(violations)


def links_of(page: Any) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all("a[href]", "links => links.map(link => link.getAttribute('href'))")
    return hrefs


def offers(page: Any, issued: dict[str, Any], lang: str) -> dict[str, bool]:
    """What a current badge's page offers, each by its link (or field): there or not."""
    links = issued["links"]
    hrefs = links_of(page)
    return {
        "verify": with_lang(links["verify"], lang) in hrefs,
        "qr": page.locator(f"img[src='{links['qr_svg']}']").count() == 1,
        "linkedin-add": any(href.startswith("https://www.linkedin.com/profile/add?") for href in hrefs),
        "linkedin-share": any(href.startswith("https://www.linkedin.com/sharing/share-offsite/?") for href in hrefs),
        "email": any(href.startswith("mailto:?") for href in hrefs),
        "link-field": page.locator("#badge-link").count() == 1,
        "pdf": f"{links['pdf']}?lang={lang}" in hrefs,
        **{kind: links[kind] in hrefs for kind in ("png", "svg", "json", "jwt")},
    }


# --------------------------------------------------------------------------------------------------------------
# every state, page, language and size


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", VERDICTS)
def test_verdict_page(
    state_sites: StateSites, badges: Badges, page_in: Any, state: str, lang: str, viewport: Viewport
) -> None:
    """The verdict names the state in its markup and its words; the check that decided it is listed first; a
    genuine badge's learner and a revocation's reason are shown, and a reissued copy's verdict points onward."""
    page = page_in(viewport)
    open_verdict(page, state_sites, badges, state, lang)
    verdict, outcome = VERDICTS[state]
    assert verdict_of(page) == (verdict, outcome, verdict_words(state, lang, badges))
    statuses = check_statuses(page)
    if verdict == "valid":
        assert set(statuses) == {"passed"}, statuses
    else:
        first = "unknown" if verdict == "indeterminate" else "failed"
        assert statuses[0] == first, f"the check that decided comes first: {statuses}"
    if state in ("valid", "expired", "revoked"):
        assert LEARNERS[state][0] in page.locator(".facts").inner_text(), "a genuine badge's verdict names its learner"
    if state == "revoked":
        assert "Wydane przez pomyłkę" in page.locator("main").inner_text()
    if state == "reissued":
        assert page.locator(".note.replacement a").count() == 1
    else:
        assert page.locator(".note.replacement").count() == 0
    check_page(page, f"state-verdict-{state}-{lang}-{viewport.name}", lang)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", LEARNER_STATES)
def test_learner_page(badges: Badges, page_in: Any, state: str, lang: str, viewport: Viewport) -> None:
    """The learner's page names the state in its markup and its words; a withdrawn badge offers no QR code,
    sharing or downloads (and says so as an alert), a current one offers them all; only a reissued one links on."""
    issued = badges.issued[state]
    page = page_in(viewport)
    page.goto(with_lang(issued["links"]["page"], lang))
    assert learner_state_of(page) == (LEARNER_STATES[state], learner_words(state, lang, badges))
    offered = offers(page, issued, lang)
    if state in WITHDRAWN:
        assert not any(offered.values()), f"a withdrawn badge offers nothing as if it were current: {offered}"
        assert page.locator("section.status[role=alert]").count() == 1
    else:
        assert all(offered.values()), offered
    replacement = page.locator("section.status a")
    if state == "reissued":
        expect(replacement).to_have_attribute("href", f"{badges.new_copy}?lang={lang}")
    else:
        expect(replacement).to_have_count(0)
    check_page(page, f"state-learner-{state}-{lang}-{viewport.name}", lang)


# --------------------------------------------------------------------------------------------------------------
# the keyboard alone

FOCUSED = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return null;
    let name = element.tagName.toLowerCase();
    if (element.matches('details.checks > summary')) name = 'details';
    else if (element.matches('a.linkedin')) name = 'linkedin';
    else if (element.matches('[data-copy]')) name = 'copy';
    else if (element.matches('ul.downloads a')) name = element.getAttribute('href').split('?')[0].split('/').pop();
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    return {
        name,
        text: element.textContent.trim().slice(0, 40),
        outline: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        top: Math.round(box.top + window.scrollY),
        left: Math.round(box.left),
        right: Math.round(box.right),
    };
}"""
"""Which element has the focus (named for the tests), its outline as drawn now, and where it is on the page."""
SHARING_ORDER = [
    "linkedin",
    "copy",
    "certificate.pdf",
    "badge.png",
    "badge.svg",
    "credential.json",
    "credential.jwt",
]
"""Where Tab should go on a learner's page, in this order: the order they are read in (the downloads are set in
two columns on a wide screen, read down the first, then down the second)."""


def tab_until(page: Any, name: str, most: int = 60) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until the element named ``name`` has the focus; every stop on the way."""
    reached: list[dict[str, Any]] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is not None:
            reached.append(focused)
            if focused["name"] == name:
                return reached
    raise AssertionError(f"Tab never reached {name}: {[stop['name'] for stop in reached]}")


def without_visible_focus(reached: list[dict[str, Any]]) -> list[str]:
    return [
        f"{stop['name']} {stop['text']!r}" for stop in reached if stop["outline"] == "none" or not stop["outlineWidth"]
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_keyboard_opens_the_technical_details(
    state_sites: StateSites, badges: Badges, page_at: Any, viewport: Viewport
) -> None:
    """On a revoked badge's verdict, Tab reaches "technical details", Enter unfolds them, and the check that failed
    (the revocation) is the first listed; every stop on the way shows where the focus is."""
    page = page_at(viewport)
    open_verdict(page, state_sites, badges, "revoked", "en")
    reached = tab_until(page, "details")
    assert not without_visible_focus(reached), f"focused with no visible outline: {without_visible_focus(reached)}"
    details = page.locator("details.checks")
    first = details.locator("li[data-check]").first
    expect(first).to_be_hidden()
    page.keyboard.press("Enter")
    expect(details).to_have_attribute("open", "")
    expect(first).to_be_visible()
    assert (first.get_attribute("data-check"), first.get_attribute("data-status")) == ("status", "failed")
    expect(first).to_contain_text(CHECK_NAMES["en"]["status"])


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_keyboard_reaches_sharing_and_downloads(badges: Badges, page_at: Any, viewport: Viewport) -> None:
    """On a valid badge's page, Tab goes to "add to LinkedIn", "copy link" and each download in reading order
    (down the page, or on to the next column), each with a visible outline."""
    page = page_at(viewport)
    page.goto(with_lang(badges.issued["valid"]["links"]["page"], "pl"))
    expect(page.locator("[data-copy]")).to_be_visible()  # shown by its script
    reached = tab_until(page, SHARING_ORDER[-1])
    stops = [stop for stop in reached if stop["name"] in SHARING_ORDER]
    assert [stop["name"] for stop in stops] == SHARING_ORDER, [stop["name"] for stop in reached]
    for before, after in itertools.pairwise(stops):
        onward = after["top"] >= before["top"] or after["left"] >= before["right"]  # down, or into the next column
        assert onward, f"the focus goes back up from {before} to {after}"
    assert not without_visible_focus(reached), f"focused with no visible outline: {without_visible_focus(reached)}"


# --------------------------------------------------------------------------------------------------------------
# without JavaScript


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", VERDICTS)
def test_verdict_page_without_javascript(
    state_sites: StateSites, badges: Badges, page_at: Any, state: str, lang: str
) -> None:
    """The verdict is the server's: with scripts off, every state reads as it does with them."""
    page = page_at(DESKTOP, java_script_enabled=False)
    open_verdict(page, state_sites, badges, state, lang)
    assert verdict_of(page) == (*VERDICTS[state], verdict_words(state, lang, badges))
    assert page.locator("html").get_attribute("lang") == lang


@pytest.mark.parametrize(
    ("state", "lang"),
    [("valid", "pl"), ("expired", "en"), ("revoked", "uk"), ("compromised", "pl"), ("reissued", "en")],
)
def test_learner_page_without_javascript(badges: Badges, page_at: Any, state: str, lang: str) -> None:
    """With scripts off the learner's page says the same and has every link it has with them; the link to share
    is in a field to select, since nothing can copy it."""
    issued = badges.issued[state]
    pages = {scripts: page_at(DESKTOP, java_script_enabled=scripts) for scripts in (True, False)}
    for page in pages.values():
        page.goto(with_lang(issued["links"]["page"], lang))
    page = pages[False]
    assert learner_state_of(page) == (LEARNER_STATES[state], learner_words(state, lang, badges))
    assert links_of(page) == links_of(pages[True])
    offered = offers(page, issued, lang)
    if state in WITHDRAWN:
        assert not any(offered.values()), offered
    else:
        assert all(offered.values()), offered
        expect(page.locator("#badge-link")).to_have_value(issued["links"]["page"])
        expect(page.locator("[data-copy]")).to_be_hidden()
    if state == "reissued":
        assert f"{badges.new_copy}?lang={lang}" in links_of(page)


# --------------------------------------------------------------------------------------------------------------
# a reissued badge's old copy, and a badge whose issuer is gone


@pytest.mark.parametrize("lang", LANGS)
def test_reissued_badge_leads_to_its_new_copy(badges: Badges, page_at: Any, lang: str) -> None:
    """The old copy's page links to the new copy's page, and its verdict to the new copy's verdict, which is
    valid; the reader's language goes along."""
    old = badges.issued["reissued"]["links"]
    page = page_at(DESKTOP)
    page.goto(with_lang(old["page"], lang))
    onward = page.locator("section.status a")
    expect(onward).to_have_text(MESSAGES[lang]["replaced_by"])
    with page.expect_navigation():
        onward.click()
    assert page.url == f"{badges.new_copy}?lang={lang}"
    assert learner_state_of(page) == ("valid", MESSAGES[lang]["status_valid"])
    assert page.locator("html").get_attribute("lang") == lang
    expect(page.locator("#badge-link")).to_have_value(badges.new_copy)

    page.goto(with_lang(old["verify"], lang))
    assert verdict_of(page)[:2] == ("invalid", "key_compromised")
    onward = page.locator(".note.replacement a")
    expect(onward).to_have_text(TEXT[lang]["verify_new_copy"])
    with page.expect_navigation():
        onward.click()
    assert verdict_of(page) == ("valid", "valid", OUTCOMES[lang]["valid"][0])
    assert page.locator("html").get_attribute("lang") == lang
    assert LEARNERS["reissued"][0] in page.locator(".facts").inner_text()
    permalink = urlsplit(page.locator("#permalink").input_value())
    assert parse_qs(permalink.query)["credential"] == [badges.new_copy]


@pytest.mark.parametrize("how", ["link", "token"])
def test_unreachable_issuer_is_indeterminate(state_sites: StateSites, page_at: Any, how: str) -> None:
    """A badge whose issuer no longer answers, by its link (the badge cannot be fetched) or as its token pasted
    in (its keys cannot be): "cannot be checked now", never valid and never forged."""
    issued = state_sites.unreachable
    page = page_at(DESKTOP)
    if how == "link":
        page.goto(with_lang(issued["links"]["verify"], "en"))
    else:
        page.goto(f"{state_sites.verifier_url}/?lang=en")
        page.locator("form textarea").fill(issued["jwt"])
        with page.expect_navigation():
            page.locator("form [type=submit]").click()
    assert verdict_of(page) == ("indeterminate", "indeterminate", OUTCOMES["en"]["indeterminate"][0])
    first = page.locator("details li[data-check]").first
    expected = ("retrieval", "credential_unavailable") if how == "link" else ("key", "keys_unavailable")
    assert (first.get_attribute("data-check"), first.locator(".code").text_content()) == expected
    assert first.get_attribute("data-status") == "unknown"
    screenshot(page, f"state-verdict-indeterminate-{how}-en-desktop")
