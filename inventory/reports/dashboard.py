"""The dashboard of a level: its figures, a table per child level (académie → départements →
circonscriptions and collectivités → schools → classrooms), the monthly trends, the
failure rates per model and the map's points. Every query goes through the access policy,
so a user's figures cover their scope only.

Readers who see whole schools get their figures from the summaries (reports.summary,
refreshed first for the schools marked stale, see reports.refresh); municipal staff, a
school and a classroom are computed from the sources (reports.facts). Nothing is kept
per process: every worker reads the same summaries."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Departement,
    Ecole,
)
from inventory.reports import indicators as ind
from inventory.reports import summary
from inventory.reports.facts import first_held_stmt, grouped_facts, school_facts
from inventory.reports.failures import ModelRow, failure_by_model, model_rows
from inventory.reports.indicators import (
    Context,
    Facts,
    Grain,
)
from inventory.reports.levels import (
    MODELS,
    ROLLED_UP,
    Level,
    SchoolRow,
    children_levels,
    chunks,
    context,
    school_ids,
    school_set,
    schools_of,
    seconds_between,
    whole_departements,
    without_jit,
)
from inventory.reports.months import MonthRow, installations_by_month, months
from inventory.reports.refresh import refresh_stale


# -- the map ---------------------------------------------------------------------------------
class SocleState(enum.StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    NONE = "none"
    NO_TARGET = "no_target"


def socle_state(facts: Facts) -> SocleState:
    if not facts["targets"]:
        return SocleState.NO_TARGET
    if facts["meeting"] == facts["targets"]:
        return SocleState.COMPLETE
    return SocleState.PARTIAL if facts["meeting"] else SocleState.NONE


@dataclass(frozen=True)
class MapPoint:
    ecole_id: int
    name: str
    commune: str
    latitude: float
    longitude: float
    state: SocleState
    meeting: int
    targets: int


# -- the dashboard -------------------------------------------------------------------------
@dataclass
class Row:
    """One child of a level: an académie, a département… or a classroom, with its facts.

    ``key`` None is the group of schools without that parent (no circonscription…), or in
    a school's table the row of what belongs to no classroom."""

    level: Level
    key: int | None
    name: str | None
    code: str
    facts: Facts


@dataclass
class ChildTable:
    level: Level
    grain: Grain
    rows: list[Row]


@dataclass
class Dashboard:
    level: Level
    object_id: int | None
    grain: Grain  # the grain of the level's own figures
    totals: Facts
    tables: list[ChildTable]
    months: list[MonthRow]
    models: list[ModelRow]
    points: list[MapPoint]
    schools_without_position: int
    too_many_points: bool


_PARENT_ATTR = {
    Level.ACADEMIE: "academie_id",
    Level.DEPARTEMENT: "departement_id",
    Level.CIRCONSCRIPTION: "circonscription_id",
    Level.COLLECTIVITE: "collectivite_id",
    Level.ECOLE: "id",
}


def _names(
    session: Session, user: policy.Subject, level: Level, ids: Iterable[int]
) -> dict[int, tuple[str, str]]:
    """(name, code) of the children of a table."""
    ids = sorted(ids)
    if not ids:
        return {}
    model = MODELS[level]
    columns = {
        Level.ACADEMIE: (Academie.name, Academie.code),
        Level.DEPARTEMENT: (Departement.name, Departement.code),
        Level.CIRCONSCRIPTION: (Circonscription.name, Circonscription.uai),
        Level.COLLECTIVITE: (Collectivite.name, Collectivite.siren),
    }[level]
    out = {}
    for chunk in chunks(ids):
        stmt = policy.visible(user, select(model.id, *columns).where(model.id.in_(chunk)), model)
        for key, name, code in session.execute(stmt):
            out[key] = (name, code or "")
    return out


def _named(names: Mapping[int, tuple[str, str]], key: int | None) -> tuple[str | None, str]:
    """(name, code) of a child; none for the group of schools without that parent."""
    return names.get(key, (None, "")) if key is not None else (None, "")


def _school_table(
    session: Session,
    user: policy.Subject,
    child: Level,
    rows: Mapping[int, SchoolRow],
    facts: Mapping[int | None, Facts],
) -> ChildTable:
    attr = _PARENT_ATTR[child]
    groups: dict[int | None, Facts] = defaultdict(Facts)
    for ecole_id, row in rows.items():
        groups[getattr(row, attr)].add(facts.get(ecole_id) or Facts())
    if child is Level.ECOLE:
        names = {r.id: (r.name, r.uai) for r in rows.values()}
    else:
        names = _names(session, user, child, (k for k in groups if k is not None))
    table_rows = [Row(child, key, *_named(names, key), f) for key, f in groups.items()]
    table_rows.sort(key=lambda r: (r.key is None, (r.name or "").casefold()))
    return ChildTable(child, Grain.SCHOOL, table_rows)


