"""The dashboard computation: facts per school in aggregate SQL, added up per level.

One function, :func:`dashboard`, gives everything a level's page shows: the level's
figures, a table of figures per child (académie → départements → circonscriptions and
collectivités → schools → classrooms), the monthly trends, the failure rates per model and
the map's points. Every query goes through the access policy, so a user's figures cover
their scope only.

How it stays fast:
- the facts are counted per school with one GROUP BY per source table (the classroom socle
  summary, assets, tickets, training sessions), on indexed columns, for the schools of the
  level only; nothing loops over asset or classroom rows in Python;
- the aid of each dossier (the one computation that is Python, :func:`compute_aid`) is kept
  in a per-dossier cache, checked against the dossier's data at every use (see
  :func:`dossier_figures`);
- a computed dashboard is kept (a small LRU per process) with the data stamp it was built
  on; the stamp (:func:`data_stamp`: the change log's last record and the last status
  change) moves with any change to business data, so a change made by any worker shows at
  the next request.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import (
    Asset,
    ClassroomSocle,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    StatusChange,
)
from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.pagination import Page, paginate
from inventory.grants.aid import SchemeRules, SchoolFacts, Spending, compute_aid, split
from inventory.grants.models import (
    Dossier,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    Payment,
)
from inventory.helpdesk.models import OPEN_STATUSES, Ticket
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
from inventory.reports import summary
from inventory.reports.indicators import (
    AWARDED,
    Context,
    Facts,
    Grain,
    Listing,
    ListKind,
)
from inventory.training.models import SessionStatus, TrainingSession, session_schools


# -- levels --------------------------------------------------------------------------------
class Level(enum.StrEnum):
    SCOPE = "scope"
    ACADEMIE = "academie"
    DEPARTEMENT = "departement"
    CIRCONSCRIPTION = "circonscription"
    COLLECTIVITE = "collectivite"
    ECOLE = "ecole"
    CLASSROOM = "classe"


MODELS: dict[Level, type] = {
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


def _chunks(ids: Sequence[int], size: int = 900) -> list[Sequence[int]]:
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
    return dict(session.execute(first_held_stmt(ctx, schools)).all())  # type: ignore[arg-type]


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


# -- money ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DossierFigures:
    """One dossier's computed figures, per school, as cached."""

    stamp: tuple[Any, ...]
    collectivite_id: int
    convention_max_cents: int | None
    classes: dict[int, int]
    spending: dict[int, int]
    eligible: dict[int, int]
    aid: dict[int, int]

    @property
    def schools(self) -> list[int]:
        return sorted(set(self.classes) | set(self.spending))

    @property
    def approved(self) -> dict[int, int]:
        weights = {e: self.classes.get(e, 0) for e in self.classes}
        if not sum(weights.values()):
            weights = dict.fromkeys(self.classes, 1)
        return split(self.convention_max_cents or 0, weights) if weights else {}

    def paid_weights(self) -> dict[int, int]:
        """How a payment is shared among the schools: by computed aid, else by classes."""
        for weights in (self.aid, self.classes):
            if sum(weights.values()) > 0:
                return dict(weights)
        return dict.fromkeys(self.schools, 1)


_dossier_cache: dict[tuple[str, int], DossierFigures] = {}
_dossier_lock = threading.Lock()
DOSSIER_CACHE_MAX = 200_000


def awarded_dossier_ids(ctx: Context, schools: Schools) -> Select[Any]:
    """Awarded dossiers the reader may see that cover at least one of ``schools``."""
    return ctx.visible(
        select(Dossier.id).where(
            Dossier.status.in_(AWARDED),
            Dossier.id.in_(
                select(DossierSchool.dossier_id).where(DossierSchool.ecole_id.in_(schools))
            ),
        ),
        Dossier,
    )


