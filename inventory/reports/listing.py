"""The drill-down lists: the rows behind a figure, with the very conditions the figure adds
up, a page at a time or all of them for an export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    select,
)
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import (
    Asset,
    ClassroomSocle,
    EquipmentModel,
)
from inventory.core import policy
from inventory.core.pagination import Page, paginate
from inventory.grants.models import (
    Dossier,
)
from inventory.helpdesk.models import Ticket
from inventory.orgs.models import (
    Classroom,
    Ecole,
)
from inventory.reports import indicators as ind
from inventory.reports.facts import held_school_ids
from inventory.reports.indicators import (
    Facts,
    Grain,
    Listing,
    ListKind,
)
from inventory.reports.levels import Level, context, school_set, without_jit
from inventory.reports.money import awarded_dossier_ids, money_by_dossier


# -- drill-down lists ----------------------------------------------------------------------
def _level_filters(level: Level, obj: Any) -> dict[str, ColumnElement[bool]]:
    """Extra conditions of the classroom level (everything else goes by school)."""
    if level is not Level.CLASSROOM:
        return {}
    return {
        "socle": ClassroomSocle.classroom_id == obj.id,
        "asset": Asset.classroom_id == obj.id,
        "ticket": Ticket.classroom_id == obj.id,
    }


def listing_stmt(
    session: Session,
    user: policy.Subject,
    level: Level,
    obj: Any,
    listing: Listing,
    *,
    model_id: int | None = None,
) -> Select[Any]:
    """The rows behind a figure, with the very conditions the figure adds up."""
    without_jit(session)
    ctx = context(session, user)
    schools = school_set(session, user, level, obj)
    extra = _level_filters(level, obj)
    if listing.grain is Grain.SCHOOL and level is Level.CLASSROOM:
        raise policy.Denied()
    if listing.kind is ListKind.CLASSROOM:
        cond = ind.classroom_conditions(ctx)[listing.code]
        stmt: Select[Any] = (  # one entity per kind of listing
            select(Classroom)
            .join(ClassroomSocle, ClassroomSocle.classroom_id == Classroom.id)
            .join(Ecole, Ecole.id == Classroom.ecole_id)
            .where(ClassroomSocle.ecole_id.in_(schools), ind.classroom_population(ctx), cond)
            .options(selectinload(Classroom.ecole).selectinload(Ecole.commune))
            .order_by(Ecole.name, Ecole.id, Classroom.position, Classroom.id)
        )
        if "socle" in extra:
            stmt = stmt.where(extra["socle"])
        return policy.visible(user, stmt, Classroom)
    if listing.kind is ListKind.ASSET:
        cond = ind.asset_conditions(ctx)[listing.code]
        stmt = (
            select(Asset)
            .where(Asset.ecole_id.in_(schools), ind.asset_population(ctx), cond)
            .options(
                selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
                selectinload(Asset.category),
                selectinload(Asset.ecole),
                selectinload(Asset.classroom),
            )
            .order_by(Asset.tag)
        )
        if "asset" in extra:
            stmt = stmt.where(extra["asset"])
        return ctx.visible(stmt, Asset)
    if listing.kind is ListKind.TICKET:
        cond = ind.ticket_conditions(ctx)[listing.code]
        stmt = (
            select(Ticket)
            .where(Ticket.ecole_id.in_(schools), ind.ticket_population(ctx), cond)
            .options(
                selectinload(Ticket.ecole),
                selectinload(Ticket.classroom),
                selectinload(Ticket.asset).selectinload(Asset.model),
                selectinload(Ticket.problem_type),
            )
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
        if "ticket" in extra:
            stmt = stmt.where(extra["ticket"])
        if model_id is not None:
            stmt = stmt.where(
                Ticket.asset_id.in_(select(Asset.id).where(Asset.model_id == model_id))
            )
        return ctx.visible(stmt, Ticket)
    if listing.kind is ListKind.SCHOOL:
        cond = ind.school_conditions(ctx, held_school_ids(ctx))[listing.code]
        stmt = (
            select(Ecole)
            .where(Ecole.id.in_(schools), cond)
            .options(selectinload(Ecole.commune))
            .order_by(Ecole.name, Ecole.id)
        )
        return policy.visible(user, stmt, Ecole)
    stmt = (
        select(Dossier)
        .where(Dossier.id.in_(awarded_dossier_ids(ctx, schools)))
        .options(selectinload(Dossier.collectivite))
        .order_by(Dossier.id)
    )
    return ctx.visible(stmt, Dossier)


@dataclass
class DossierLine:
    """A dossier of a list, with its figures at the level's schools."""

    dossier: Dossier
    facts: Facts


def listing_page(
    session: Session,
    user: policy.Subject,
    level: Level,
    obj: Any,
    listing: Listing,
    page: int,
    per_page: int,
    *,
    model_id: int | None = None,
) -> Page[Any]:
    stmt = listing_stmt(session, user, level, obj, listing, model_id=model_id)
    result = paginate(session, stmt, page, per_page)
    if listing.kind is ListKind.DOSSIER:
        money = dossier_money(session, user, level, obj, [d.id for d in result.items])
        result.items = [DossierLine(d, money.get(d.id) or Facts()) for d in result.items]
    return result


def all_rows(
    session: Session,
    user: policy.Subject,
    level: Level,
    obj: Any,
    listing: Listing,
    *,
    model_id: int | None = None,
) -> list[Any]:
    """Every row of a list, for its export."""
    stmt = listing_stmt(session, user, level, obj, listing, model_id=model_id)
    items = list(session.scalars(stmt))
    if listing.kind is ListKind.DOSSIER:
        money = dossier_money(session, user, level, obj, [d.id for d in items])
        return [DossierLine(d, money.get(d.id) or Facts()) for d in items]
    return items


def dossier_money(
    session: Session, user: policy.Subject, level: Level, obj: Any, dossier_ids: Sequence[int]
) -> dict[int, Facts]:
    """Each dossier's money at the level's schools (the reader's scope)."""
    without_jit(session)
    ctx = context(session, user)
    schools = school_set(session, user, level, obj)
    ecole_ids = set(session.scalars(schools)) if isinstance(schools, Select) else set(schools)
    wanted = set(dossier_ids)
    out = {}
    for dossier_id, per_school in money_by_dossier(session, ctx, schools, ecole_ids).items():
        if dossier_id in wanted:
            out[dossier_id] = Facts.total(per_school.values())
    return out
