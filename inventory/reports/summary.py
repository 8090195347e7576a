"""Dashboard facts kept per school and per département, refreshed from the change log.

Counting two million items for every dashboard cannot answer in a second, so the facts
that come from the large tables (classrooms, items, their first installation, tickets,
the models, and the money of the dossiers, whose aid is a computation) are kept:

- one row per school (:class:`SchoolSummary`), as an administrator sees the school;
- one row per département (:class:`DepartementSummary`), the sum of its schools' rows, so
  that the national and académie pages add up a hundred rows, not fifty thousand.

They are brought up to date when read (:func:`bring_up_to_date`): the change log, which
every change to business data writes in its own transaction, names the schools that
changed since the last refresh (or their collectivité, for grant records); only those
schools and their départements are computed again. Rows written without the change log
(bulk loads), a change of the socle's requirements or référentiels, or of a model (its
capabilities), cause a full rebuild.

The summaries hold the figures of readers who see everything at the schools of their
scope (``Context.school_view``); municipal staff's dashboards are computed from the
sources, and the accompaniment facts always are (they are small).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, and_, func, insert, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from inventory.assets.models import Asset, NetworkWork
from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.grants.models import (
    Dossier,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    Payment,
)
from inventory.helpdesk.models import Ticket
from inventory.orgs.models import Classroom, Ecole
from inventory.reports import indicators as ind
from inventory.reports.indicators import Facts, Grain

# The counters a summary keeps: the classroom facts and the money.
KEPT = ind.CLASSROOM_FACTS + ind.MONEY_FACTS
# A département's row also counts its schools (and those with a position, for the map).
DEPARTEMENT_FACTS = ("schools", "pupils", "equipped")

# Change-log records of these tables change facts beyond their own school.
GRANT_TABLES = frozenset(
    t.__tablename__
    for t in (Dossier, DossierSchool, Expense, ExpenseAllocation, FundingLink, Payment)
)
# A change to these (not a creation) can alter every school's facts.
EVERYWHERE = frozenset({"socle_requirements", "equipment_models", "socle_referentiels"})
# Even their creation: a new requirement asks more of every classroom.
EVERYWHERE_FROM_CREATION = frozenset({"socle_requirements"})
# Rows written without the change log show as a last id that no record names.
SOURCES = (
    *(Asset, Ticket, Classroom, Ecole, NetworkWork),
    *(Dossier, DossierSchool, Expense, ExpenseAllocation, FundingLink, Payment),
)
# A change-log id missing when the summaries were refreshed may belong to a transaction
# that committed after a later one: it is looked for again, this long.
GAP_WAIT = timedelta(minutes=10)
CHUNK = 2000


class SchoolSummary(Base):
    """A school's kept facts, as a reader who sees the whole school counts them."""

    __tablename__ = "school_summaries"
    ecole_id: Mapped[int] = mapped_column(
        ForeignKey("ecoles.id", ondelete="CASCADE"), primary_key=True
    )
    # The département whose sum holds this row (it follows a school that moves).
    departement_id: Mapped[int] = mapped_column(Integer, index=True)
    in_service: Mapped[int] = mapped_column(Integer, default=0)
    first_in_service: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # counts: {fact: n}; resolution: [seconds]; dossiers: [id]; months: {YYYY-MM: [items
    # put in service, aid received in cents]}; models: {model id: [items, tickets, open]}.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class DepartementSummary(Base):
    """The sum of a département's school summaries, with its schools counted."""

    __tablename__ = "departement_summaries"
    departement_id: Mapped[int] = mapped_column(
        ForeignKey("departements.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class SummaryState(Base):
    """How far the summaries have followed the change log (a single row)."""

    __tablename__ = "summary_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last id of each table of SOURCES when refreshed.
    last_ids: Mapped[list[int]] = mapped_column(JSON)
    # Change-log ids below audit_id not seen yet: [id, when first missed (ISO)].
    gaps: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)


# -- what changed --------------------------------------------------------------------------
def _last_ids(session: Session) -> list[int]:
    row = session.execute(
        select(*(select(func.max(m.id)).scalar_subquery() for m in SOURCES))
    ).one()
    return [int(v or 0) for v in row]


def _written_without_log(session: Session, before: Sequence[int], now: Sequence[int]) -> bool:
    """Whether a source table grew by rows the change log does not name (a bulk load)."""
    for model, old, new in zip(SOURCES, before, now, strict=True):
        if new > old and not session.scalar(
            select(AuditRecord.id)
            .where(AuditRecord.object_type == model.__tablename__, AuditRecord.object_id == new)
            .limit(1)
        ):
            return True
    return False


def changed_schools(session: Session, since: Any) -> set[int] | None:
    """The schools whose facts the change-log records matching ``since`` may have changed;
    None when every school's may have."""
    if session.scalar(
        select(AuditRecord.id)
        .where(
            since,
            AuditRecord.object_type.in_(EVERYWHERE),
            or_(
                AuditRecord.action != "create",
                AuditRecord.object_type.in_(EVERYWHERE_FROM_CREATION),
            ),
        )
        .limit(1)
    ):
        return None
    schools = set(
        session.scalars(
            select(AuditRecord.ecole_id).where(since, AuditRecord.ecole_id.isnot(None)).distinct()
        )
    )
    # An item or a ticket moved to another school changed the one it left too.
    schools |= _before(session, since, "ecole_id")
    # Money is shared among a dossier's schools: a grant record changes all of them.
    grants = select(AuditRecord.ecole_id, AuditRecord.collectivite_id).where(
        since, AuditRecord.object_type.in_(GRANT_TABLES)
    )
    grant_schools, grant_owners = set(), set()
    for ecole_id, collectivite_id in session.execute(grants.distinct()):
        if ecole_id is not None:
            grant_schools.add(ecole_id)
        if collectivite_id is not None:
            grant_owners.add(collectivite_id)
    if grant_schools or grant_owners:
        owners = select(Ecole.collectivite_id).where(Ecole.id.in_(grant_schools))
        dossiers = (
            select(DossierSchool.dossier_id)
            .where(DossierSchool.ecole_id.in_(grant_schools))
            .union(
                select(Dossier.id).where(
                    or_(
                        Dossier.collectivite_id.in_(grant_owners),
                        Dossier.collectivite_id.in_(owners),
                    )
                )
            )
        )
        schools.update(
            session.scalars(
                select(DossierSchool.ecole_id).where(DossierSchool.dossier_id.in_(dossiers))
            )
        )
        schools.update(
            session.scalars(select(Ecole.id).where(Ecole.collectivite_id.in_(grant_owners)))
        )
    return schools


def _before(session: Session, since: Any, field: str) -> set[int]:
    """The values ``field`` had before the updates the records matching ``since`` log."""
    before = AuditRecord.changes[(field, 0)].as_integer()
    stmt = select(before).where(since, AuditRecord.action == "update").distinct()
    return {v for v in session.scalars(stmt) if v is not None}


def bring_up_to_date(session: Session) -> int | None:
    """Refresh the summaries of what changed since the last refresh, and commit; returns
    how many schools were computed again (None: they were up to date)."""
    state = session.get(SummaryState, 1)
    last_audit = int(session.scalar(select(func.max(AuditRecord.id))) or 0)
    last_ids = _last_ids(session)
    gaps = [g for g in (state.gaps or []) if g[0] <= last_audit] if state is not None else []
    if (
        state is not None
        and state.audit_id == last_audit
        and state.last_ids == last_ids
        and not _gaps_filled(session, gaps)
    ):
        return None
    now = utcnow()
    changed: set[int] | None = None
    if state is not None and not _written_without_log(session, state.last_ids, last_ids):
        window = and_(AuditRecord.id > state.audit_id, AuditRecord.id <= last_audit)
        waited = [g[0] for g in gaps]
        changed = changed_schools(session, or_(window, AuditRecord.id.in_(waited)))
        seen = set(session.scalars(select(AuditRecord.id).where(window)))
        seen |= set(session.scalars(select(AuditRecord.id).where(AuditRecord.id.in_(waited))))
        oldest = (now - GAP_WAIT).isoformat()
        gaps = [g for g in gaps if g[0] not in seen and g[1] > oldest]
        gaps += [
            [i, now.isoformat()] for i in range(state.audit_id + 1, last_audit + 1) if i not in seen
        ]
    else:
        gaps = []
    if changed is None:
        refresh(session, None)
        count = int(session.scalar(select(func.count()).select_from(SchoolSummary)) or 0)
    else:
        refresh(session, sorted(changed))
        count = len(changed)
    values = {"audit_id": last_audit, "refreshed_at": now, "last_ids": last_ids, "gaps": gaps}
    if state is None:
        session.execute(insert(SummaryState).values(id=1, **values))
    else:
        session.execute(update(SummaryState).where(SummaryState.id == 1).values(**values))
    session.commit()
    return count


def _gaps_filled(session: Session, gaps: Sequence[Sequence[Any]]) -> bool:
    """Whether a change-log id missed at the last refresh has appeared since."""
    ids = [g[0] for g in gaps]
    return (
        bool(ids)
        and session.scalar(select(AuditRecord.id).where(AuditRecord.id.in_(ids)).limit(1))
        is not None
    )


# -- computing the rows ----------------------------------------------------------------------
class _Everyone:
    """The reader the summaries are computed for: every school, all of each."""

    role = policy.Role.AUDITEUR
    scope = policy.Scope(everything=True)
    id = None


EVERYONE = _Everyone()


def _school_rows(session: Session, ecole_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    from inventory.reports import services as sv

    ctx = sv.context(session, EVERYONE)
    registry = select(Ecole.id, Ecole.departement_id, Ecole.pupils, Ecole.latitude, Ecole.longitude)
    if ecole_ids is not None:
        registry = registry.where(Ecole.id.in_(ecole_ids))
    schools_rows = session.execute(registry).all()  # schools deleted since are left out
    schools: Any = select(Ecole.id) if ecole_ids is None else [r[0] for r in schools_rows]
    counted = sv.counted_facts(session, ctx, schools, Grain.SCHOOL)
    first = sv.first_in_service(session, ctx, schools)
    money = sv.money_facts(session, ctx, schools, {r[0] for r in schools_rows})
    installs = sv.installations(session, ctx, schools, per_school=True)
    models = sv.model_counts(session, ctx, schools, per_school=True)
    months: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for (ecole_id, month), n in installs.items():
        months[ecole_id][month] = [n, 0]
    per_model: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for (ecole_id, model_id), counts in models.items():
        per_model[ecole_id][str(model_id)] = list(counts)
    rows = []
    for ecole_id, dept, pupils, lat, lon in schools_rows:
        facts = counted.get(ecole_id) or Facts()
        paid = money.get(ecole_id)
        if paid is not None:
            facts.add(paid)
            for month, cents in paid.paid_by_month.items():
                months[ecole_id].setdefault(month, [0, 0])[1] += cents
        counts = {k: facts[k] for k in KEPT if facts[k]}
        # What the school adds to its département's row.
        counts.update(
            schools=1,
            pupils=pupils or 0,
            located=int(lat is not None and lon is not None),
            equipped=int(facts["in_service"] > 0),
        )
        rows.append(
            {
                "ecole_id": ecole_id,
                "departement_id": dept,
                "in_service": facts["in_service"],
                "first_in_service": first.get(ecole_id),
                "data": {
                    "counts": counts,
                    # Sorted: the rows come in the order of the plan, which differs
                    # between a few schools' refresh and a full rebuild on PostgreSQL.
                    "resolution": sorted(facts.resolution_seconds),
                    "dossiers": {str(d): 1 for d in sorted(facts.dossiers)},
                    "months": months.get(ecole_id, {}),
                    "models": per_model.get(ecole_id, {}),
                },
            }
        )
    return rows


def refresh(session: Session, ecole_ids: Sequence[int] | None) -> None:
    """Compute the rows of these schools (every school: None), and move their
    départements' sums by the difference."""
    if ecole_ids is None:
        session.execute(SchoolSummary.__table__.delete())
        rows = _school_rows(session, None)
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(SchoolSummary), rows[start : start + CHUNK])
        session.execute(DepartementSummary.__table__.delete())
        _write_departements(session, _departement_rows(session, None))
        return
    sums: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ecole_ids), CHUNK):
        chunk = ecole_ids[start : start + CHUNK]
        old = session.execute(
            select(SchoolSummary.departement_id, SchoolSummary.data).where(
                SchoolSummary.ecole_id.in_(chunk)
            )
        ).all()
        session.execute(SchoolSummary.__table__.delete().where(SchoolSummary.ecole_id.in_(chunk)))
        rows = _school_rows(session, chunk)
        if rows:
            session.execute(insert(SchoolSummary), rows)
        changes = [(d, data, -1) for d, data in old]
        changes += [(r["departement_id"], r["data"], 1) for r in rows]
        wanted = sorted({d for d, _data, _sign in changes} - set(sums))
        sums.update(departement_data(session, wanted))
        for dept, data, sign in changes:
            add(sums.setdefault(dept, empty()), data, sign)
    # A sum that no longer adds up (never expected) is computed again from its schools.
    broken = [d for d, total in sums.items() if not _consistent(total)]
    sums.update(_departement_rows(session, broken))
    session.execute(
        DepartementSummary.__table__.delete().where(DepartementSummary.departement_id.in_(sums))
    )
    _write_departements(session, sums)