def _classroom_table(
    session: Session, user: policy.Subject, ecole_id: int, facts: Mapping[int | None, Facts]
) -> ChildTable:
    stmt = policy.visible(
        user,
        select(Classroom.id, Classroom.name, Classroom.levels)
        .where(Classroom.ecole_id == ecole_id)
        .order_by(Classroom.position, Classroom.name),
        Classroom,
    )
    rows = [
        Row(
            Level.CLASSROOM, room_id, name, levels.replace(",", ", "), facts.get(room_id) or Facts()
        )
        for room_id, name, levels in session.execute(stmt)
    ]
    rows.append(Row(Level.CLASSROOM, None, None, "", facts.get(None) or Facts()))
    return ChildTable(Level.CLASSROOM, Grain.CLASSROOM, rows)


def _points(rows: Mapping[int, SchoolRow], facts: Mapping[int | None, Facts]) -> list[MapPoint]:
    out = []
    for r in rows.values():
        if r.latitude is None or r.longitude is None:
            continue
        f = facts.get(r.id) or Facts()
        out.append(
            MapPoint(
                r.id,
                r.name,
                r.commune,
                r.latitude,
                r.longitude,
                socle_state(f),
                f["meeting"],
                f["targets"],
            )
        )
    out.sort(key=lambda p: (p.name.casefold(), p.ecole_id))
    return out


def dashboard(session: Session, user: policy.Subject, level: Level, obj: Any = None) -> Dashboard:
    """The dashboard of ``level`` (``obj`` its object, None for the whole scope) for
    ``user``: from the summaries, refreshed first where they are stale, when the reader
    sees whole schools; else from the sources."""
    policy.require(user, policy.Action.READ)
    ctx = context(session, user)
    if ctx.school_view and level not in (Level.ECOLE, Level.CLASSROOM):
        refresh_stale(session)
        without_jit(session)
        depts = whole_departements(session, user, level, obj)
        if depts is not None and set(children_levels(level, user)) <= ROLLED_UP:
            return _departements_dashboard(session, ctx, level, obj, depts)
        return _schools_dashboard(session, ctx, level, obj)
    without_jit(session)
    schools = school_set(session, user, level, obj)
    rows = schools_of(session, schools)
    classroom_id = obj.id if level is Level.CLASSROOM else None
    points: list[MapPoint] = []
    too_many = False
    if level in (Level.ECOLE, Level.CLASSROOM):
        facts = grouped_facts(session, ctx, schools, rows, Grain.CLASSROOM)
        if level is Level.ECOLE:
            totals = Facts.total(facts.values())
            tables = [_classroom_table(session, user, obj.id, facts)] if rows else []
            grain = Grain.SCHOOL
        else:
            totals = Facts().add(facts.get(obj.id) or Facts())
            tables = []
            grain = Grain.CLASSROOM
    else:
        facts = grouped_facts(session, ctx, schools, rows, Grain.SCHOOL)
        totals = Facts.total(facts.values())
        tables = [
            _school_table(session, user, child, rows, facts)
            for child in children_levels(level, user)
        ]
        grain = Grain.SCHOOL
        # Beyond the limit the map is not drawn: count the points before building them.
        located = sum(r.latitude is not None and r.longitude is not None for r in rows.values())
        too_many = located > ind.MAP_MAX_POINTS
        points = [] if too_many else _points(rows, facts)
    return Dashboard(
        level=level,
        object_id=getattr(obj, "id", None),
        grain=grain,
        totals=totals,
        tables=tables,
        months=months(
            installations_by_month(session, ctx, schools, classroom_id),
            totals.paid_by_month if grain is Grain.SCHOOL else {},
        ),
        models=failure_by_model(session, ctx, schools, classroom_id),
        points=points,
        schools_without_position=sum(
            1 for r in rows.values() if r.latitude is None or r.longitude is None
        )
        if grain is Grain.SCHOOL and level is not Level.ECOLE
        else 0,
        too_many_points=too_many,
    )


def _dashboard(
    session: Session,
    level: Level,
    obj: Any,
    totals: Facts,
    tables: list[ChildTable],
    merged: dict[str, Any],
    points: Callable[[], list[MapPoint]],
    *,
    schools: int,
    located: int,
) -> Dashboard:
    """A dashboard of schools from the summaries ``merged`` (their months and models);
    the map's points are built only when the map is drawn."""
    too_many = located > ind.MAP_MAX_POINTS
    installs = {m: v[0] for m, v in merged["months"].items() if v[0]}
    models = {int(m): (v[0], v[1], v[2]) for m, v in merged["models"].items()}
    return Dashboard(
        level=level,
        object_id=getattr(obj, "id", None),
        grain=Grain.SCHOOL,
        totals=totals,
        tables=tables,
        months=months(installs, totals.paid_by_month),
        models=model_rows(session, models),
        points=[] if too_many else points(),
        schools_without_position=schools - located,
        too_many_points=too_many,
    )


