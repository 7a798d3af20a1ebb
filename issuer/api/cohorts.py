"""The provider API for cohorts: a participant file (or JSON rows) in, a job id out, its progress and results.

``POST /api/v1/cohorts`` checks every row and, unless ``preview`` is asked for, starts issuing the valid ones
at once; the rows that failed are in the answer and in ``GET /api/v1/cohorts/{id}``. The same file sent again
for the same achievement answers with the first cohort: nothing is issued twice.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from issuer import cohorts
from issuer.api.deps import ContextDep, PrincipalDep
from issuer.api.error_responses import responses
from issuer.api_keys import Principal
from issuer.cohort_file import MAX_FILE_BYTES
from issuer.context import IssuerContext
from issuer.errors import InvalidInput
from issuer.models import Cohort

router = APIRouter(prefix="/api/v1", tags=["cohorts"], responses=responses(401, 429, 503))
PATH = "/api/v1/cohorts"
MAX_BODY = MAX_FILE_BYTES + 64 * 1024
"""The file and the form around it."""
ROW_NUMBER_COLUMN = "#"
JSON_COLUMNS = {
    "name": "name",
    "email": "email",
    "externalId": "external id",
    "narrative": "narrative",
    "evidenceUrl": "evidence url",
    "result": "result",
    "validUntil": "valid until",
    "language": "language",
}


class CohortRowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=1000)
    email: str = Field(max_length=1000)
    externalId: str | None = Field(default=None, max_length=1000)
    narrative: str | None = Field(default=None, max_length=5000)
    evidenceUrl: str | None = Field(default=None, max_length=5000)
    result: str | None = Field(default=None, max_length=1000)
    validUntil: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=20)


class CohortIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    achievement: str = Field(min_length=1, max_length=500)
    rows: list[CohortRowIn] = Field(min_length=1, max_length=10_000)
    policy: str | None = None
    """skip (the default), allow or refuse; sent again with a file already previewed, it replaces the preview's."""
    preview: bool = False