def _consistent(total: dict[str, Any]) -> bool:
    parts = [total["counts"].values(), *total["months"].values(), *total["models"].values()]
    return all(v >= 0 for values in parts for v in values) and not total.get("broken")


def _write_departements(session: Session, sums: dict[int, dict[str, Any]]) -> None:
    rows = [{"departement_id": d, "data": data} for d, data in sums.items() if data["counts"]]
    if rows:
        session.execute(insert(DepartementSummary), rows)


def _departement_rows(session: Session, depts: Sequence[int] | None) -> dict[int, dict[str, Any]]:
    """The sums of these départements (every one: None), from their schools' rows."""
    stmt = select(SchoolSummary.departement_id, SchoolSummary.data)
    if depts is not None:
        stmt = stmt.where(SchoolSummary.departement_id.in_(depts))
    out: dict[int, dict[str, Any]] = {}
    for dept, data in session.execute(stmt):
        add(out.setdefault(dept, empty()), data)
    return out


# -- reading them ----------------------------------------------------------------------------
def empty() -> dict[str, Any]:
    return {"counts": {}, "resolution": [], "dossiers": {}, "months": {}, "models": {}}


def add(total: dict[str, Any], data: dict[str, Any], sign: int = 1) -> dict[str, Any]:
    """Add (sign -1: take away) a summary's data to ``total``."""
    counts = total["counts"]
    for k, v in data["counts"].items():
        counts[k] = counts.get(k, 0) + sign * v
    if sign > 0:
        total["resolution"].extend(data["resolution"])
    else:
        for value in data["resolution"]:
            try:
                total["resolution"].remove(value)
            except ValueError:
                total["broken"] = True
    dossiers = total["dossiers"]
    for key, n in data["dossiers"].items():
        left = dossiers.get(key, 0) + sign * n
        if left:
            dossiers[key] = left
        else:
            dossiers.pop(key, None)
    for bucket in ("months", "models"):
        into = total[bucket]
        for key, values in data[bucket].items():
            have = into.get(key) or [0] * len(values)
            summed = [a + sign * b for a, b in zip(have, values, strict=True)]
            if any(summed):
                into[key] = summed
            else:
                into.pop(key, None)
    return total


