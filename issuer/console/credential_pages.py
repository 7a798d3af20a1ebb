"""Issued credentials in the console: the search (and its CSV for Excel), one credential with its e-mail and
counts, and revoking (one or many), reissuing and resending the notification.

A learner's e-mail address is looked up by its keyed digest: the search form is posted, the address turned into
the digest and the browser sent on to an address holding only that, so the typed address never appears in a URL,
a log or the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request, Response

from credentials.ob3 import validity_window
from http_edge.language import LOCAL_TIME_ZONE
from issuer import credential_search, deliveries, events, reissue, repository, revocation
from issuer.badge_page import badge_state
from issuer.cohort_file import export_csv
from issuer.console.credential_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    Viewer,
    context_of,
    done_url,
    form_of,
    language_of,
    page,
    see_other,
)
from issuer.console.words import WORDS as ALL_WORDS
from issuer.console.words import add
from issuer.credential_search import PAGE_SIZE, STATUSES, Filters, Found
from issuer.errors import InvalidInput, NotFound
from issuer.models import Achievement, Credential, Delivery, Provider

add(WORDS)
router = APIRouter()

SEARCH_FIELDS = ("name", "ek", "achievement", "from", "to", "status", "cohort")
MAX_REASON = 500
MAX_SELECTED = 500
TONES = {"active": "good", "revoked": "bad", "expired": "warn", "compromised": "bad"}
_EMAIL_KEY = re.compile(r"[0-9a-f]{64}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Search:
    """A search as its address gives it: the filters, the values to show again, and what could not be read."""

    filters: Filters
    values: dict[str, str]
    problems: dict[str, str]
    """Field name → the words' key of what is wrong with it."""
    page: int

    def query(self, **changes: str) -> str:
        """The search as a query string (without the page), with some values changed or dropped."""
        values = {**self.values, **changes}
        return urlencode({name: value for name, value in values.items() if value})


def read_search(params: Mapping[str, str]) -> Search:
    values = {name: str(params.get(name) or "").strip()[:200] for name in SEARCH_FIELDS}
    if not _EMAIL_KEY.fullmatch(values["ek"]):
        values["ek"] = ""
    status = next((known for known in STATUSES if known == values["status"]), None)
    values["status"] = status or ""
    problems: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        days[name] = _day(values[name])
        if values[name] and days[name] is None:
            problems[name] = "cred_error_date"
    first, last = days["from"], days["to"]
    if first is not None and last is not None and first > last:
        problems["to"] = "cred_error_range"
    number = str(params.get("page") or "")
    filters = Filters(
        name=values["name"],
        email_key=values["ek"] or None,
        achievement_id=values["achievement"] or None,
        issued_from=_midnight(first) if first else None,
        issued_before=_midnight(last + timedelta(days=1)) if last else None,
        status=status,
        cohort_id=values["cohort"] or None,
    )
    return Search(filters, values, problems, int(number) if number.isdigit() and 0 < len(number) < 7 else 1)


def _day(text: str) -> date | None:
    if not _DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if 1970 <= day.year <= 9000 else None


def _midnight(day: date) -> datetime:
    """The day's first moment in Lublin: "issued on 31 March" means Polish time, not UTC."""
    return datetime.combine(day, time(0), LOCAL_TIME_ZONE)


@dataclass(frozen=True)
class Row:
    record: Credential
    badge: str
    status: str
    """active, revoked, expired or compromised."""
    delivery: Delivery | None

    @property
    def tone(self) -> str:
        return TONES[self.status]


def _rows(found: list[Found], names: Mapping[str, str], compromised: set[str], now: datetime) -> list[Row]:
    rows = []
    for item in found:
        record = item.credential
        status: str = credential_search.status_of(record, now)
        if status != "revoked" and record.kid in compromised:
            status = "compromised"
        rows.append(Row(record, _badge_name(record, names), status, item.delivery))
    return rows


def _badge_name(record: Credential, names: Mapping[str, str]) -> str:
    if record.achievement_id in names:
        return names[record.achievement_id or ""]
    achievement = record.claims().get("credentialSubject", {}).get("achievement", {})
    name = achievement.get("name") if isinstance(achievement, dict) else None
    return name if isinstance(name, str) else ""


def _achievement_names(achievements: list[Achievement]) -> dict[str, str]:
    return {item.id: str(item.document.get("name", "")) for item in achievements}


def _list_url(slug: str, search: Search, page_number: int | None = None) -> str:
    query = search.query(**({"page": str(page_number)} if page_number and page_number > 1 else {}))
    return f"/console/{slug}/credentials" + (f"?{query}" if query else "")