def _rows_as_csv(rows: list[CohortRowIn]) -> bytes:
    """JSON rows go through the same reading and checks as a file (their lines are the row index + 2). A first
    column numbering the rows keeps a row with nothing in it from being skipped as a blank line: it is
    reported, like every other row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([ROW_NUMBER_COLUMN, *JSON_COLUMNS.values()])
    for number, row in enumerate(rows, start=1):
        values = row.model_dump()
        writer.writerow([number, *(values[name] or "" for name in JSON_COLUMNS)])
    return out.getvalue().encode("utf-8")


def cohort_view(ctx: IssuerContext, cohort: Cohort, *, with_rows: bool = True) -> dict[str, Any]:
    counts = cohorts.counts(ctx, cohort.id)
    view: dict[str, Any] = {
        "id": cohort.id,
        "state": cohort.state,
        "achievement": ctx.urls.achievement(cohort.achievement_id),
        "filename": cohort.filename,
        "policy": cohort.policy,
        "total": cohort.total,
        "valid": counts["pending"] + counts["issued"] + counts["skipped"] + counts["failed"],
        "invalid": counts["invalid"],
        "issued": counts["issued"],
        "skipped": counts["skipped"],
        "failed": counts["failed"] + (counts["invalid"] if cohort.state not in ("preview", "cancelled") else 0),
        "pending": counts["pending"] if cohort.state not in ("preview", "cancelled") else 0,
        "createdAt": cohort.created_at.isoformat(),
        "confirmedAt": cohort.confirmed_at.isoformat() if cohort.confirmed_at else None,
        "finishedAt": cohort.finished_at.isoformat() if cohort.finished_at else None,
        "links": {"self": f"{ctx.urls.public_url}{PATH}/{cohort.id}", "results": _results_url(ctx, cohort.id)},
    }
    if with_rows:
        view["rows"] = [
            {
                "line": row.line,
                "state": row.state,
                **({"credential": ctx.urls.credential(row.credential_id)} if row.credential_id else {}),
                **(
                    {
                        "errors": [
                            {"field": problem.field, "code": problem.code, "message": problem.message("en")}
                            for problem in row.problems
                        ]
                    }
                    if row.problems
                    else {}
                ),
            }
            for row in cohorts.row_views(ctx, cohort.id)
            if row.state != "pending"
        ]
    return view


def _results_url(ctx: IssuerContext, cohort_id: str) -> str:
    return f"{ctx.urls.public_url}{PATH}/{cohort_id}/results.csv"


def _submitter(principal: Principal) -> cohorts.Submitter:
    principal.require("issue")
    return cohorts.Submitter(principal.provider, principal.actor)


@router.post(
    "/cohorts",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(400, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "achievement"],
                        "properties": {
                            "file": {"type": "string", "format": "binary", "description": "CSV or XLSX"},
                            "achievement": {"type": "string", "minLength": 1, "maxLength": 500},
                            "policy": {"type": "string", "enum": list(cohorts.POLICIES)},
                            "preview": {"type": "boolean"},
                        },
                    }
                },
                "application/json": {"schema": CohortIn.model_json_schema()},
            },
        }
    },
)
async def post_cohort(request: Request, response: Response, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Issue a cohort from a CSV/XLSX file or JSON rows (``issue`` scope). Every row is checked first; with
    ``preview`` nothing is issued until ``POST /api/v1/cohorts/{id}/confirm``. Answers with the job's id."""
    submitter = _submitter(principal)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("Send the participant file as the form field 'file'.", fields=[_field("file")])
        data = await upload.read()
        achievement = str(form.get("achievement") or "")
        policy = str(form.get("policy") or "") or None
        preview = str(form.get("preview") or "").lower() in ("1", "true", "yes", "on")
        filename = upload.filename or "cohort.csv"
    elif content_type == "application/json":
        try:
            body = CohortIn.model_validate(json.loads(await request.body()))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("The body is not the JSON this route takes.", fields=[_field("body")]) from exc
        data, achievement, policy, preview = _rows_as_csv(body.rows), body.achievement, body.policy, body.preview
        filename = "rows.json"
    else:
        raise InvalidInput(
            "Send multipart/form-data (a file) or application/json (rows).", fields=[_field("Content-Type")]
        )
    if not achievement:
        raise InvalidInput("Name the achievement to issue.", fields=[_field("achievement")])
    made = await run_in_threadpool(cohorts.upload, ctx, submitter, achievement, data, filename, policy=policy or "skip")
    cohort = made.cohort
    if not preview and cohort.state == "preview":
        cohort = await run_in_threadpool(cohorts.confirm, ctx, submitter, cohort.id, policy)
    if made.existing:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{PATH}/{cohort.id}"
    return await run_in_threadpool(cohort_view, ctx, cohort)


def _field(name: str) -> dict[str, str]:
    return {"field": name, "message": "missing or unusable"}


@router.get("/cohorts/{cohort_id}", responses=responses(404))
def get_cohort(
    cohort_id: str,
    ctx: ContextDep,
    principal: PrincipalDep,
    rows: Annotated[bool, Query(description="Include each finished row's outcome.")] = True,
) -> dict[str, Any]:
    """A cohort's progress: rows issued, skipped, failed and still pending, and each finished row's outcome."""
    return cohort_view(ctx, cohorts.get(ctx, principal.provider_id, cohort_id), with_rows=rows)


@router.post("/cohorts/{cohort_id}/confirm", responses=responses(403, 404, 422))
def post_confirm(cohort_id: str, ctx: ContextDep, principal: PrincipalDep) -> dict[str, Any]:
    """Start issuing a cohort uploaded with ``preview``; confirming again changes nothing."""
    cohort = cohorts.confirm(ctx, _submitter(principal), cohort_id)
    return cohort_view(ctx, cohort, with_rows=False)


@router.get(
    "/cohorts/{cohort_id}/results.csv",
    responses={200: {"content": {"text/csv": {}}}, **responses(404)},
    response_class=Response,
)
def get_results(
    cohort_id: str, ctx: ContextDep, principal: PrincipalDep, lang: Annotated[str, Query()] = "pl"
) -> Response:
    """Every row's outcome as CSV for Excel (semicolons, UTF-8 with BOM): the badge link or why not."""
    cohort = cohorts.get(ctx, principal.provider_id, cohort_id)
    body = cohorts.result_csv(ctx, cohort.id, lang)
    filename = f"cohort-{cohort.id[:8]}-results.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
