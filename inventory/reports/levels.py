"""The levels of the dashboards (the reader's scope, académie … classroom), the schools each
covers as the reader may see them, where a level sits (its crumbs), and the few SQL helpers
that differ between engines."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    func,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from inventory.assets.models import (
    EquipmentCategory,
)
from inventory.core import policy
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Commune,
    Departement,
    Ecole,
)
from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Context,
)


# -- levels --------------------------------------------------------------------------------
class Level(enum.StrEnum):
    SCOPE = "scope"
    ACADEMIE = "academie"
    DEPARTEMENT = "departement"
    CIRCONSCRIPTION = "circonscription"
    COLLECTIVITE = "collectivite"
    ECOLE = "ecole"
    CLASSROOM = "classe"


LevelModel = (
    type[Academie]
    | type[Departement]
    | type[Circonscription]
    | type[Collectivite]
    | type[Ecole]
    | type[Classroom]
)
MODELS: dict[Level, LevelModel] = {
    Level.ACADEMIE: Academie,
    Level.DEPARTEMENT: Departement,
    Level.CIRCONSCRIPTION: Circonscription,
    Level.COLLECTIVITE: Collectivite,
    Level.ECOLE: Ecole,
    Level.CLASSROOM: Classroom,
}
ARGS: dict[Level, str] = {
    Level.ACADEMIE: "academie_id",
    Level.DEPARTEMENT: "departement_id",
    Level.CIRCONSCRIPTION: "circonscription_id",
    Level.COLLECTIVITE: "collectivite_id",
    Level.ECOLE: "ecole_id",
    Level.CLASSROOM: "classroom_id",
}
CHILDREN: dict[Level, tuple[Level, ...]] = {
    Level.ACADEMIE: (Level.DEPARTEMENT,),
    Level.DEPARTEMENT: (Level.CIRCONSCRIPTION, Level.COLLECTIVITE),
    Level.CIRCONSCRIPTION: (Level.ECOLE,),
    Level.COLLECTIVITE: (Level.ECOLE,),
    Level.ECOLE: (Level.CLASSROOM,),
    Level.CLASSROOM: (),
}


def load_level(session: Session, user: policy.Subject, level: Level, object_id: int) -> Any:
    """The level's object through the policy: out of scope → 404."""
    return policy.load_or_404(user, MODELS[level], object_id, session)


def school_clause(level: Level, obj: Any) -> ColumnElement[bool]:
    """The schools a level covers (before the reader's scope narrows them)."""
    if level is Level.SCOPE:
        return true()
    if level is Level.ACADEMIE:
        return Ecole.departement_id.in_(
            select(Departement.id).where(Departement.academie_id == obj.id)
        )
    if level is Level.DEPARTEMENT:
        return Ecole.departement_id == obj.id
    if level is Level.CIRCONSCRIPTION:
        return Ecole.circonscription_id == obj.id
    if level is Level.COLLECTIVITE:
        return Ecole.collectivite_id == obj.id
    if level is Level.ECOLE:
        return Ecole.id == obj.id
    return Ecole.id == obj.ecole_id


def school_ids(user: policy.Subject, level: Level, obj: Any) -> Select[Any]:
    """The ids of the schools of the level the reader may see."""
    return policy.visible(user, select(Ecole.id).where(school_clause(level, obj)), Ecole)


# Up to this many schools, queries get the ids themselves (the planner then uses the
# indexes on ecole_id); beyond, the sub-select of :func:`school_ids`.
SCHOOL_LIST_MAX = 5000
Schools = Select[Any] | Sequence[int]


def school_set(session: Session, user: policy.Subject, level: Level, obj: Any) -> Schools:
    """The schools of the level the reader may see, as ids when they are few."""
    stmt = school_ids(user, level, obj)
    ids = list(session.scalars(stmt.order_by(Ecole.id).limit(SCHOOL_LIST_MAX + 1)))
    return ids if len(ids) <= SCHOOL_LIST_MAX else stmt


def context(session: Session, user: policy.Subject) -> Context:
    codes = dict(session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())
    return Context(
        user=user,
        pupil_computer_ids=tuple(codes[c] for c in ind.PUPIL_COMPUTER_CATEGORIES if c in codes),
        display_ids=tuple(codes[c] for c in ind.COLLECTIVE_DISPLAY_CATEGORIES if c in codes),
        school_view=sees_whole_schools(user),
    )


def sees_whole_schools(user: policy.Subject) -> bool:
    """Whether the reader sees everything at the schools of their scope (see Context)."""
    return not user.scope.of(policy.ScopeKind.COLLECTIVITE)


