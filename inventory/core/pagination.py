"""Numbered pages over a SELECT, with one COUNT and one windowed query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self, width: int = 2) -> list[int | None]:
        """Page numbers to link, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.pages, *range(self.page - width, self.page + width + 1)}
        numbers = sorted(n for n in shown if 1 <= n <= self.pages)
        out: list[int | None] = []
        for n in numbers:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def paginate(
    session: Any,
    stmt: Select[Any],
    page: int,
    per_page: int,
    *,
    key_stmt: Select[Any] | None = None,
) -> Page[Any]:
    """Page ``stmt``. ``key_stmt`` selects only the ordered primary keys of the same rows;
    when given, the offset runs on that narrow query (an index-only scan) and the full
    rows are fetched for the page's keys alone, so that deep pages stay cheap."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    offset = (page - 1) * per_page
    if key_stmt is None:
        items = list(session.scalars(stmt.limit(per_page).offset(offset)))
    else:
        keys = list(session.scalars(key_stmt.limit(per_page).offset(offset)))
        entity = stmt.column_descriptions[0]["entity"]
        by_id = {o.id: o for o in session.scalars(stmt.order_by(None).where(entity.id.in_(keys)))}
        items = [by_id[k] for k in keys if k in by_id]
    return Page(items=items, total=total, page=page, per_page=per_page)