def _stamps(session: Session, wanted: Select[Any]) -> dict[int, tuple[Any, ...]]:
    """What a dossier's aid depends on, condensed: any change to it changes the stamp."""
    exp = (
        select(
            Expense.dossier_id.label("d"),
            func.count(Expense.id).label("n"),
            func.max(Expense.id).label("last"),
            func.sum(Expense.version).label("versions"),
        )
        .where(Expense.dossier_id.in_(wanted))
        .group_by(Expense.dossier_id)
        .subquery()
    )
    alloc = (
        select(
            Expense.dossier_id.label("d"),
            func.count(ExpenseAllocation.id).label("n"),
            func.sum(ExpenseAllocation.amount_ht_cents).label("ht"),
            func.sum(ExpenseAllocation.amount_ttc_cents).label("ttc"),
        )
        .join(Expense, Expense.id == ExpenseAllocation.expense_id)
        .where(Expense.dossier_id.in_(wanted))
        .group_by(Expense.dossier_id)
        .subquery()
    )
    sch = (
        select(
            DossierSchool.dossier_id.label("d"),
            func.count(DossierSchool.id).label("n"),
            func.sum(DossierSchool.classes).label("classes"),
            func.sum(DossierSchool.pupils).label("pupils"),
        )
        .where(DossierSchool.dossier_id.in_(wanted))
        .group_by(DossierSchool.dossier_id)
        .subquery()
    )
    stmt = (
        select(
            Dossier.id,
            Dossier.collectivite_id,
            Dossier.created_at,
            Dossier.version,
            Dossier.scheme_version,
            Dossier.convention_max_cents,
            exp.c.n,
            exp.c.last,
            exp.c.versions,
            alloc.c.n,
            alloc.c.ht,
            alloc.c.ttc,
            sch.c.n,
            sch.c.classes,
            sch.c.pupils,
        )
        .outerjoin(exp, exp.c.d == Dossier.id)
        .outerjoin(alloc, alloc.c.d == Dossier.id)
        .outerjoin(sch, sch.c.d == Dossier.id)
        .where(Dossier.id.in_(wanted))
    )
    return {row[0]: tuple(row[1:]) for row in session.execute(stmt)}


def dossier_figures(session: Session, wanted: Select[Any]) -> dict[int, DossierFigures]:
    """The figures of the dossiers ``wanted`` selects, computed with :func:`compute_aid`.

    Kept per process: each use reads every wanted dossier's stamp (its version, its covered
    schools' counts, its expenses' count, last id and versions, its allocations' sums) in
    one grouped query, and computes again only the dossiers whose stamp moved.
    """
    db = str(session.get_bind().url)
    stamps = _stamps(session, wanted)
    out: dict[int, DossierFigures] = {}
    stale: list[int] = []
    with _dossier_lock:
        for dossier_id, stamp in stamps.items():
            hit = _dossier_cache.get((db, dossier_id))
            if hit is not None and hit.stamp == stamp:
                out[dossier_id] = hit
            else:
                stale.append(dossier_id)
    if stale:
        fresh = _compute_dossiers(session, sorted(stale), stamps)
        out.update(fresh)
        with _dossier_lock:
            if len(_dossier_cache) > DOSSIER_CACHE_MAX:
                _dossier_cache.clear()
            for dossier_id, figures in fresh.items():
                _dossier_cache[(db, dossier_id)] = figures
    return out


_rules_cache: dict[str, SchemeRules] = {}


def _rules(data: Mapping[str, Any]) -> SchemeRules:
    import json

    key = json.dumps(data, sort_keys=True)
    rules = _rules_cache.get(key)
    if rules is None:
        rules = SchemeRules.from_data(data)
        if len(_rules_cache) < 1000:
            _rules_cache[key] = rules
    return rules


def _compute_dossiers(
    session: Session, ids: Sequence[int], stamps: Mapping[int, tuple[Any, ...]]
) -> dict[int, DossierFigures]:
    out: dict[int, DossierFigures] = {}
    for chunk in _chunks(ids):
        heads = {
            r[0]: r
            for r in session.execute(
                select(
                    Dossier.id, Dossier.rules, Dossier.convention_max_cents, Dossier.collectivite_id
                ).where(Dossier.id.in_(chunk))
            )
        }
        facts: dict[int, list[SchoolFacts]] = defaultdict(list)
        for d, e, classes, pupils in session.execute(
            select(
                DossierSchool.dossier_id,
                DossierSchool.ecole_id,
                DossierSchool.classes,
                DossierSchool.pupils,
            ).where(DossierSchool.dossier_id.in_(chunk))
        ):
            facts[d].append(SchoolFacts(e, "", classes or 0, pupils or 0))
        spending: dict[int, list[Spending]] = defaultdict(list)
        for d, volet, e, ht, ttc, on, x in session.execute(
            select(
                Expense.dossier_id,
                Expense.volet,
                ExpenseAllocation.ecole_id,
                ExpenseAllocation.amount_ht_cents,
                ExpenseAllocation.amount_ttc_cents,
                Expense.invoice_date,
                Expense.id,
            )
            .join(Expense, Expense.id == ExpenseAllocation.expense_id)
            .where(Expense.dossier_id.in_(chunk))
            .order_by(ExpenseAllocation.id)
        ):
            spending[d].append(Spending(volet, e, ht or 0, ttc or 0, on, x))
        for dossier_id, (_id, rules, maximum, coll) in heads.items():
            out[dossier_id] = _figures(
                stamps[dossier_id],
                coll,
                _rules(rules),
                facts[dossier_id],
                spending[dossier_id],
                maximum,
            )
    return out


