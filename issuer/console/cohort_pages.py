"""Issuing to a group: the template to fill in, the upload, the preview of every row, the confirmation, the
progress while the job runs, and the result for Excel."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from issuer import cohorts, repository
from issuer.cohort_file import MAX_FILE_BYTES, MAX_ROWS, template_csv, template_xlsx
from issuer.console.cohort_words import WORDS
from issuer.console.web import (
    ProviderViewer,
    Viewer,
    context_of,
    form_of,
    language_of,
    page,
    see_other,
)
from issuer.console.words import add
from issuer.context import IssuerContext
from issuer.errors import InvalidInput, NotFound
from issuer.models import Achievement, Cohort

add(WORDS)
router = APIRouter()
UPLOAD_PATH = "/console/{slug}/cohorts"
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _submitter(who: Viewer) -> cohorts.Submitter:
    assert who.provider is not None
    return cohorts.Submitter(who.provider, who.actor)


def _active_achievements(ctx: IssuerContext, provider_id: int) -> list[Achievement]:
    with ctx.db.read() as session:
        return [item for item in repository.achievements(session, provider_id) if item.archived_at is None]


def _upload_page(
    request: Request, who: Viewer, *, error: str | None = None, chosen: str | None = None, status: int = 200
) -> Response:
    ctx = context_of(request)
    context = {
        "achievements": _active_achievements(ctx, who.provider_id),
        "chosen": chosen or request.query_params.get("achievement"),
        "cohorts": cohorts.cohorts(ctx, who.provider_id, limit=20),
        "error": error,
        "max_rows": MAX_ROWS,
        "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
    }
    return page(request, "console/cohorts.html", context, who=who, section="cohorts", status=status)


@router.get("/console/{slug}/cohorts")
def cohorts_page(request: Request, who: ProviderViewer) -> Response:
    return _upload_page(request, who)


@router.get("/console/{slug}/cohorts/template.{kind}")
def template(kind: str, request: Request, who: ProviderViewer) -> Response:
    """The file to fill in, with the column names in the reader's language and one example row."""
    lang = language_of(request)
    if kind == "csv":
        body, media_type = template_csv(lang), "text/csv; charset=utf-8"
    elif kind == "xlsx":
        body, media_type = template_xlsx(lang), XLSX
    else:
        raise NotFound("There is no such template.")
    filename = f"{WORDS[lang]['coh_template_file']}.{kind}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"},
    )


def _quote(filename: str) -> str:
    from urllib.parse import quote

    return quote(filename, safe="")


@router.post("/console/{slug}/cohorts")
async def upload(request: Request, who: ProviderViewer) -> Response:
    who.require("issue")
    form = await form_of(request, who, files=1)
    lang = language_of(request)
    words = WORDS[lang]
    achievement = str(form.get("achievement") or "")
    policy = str(form.get("policy") or "skip")
    file = form.get("file")
    if not achievement:
        return _upload_page(request, who, error=words["coh_choose_achievement"], status=422)
    if not isinstance(file, UploadFile) or not file.filename:
        return _upload_page(request, who, error=words["coh_choose_file"], chosen=achievement, status=422)
    data = await file.read(MAX_FILE_BYTES + 1)
    ctx = context_of(request)
    submitter = _submitter(who)
    try:
        made = await run_in_threadpool(cohorts.upload, ctx, submitter, achievement, data, file.filename, policy=policy)
    except cohorts.UnusableFile as unusable:
        return _upload_page(request, who, error=unusable.problem.message(lang), chosen=achievement, status=422)
    except NotFound:
        return _upload_page(request, who, error=words["coh_choose_achievement"], status=422)
    except InvalidInput:
        return _upload_page(request, who, error=words["coh_bad_policy"], chosen=achievement, status=422)
    suffix = "?again=1" if made.existing else ""
    return see_other(f"/console/{who.slug}/cohorts/{made.cohort.id}{suffix}")


def _progress(ctx: IssuerContext, cohort: Cohort) -> dict[str, Any]:
    counts = cohorts.counts(ctx, cohort.id)
    started = cohort.state not in ("preview", "cancelled")
    failed = counts["failed"] + (counts["invalid"] if started else 0)
    done = counts["issued"] + counts["skipped"] + failed
    return {
        "state": cohort.state,
        "total": cohort.total,
        "issued": counts["issued"],
        "skipped": counts["skipped"],
        "failed": failed,
        "remaining": counts["pending"] if started else 0,
        "done": done,
        "valid": counts["pending"] + counts["issued"] + counts["skipped"] + counts["failed"],
        "invalid": counts["invalid"],
        "finished": cohort.state == "done",
    }


@router.get("/console/{slug}/cohorts/{cohort_id}")
def cohort_page(cohort_id: str, request: Request, who: ProviderViewer) -> Response:
    ctx = context_of(request)
    cohort = cohorts.get(ctx, who.provider_id, cohort_id)
    with ctx.db.read() as session:
        achievement = session.get(Achievement, cohort.achievement_id)
    progress = _progress(ctx, cohort)
    context = {
        "cohort": cohort,
        "achievement": achievement,
        "progress": progress,
        "problems": cohorts.row_views(ctx, cohort.id, states=("invalid", "failed")),
        "held": cohorts.already_held(ctx, cohort) if cohort.state == "preview" else 0,
        "again": request.query_params.get("again") == "1",
        "policies": cohorts.POLICIES,
        "running": cohort.state in ("queued", "running"),
    }
    return page(request, "console/cohort.html", context, who=who, section="cohorts")


@router.get("/console/{slug}/cohorts/{cohort_id}/progress")
def progress(cohort_id: str, request: Request, who: ProviderViewer) -> JSONResponse:
    """The numbers the progress page refreshes (JSON, polled by its script)."""
    ctx = context_of(request)
    body = _progress(ctx, cohorts.get(ctx, who.provider_id, cohort_id))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/console/{slug}/cohorts/{cohort_id}/confirm")
async def confirm(cohort_id: str, request: Request, who: ProviderViewer) -> Response:
    who.require("issue")
    form = await form_of(request, who)
    policy = str(form.get("policy") or "") or None
    ctx = context_of(request)
    submitter = _submitter(who)
    with contextlib.suppress(InvalidInput):  # an unknown policy from a forged form: the cohort stays as it was
        await run_in_threadpool(cohorts.confirm, ctx, submitter, cohort_id, policy)
    return see_other(f"/console/{who.slug}/cohorts/{cohort_id}")


@router.post("/console/{slug}/cohorts/{cohort_id}/cancel")
async def cancel(cohort_id: str, request: Request, who: ProviderViewer) -> Response:
    who.require("issue")
    await form_of(request, who)
    submitter = _submitter(who)
    await run_in_threadpool(cohorts.cancel, context_of(request), submitter, cohort_id)
    return see_other(f"/console/{who.slug}/cohorts")


@router.get("/console/{slug}/cohorts/{cohort_id}/results.csv")
def results(cohort_id: str, request: Request, who: ProviderViewer) -> Response:
    ctx = context_of(request)
    cohort = cohorts.get(ctx, who.provider_id, cohort_id)
    lang = language_of(request)
    body = cohorts.result_csv(ctx, cohort.id, lang)
    filename = f"{WORDS[lang]['coh_results_file']}-{cohort.id[:8]}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