def _list_page(
    request: Request,
    who: Viewer,
    search: Search,
    *,
    revoke_problems: dict[str, str] | None = None,
    reason: str = "",
    chosen: frozenset[str] = frozenset(),
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    now = datetime.now(UTC)
    offset = (search.page - 1) * PAGE_SIZE
    with ctx.db.read() as session:
        achievements = list(repository.achievements(session, who.provider_id))
        cohort_id = search.filters.cohort_id
        cohort = credential_search.cohort(session, who.provider_id, cohort_id) if cohort_id else None
        found: list[Found] = []
        total = 0
        if not search.problems:
            found, total = credential_search.search(
                session, who.provider_id, search.filters, now, limit=PAGE_SIZE, offset=offset
            )
        compromised = credential_search.compromised_kids(session, who.provider_id)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = _rows(found, _achievement_names(achievements), compromised, now)
    context: dict[str, Any] = {
        "search": search,
        "values": search.values,
        "problems": search.problems,
        "achievements": achievements,
        "cohort": cohort,
        "rows": rows,
        "first_pick": next((f"pick-{row.record.id}" for row in rows if row.status != "revoked"), "credential-table"),
        "total": total,
        "pages": pages,
        "page_number": search.page,
        "prev_url": _list_url(who.slug, search, search.page - 1) if search.page > 1 else None,
        "next_url": _list_url(who.slug, search, search.page + 1) if search.page < pages else None,
        "back": search.query(**({"page": str(search.page)} if search.page > 1 else {})),
        "export_url": f"/console/{who.slug}/credentials/export.csv" + (f"?{search.query()}" if search.query() else ""),
        "revoke_problems": revoke_problems or {},
        "reason": reason,
        "chosen": chosen,
    }
    return page(request, "console/credentials.html", context, who=who, section="credentials", status=status)


@router.get("/console/{slug}/credentials")
def credential_list(request: Request, who: ProviderViewer) -> Response:
    search = read_search(request.query_params)
    return _list_page(request, who, search, status=422 if search.problems else 200)


@router.post("/console/{slug}/credentials/search")
async def credential_search_post(request: Request, who: ProviderViewer) -> Response:
    """The search form: the e-mail address typed becomes its keyed digest before it reaches any address bar."""
    form = await form_of(request, who)
    values = {name: str(form.get(name) or "").strip()[:200] for name in SEARCH_FIELDS}
    email = str(form.get("email") or "").strip()[:320]
    if email:
        values["ek"] = context_of(request).vault.email_key(email)
    query = urlencode({name: value for name, value in values.items() if value})
    return see_other(f"/console/{who.slug}/credentials" + (f"?{query}" if query else ""))


@router.get("/console/{slug}/credentials/export.csv")
def credential_export(request: Request, who: ProviderViewer) -> Response:
    """The search as a CSV for Excel: what a coordinator needs to report, never an e-mail address."""
    search = read_search(request.query_params)
    if search.problems:
        return _list_page(request, who, search, status=422)
    ctx = context_of(request)
    lang = language_of(request)
    t = ALL_WORDS[lang]
    now = datetime.now(UTC)
    with ctx.db.read() as session:
        found = credential_search.every(session, who.provider_id, search.filters, now)
        names = _achievement_names(list(repository.achievements(session, who.provider_id)))
        compromised = credential_search.compromised_kids(session, who.provider_id)
    header = ["learner", "badge", "issued", "valid_until", "status", "reason", "delivery", "page", "verify"]
    table: list[list[object]] = [[t[f"cred_csv_{name}"] for name in header]]
    for row in _rows(found, names, compromised, now):
        record = row.record
        table.append(
            [
                record.learner_name,
                row.badge,
                _local_day(record.issued_at),
                _local_day(record.valid_until),
                t[f"cred_status_{row.status}"],
                record.revocation_reason,
                t[f"cred_delivery_{row.delivery.state if row.delivery else 'none'}"],
                ctx.urls.credential(record.id),
                ctx.urls.short(record.id),
            ]
        )
    filename = f"{t['cred_csv_filename']}-{who.slug}-{_local_day(now)}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(export_csv(table), media_type="text/csv; charset=utf-8", headers=headers)


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(LOCAL_TIME_ZONE).date() if moment is not None else None


@router.post("/console/{slug}/credentials/revoke")
async def revoke_selected(request: Request, who: ProviderViewer) -> Response:
    """Revoke the credentials ticked in the list, with one reason: all of them or, if any is not ours, none."""
    form = await form_of(request, who)
    who.require("revoke")
    ids = list(dict.fromkeys(str(value)[:100] for value in form.getlist("id")))[:MAX_SELECTED]
    reason = str(form.get("reason") or "").strip()
    back = read_search(dict(parse_qsl(str(form.get("back") or "")[:2000])))
    problems = _reason_problems(reason)
    if not ids:
        problems = {"ids": "cred_error_none_selected", **problems}
    if problems:
        return _list_page(
            request, who, back, revoke_problems=problems, reason=reason, chosen=frozenset(ids), status=422
        )
    count = revocation.revoke_many(context_of(request), _provider(who), ids, reason, who.actor)
    return see_other(done_url(_list_url(who.slug, back, back.page), "cred_revoked_many", count))


def _reason_problems(reason: str) -> dict[str, str]:
    if not reason:
        return {"reason": "cred_error_reason_missing"}
    if len(reason) > MAX_REASON:
        return {"reason": "cred_error_reason_long"}
    return {}


def _provider(who: Viewer) -> Provider:
    assert who.provider is not None
    return who.provider


# --------------------------------------------------------------------------------------------------------------
# One credential


def _detail_url(slug: str, credential_id: str) -> str:
    return f"/console/{slug}/credentials/{quote(credential_id, safe='')}"


def _detail_page(
    request: Request,
    who: Viewer,
    credential_id: str,
    *,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    reason: str = "",
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    lang = language_of(request)
    with ctx.db.read() as session:
        record = repository.provider_credential(session, who.provider_id, credential_id[:100])
        if record is None:
            raise NotFound("There is no such credential for this provider.")
        achievement = (
            repository.achievement(session, who.provider_id, record.achievement_id) if record.achievement_id else None
        )
        delivery = credential_search.delivery(session, record.id)
        cohort = credential_search.cohort(session, who.provider_id, record.cohort_id) if record.cohort_id else None
    claims = record.claims()
    try:
        valid_from, valid_until = validity_window(claims)
    except ValueError:
        valid_from, valid_until = None, record.valid_until
    context = {
        "record": record,
        "achievement": achievement,
        "badge": _badge_name(record, _achievement_names([achievement] if achievement else [])),
        "state": badge_state(ctx, record, claims, lang),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "delivery": delivery,
        "cohort": cohort,
        "counts": events.totals(ctx, [record.id]).get(record.id, {}),
        "links": {"page": ctx.urls.credential(record.id), "verify": ctx.urls.verify(record.id)},
        "short": ctx.urls.short(record.id),
        "problems": problems or {},
        "error": error,
        "reason": reason,
    }
    return page(request, "console/credential.html", context, who=who, section="credentials", status=status)


@router.get("/console/{slug}/credentials/{credential_id}")
def credential_detail(request: Request, who: ProviderViewer, credential_id: str) -> Response:
    return _detail_page(request, who, credential_id)


@router.post("/console/{slug}/credentials/{credential_id}/revoke")
async def revoke_one(request: Request, who: ProviderViewer, credential_id: str) -> Response:
    form = await form_of(request, who)
    who.require("revoke")
    reason = str(form.get("reason") or "").strip()
    problems = _reason_problems(reason)
    if problems:
        return _detail_page(request, who, credential_id, problems=problems, reason=reason, status=422)
    revocation.revoke(context_of(request), _provider(who), credential_id, reason, who.actor)
    return see_other(done_url(_detail_url(who.slug, credential_id), "cred_revoked"))


@router.post("/console/{slug}/credentials/{credential_id}/reissue")
async def reissue_one(request: Request, who: ProviderViewer, credential_id: str) -> Response:
    """A new copy under the provider's current key; the old one revoked, pointing to it; the learner e-mailed."""
    await form_of(request, who)
    who.require("revoke")
    ctx = context_of(request)
    with ctx.db.read() as session:
        record = repository.provider_credential(session, who.provider_id, credential_id[:100])
    if record is None:
        raise NotFound("There is no such credential for this provider.")
    done = [] if record.revoked_at else reissue.reissue(ctx, who.slug, credential_ids=[record.id], actor=who.actor)
    if not done:
        return _detail_page(request, who, record.id, error="cred_error_reissue_revoked", status=422)
    return see_other(done_url(_detail_url(who.slug, done[0].new_id), "cred_reissued"))


@router.post("/console/{slug}/credentials/{credential_id}/resend")
async def resend_one(request: Request, who: ProviderViewer, credential_id: str) -> Response:
    await form_of(request, who)
    who.require("issue")
    try:
        deliveries.resend(context_of(request), who.provider_id, credential_id[:100], who.actor)
    except InvalidInput as exc:
        revoked = any(field.get("message") == "revoked" for field in exc.fields)
        error = "cred_error_resend_revoked" if revoked else "cred_error_no_address"
        return _detail_page(request, who, credential_id, error=error, status=422)
    return see_other(done_url(_detail_url(who.slug, credential_id), "cred_resent"))