def count_if(cond: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def seconds_between(session: Session, start: Any, end: Any) -> Any:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def month_of(session: Session, column: Any) -> Any:
    """The month of a UTC timestamp: a date (PostgreSQL) or 'YYYY-MM' (SQLite)."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("month", func.timezone("UTC", column))
    return func.strftime("%Y-%m", column)


def month_text(value: Any) -> str:
    return value.strftime("%Y-%m") if isinstance(value, date | datetime) else str(value)


def without_jit(session: Session) -> None:
    """Switch PostgreSQL's JIT compilation off for the rest of the transaction: the
    correlated sub-selects of these aggregates inflate the planner's cost estimates, and
    JIT then spends seconds compiling queries that run in milliseconds."""
    if _dialect(session) == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


# -- schools of a level --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SchoolRow:
    id: int
    name: str
    uai: str
    commune: str
    academie_id: int
    departement_id: int
    circonscription_id: int | None
    collectivite_id: int | None
    pupils: int
    latitude: float | None
    longitude: float | None


def schools_of(session: Session, schools: Schools) -> dict[int, SchoolRow]:
    stmt = (
        select(
            Ecole.id,
            Ecole.name,
            Ecole.uai,
            Commune.name,
            Departement.academie_id,
            Ecole.departement_id,
            Ecole.circonscription_id,
            Ecole.collectivite_id,
            Ecole.pupils,
            Ecole.latitude,
            Ecole.longitude,
        )
        .join(Departement, Departement.id == Ecole.departement_id)
        .join(Commune, Commune.id == Ecole.commune_id)
        .where(Ecole.id.in_(schools))
    )
    return {
        r[0]: SchoolRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] or 0, r[9], r[10])
        for r in session.execute(stmt)
    }


def _child_level_for_scope(user: policy.Subject) -> tuple[Level, ...]:
    """What the scope's page lists: the level just below the reader's scope."""
    scope = user.scope
    kinds = policy.ScopeKind
    if scope.everything:
        return (Level.ACADEMIE,)
    if scope.of(kinds.ACADEMIE):
        return (Level.DEPARTEMENT,)
    if scope.of(kinds.DEPARTEMENT):
        return (Level.CIRCONSCRIPTION, Level.COLLECTIVITE)
    if len(scope.of(kinds.CIRCONSCRIPTION)) > 1:
        return (Level.CIRCONSCRIPTION,)
    if len(scope.of(kinds.COLLECTIVITE)) > 1 and not scope.of(kinds.CIRCONSCRIPTION):
        return (Level.COLLECTIVITE,)
    return (Level.ECOLE,)


def children_levels(level: Level, user: policy.Subject) -> tuple[Level, ...]:
    if level is Level.SCOPE:
        return _child_level_for_scope(user)
    return CHILDREN[level]


# -- dashboards from the summaries ---------------------------------------------------------
# The child levels whose rows are sums of département summaries.
ROLLED_UP = frozenset({Level.ACADEMIE, Level.DEPARTEMENT})


def whole_departements(
    session: Session, user: policy.Subject, level: Level, obj: Any
) -> list[int] | None:
    """The départements a level covers when the reader sees each of them whole, else None."""
    scope, kinds = user.scope, policy.ScopeKind
    if level is Level.SCOPE:
        if scope.everything:
            return list(session.scalars(select(Departement.id)))
        if scope.of(kinds.CIRCONSCRIPTION) or scope.of(kinds.COLLECTIVITE):
            return None
        stmt = select(Departement.id).where(
            or_(
                Departement.id.in_(scope.of(kinds.DEPARTEMENT)),
                Departement.academie_id.in_(scope.of(kinds.ACADEMIE)),
            )
        )
        return list(session.scalars(stmt))
    if level is Level.ACADEMIE:
        depts = list(
            session.scalars(select(Departement.id).where(Departement.academie_id == obj.id))
        )
        whole = (
            scope.everything
            or obj.id in scope.of(kinds.ACADEMIE)
            or set(depts) <= scope.of(kinds.DEPARTEMENT)
        )
        return depts if whole else None
    return None


# -- where a level sits --------------------------------------------------------------------
@dataclass(frozen=True)
class Crumb:
    level: Level
    object_id: int
    name: str


def level_name(level: Level, obj: Any) -> str:
    if level is Level.DEPARTEMENT:
        return f"{obj.code} {obj.name}"
    return str(obj.name)


def ancestors(session: Session, user: policy.Subject, level: Level, obj: Any) -> list[Crumb]:
    """The levels above this one that the reader may open (académie … school)."""
    chain: list[tuple[Level, int | None]] = []
    if level is Level.CLASSROOM:
        ecole = obj.ecole
        chain = [
            (Level.ACADEMIE, ecole.departement.academie_id),
            (Level.DEPARTEMENT, ecole.departement_id),
            (Level.COLLECTIVITE, ecole.collectivite_id),
            (Level.ECOLE, ecole.id),
        ]
    elif level is Level.ECOLE:
        chain = [
            (Level.ACADEMIE, obj.departement.academie_id),
            (Level.DEPARTEMENT, obj.departement_id),
            (Level.COLLECTIVITE, obj.collectivite_id),
        ]
    elif level in (Level.CIRCONSCRIPTION, Level.COLLECTIVITE):
        chain = [
            (Level.ACADEMIE, obj.departement.academie_id),
            (Level.DEPARTEMENT, obj.departement_id),
        ]
    elif level is Level.DEPARTEMENT:
        chain = [(Level.ACADEMIE, obj.academie_id)]
    out = []
    for lvl, object_id in chain:
        if object_id is None:
            continue
        model = MODELS[lvl]
        found = session.scalar(
            policy.visible(user, select(model).where(model.id == object_id), model)
        )
        if found is not None:
            out.append(Crumb(lvl, object_id, level_name(lvl, found)))
    return out
