"""Issuing one credential from a form: the badge, the learner, optional details, and the e-mail telling them.

A learner who already holds the badge is not issued a second one by accident: the page says so, links the
credential issued before and offers to issue again anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from http_edge.language import NAMES
from issuer import achievements
from issuer.api_keys import Principal
from issuer.console.achievement_form import Problem, first_per_field, values_of_form
from issuer.console.issue_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    Typed,
    Viewer,
    context_of,
    done_url,
    form_of,
    language_of,
    page,
    see_other,
)
from issuer.console.words import add
from issuer.errors import AlreadyIssued, InvalidInput, NotFound
from issuer.issuance import CredentialRequest, issue_credentials
from issuer.urls import last_segment

add(WORDS)
router = APIRouter()

LABELS = {
    "achievement": "issue_f_achievement",
    "name": "issue_f_name",
    "email": "issue_f_email",
    "narrative": "issue_f_narrative",
    "evidence": "issue_f_evidence",
    "result": "issue_f_result",
    "validUntil": "issue_f_valid_until",
    "language": "issue_f_language",
}
FIELDS = {"recipient.name": "name", "recipient.email": "email", "recipient": "email"}
"""The request's field paths that the form names otherwise; the rest are the form's own names."""
MESSAGES = {
    "missing": "issue_err_required",
    "string_too_short": "issue_err_required",
    "string_too_long": "issue_err_too_long",
    "too_long": "issue_err_too_long",
    "datetime_from_date_parsing": "issue_err_date",
    "datetime_parsing": "issue_err_date",
}


def principal_of(who: Viewer) -> Principal:
    """A staff member issuing through the console, named in the audit log as ``staff:<id>``."""
    assert who.provider is not None
    return Principal(who.provider, frozenset({"issue"}), key_prefix="console", staff_actor=who.actor)


def _problem(key: str, message_key: str, words: Mapping[str, str]) -> Problem:
    return Problem(key, words[LABELS.get(key, "issue_f_achievement")], words[message_key])


def _page(
    request: Request,
    who: Viewer,
    values: Mapping[str, str],
    *,
    problems: list[Problem] | None = None,
    existing: str | None = None,
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    active = [record for record in achievements.list_achievements(ctx, who.provider_id) if record.archived_at is None]
    context = {
        "achievements": sorted(active, key=lambda record: record.document["name"].lower()),
        "values": values,
        "problems": problems or [],
        "errors": {problem.key: problem.message for problem in problems or () if problem.key},
        "existing": existing,
        "languages_of_mail": NAMES,
        "typed": Typed,
    }
    return page(request, "console/issue.html", context, who=who, section="issue", status=status)


@router.get("/console/{slug}/issue")
def issue_form(request: Request, who: ProviderViewer) -> Response:
    who.require("issue")
    chosen = request.query_params.get("achievement", "")
    return _page(request, who, {"achievement": chosen, "notify": "on", "language": "pl"})


@router.post("/console/{slug}/issue")
async def issue(request: Request, who: ProviderViewer) -> Response:
    who.require("issue")
    values = values_of_form(await form_of(request, who))
    return await run_in_threadpool(_issue, request, who, values)


def _issue(request: Request, who: Viewer, values: dict[str, str]) -> Response:
    ctx = context_of(request)
    words = WORDS[language_of(request)]
    credential_request, problems = read_request(values, words)
    if credential_request is not None:
        try:  # an archived version is refused by issue_credentials itself (field "achievement": "archived")
            [issued] = issue_credentials(ctx, principal_of(who), [credential_request])
        except AlreadyIssued as already:
            existing = last_segment(str(already.details.get("credential", "")))
            return _page(request, who, values, existing=existing or None, status=409)
        except NotFound:
            problems = [_problem("achievement", "issue_err_achievement", words)]
        except InvalidInput as refused:
            problems = [_refusal(field, words) for field in refused.fields]
        else:
            return see_other(done_url(f"/console/{who.slug}/credentials/{issued.record.id}", "issue_done"))
    return _page(request, who, values, problems=problems, status=422)


def _refusal(field: Mapping[str, str], words: Mapping[str, str]) -> Problem:
    path, message = field.get("field", ""), field.get("message", "")
    if path == "achievement":
        return _problem(
            "achievement", "issue_err_archived" if message == "archived" else "issue_err_achievement", words
        )
    if path == "validUntil":
        return _problem("validUntil", "issue_err_date_past", words)
    key = FIELDS.get(path, path.split(".")[0].split("[")[0])
    return _problem(key if key in LABELS else "achievement", "issue_err_invalid", words)


def read_request(values: Mapping[str, str], words: Mapping[str, str]) -> tuple[CredentialRequest | None, list[Problem]]:
    """The request the form describes, or every problem with it at once."""
    text = {key: values.get(key, "").strip() for key in LABELS}
    problems = []
    data: dict[str, Any] = {
        "achievement": text["achievement"],
        "recipient": {"name": text["name"], "email": text["email"]},
        "notify": bool(values.get("notify")),
        "language": text["language"] if text["language"] in NAMES else "pl",
        "allowDuplicate": values.get("allowDuplicate") == "1",
    }
    if not text["achievement"]:
        problems.append(_problem("achievement", "issue_err_achievement", words))
    if text["narrative"]:
        data["narrative"] = text["narrative"]
    if text["evidence"]:
        if text["evidence"].startswith(("https://", "http://")) and not any(c.isspace() for c in text["evidence"]):
            data["evidence"] = [{"id": text["evidence"]}]
        else:
            problems.append(_problem("evidence", "issue_err_url", words))
    if text["result"]:
        data["result"] = [{"value": text["result"]}]
    if text["validUntil"]:
        data["validUntil"] = text["validUntil"]
    try:
        request = CredentialRequest.model_validate(data)
    except ValidationError as invalid:
        for error in invalid.errors():
            path = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
            key = FIELDS.get(path, path.split(".")[0])
            if key == "email" and error["type"] == "value_error":
                message = "issue_err_email"
            elif key == "validUntil":
                message = "issue_err_date"
            else:
                message = MESSAGES.get(error["type"], "issue_err_invalid")
            problems.append(_problem(key if key in LABELS else "achievement", message, words))
        return None, first_per_field(problems)
    if problems:
        return None, first_per_field(problems)
    return request, []
