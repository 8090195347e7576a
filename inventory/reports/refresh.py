"""Bringing the dashboards' summaries up to date: the schools marked stale (reports.stale),
or every school, computed again from the sources (reports.facts) and written.

:func:`refresh_stale` runs when a dashboard is read, and is a plain function a job can
call. It is safe when several requests or jobs run it at once, on both engines:

- the refreshes take turns: on PostgreSQL under a transaction-scoped advisory lock
  (``pg_advisory_xact_lock``), on SQLite by writing first (its one writer at a time); the
  one that comes second reads the marks again and finds them gone;
- a refresh is idempotent: each school's row is written by an upsert (INSERT … ON
  CONFLICT DO UPDATE) from the sources, and each département's sum is added up again from
  its schools' rows, never moved by a difference;
- the marks it read are deleted by id at the end, in its transaction: a mark written by a
  change that commits meanwhile stays for the next refresh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, delete, select, text
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.db import conflict_insert, utcnow
from inventory.core.derived import StaleMark
from inventory.orgs.models import Ecole
from inventory.reports import stale
from inventory.reports.facts import counted_facts, first_in_service
from inventory.reports.failures import model_counts
from inventory.reports.indicators import Facts, Grain
from inventory.reports.levels import chunks, context, without_jit
from inventory.reports.money import money_facts
from inventory.reports.months import installations
from inventory.reports.summary import (
    KEPT,
    DepartementSummary,
    SchoolSummary,
    SummaryState,
    add,
    empty,
)

CHUNK = 2000
# The advisory lock the refreshes take turns under on PostgreSQL (any constant of ours).
LOCK_KEY = 0x50C1E5


class _Everyone:
    """The reader the summaries are computed for: every school, all of each."""

    role = policy.Role.AUDITEUR
    scope = policy.Scope(everything=True)
    id = None


EVERYONE = _Everyone()


# -- when and what -------------------------------------------------------------------------
def refresh_stale(session: Session) -> int | None:
    """Refresh the summaries of the schools marked stale (every school, the first time),
    and commit; returns how many schools were computed again (None: nothing to do)."""
    if _built(session) and not _any_mark(session):
        return None  # the common case: read only, no lock
    _take_turn(session)
    marks = _marks(session)
    if _built(session) and not marks:
        session.commit()  # another refresh did it while this one waited
        return None
    schools = stale.schools_named(session, [(k, v) for _id, k, v in marks])
    if not _built(session) or schools is None:
        count = _rebuild(session)
    else:
        count = _refresh(
            session, sorted(schools), stale.departements_named([(k, v) for _id, k, v in marks])
        )
    _done(session, [i for i, _k, _v in marks])
    return count


def refresh_all(session: Session) -> int:
    """Compute every school's summary again, and commit (after rows were written with no
    stale mark, a restore say); returns how many schools were computed."""
    _take_turn(session)
    marks = _marks(session)
    count = _rebuild(session)
    _done(session, [i for i, _k, _v in marks])
    return count


def _built(session: Session) -> bool:
    return session.scalar(select(SummaryState.id).where(SummaryState.id == 1)) is not None


def _any_mark(session: Session) -> bool:
    stmt = select(StaleMark.id).where(StaleMark.kind.in_(stale.KINDS)).limit(1)
    return session.scalar(stmt) is not None


def _marks(session: Session) -> list[tuple[int, str, int | None]]:
    stmt = select(StaleMark.id, StaleMark.kind, StaleMark.key).where(
        StaleMark.kind.in_(stale.KINDS)
    )
    return [(i, k, v) for i, k, v in session.execute(stmt.order_by(StaleMark.id))]


def _take_turn(session: Session) -> None:
    """Wait for any other refresh to end, and keep the others waiting until this
    transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:
        # SQLite lets one transaction write at a time: writing first makes this one the
        # writer (after the busy timeout's wait), before it reads anything.
        state = SummaryState.__table__
        session.execute(state.update().where(state.c.id == 1).values(refreshed_at=utcnow()))
    without_jit(session)


