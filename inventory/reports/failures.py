"""The failure table of a dashboard: per equipment model, its items, the tickets reported on
them and the open ones, the most failing first."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
)
from inventory.helpdesk.models import OPEN_STATUSES, Ticket
from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Context,
)
from inventory.reports.levels import Schools, count_if


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
    rows = [ModelRow(m, *names[m], *counts[m]) for m in ids if m in names]
    rows.sort(key=lambda r: (-(r.rate or 0), r.manufacturer, r.name))
    return rows
