"""The provider's profile and branding: name, website, public contact address, a description in each of the
programme's languages, and the logo."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from issuer import repository, uploaded_images
from issuer.console.achievement_form import Problem, values_of_form
from issuer.console.profile_words import WORDS
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
from issuer.errors import InvalidInput, NotFound
from issuer.models import Provider, ProviderImage
from issuer.providers import PROFILE_TEXT_LANGUAGES, set_logo, update_profile

add(WORDS)
router = APIRouter()

PATH = "/console/{slug}/profile"
LOGO_PATH = PATH + "/logo"
FIELDS = {"description": "description-pl", **{f"descriptions.{lang}": f"description-{lang}" for lang in ("en", "uk")}}
"""The profile's field names that the form names otherwise (one description field per language)."""
LABELS = {
    "name": "prof_f_name",
    "url": "prof_f_url",
    "email": "prof_f_email",
    "description-pl": "prof_f_description_pl",
    "description-en": "prof_f_description_en",
    "description-uk": "prof_f_description_uk",
}
MESSAGES = {
    "must not be empty": "prof_err_required",
    "must be an http(s) URL": "prof_err_url",
    "is not an e-mail address": "prof_err_email",
}


def _stored(request: Request, who: Viewer) -> tuple[Provider, ProviderImage | None]:
    """The provider as it is now (the viewer's copy was read before any change this request made)."""
    with context_of(request).db.read() as session:
        provider = repository.provider_by_id(session, who.provider_id)
        logo = session.get(ProviderImage, who.provider_id)
    if provider is None:
        raise NotFound("There is no such page.")
    return provider, logo


def values_of_provider(provider: Provider) -> dict[str, str]:
    values = {
        "name": provider.name,
        "url": provider.url or "",
        "email": provider.email or "",
        "description-pl": provider.description or "",
    }
    for lang in PROFILE_TEXT_LANGUAGES:
        values[f"description-{lang}"] = (provider.descriptions or {}).get(lang, "")
    return values


def _page(
    request: Request,
    who: Viewer,
    values: Mapping[str, str] | None = None,
    *,
    problems: list[Problem] | None = None,
    logo_error: str | None = None,
    logo_detail: str | None = None,
    status: int = 200,
) -> Response:
    ctx = context_of(request)
    provider, logo = _stored(request, who)
    context = {
        "profile": provider,
        "values": values if values is not None else values_of_provider(provider),
        "problems": problems or [],
        "errors": {problem.key: problem.message for problem in problems or () if problem.key},
        "issuer_id": ctx.urls.issuer_id(provider.slug),
        "logo_src": f"/issuers/{provider.slug}/image?v={logo.updated_at.timestamp():.0f}" if logo else None,
        "logo_error": logo_error,
        "logo_detail": logo_detail,
        "typed": Typed,
    }
    return page(request, "console/profile_form.html", context, who=who, section="profile", status=status)


@router.get(PATH)
def profile(request: Request, who: ProviderViewer) -> Response:
    return _page(request, who)


@router.post(PATH)
async def save(request: Request, who: ProviderViewer) -> Response:
    who.require("manage_profile")
    values = values_of_form(await form_of(request, who))
    return await run_in_threadpool(_save, request, who, values)


def _save(request: Request, who: Viewer, values: dict[str, str]) -> Response:
    words = WORDS[language_of(request)]
    try:
        update_profile(
            context_of(request),
            who.provider_id,
            name=values.get("name", ""),
            url=values.get("url"),
            email=values.get("email"),
            description=values.get("description-pl"),
            descriptions={lang: values.get(f"description-{lang}", "") for lang in PROFILE_TEXT_LANGUAGES},
            actor=who.actor,
        )
    except InvalidInput as refused:
        problems = [_problem(field, words) for field in refused.fields]
        return _page(request, who, values, problems=problems, status=422)
    return see_other(done_url(f"/console/{who.slug}/profile", "prof_saved"))


def _problem(field: Mapping[str, str], words: Mapping[str, str]) -> Problem:
    key = FIELDS.get(field.get("field", ""), field.get("field", ""))
    message = field.get("message", "")
    message_key = "prof_err_too_long" if message.startswith("at most") else MESSAGES.get(message, "prof_err_invalid")
    return Problem(key if key in LABELS else None, words[LABELS.get(key, "prof_f_name")], words[message_key])


@router.post(LOGO_PATH)
async def upload_logo(request: Request, who: ProviderViewer) -> Response:
    """Set the logo; the page again with the reason in the reader's words when the file cannot be used."""
    who.require("manage_profile")
    form = await form_of(request, who, files=1)
    words = WORDS[language_of(request)]
    upload = form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await run_in_threadpool(_page, request, who, logo_error=words["prof_err_logo_none"], status=422)
    data = await upload.read(uploaded_images.MAX_BYTES + 1)
    assert who.provider is not None
    try:
        await run_in_threadpool(set_logo, context_of(request), who.provider, data, upload.content_type, who.actor)
    except InvalidInput as refused:
        detail = "; ".join(field.get("message", "") for field in refused.fields)
        return await run_in_threadpool(
            _page, request, who, logo_error=words["prof_err_logo"], logo_detail=detail, status=422
        )
    return see_other(done_url(f"/console/{who.slug}/profile", "prof_logo"))
