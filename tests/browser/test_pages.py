"""The pages people see, in Chromium at a desktop and a phone size: the verifier's form and its verdicts (opened
from a QR link, or with a token pasted in the form), and the learner's page on the issuer.

What is asserted is the pages' structure, which outlives a redesign: the ``h1`` names the verdict (and carries it in
``data-verdict``), ``<html lang>`` follows ``?lang=``, nothing scrolls sideways, axe-core finds no WCAG 2.1 A/AA
violation, the form is reachable by keyboard and works without JavaScript. Every page is also saved as a
screenshot under tests/browser/screenshots/ for a person to look at.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    VIEWPORTS,
    Site,
    Viewport,
    axe_violations,
    describe,
    horizontal_overflow,
    screenshot,
)
from tests.helpers import with_learner_renamed
from verifier.i18n import OUTCOMES

pytestmark = pytest.mark.browser

LANGS = ["pl", "en", "uk"]


def with_lang(url: str, lang: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}lang={lang}"


def check_page(page: Any, name: str, lang: str) -> None:
    """What every page must be: in the asked language, no sideways scrolling, no axe violation (and a screenshot)."""
    screenshot(page, name)
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").count() == 1, "one h1 per page"
    assert page.locator("h1").inner_text().strip()
    overflow = horizontal_overflow(page)
    assert not overflow, f"the page is {overflow} px wider than the window"
    violations = axe_violations(page)
    assert not violations, describe(violations)


def verdict_of(page: Any) -> tuple[str | None, str | None, str]:
    """The verdict, the outcome and the words of the banner's heading."""
    heading = page.locator("h1")
    return heading.get_attribute("data-verdict"), heading.get_attribute("data-outcome"), heading.inner_text().strip()


def headline(lang: str, outcome: str) -> str:
    return OUTCOMES[lang][outcome][0]


def check_statuses(page: Any) -> list[str | None]:
    """The statuses of the listed checks, in the order the page lists them (folded under technical details)."""
    return [item.get_attribute("data-status") for item in page.locator("details li[data-check]").all()]


@pytest.fixture(scope="module")
def valid_credential(site: Site) -> dict[str, Any]:
    return site.issue_credential("Anna Nowak", "anna@example.org")


@pytest.fixture(scope="module")
def revoked_credential(site: Site) -> dict[str, Any]:
    issued = site.issue_credential("Jan Kowalski", "jan@example.org")
    site.revoke_credential(issued["id"], "Wydane przez pomyłkę")
    return issued


