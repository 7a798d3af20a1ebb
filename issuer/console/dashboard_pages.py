"""The dashboard: per achievement, how many were issued, e-mailed, opened, shared to LinkedIn and checked by
employers; and, for the programme operator, every provider at a glance."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Request, Response
from sqlalchemy import case, func, select
from sqlmodel import col

from issuer import cohorts, repository
from issuer.console.dashboard_words import WORDS
from issuer.console.web import (
    AnyViewer,
    ProviderViewer,
    context_of,
    page,
)
from issuer.console.words import add
from issuer.context import IssuerContext
from issuer.errors import NotFound
from issuer.models import Achievement, Credential, CredentialEvent, Delivery

add(WORDS)
router = APIRouter()


@dataclass
class Figures:
    issued: int = 0
    revoked: int = 0
    notified: int = 0
    queued: int = 0
    undelivered: int = 0
    opened: int = 0
    linkedin: int = 0
    verified: int = 0

    def add(self, other: Figures) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class AchievementFigures:
    achievement: Achievement
    figures: Figures = field(default_factory=Figures)


def figures(ctx: IssuerContext, provider_id: int) -> tuple[list[AchievementFigures], Figures]:
    """Counts per achievement of the provider (newest first) and their sum: three grouped queries, whatever the
    number of credentials."""
    with ctx.db.read() as session:
        achievements = repository.achievements(session, provider_id)
        issued = session.execute(
            select(
                col(Credential.achievement_id),
                func.count(),
                func.sum(case((col(Credential.revoked_at).is_not(None), 1), else_=0)),
            )
            .where(col(Credential.provider_id) == provider_id)
            .group_by(col(Credential.achievement_id))
        ).all()
        delivered = session.execute(
            select(col(Credential.achievement_id), col(Delivery.state), func.count())
            .join(Credential, col(Credential.id) == col(Delivery.credential_id))
            .where(col(Delivery.provider_id) == provider_id)
            .group_by(col(Credential.achievement_id), col(Delivery.state))
        ).all()
        happened = session.execute(
            select(col(Credential.achievement_id), col(CredentialEvent.event), func.sum(col(CredentialEvent.count)))
            .join(Credential, col(Credential.id) == col(CredentialEvent.credential_id))
            .where(col(Credential.provider_id) == provider_id)
            .group_by(col(Credential.achievement_id), col(CredentialEvent.event))
        ).all()
    by_id = {record.id: AchievementFigures(record) for record in achievements}
    loose = Figures()

    def slot(achievement_id: str | None) -> Figures:
        found = by_id.get(achievement_id or "")
        return found.figures if found is not None else loose

    for achievement_id, count, revoked in issued:
        slot(achievement_id).issued += int(count)
        slot(achievement_id).revoked += int(revoked or 0)
    for achievement_id, state, count in delivered:
        target = slot(achievement_id)
        if state == "sent":
            target.notified += int(count)
        elif state == "failed":
            target.undelivered += int(count)
        else:
            target.queued += int(count)
    for achievement_id, event, count in happened:
        if event in ("opened", "linkedin", "verified"):
            setattr(slot(achievement_id), event, getattr(slot(achievement_id), event) + int(count or 0))
    total = Figures()
    for entry in by_id.values():
        total.add(entry.figures)
    total.add(loose)
    rows = sorted(by_id.values(), key=lambda entry: entry.achievement.created_at, reverse=True)
    return rows, total


@router.get("/console/providers")
def providers(request: Request, who: AnyViewer) -> Response:
    """The programme operator's list of every provider with its totals."""
    if not who.operator:
        raise NotFound("There is no such page.")
    ctx = context_of(request)
    with ctx.db.read() as session:
        found = list(repository.providers(session))
    rows = [(provider, figures(ctx, provider.id)[1]) for provider in found if provider.id is not None]
    return page(request, "console/providers.html", {"rows": rows}, who=who, section="providers")


@router.get("/console/{slug}")
def dashboard(request: Request, who: ProviderViewer) -> Response:
    ctx = context_of(request)
    rows, total = figures(ctx, who.provider_id)
    recent = cohorts.cohorts(ctx, who.provider_id, limit=5)
    shown = [row for row in rows if row.achievement.archived_at is None or row.figures.issued]
    context = {"rows": shown, "total": total, "cohorts": recent}
    return page(request, "console/dashboard.html", context, who=who, section="dashboard")
