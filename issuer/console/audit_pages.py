"""The provider's audit log in the console: its entries in plain words, and at the top whether the chain they
belong to is intact, checked afresh at every visit.

The chain is one for the whole programme, so every visit checks all of it. The programme operator sees every
problem found; a provider's staff see the problems of the chain itself (which name entries by number only) and
how many others there are, since those name other providers' credentials and lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from issuer import audit_verify, credential_search
from issuer.console.audit_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    context_of,
    language_of,
    page,
)
from issuer.console.words import WORDS as ALL_WORDS
from issuer.console.words import add
from issuer.credential_search import PAGE_SIZE
from issuer.models import AuditEntry
from issuer.urls import last_segment

add(WORDS)
router = APIRouter()

_CHAIN_PROBLEM = re.compile(r"(?:audit entry (\d+)|checkpoint):")
_STAFF = re.compile(r"staff:(\d{1,12})")


@dataclass(frozen=True)
class Line:
    """One audit entry as the page shows it."""

    entry: AuditEntry
    who: str
    action: str
    subject: str
    subject_url: str | None
    details: list[tuple[str, str]]
    failing: bool
    """The chain check named this entry."""


@dataclass(frozen=True)
class ChainState:
    intact: bool
    entries: int
    shown: list[str]
    hidden: int
    failing: set[int]


def chain_state(report: audit_verify.AuditReport, operator: bool) -> ChainState:
    shown, hidden, failing = [], 0, set()
    for problem in report.problems:
        found = _CHAIN_PROBLEM.match(problem)
        if found and found.group(1):
            failing.add(int(found.group(1)))
        if operator or found:
            shown.append(problem)
        else:
            hidden += 1
    return ChainState(report.intact, report.entries, shown, hidden, failing)


def action_words(t: Mapping[str, str], action: str) -> str:
    return t.get("audit_act_" + action.replace(".", "_"), action)


@router.get("/console/{slug}/audit")
def audit_log(request: Request, who: ProviderViewer) -> Response:
    ctx = context_of(request)
    t = ALL_WORDS[language_of(request)]
    params = request.query_params
    number = params.get("page", "")
    page_number = int(number) if number.isdigit() and 0 < len(number) < 7 else 1
    seal = ctx.db.audit_seal
    assert seal is not None
    with ctx.db.read() as session:
        report = audit_verify.verify(session, seal)
        actions = credential_search.audit_actions(session, who.provider_id)
        action = params.get("action") if params.get("action") in actions else None
        entries, total = credential_search.audit_entries(
            session, who.provider_id, action, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
        )
        staff_ids = {
            int(found.group(1))
            for entry in entries
            for text in (entry.actor, entry.subject)
            if (found := _STAFF.fullmatch(text))
        }
        names = credential_search.staff_names(session, who.provider_id, staff_ids)
        prefix = ctx.urls.credential("")
        credential_ids = {last_segment(entry.subject) for entry in entries if entry.subject.startswith(prefix)}
        credentials = credential_search.credential_names(session, who.provider_id, credential_ids)
    chain = chain_state(report, who.operator)
    lines = [_line(t, entry, who.slug, names, credentials, entry.seq in chain.failing) for entry in entries]
    pages = max(1, math.ceil(total / PAGE_SIZE))

    def url(number: int) -> str:
        query = "&".join(part for part in (f"action={quote(action)}" if action else "", f"page={number}") if part)
        return f"/console/{who.slug}/audit?{query}"

    context: dict[str, Any] = {
        "chain": chain,
        "lines": lines,
        "total": total,
        "actions": [(name, action_words(t, name)) for name in actions],
        "action": action or "",
        "page_number": page_number,
        "pages": pages,
        "prev_url": url(page_number - 1) if page_number > 1 else None,
        "next_url": url(page_number + 1) if page_number < pages else None,
    }
    return page(request, "console/audit.html", context, who=who, section="audit")


def _line(
    t: Mapping[str, str],
    entry: AuditEntry,
    slug: str,
    names: Mapping[int, str],
    credentials: Mapping[str, str | None],
    failing: bool,
) -> Line:
    """The entry in words: people by name, the provider's credentials linked to their console pages."""
    subject, subject_url = entry.subject, None
    credential_id = last_segment(entry.subject)
    staff = _STAFF.fullmatch(entry.subject)
    if "/credentials/" in entry.subject and credential_id in credentials:
        subject = f"{t['audit_subject_credential']}: {credentials[credential_id] or credential_id}"
        subject_url = f"/console/{slug}/credentials/{credential_id}"
    elif staff and int(staff.group(1)) in names:
        subject = names[int(staff.group(1))]
    details = [(str(key), _detail(value)) for key, value in sorted(entry.details.items())]
    return Line(
        entry, _who(t, entry.actor, names), action_words(t, entry.action), subject, subject_url, details, failing
    )


def _who(t: Mapping[str, str], actor: str, names: Mapping[int, str]) -> str:
    if found := _STAFF.fullmatch(actor):
        staff_id = int(found.group(1))
        return names.get(staff_id) or t["audit_who_staff_elsewhere"].format(id=staff_id)
    if actor.startswith("api-key:"):
        return t["audit_who_api_key"].format(prefix=actor.removeprefix("api-key:"))
    return {"cli": t["audit_who_cli"], "anonymous": t["audit_who_anonymous"]}.get(actor, actor)


def _detail(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