def _figures(
    stamp: tuple[Any, ...],
    collectivite_id: int,
    rules: SchemeRules,
    schools: Sequence[SchoolFacts],
    spending: Sequence[Spending],
    maximum: int | None,
) -> DossierFigures:
    # Spending is what the scheme's dates let count (an invoice dated outside its window is
    # not the programme's spending); eligible spending and aid are per school, as computed.
    result = compute_aid(rules, schools, spending, maximum)
    spent = result.spending_by_school
    eligible = {e: result.eligible_by_school.get(e, 0) for e in spent}
    return DossierFigures(
        stamp=stamp,
        collectivite_id=collectivite_id,
        convention_max_cents=maximum,
        classes={s.ecole_id: s.classes for s in schools},
        spending=dict(spent),
        eligible=dict(eligible),
        aid=result.by_school,
    )


def received_payments(
    session: Session, ctx: Context, wanted: Select[Any]
) -> dict[int, dict[str, int]]:
    """Per dossier, the money received per month (YYYY-MM)."""
    stmt = ctx.visible(
        select(Payment.dossier_id, Payment.received_on, Payment.received_cents).where(
            Payment.dossier_id.in_(wanted),
            Payment.received_cents.isnot(None),
            Payment.received_on.isnot(None),
        ),
        Payment,
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for dossier_id, on, cents in session.execute(stmt):
        month = on.strftime("%Y-%m")
        out[dossier_id][month] = out[dossier_id].get(month, 0) + cents
    return out


def school_money(figures: DossierFigures, payments: Mapping[str, int]) -> dict[int, Facts]:
    """A dossier's money per school: spending, eligible, aid, approved, paid, left to claim.

    Payments are shared month by month, so that the monthly trend and the totals agree."""
    out: dict[int, Facts] = {}
    approved = figures.approved
    weights = figures.paid_weights()
    paid: dict[int, dict[str, int]] = defaultdict(dict)
    for month, cents in sorted(payments.items()):
        for ecole_id, share in split(cents, weights).items():
            if share:
                paid[ecole_id][month] = share
    for ecole_id in figures.schools:
        f = Facts()
        c = f
        c["spending_cents"] = figures.spending.get(ecole_id, 0)
        c["eligible_cents"] = figures.eligible.get(ecole_id, 0)
        c["aid_cents"] = figures.aid.get(ecole_id, 0)
        c["approved_cents"] = approved.get(ecole_id, 0)
        f.paid_by_month = paid.get(ecole_id, {})
        c["paid_cents"] = sum(f.paid_by_month.values())
        c["left_to_claim_cents"] = max(0, c["aid_cents"] - c["paid_cents"])
        out[ecole_id] = f
    return out


def money_by_dossier(
    session: Session, ctx: Context, schools: Schools, ecole_ids: set[int]
) -> dict[int, dict[int, Facts]]:
    """dossier id → school id → the dossier's money at that school, for ``ecole_ids``."""
    wanted = awarded_dossier_ids(ctx, schools)
    figures = dossier_figures(session, wanted)
    payments = received_payments(session, ctx, wanted)
    out: dict[int, dict[int, Facts]] = {}
    for dossier_id, fig in figures.items():
        per_school = school_money(fig, payments.get(dossier_id, {}))
        kept = {e: f for e, f in per_school.items() if e in ecole_ids}
        for f in kept.values():
            f.dossiers.add(dossier_id)
        out[dossier_id] = kept
    return out


def money_facts(
    session: Session, ctx: Context, schools: Schools, ecole_ids: set[int]
) -> dict[int, Facts]:
    out: dict[int, Facts] = defaultdict(Facts)
    for per_school in money_by_dossier(session, ctx, schools, ecole_ids).values():
        for ecole_id, f in per_school.items():
            out[ecole_id].add(f)
    return out


# -- trends and models ---------------------------------------------------------------------
@dataclass(frozen=True)
class MonthRow:
    month: str  # YYYY-MM
    installations: int
    paid_cents: int


def installations_by_month(
    session: Session, ctx: Context, schools: Schools, classroom_id: int | None = None
) -> dict[str, int]:
    counts = installations(session, ctx, schools, classroom_id)
    return {month: n for (month,), n in counts.items()}


def installations(
    session: Session,
    ctx: Context,
    schools: Schools,
    classroom_id: int | None = None,
    *,
    per_school: bool = False,
) -> dict[tuple[Any, ...], int]:
    """Items put in service for the first time, per month ('YYYY-MM'), or per (school,
    month) with ``per_school``."""
    month = month_of(session, StatusChange.at)
    keys = (Asset.ecole_id, month) if per_school else (month,)
    stmt = (
        select(*keys, func.count())
        .join(Asset, Asset.id == StatusChange.asset_id)
        .where(
            ind.installation_event(),
            Asset.ecole_id.in_(schools),
            ctx.condition(Asset),
        )
        .group_by(*keys)
    )
    if classroom_id is not None:
        stmt = stmt.where(Asset.classroom_id == classroom_id)
    out = {}
    for *key, n in session.execute(stmt):
        if key[-1]:
            out[(*key[:-1], month_text(key[-1]))] = n
    return out


def month_range(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    end = tuple(map(int, last.split("-")))
    out = []
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months(installs: Mapping[str, int], paid: Mapping[str, int]) -> list[MonthRow]:
    known = sorted(set(installs) | set(paid))
    if not known:
        return []
    return [
        MonthRow(m, installs.get(m, 0), paid.get(m, 0)) for m in month_range(known[0], known[-1])
    ]


@dataclass(frozen=True)
class ModelRow:
    model_id: int
    manufacturer: str
    name: str
    category_fr: str
    category_en: str
    items: int
    tickets: int
    open_tickets: int

    @property
    def rate(self) -> float | None:
        """Tickets per 100 items of the model."""
        return 100 * self.tickets / self.items if self.items else None

    def category(self, locale: str) -> str:
        return self.category_en if locale == "en" else self.category_fr


ModelCounts = dict[Any, tuple[int, int, int]]


def failure_by_model(
    session: Session, ctx: Context, schools: Schools, classroom_id: int | None = None
) -> list[ModelRow]:
    return model_rows(session, model_counts(session, ctx, schools, classroom_id))


def model_counts(
    session: Session,
    ctx: Context,
    schools: Schools,
    classroom_id: int | None = None,
    *,
    per_school: bool = False,
) -> ModelCounts:
    """Per model (or per (school, model) with ``per_school``): its items at the schools
    (any status), the tickets reported on them and the open ones among these."""
    item_keys = (Asset.ecole_id, Asset.model_id) if per_school else (Asset.model_id,)
    ticket_keys = (Ticket.ecole_id, Asset.model_id) if per_school else (Asset.model_id,)
    items_stmt = (
        select(*item_keys, func.count())
        .where(Asset.ecole_id.in_(schools), ctx.condition(Asset))
        .group_by(*item_keys)
    )
    tickets_stmt = (
        select(*ticket_keys, func.count(Ticket.id), count_if(Ticket.status.in_(OPEN_STATUSES)))
        .join(Asset, Asset.id == Ticket.asset_id)
        .where(Ticket.ecole_id.in_(schools), ind.ticket_population(ctx))
        .group_by(*ticket_keys)
    )
    if classroom_id is not None:
        items_stmt = items_stmt.where(Asset.classroom_id == classroom_id)
        tickets_stmt = tickets_stmt.where(Ticket.classroom_id == classroom_id)
    out: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    for *key, n in session.execute(items_stmt):
        out[tuple(key) if per_school else key[0]][0] = n
    for *key, n, open_ in session.execute(tickets_stmt):
        counts = out[tuple(key) if per_school else key[0]]
        counts[1], counts[2] = n, int(open_)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def model_rows(session: Session, counts: ModelCounts) -> list[ModelRow]:
    """The failure table: each model's counts with its names, the most failing first."""
    ids = sorted(counts)
    if not ids:
        return []
    names = {
        r[0]: r[1:]
        for r in session.execute(
            select(
                EquipmentModel.id,
                Manufacturer.name,
                EquipmentModel.name,
                EquipmentCategory.name_fr,
                EquipmentCategory.name_en,
            )
            .join(Manufacturer, Manufacturer.id == EquipmentModel.manufacturer_id)
            .join(EquipmentCategory, EquipmentCategory.id == EquipmentModel.category_id)
            .where(EquipmentModel.id.in_(ids))
        )
    }
    rows = [ModelRow(m, *names[m], *counts[m]) for m in ids if m in names]  # type: ignore[misc]
    rows.sort(key=lambda r: (-(r.rate or 0), r.manufacturer, r.name))
    return rows


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
    stamp: tuple[Any, ...] = field(default=())


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
    for chunk in _chunks(ids):
        stmt = policy.visible(user, select(model.id, *columns).where(model.id.in_(chunk)), model)
        for key, name, code in session.execute(stmt):
            out[key] = (name, code or "")
    return out


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
    table_rows = [
        Row(child, key, *(names.get(key, (None, "")) if key is not None else (None, "")), f)
        for key, f in groups.items()
    ]
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


def compute_dashboard(
    session: Session, user: policy.Subject, level: Level, obj: Any = None
) -> Dashboard:
    """The dashboard of ``level`` (``obj`` its object, None for the whole scope), uncached."""
    without_jit(session)
    ctx = context(session, user)
    if ctx.school_view and level not in (Level.ECOLE, Level.CLASSROOM):
        summary.bring_up_to_date(session)
        depts = whole_departements(session, user, level, obj)
        if depts is not None and set(children_levels(level, user)) <= ROLLED_UP:
            return _departements_dashboard(session, ctx, level, obj, depts)
        return _schools_dashboard(session, ctx, level, obj)
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
        facts[ecole_id].add(f)  # type: ignore[union-attr]
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
        ).all()  # type: ignore[arg-type]
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
    table = [Row(child, k, *names.get(k, (None, "")), f) for k, f in groups.items()]
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


# -- the cache of computed dashboards ------------------------------------------------------
def data_stamp(session: Session) -> tuple[Any, ...]:
    """Moves with any change to business data: every audited change writes a change-log
    record in its own transaction. The last id of each source table (a primary-key lookup)
    and the schools of sessions are read too, so that rows written in bulk without the
    change log (imports, benchmarks) also show."""
    last_ids = [
        select(func.max(model.id)).scalar_subquery()
        for model in (
            StatusChange,
            Asset,
            Ticket,
            Classroom,
            Ecole,
            Dossier,
            Expense,
            Payment,
            FundingLink,
            TrainingSession,
        )
    ]
    row = session.execute(
        select(
            select(func.max(AuditRecord.id)).scalar_subquery(),
            select(func.max(AuditRecord.at)).scalar_subquery(),
            select(func.count()).select_from(session_schools).scalar_subquery(),
            *last_ids,
        )
    ).one()
    return tuple(row)


_dashboards: OrderedDict[tuple[Any, ...], Dashboard] = OrderedDict()
_dashboards_lock = threading.Lock()
DASHBOARD_CACHE_SIZE = 64


def _scope_key(user: policy.Subject) -> tuple[Any, ...]:
    scope = user.scope
    return (
        str(user.role),
        scope.everything,
        tuple(sorted((str(k), tuple(sorted(v))) for k, v in scope.ids.items())),
    )


def dashboard(session: Session, user: policy.Subject, level: Level, obj: Any = None) -> Dashboard:
    """The dashboard of a level for ``user``: from the cache when the data has not moved."""
    policy.require(user, policy.Action.READ)
    key = (
        str(session.get_bind().url),
        _scope_key(user),
        str(level),
        getattr(obj, "id", None),
    )
    stamp = data_stamp(session)
    with _dashboards_lock:
        hit = _dashboards.get(key)
        if hit is not None and hit.stamp == stamp:
            _dashboards.move_to_end(key)
            return hit
    result = compute_dashboard(session, user, level, obj)
    result.stamp = stamp
    with _dashboards_lock:
        _dashboards[key] = result
        _dashboards.move_to_end(key)
        while len(_dashboards) > DASHBOARD_CACHE_SIZE:
            _dashboards.popitem(last=False)
    return result


def clear_caches() -> None:
    with _dashboards_lock:
        _dashboards.clear()
    with _dossier_lock:
        _dossier_cache.clear()


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
        stmt = (
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
    ecole_ids = set(schools) if isinstance(schools, list) else set(session.scalars(schools))
    wanted = set(dossier_ids)
    out = {}
    for dossier_id, per_school in money_by_dossier(session, ctx, schools, ecole_ids).items():
        if dossier_id in wanted:
            out[dossier_id] = Facts.total(per_school.values())
    return out


# -- tables as plain values, for exports -----------------------------------------------------
def euros(cents: int | None) -> Any:
    from decimal import Decimal

    if cents is None:
        return None
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def indicator_cell(indicator: ind.Indicator, facts: Facts) -> Any:
    value = indicator.value(facts)
    if value is None:
        return None
    if indicator.unit is ind.Unit.MONEY:
        return euros(int(value))
    if indicator.unit is ind.Unit.COUNT:
        return int(value)
    from decimal import Decimal

    return Decimal(str(round(float(value), 1)))
