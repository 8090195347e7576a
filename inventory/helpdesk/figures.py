"""Service figures of the helpdesk: per collectivité, the open tickets and how fast
tickets are answered and resolved; the equipment models with the most tickets."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, EquipmentModel
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.policy import Subject
from inventory.helpdesk.models import OPEN_STATUSES, Ticket
from inventory.orgs.models import Collectivite


@dataclass
class Figures:
    collectivite: Collectivite
    open: int = 0
    total: int = 0
    resolved: int = 0
    first_response: timedelta | None = None
    resolution: timedelta | None = None


@dataclass
class ModelFigures:
    model: EquipmentModel
    tickets: int
    items: int

    @property
    def per_100(self) -> float | None:
        return 100 * self.tickets / self.items if self.items else None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def service_figures(
    session: Session, user: Subject, *, days: int = 365, now: datetime | None = None
) -> list[Figures]:
    """Per collectivité in scope: open tickets, and over the last ``days`` the tickets,
    the median time to the first response and to the resolution."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    open_rows = session.execute(
        policy.visible(
            user,
            select(Ticket.collectivite_id, func.count(Ticket.id))
            .where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.collectivite_id),
            Ticket,
        )
    ).all()
    rows = session.execute(
        policy.visible(
            user,
            select(
                Ticket.collectivite_id,
                Ticket.created_at,
                Ticket.first_response_at,
                Ticket.resolved_at,
            ).where(Ticket.created_at >= since),
            Ticket,
        )
    ).all()
    firsts: dict[int, list[timedelta]] = defaultdict(list)
    fixes: dict[int, list[timedelta]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for coll_id, created, first, resolved in rows:
        totals[coll_id] += 1
        if first is not None:
            firsts[coll_id].append(first - created)
        if resolved is not None:
            fixes[coll_id].append(resolved - created)
    opens = dict(open_rows)
    ids = set(opens) | set(totals)
    colls = {c.id: c for c in session.scalars(select(Collectivite).where(Collectivite.id.in_(ids)))}
    out = [
        Figures(
            collectivite=colls[i],
            open=opens.get(i, 0),
            total=totals.get(i, 0),
            resolved=len(fixes.get(i, [])),
            first_response=_median(firsts.get(i, [])),
            resolution=_median(fixes.get(i, [])),
        )
        for i in ids
        if i in colls
    ]
    return sorted(out, key=lambda f: (-f.open, f.collectivite.name))


def failing_models(
    session: Session, user: Subject, *, collectivite: int | None = None, limit: int = 10
) -> list[ModelFigures]:
    """The models with the most tickets in scope, with how many such items are in scope."""
    count = func.count(Ticket.id)
    stmt = (
        select(Asset.model_id, count)
        .select_from(Ticket)
        .join(Asset, Asset.id == Ticket.asset_id)
        .group_by(Asset.model_id)
        .order_by(count.desc(), Asset.model_id)
        .limit(limit)
    )
    if collectivite:
        stmt = stmt.where(Ticket.collectivite_id == collectivite)
    rows = session.execute(policy.visible(user, stmt, Ticket)).all()
    if not rows:
        return []
    model_ids = [r[0] for r in rows]
    item_stmt = (
        select(Asset.model_id, func.count(Asset.id))
        .where(Asset.model_id.in_(model_ids))
        .group_by(Asset.model_id)
    )
    if collectivite:
        item_stmt = item_stmt.where(Asset.collectivite_id == collectivite)
    items = dict(session.execute(policy.visible(user, item_stmt, Asset)).all())
    models = {
        m.id: m
        for m in session.scalars(
            select(EquipmentModel)
            .where(EquipmentModel.id.in_(model_ids))
            .options(
                selectinload(EquipmentModel.manufacturer), selectinload(EquipmentModel.category)
            )
        )
    }
    return [ModelFigures(models[i], n, items.get(i, 0)) for i, n in rows if i in models]