def facts_of(data: dict[str, Any]) -> Facts:
    """The Facts of a summary: its counters, lists and money by month."""
    f = Facts()
    counts = data["counts"]
    for k in KEPT:
        if k in counts:
            f[k] = counts[k]
    f.resolution_seconds = list(data["resolution"])
    f.dossiers = {int(d) for d in data["dossiers"]}
    f.paid_by_month = {m: v[1] for m, v in data["months"].items() if v[1]}
    return f


def school_data(session: Session, ecole_ids: Any) -> dict[int, tuple[int, Any, dict[str, Any]]]:
    """ecole id → (items in service, first put in service, data), for ``ecole_ids``."""
    stmt = select(
        SchoolSummary.ecole_id,
        SchoolSummary.in_service,
        SchoolSummary.first_in_service,
        SchoolSummary.data,
    ).where(SchoolSummary.ecole_id.in_(ecole_ids))
    return {r[0]: (r[1], r[2], r[3]) for r in session.execute(stmt)}


def departement_data(session: Session, depts: Sequence[int]) -> dict[int, dict[str, Any]]:
    stmt = select(DepartementSummary.departement_id, DepartementSummary.data).where(
        DepartementSummary.departement_id.in_(depts)
    )
    return dict(session.execute(stmt).all())  # type: ignore[arg-type]