def _done(session: Session, mark_ids: Sequence[int]) -> None:
    for chunk in chunks(list(mark_ids)):
        session.execute(delete(StaleMark).where(StaleMark.id.in_(chunk)))
    _upsert(session, SummaryState.__table__, [{"id": 1, "refreshed_at": utcnow()}], "id")
    session.commit()


# -- computing and writing the rows -------------------------------------------------------------
def _rebuild(session: Session) -> int:
    rows = _school_rows(session, None)
    for start in range(0, len(rows), CHUNK):
        _upsert(session, SchoolSummary.__table__, rows[start : start + CHUNK], "ecole_id")
    # Rows of schools gone went with them (ON DELETE CASCADE); a département left without
    # schools loses its sum below.
    depts = set(session.scalars(select(DepartementSummary.departement_id)))
    depts |= {r["departement_id"] for r in rows}
    _write_departements(session, sorted(depts))
    return len(rows)


def _refresh(session: Session, ecole_ids: Sequence[int], depts: Iterable[int]) -> int:
    touched = set(depts)
    count = 0
    for chunk in chunks(list(ecole_ids), CHUNK):
        touched.update(
            session.scalars(
                select(SchoolSummary.departement_id).where(SchoolSummary.ecole_id.in_(chunk))
            )
        )
        rows = _school_rows(session, chunk)
        _upsert(session, SchoolSummary.__table__, rows, "ecole_id")
        touched.update(r["departement_id"] for r in rows)
        count += len(rows)
    _write_departements(session, sorted(touched))
    return count


def _write_departements(session: Session, depts: Sequence[int]) -> None:
    """Add up these départements' sums again from their schools' rows."""
    for chunk in chunks(list(depts)):
        sums = _departement_rows(session, chunk)
        kept = [{"departement_id": d, "data": data} for d, data in sums.items() if data["counts"]]
        _upsert(session, DepartementSummary.__table__, kept, "departement_id")
        empty_ones = set(chunk) - {r["departement_id"] for r in kept}
        if empty_ones:
            session.execute(
                delete(DepartementSummary).where(DepartementSummary.departement_id.in_(empty_ones))
            )


def _departement_rows(session: Session, depts: Sequence[int] | None) -> dict[int, dict[str, Any]]:
    """The sums of these départements (every one: None), from their schools' rows."""
    stmt = select(SchoolSummary.departement_id, SchoolSummary.data)
    if depts is not None:
        stmt = stmt.where(SchoolSummary.departement_id.in_(depts))
    out: dict[int, dict[str, Any]] = {}
    for dept, data in session.execute(stmt.order_by(SchoolSummary.ecole_id)):
        add(out.setdefault(dept, empty()), data)
    return out


def _upsert(session: Session, table: Table, rows: list[dict[str, Any]], key: str) -> None:
    """Insert these rows, or update the ones whose ``key`` is there already."""
    if not rows:
        return
    stmt = conflict_insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key},
    )
    session.execute(stmt, rows)


def _school_rows(session: Session, ecole_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    ctx = context(session, EVERYONE)
    registry = select(Ecole.id, Ecole.departement_id, Ecole.pupils, Ecole.latitude, Ecole.longitude)
    if ecole_ids is not None:
        registry = registry.where(Ecole.id.in_(ecole_ids))
    schools_rows = session.execute(registry).all()  # schools deleted since are left out
    schools: Any = select(Ecole.id) if ecole_ids is None else [r[0] for r in schools_rows]
    counted = counted_facts(session, ctx, schools, Grain.SCHOOL)
    first = first_in_service(session, ctx, schools)
    money = money_facts(session, ctx, schools, {r[0] for r in schools_rows})
    installs = installations(session, ctx, schools, per_school=True)
    models = model_counts(session, ctx, schools, per_school=True)
    months: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for (ecole_id, month), n in installs.items():
        months[ecole_id][month] = [n, 0]
    per_model: dict[int, dict[str, list[int]]] = defaultdict(dict)
    for (ecole_id, model_id), model_count in models.items():
        per_model[ecole_id][str(model_id)] = list(model_count)
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
