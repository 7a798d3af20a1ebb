"""Which language a page speaks: Polish, English or Ukrainian.

The reader's explicit choice wins: ``?lang=`` on the address (what the language switch links carry), then the
``lang`` cookie that choice leaves behind, then the browser's ``Accept-Language`` by its q-values; Polish when
nothing matches, since the programme is Lublin's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

LANGUAGES = ("pl", "en", "uk")
DEFAULT = "pl"
NAMES = {"pl": "Polski", "en": "English", "uk": "Українська"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def from_accept_language(header: str) -> str | None:
    """The supported language the header prefers most (``uk-UA;q=0.9, en;q=0.8`` gives ``uk``), if any."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not 0 < quality <= 1:
            continue
        candidate = (-quality, position, primary)  # highest q first; the earlier of two equal ones
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def negotiate(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


def remember(request: Request, response: Response) -> None:
    """Keep an explicit ``?lang=`` choice in a cookie, so the next page opened without it speaks it too."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, asked, max_age=COOKIE_MAX_AGE, samesite="lax", httponly=True, secure=secure)


def switch_links(request: Request) -> list[dict[str, str]]:
    """For each language, the current address with ``lang`` set to it (every other parameter kept)."""
    kept = [(name, value) for name, value in request.query_params.multi_items() if name != "lang"]
    return [
        {"code": code, "name": NAMES[code], "href": f"{request.url.path}?{urlencode([*kept, ('lang', code)])}"}
        for code in LANGUAGES
    ]


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
LOCAL_TIME_ZONE = ZoneInfo("Europe/Warsaw")
"""Lublin's: the zone of dates and times on pages and certificates, and of a date given without a time
(``validFrom: "2030-01-01"`` starts at midnight in Lublin, ``validUntil: "2030-01-01"`` ends at 23:59:59 there)."""


def parse_moment(value: str | datetime | None) -> datetime | None:
    """A datetime from an ISO 8601 string (``Z`` allowed) or a datetime; ``None`` for anything unreadable."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_date(value: str | datetime | None, lang: str) -> str:
    """``29.11.2026`` (Polish, Ukrainian) or ``29 Nov 2026`` (English), in Lublin's time zone; ``""`` if none."""
    moment = parse_moment(value)
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL_TIME_ZONE)
    if lang == "en":
        return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"
    return f"{local.day:02d}.{local.month:02d}.{local.year}"


def format_moment(value: str | datetime | None, lang: str) -> str:
    """A date with the time of day, ``29.11.2026 14:03``, in Lublin's time zone."""
    moment = parse_moment(value)
    if moment is None:
        return ""
    return f"{format_date(moment, lang)} {moment.astimezone(LOCAL_TIME_ZONE):%H:%M}"


def _plural(count: int, lang: str, forms: tuple[str, str, str]) -> str:
    """One of (one, few, many) by the plural rules of Polish and Ukrainian; English uses one and many."""
    if count == 1:
        return forms[0]
    if lang == "en":
        return forms[2]
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return forms[1]
    if lang == "uk" and count % 10 == 1 and count % 100 != 11:
        return forms[0]
    return forms[2]


DAYS = {"pl": ("dzień", "dni", "dni"), "en": ("day", "days", "days"), "uk": ("день", "дні", "днів")}
AGO = {"pl": "{n} {days} temu", "en": "{n} {days} ago", "uk": "{n} {days} тому"}
AHEAD = {"pl": "za {n} {days}", "en": "in {n} {days}", "uk": "через {n} {days}"}
TODAY = {"pl": "dziś", "en": "today", "uk": "сьогодні"}


def relative_days(moment: str | datetime | None, lang: str, now: datetime | None = None) -> str:
    """``3 dni temu``, ``za 12 dni``, ``dziś``: how far ``moment`` is from now, in whole days of Lublin's calendar."""
    when = parse_moment(moment)
    if when is None:
        return ""
    today = (now or datetime.now(UTC)).astimezone(LOCAL_TIME_ZONE).date()
    days = (when.astimezone(LOCAL_TIME_ZONE).date() - today).days
    if days == 0:
        return TODAY[lang]
    pattern = AHEAD[lang] if days > 0 else AGO[lang]
    return pattern.format(n=abs(days), days=_plural(abs(days), lang, DAYS[lang]))


_SHORT_WORD = re.compile(r"(?<![\w\-/.])([AaIiOoUuWwZzАаІіЙйВвУуЗзОо])[ \t\n]+(?=\S)")
_DASH = re.compile(r"[ \t\n]+(?=– )")


@pass_context
def tie_short_words(context: Context, value: Any) -> Any:
    """On a Polish or Ukrainian page, keep a one-letter word (``w``, ``z``, ``i``, ``о``, ``у``…) on the line of
    the word after it, and a dash on the line of the word before it, as their typesetting wants. Jinja's
    ``finalize`` hook for every value a page prints; escaped markup stays escaped (only spaces change)."""
    if context.get("lang") not in ("pl", "uk"):
        return value
    if isinstance(value, Markup):
        # Only whitespace inside already-escaped markup is replaced: nothing unescaped is introduced.
        return Markup(_tie(str(value)))  # noqa: S704
    if isinstance(value, str):
        return _tie(value)
    return value


def _tie(text: str) -> str:
    """One-letter words to the next word, and a dash (``Kompetencje jutra – Lublin``) to the word before it."""
    return _DASH.sub("\u00a0", _SHORT_WORD.sub("\\1\u00a0", text))
