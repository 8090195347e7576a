"""The dashboards' summaries: facts kept per school and per département, and how to read them.

Counting two million items for every dashboard cannot answer in a second, so the facts
that come from the large tables (classrooms, items, their first installation, tickets,
the models, and the money of the dossiers, whose aid is a computation) are kept in the
database, the one copy every worker reads:

- one row per school (:class:`SchoolSummary`), as an administrator sees the school;
- one row per département (:class:`DepartementSummary`), the sum of its schools' rows, so
  that the national and académie pages add up a hundred rows, not fifty thousand.

A business change marks the schools whose rows it makes stale, in its own transaction
(reports.stale); the rows are computed again when a dashboard is read, or by a job
(reports.refresh). The summaries hold the figures of readers who see everything at the
schools of their scope (``Context.school_view``); municipal staff's dashboards are
computed from the sources, and the accompaniment facts always are (they are small).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from inventory.core.db import Base, UTCDateTime
from inventory.reports import indicators as ind
from inventory.reports.indicators import Facts

# The counters a summary keeps: the classroom facts and the money.
KEPT = ind.CLASSROOM_FACTS + ind.MONEY_FACTS
# A département's row also counts its schools (and those with a position, for the map).
DEPARTEMENT_FACTS = ("schools", "pupils", "equipped")


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
    """Whether the summaries were ever built, and when last refreshed (a single row, which
    a refresh also writes first on SQLite: its lock serialises the refreshes)."""

    __tablename__ = "summary_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- reading them ----------------------------------------------------------------------------
def empty() -> dict[str, Any]:
    return {"counts": {}, "resolution": [], "dossiers": {}, "months": {}, "models": {}}


def add(total: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Add a summary's data to ``total``."""
    counts = total["counts"]
    for k, v in data["counts"].items():
        counts[k] = counts.get(k, 0) + v
    total["resolution"].extend(data["resolution"])
    dossiers = total["dossiers"]
    for key, n in data["dossiers"].items():
        dossiers[key] = dossiers.get(key, 0) + n
    for bucket in ("months", "models"):
        into = total[bucket]
        for key, values in data[bucket].items():
            have = into.get(key) or [0] * len(values)
            summed = [a + b for a, b in zip(have, values, strict=True)]
            if any(summed):
                into[key] = summed
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
    return dict(session.execute(stmt).all())
