"""Badge templates (achievements): the list, the form that makes a badge and changes it (each change a new
version), the view with its image, archiving, and a preview of the learner's page before anything is issued."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from credentials.eu_elements import eu_elements
from issuer import achievements, uploaded_images
from issuer.achievements import AchievementIn
from issuer.badge_page import achievement_context, eu_rows, skills, type_name
from issuer.console.achievement_form import (
    MAX_ALIGNMENT_ROWS,
    Problem,
    read_form,
    values_of_form,
    values_of_input,
)
from issuer.console.achievement_words import WORDS
from issuer.console.profile_pages import LOGO_PATH
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
from issuer.errors import InvalidInput
from issuer.i18n import ACHIEVEMENT_TYPES, MESSAGES
from issuer.issuance import add_months
from issuer.models import Achievement, AchievementImage, ProviderImage

add(WORDS)
router = APIRouter()

BASE = "/console/{slug}/achievements"
IMAGE_PATH = BASE + "/{achievement_id}/image"
UPLOAD_BODY_BYTES = uploaded_images.MAX_BYTES + 64 * 1024
"""A 1 MiB image with the multipart framing and the form's other fields around it."""
UPLOAD_ROUTES = {("POST", IMAGE_PATH): UPLOAD_BODY_BYTES, ("POST", LOGO_PATH): UPLOAD_BODY_BYTES}
"""The console's upload routes and their body limits, for the app's ``BodyLimit`` (64 KiB elsewhere)."""


def _path(who: Viewer, record: Achievement | str, suffix: str = "") -> str:
    achievement_id = record if isinstance(record, str) else record.id
    return f"/console/{who.slug}/achievements/{achievement_id}{suffix}"


@router.get(BASE)
def achievement_list(request: Request, who: ProviderViewer) -> Response:
    """Every badge of the provider, the ones that can be issued first, newest first."""
    ctx = context_of(request)
    lang = language_of(request)
    records = achievements.list_achievements(ctx, who.provider_id)
    rows = sorted(records, key=lambda record: (record.archived_at is not None, -record.created_at.timestamp()))
    context = {
        "rows": rows,
        "issued": achievements.issued_counts(ctx, who.provider_id),
        "type_of": lambda record: type_name(record.document.get("achievementType"), lang),
    }
    return page(request, "console/achievement_list.html", context, who=who, section="achievements")


