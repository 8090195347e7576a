"""The facts of schools and classrooms, counted from the sources: the one computation behind
both the summaries (reports.refresh, for readers who see whole schools) and the dashboards
computed live (municipal staff, a school, a classroom).

The facts are counted per school (or per classroom) with one GROUP BY per source table
(the classroom socle summary, assets, tickets, training sessions), on indexed columns, for
the schools asked only; nothing loops over asset or classroom rows in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    Select,
    case,
    func,
    select,
)
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    ClassroomSocle,
    StatusChange,
)
from inventory.grants.models import (
    FundingLink,
)
from inventory.helpdesk.models import Ticket
from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Context,
    Facts,
    Grain,
)
from inventory.reports.levels import SchoolRow, Schools, count_if, seconds_between
from inventory.reports.money import money_facts
from inventory.training.models import SessionStatus, TrainingSession, session_schools


# -- facts ---------------------------------------------------------------------------------
def _keys(grain: Grain) -> dict[str, Any]:
    if grain is Grain.SCHOOL:
        return {
            "socle": ClassroomSocle.ecole_id,
            "asset": Asset.ecole_id,
            "ticket": Ticket.ecole_id,
        }
    return {
        "socle": ClassroomSocle.classroom_id,
        "asset": Asset.classroom_id,
        "ticket": Ticket.classroom_id,
    }


def grouped_facts(
    session: Session,
    ctx: Context,
    schools: Schools,
    rows: Mapping[int, SchoolRow],
    grain: Grain,
) -> dict[int | None, Facts]:
    """The facts of the schools ``schools`` (whose rows are ``rows``), keyed per school, or
    per classroom (``grain`` CLASSROOM: the school facts then sit under the key None)."""
    out = counted_facts(session, ctx, schools, grain)

    # School facts: pupils, accompaniment, money.
    in_service: dict[int, int] = defaultdict(int)
    if grain is Grain.SCHOOL:
        for key, f in out.items():
            in_service[key] = f["in_service"]  # type: ignore[index]
    else:
        for only in rows:  # one school
            in_service[only] = sum(f["in_service"] for f in out.values())
    per_school = school_facts(session, ctx, schools, rows, in_service)
    if grain is Grain.SCHOOL:
        for ecole_id, f in per_school.items():
            out[ecole_id].add(f)
    else:
        for f in per_school.values():
            out[None].add(f)
    return dict(out)


def counted_facts(
    session: Session, ctx: Context, schools: Schools, grain: Grain
) -> defaultdict[int | None, Facts]:
    """The classroom facts (classrooms, items, tickets) of ``schools``, per school or per
    classroom: what the sources count, before the school facts are added."""
    keys = _keys(grain)
    out: defaultdict[int | None, Facts] = defaultdict(Facts)

    # Classrooms and the socle, from the per-classroom summary.
    conds = ind.classroom_conditions(ctx)
    stmt = (
        select(keys["socle"], *(count_if(c) for c in conds.values()))
        .where(ClassroomSocle.ecole_id.in_(schools), ind.classroom_population(ctx))
        .group_by(keys["socle"])
    )
    for key, *values in session.execute(stmt):
        out[key].set_many(conds, values)

    # Items. The funded ones are joined once (the same set as the lists' IN condition).
    funded_ids = ctx.funded_asset_ids()
    if not isinstance(schools, Select):
        # A few schools: their items' links only, not every link of the country.
        funded_ids = funded_ids.where(
            FundingLink.asset_id.in_(select(Asset.id).where(Asset.ecole_id.in_(schools)))
        )
    funded = funded_ids.distinct().subquery()
    conds = ind.asset_conditions(ctx, funded.c.asset_id.isnot(None))
    stmt = (
        select(keys["asset"], *(count_if(c) for c in conds.values()))
        .select_from(Asset)
        .outerjoin(funded, funded.c.asset_id == Asset.id)
        .where(Asset.ecole_id.in_(schools), ind.asset_population(ctx))
        .group_by(keys["asset"])
    )
    for key, *values in session.execute(stmt):
        out[key].set_many(conds, values)

    # Tickets, and how long the resolved ones took.
    conds = ind.ticket_conditions(ctx)
    base = [Ticket.ecole_id.in_(schools), ind.ticket_population(ctx)]
    stmt = select(keys["ticket"], *(count_if(c) for c in conds.values())).where(*base)
    for key, *values in session.execute(stmt.group_by(keys["ticket"])):
        out[key].set_many(conds, values)
    seconds = seconds_between(session, Ticket.created_at, Ticket.resolved_at)
    stmt = select(keys["ticket"], seconds).where(*base, conds["resolved_tickets"])
    # In the tickets' order, so that the same tickets always give the same list (a stored
    # summary compares equal to one computed again, on PostgreSQL too).
    for key, value in session.execute(stmt.order_by(Ticket.id)):
        out[key].resolution_seconds.append(max(0.0, float(value or 0)))
    return out


def school_facts(
    session: Session,
    ctx: Context,
    schools: Schools,
    rows: Mapping[int, SchoolRow],
    in_service: Mapping[int, int],
    first_service: Mapping[int, Any] | None = None,
    money: Mapping[int, Facts] | None = None,
) -> dict[int, Facts]:
    """The facts that exist per school only: pupils, accompaniment and money.

    ``first_service`` and ``money``, when given, come from the summaries (reports.summary)
    instead of being computed from the sources."""
    out = {ecole_id: Facts() for ecole_id in rows}
    for ecole_id, row in rows.items():
        out[ecole_id]["schools"] = 1
        out[ecole_id]["pupils"] = row.pupils
    first_session = first_held_session(session, ctx, schools)
    if first_service is None:
        first_service = first_in_service(session, ctx, schools, held_school_ids(ctx))
    for ecole_id, f in out.items():
        equipped = in_service.get(ecole_id, 0) > 0
        held = first_session.get(ecole_id)
        c = f
        c["equipped"] = int(equipped)
        c["accompanied"] = int(held is not None)
        c["not_accompanied"] = int(held is None)
        c["equipped_not_accompanied"] = int(equipped and held is None)
        started = first_service.get(ecole_id)
        if held is not None and started is not None:
            f.delay_days.append(max(0, (held - started).days))
    if money is None:
        money = money_facts(session, ctx, schools, set(rows))
    for ecole_id, f in money.items():
        if ecole_id in out:
            out[ecole_id].add(f)
    return out


def held_school_ids(ctx: Context) -> Select[Any]:
    """Schools with at least one session held, as the reader may see the sessions."""
    return ctx.visible(
        select(session_schools.c.ecole_id)
        .select_from(session_schools)
        .join(TrainingSession, TrainingSession.id == session_schools.c.session_id)
        .where(TrainingSession.status == SessionStatus.HELD),
        TrainingSession,
    )


def first_held_session(session: Session, ctx: Context, schools: Schools) -> dict[int, Any]:
    return dict(session.execute(first_held_stmt(ctx, schools)).all())


def first_held_stmt(ctx: Context, schools: Schools) -> Select[Any]:
    """(school id, its first session held), for the accompanied schools of ``schools``."""
    # The status is tested inside the aggregate, not in WHERE: with only the schools to
    # filter on, every engine starts from the schools' index. (SQLite, which keeps no
    # statistics, would otherwise start from the status index and probe every held session
    # once per school: minutes at national scale.)
    held = func.min(case((TrainingSession.status == SessionStatus.HELD, TrainingSession.starts_at)))
    return ctx.visible(
        select(session_schools.c.ecole_id, held.label("held"))
        .select_from(session_schools)
        .join(TrainingSession, TrainingSession.id == session_schools.c.session_id)
        .where(session_schools.c.ecole_id.in_(schools))
        .group_by(session_schools.c.ecole_id)
        .having(held.is_not(None)),
        TrainingSession,
    )


def first_in_service(
    session: Session, ctx: Context, schools: Schools, among: Select[Any] | None = None
) -> dict[int, Any]:
    """Per school (of ``among`` too, when given), when its first item was put in service
    (items since gone included)."""
    stmt = (
        select(Asset.ecole_id, func.min(StatusChange.at))
        .join(Asset, Asset.id == StatusChange.asset_id)
        .where(
            ind.installation_event(),
            Asset.ecole_id.in_(schools),
            ctx.condition(Asset),
        )
        .group_by(Asset.ecole_id)
    )
    if among is not None:
        stmt = stmt.where(Asset.ecole_id.in_(among))
    return dict(session.execute(stmt).all())  # type: ignore[arg-type]
