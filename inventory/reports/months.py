"""The monthly trends of a dashboard: items put in service and aid received, per month."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    StatusChange,
)
from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Context,
)
from inventory.reports.levels import Schools, month_of, month_text


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