def _merged(datas: Iterable[dict[str, Any]]) -> dict[str, Any]:
    total = summary.empty()
    for data in datas:
        summary.add(total, data)
    return total


def _schools_dashboard(session: Session, ctx: Context, level: Level, obj: Any) -> Dashboard:
    """A level's dashboard from its schools' summaries, with the accompaniment counted."""
    user = ctx.user
    schools = school_set(session, user, level, obj)
    rows = schools_of(session, schools)
    kept = summary.school_data(session, schools)
    facts: dict[int | None, Facts] = {}
    for ecole_id in rows:
        facts[ecole_id] = summary.facts_of(kept[ecole_id][2]) if ecole_id in kept else Facts()
    per_school = school_facts(
        session,
        ctx,
        schools,
        rows,
        {e: k[0] for e, k in kept.items()},
        first_service={e: k[1] for e, k in kept.items() if k[1] is not None},
        money={},
    )
    for ecole_id, f in per_school.items():
        facts[ecole_id].add(f)
    return _dashboard(
        session,
        level,
        obj,
        Facts.total(facts.values()),
        [_school_table(session, user, c, rows, facts) for c in children_levels(level, user)],
        _merged(k[2] for k in kept.values()),
        lambda: _points(rows, facts),
        schools=len(rows),
        located=sum(r.latitude is not None and r.longitude is not None for r in rows.values()),
    )


def _departements_dashboard(
    session: Session, ctx: Context, level: Level, obj: Any, depts: Sequence[int]
) -> Dashboard:
    """The dashboard of whole départements (the nation, an académie) from their sums."""
    user = ctx.user
    kept = summary.departement_data(session, depts)
    academies = dict(
        session.execute(
            select(Departement.id, Departement.academie_id).where(Departement.id.in_(depts))
        ).all()
    )
    per_dept: dict[int, Facts] = {}
    for dept, data in kept.items():
        f = summary.facts_of(data)
        for name in summary.DEPARTEMENT_FACTS:
            f[name] = data["counts"].get(name, 0)
        per_dept[dept] = f
    # The accompaniment: the accompanied schools, each with its items' first installation.
    schools = school_ids(user, level, obj)
    held = first_held_stmt(ctx, schools).subquery()
    # The delay in seconds, computed by the database: tens of thousands of timestamps
    # would otherwise be converted one by one.
    started = summary.SchoolSummary.first_in_service
    stmt = (
        select(
            Ecole.departement_id,
            summary.SchoolSummary.in_service,
            seconds_between(session, started, held.c.held),
        )
        .select_from(held)
        .join(Ecole, Ecole.id == held.c.ecole_id)
        .outerjoin(summary.SchoolSummary, summary.SchoolSummary.ecole_id == Ecole.id)
    )
    equipped_held: dict[int, int] = defaultdict(int)
    for dept, in_service, seconds in session.execute(stmt):
        f = per_dept.setdefault(dept, Facts())
        f["accompanied"] += 1
        if in_service:
            equipped_held[dept] += 1
        if seconds is not None:
            # Whole days, as timedelta.days counts them (the floor).
            f.delay_days.append(max(0, int(round(float(seconds)) // 86400)))
    for dept, f in per_dept.items():
        f["not_accompanied"] = f["schools"] - f["accompanied"]
        f["equipped_not_accompanied"] = f["equipped"] - equipped_held[dept]
    (child,) = children_levels(level, user)
    groups: dict[int, Facts] = defaultdict(Facts)
    for dept, f in per_dept.items():
        groups[academies[dept] if child is Level.ACADEMIE else dept].add(f)
    names = _names(session, user, child, groups)
    table = [Row(child, k, *_named(names, k), f) for k, f in groups.items()]
    table.sort(key=lambda r: (r.name or "").casefold())

    def points() -> list[MapPoint]:
        rows = schools_of(session, school_set(session, user, level, obj))
        kept_rows = summary.school_data(session, list(rows))
        return _points(rows, {e: summary.facts_of(k[2]) for e, k in kept_rows.items()})

    merged = _merged(kept.values())
    return _dashboard(
        session,
        level,
        obj,
        Facts.total(per_dept.values()),
        [ChildTable(child, Grain.SCHOOL, table)],
        merged,
        points,
        schools=merged["counts"].get("schools", 0),
        located=merged["counts"].get("located", 0),
    )