# --------------------------------------------------------------------------------------------------------------
# the verifier's form


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
def test_verifier_home(site: Site, page_at: Any, lang: str, viewport: Viewport) -> None:
    page = page_at(viewport)
    page.goto(f"{site.verifier_url}/?lang={lang}")
    assert page.locator("h1").get_attribute("data-verdict") is None
    assert page.locator("form textarea").count() == 1
    check_page(page, f"verifier-home-{lang}-{viewport.name}", lang)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_keyboard_reaches_the_form(site: Site, page_at: Any, viewport: Viewport) -> None:
    """Tab from the top of the page reaches the textarea, then the submit button."""
    page = page_at(viewport)
    page.goto(f"{site.verifier_url}/?lang=pl")
    reached: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => {
                    const e = document.activeElement;
                    if (!e || e === document.body) return 'body';
                    if (e.matches('form textarea')) return 'textarea';
                    if (e.matches('form button[type=submit], form input[type=submit]')) return 'submit';
                    return e.tagName.toLowerCase();
                }"""
            )
        )
        if reached[-1] == "submit":
            break
    assert "textarea" in reached, reached
    assert "submit" in reached, reached
    assert reached.index("textarea") < reached.index("submit"), reached


# --------------------------------------------------------------------------------------------------------------
# verdicts


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
def test_valid_credential_opened_from_its_qr_link(
    site: Site, page_at: Any, valid_credential: dict[str, Any], lang: str, viewport: Viewport
) -> None:
    link = valid_credential["links"]["verify"]
    assert link.startswith(f"{site.verifier_url}/verify?credential=http"), link  # what the QR code holds
    page = page_at(viewport)
    page.goto(with_lang(link, lang))
    assert verdict_of(page) == ("valid", "valid", headline(lang, "valid"))
    assert "Anna Nowak" in page.locator("main").inner_text()
    assert page.locator("details").get_attribute("open") is None, "the checks are folded"
    check_page(page, f"verdict-valid-{lang}-{viewport.name}", lang)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
def test_revoked_credential(
    site: Site, page_at: Any, revoked_credential: dict[str, Any], lang: str, viewport: Viewport
) -> None:
    page = page_at(viewport)
    page.goto(with_lang(revoked_credential["links"]["verify"], lang))
    verdict, outcome, words = verdict_of(page)
    assert (verdict, outcome) == ("invalid", "revoked")
    assert words.startswith(headline(lang, "revoked").split("{date}")[0].strip()), words
    assert re.search(r"\d", words), "the banner names the date of the revocation"
    assert "Wydane przez pomyłkę" in page.locator("main").inner_text()
    assert check_statuses(page)[0] == "failed", "the failing check comes first"
    check_page(page, f"verdict-revoked-{lang}-{viewport.name}", lang)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize(("kind", "lang"), [("forged", "pl"), ("garbage", "en"), ("forged", "uk")])
def test_forged_or_garbage_token_pasted_in_the_form(
    site: Site, page_at: Any, valid_credential: dict[str, Any], kind: str, lang: str, viewport: Viewport
) -> None:
    token = (
        with_learner_renamed(valid_credential["jwt"], "Anna Nowak")
        if kind == "forged"
        else "to-nie-jest-token.eyJ9.!!!"
    )
    page = page_at(viewport)
    page.goto(f"{site.verifier_url}/?lang={lang}")
    page.locator("form textarea").fill(token)
    with page.expect_navigation():
        page.locator("form [type=submit]").click()
    outcome = "forged" if kind == "forged" else "not_a_credential"
    assert verdict_of(page) == ("invalid", outcome, headline(lang, outcome))
    assert check_statuses(page)[0] == "failed", "the failing check comes first"
    assert token not in page.url, "a pasted token never goes into an address"
    check_page(page, f"verdict-{kind}-{lang}-{viewport.name}", lang)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_form_works_without_javascript(
    site: Site, page_at: Any, valid_credential: dict[str, Any], viewport: Viewport
) -> None:
    page = page_at(viewport, java_script_enabled=False)
    page.goto(f"{site.verifier_url}/?lang=pl")
    page.locator("form textarea").fill(valid_credential["jwt"])
    with page.expect_navigation():
        page.locator("form [type=submit]").click()
    assert verdict_of(page) == ("valid", "valid", headline("pl", "valid"))
    screenshot(page, f"verdict-nojs-pl-{viewport.name}")


# --------------------------------------------------------------------------------------------------------------
# the learner's page on the issuer


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", ["valid", "revoked"])
def test_learner_page(
    site: Site,
    page_at: Any,
    valid_credential: dict[str, Any],
    revoked_credential: dict[str, Any],
    state: str,
    lang: str,
    viewport: Viewport,
) -> None:
    issued = valid_credential if state == "valid" else revoked_credential
    page = page_at(viewport)
    response = page.goto(with_lang(issued["links"]["page"], lang))  # the browser's own Accept: text/html
    assert response is not None and response.headers["content-type"].startswith("text/html")
    offers = {
        "verdict": page.locator(f"a[href='{issued['links']['verify']}&lang={lang}']").count(),
        "qr": page.locator(f"img[src='{issued['links']['qr_svg']}']").count(),
        "pdf": page.locator("a[href*='/certificate.pdf']").count(),
        "linkedin": page.locator("a[href^='https://www.linkedin.com/profile/add?']").count(),
    }
    if state == "valid":
        assert all(offers.values()), offers
        assert page.locator("img.artwork").evaluate("image => image.naturalWidth") > 0, "the badge's image shows"
    else:
        assert not any(offers.values()), f"a revoked badge offers nothing as if it were current: {offers}"
        assert page.locator("[role=alert]").count() == 1
    check_page(page, f"learner-{state}-{lang}-{viewport.name}", lang)


def test_axe_finds_a_planted_violation(site: Site, page_at: Any) -> None:
    """The accessibility check itself works: an image without a text alternative is reported."""
    page = page_at(DESKTOP)
    page.goto(f"{site.verifier_url}/?lang=en")
    page.evaluate("document.querySelector('main').append(Object.assign(new Image(), {src: '/x.png'}))")
    assert "image-alt" in {violation["id"] for violation in axe_violations(page)}