def _form_page(
    request: Request,
    who: Viewer,
    values: dict[str, str],
    *,
    record: Achievement | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    lang = language_of(request)
    original = (record.document.get("inLanguage") if record else None) or achievements.DEFAULT_LANGUAGE
    chosen = values.get("achievementType", "")
    types = list(ACHIEVEMENT_TYPES[lang].items())
    if chosen and chosen not in ACHIEVEMENT_TYPES[lang]:
        types.append((chosen, type_name(chosen, lang) or chosen))
    rows = max((row + 1 for row in range(MAX_ALIGNMENT_ROWS) if f"align-{row}-url" in values), default=0)
    context = {
        "record": record,
        "values": values,
        "problems": problems or [],
        "errors": {problem.key: problem.message for problem in problems or () if problem.key},
        "types": types,
        # A saved badge gets two empty rows to add to; a form shown again keeps its rows, so "row 2" stays row 2.
        "alignment_rows": range(min(MAX_ALIGNMENT_ROWS, max(3, rows + 2) if status == 200 else max(3, rows))),
        "translation_languages": [code for code in achievements.TRANSLATION_LANGUAGES if code != original],
        "action": _path(who, record, "/edit") if record else f"/console/{who.slug}/achievements/new",
        "typed": Typed,
    }
    return page(request, "console/achievement_form.html", context, who=who, section="achievements", status=status)


@router.get(BASE + "/new")
def new_form(request: Request, who: ProviderViewer) -> Response:
    who.require("manage_achievements")
    return _form_page(request, who, {"eu": ""})


@router.post(BASE + "/new")
async def create(request: Request, who: ProviderViewer) -> Response:
    who.require("manage_achievements")
    values = values_of_form(await form_of(request, who))
    return await run_in_threadpool(_save, request, who, values, None)


@router.get(BASE + "/{achievement_id}/edit")
def edit_form(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    who.require("manage_achievements")
    record = achievements.get_achievement(context_of(request), who.provider_id, achievement_id)
    if record.archived_at is not None:
        return see_other(_path(who, record))
    return _form_page(request, who, values_of_input(achievements.input_of(record)), record=record)


@router.post(BASE + "/{achievement_id}/edit")
async def edit(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    who.require("manage_achievements")
    values = values_of_form(await form_of(request, who))
    record = await run_in_threadpool(achievements.get_achievement, context_of(request), who.provider_id, achievement_id)
    return await run_in_threadpool(_save, request, who, values, record)


def _save(request: Request, who: Viewer, values: dict[str, str], record: Achievement | None) -> Response:
    """Check the form and save it: a new badge, or the next version of ``record``; the form again, with every
    problem named beside its field and in the summary, when something is missing or wrong."""
    ctx = context_of(request)
    assert who.provider is not None
    t = WORDS[language_of(request)]
    base = achievements.input_of(record) if record is not None else None
    payload, problems = read_form(values, base=base, provider=who.provider, words=t)
    if payload is not None:
        try:
            saved = _store(ctx, who, payload, record)
        except InvalidInput as refused:
            problems = Problem.all_of(refused.fields, values, t)
        else:
            return see_other(done_url(_path(who, saved), "ach_versioned" if record else "ach_created"))
    return _form_page(request, who, values, record=record, problems=problems, status=422)


def _store(ctx: Any, who: Viewer, payload: AchievementIn, record: Achievement | None) -> Achievement:
    assert who.provider is not None
    if record is None:
        return achievements.create_achievement(ctx, who.provider, payload, who.actor)
    return achievements.revise_achievement(ctx, who.provider, record.id, payload, who.actor)


def _view_page(
    request: Request,
    who: Viewer,
    record: Achievement,
    *,
    image_error: str | None = None,
    image_detail: str | None = None,
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    lang = language_of(request)
    with ctx.db.read() as session:
        image = session.get(AchievementImage, record.id)
    document = record.document
    context = {
        "record": record,
        "document": document,
        "criteria": (document.get("criteria") or {}).get("narrative"),
        "criteria_url": (document.get("criteria") or {}).get("id"),
        "achievement_type": type_name(document.get("achievementType"), lang),
        "skills": skills(document),
        "eu": eu_rows(eu_elements(document), lang),
        "tags": [tag for tag in document.get("tag") or () if isinstance(tag, str)],
        "translations": record.translations or {},
        "issued": achievements.issued_counts(ctx, who.provider_id).get(record.id, 0),
        "earlier": achievements.earlier_versions(ctx, record),
        "image_src": f"/achievements/{record.id}/image" + (f"?v={image.updated_at.timestamp():.0f}" if image else ""),
        "image_error": image_error,
        "image_detail": image_detail,
        "public_url": document["id"],
    }
    return page(request, "console/achievement_view.html", context, who=who, section="achievements", status=status)


@router.get(BASE + "/{achievement_id}")
def view(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    record = achievements.get_achievement(context_of(request), who.provider_id, achievement_id)
    return _view_page(request, who, record)


@router.post(BASE + "/{achievement_id}/archive")
async def archive(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    who.require("manage_achievements")
    await form_of(request, who)
    assert who.provider is not None
    ctx = context_of(request)
    record = await run_in_threadpool(achievements.archive_achievement, ctx, who.provider, achievement_id, who.actor)
    return see_other(done_url(_path(who, record), "ach_archived"))


@router.post(IMAGE_PATH)
async def upload_image(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    """Set the badge's image; the view again with the reason in the reader's words when it cannot be used."""
    who.require("manage_achievements")
    form = await form_of(request, who, files=1)
    ctx = context_of(request)
    record = await run_in_threadpool(achievements.get_achievement, ctx, who.provider_id, achievement_id)
    t = WORDS[language_of(request)]
    upload = form.get("image")
    if not isinstance(upload, UploadFile) or not upload.filename:
        missing = t["ach_err_image_none"]
        return await run_in_threadpool(_view_page, request, who, record, image_error=missing, status=422)
    data = await upload.read(uploaded_images.MAX_BYTES + 1)
    assert who.provider is not None
    try:
        await run_in_threadpool(
            achievements.set_image, ctx, who.provider, record.id, data, upload.content_type, who.actor
        )
    except InvalidInput as refused:
        archived = any(field.get("message") == "archived" for field in refused.fields)
        message = t["ach_err_archived"] if archived else t["ach_err_image"]
        detail = None if archived else "; ".join(field.get("message", "") for field in refused.fields)
        return await run_in_threadpool(
            _view_page, request, who, record, image_error=message, image_detail=detail, status=422
        )
    return see_other(done_url(_path(who, record), "ach_image"))


@router.get(BASE + "/{achievement_id}/preview")
def preview(achievement_id: str, request: Request, who: ProviderViewer) -> Response:
    """The learner's page as it will look, with a sample learner and today's date: nothing is issued, so there
    is no QR code, sharing or download."""
    ctx = context_of(request)
    lang = language_of(request)
    record = achievements.get_achievement(ctx, who.provider_id, achievement_id)
    assert who.provider is not None
    with ctx.db.read() as session:
        logo = session.get(ProviderImage, who.provider_id)
    today = datetime.now(UTC)
    until = add_months(today, record.validity_months) if record.validity_months else None
    badge = achievement_context(ctx, record, who.provider, lang)
    context = {
        **badge,
        "record": record,
        "pt": MESSAGES[lang],
        "learner": WORDS[lang]["ach_sample_learner"],
        "issued_on": today,
        "valid_until": until,
        "image_src": f"/achievements/{record.id}/image",
        "logo_src": f"/issuers/{who.slug}/image" if logo is not None else None,
    }
    return page(request, "console/achievement_preview.html", context, who=who, section="achievements")
