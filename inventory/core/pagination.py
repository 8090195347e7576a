"""Numbered pages over a SELECT, with one COUNT and one windowed query; and, for lists of
millions of rows, pages read along a key with a bounded count (:func:`paginate_by_key`)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select

from inventory.core.sorting import Sort, after_key

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
    """Page ``stmt``. ``key_stmt`` selects the ordered primary keys of the rows to list,
    with every condition: the count and the offset then run on that narrow query (an
    index-only scan), and ``stmt`` only loads the page's rows by key. It needs the policy
    and its loading options, not the list's filters: the keys have passed them, and a
    search's index match, say, would run once more for nothing."""
    counted = (key_stmt if key_stmt is not None else stmt).order_by(None)
    total = session.scalar(select(func.count()).select_from(counted.subquery()))
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


@dataclass
class KeyedPage(Generic[T]):
    """A page of a list shown newest first (by its key, descending), for lists that may
    hold millions of rows: the count stops at a cap, and besides page numbers (cheap up
    to the cap) a page can be asked for next to a key, ``after`` or ``before`` it, which
    costs the same at any depth. Lists within the cap read exactly like :class:`Page`.

    ``total`` is exact unless ``capped`` (then there are more than ``total`` rows).
    ``first_index`` is 0 when the page's position is not known (deep in a capped list).
    """

    items: list[T]
    total: int
    capped: bool
    per_page: int
    first_index: int
    has_prev: bool
    has_next: bool
    first_key: Any = None
    last_key: Any = None
    numbered: bool = True  # asked by page number (else next to a key)

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1 if self.first_index else 0

    @property
    def page(self) -> int:
        return (self.first_index - 1) // self.per_page + 1 if self.first_index else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def window(self, width: int = 2) -> list[int | None]:
        """Page numbers to link (only for an exact count, asked by number)."""
        as_page = Page(items=self.items, total=self.total, page=self.page, per_page=self.per_page)
        return as_page.window(width)


def _count(session: Any, key_stmt: Select[Any], cap: int | None = None) -> int:
    stmt = key_stmt.order_by(None)
    if cap is not None:
        stmt = stmt.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def _cut(
    keys: list[Any], complete: bool, per_page: int, page: int, after: Any, before: Any
) -> tuple[list[Any], int, bool, bool] | None:
    """The page asked for, cut from ``keys`` (the first keys of the list, newest first;
    ``complete``: every key): its keys, its first index, whether pages come before and
    after it. None when it lies beyond ``keys``."""
    if after is not None:
        start = bisect_right(keys, -after, key=_neg)  # the first key below ``after``
        if not complete and start + per_page >= len(keys):
            return None
        found = keys[start : start + per_page]
        return found, start + 1, start > 0, start + per_page < len(keys)
    if before is not None:
        # Every key above ``before`` was read when it is not below the last one read.
        if not complete and not (keys and before >= keys[-1]):
            return None
        end = bisect_left(keys, -before, key=_neg)  # the keys above ``before`` end there
        start = max(0, end - per_page)
        return keys[start:end], start + 1, start > 0, end < len(keys) or not complete
    offset = (max(1, page) - 1) * per_page
    if not complete and offset + per_page >= len(keys):
        return None
    if complete and offset >= len(keys):  # past the end: the last page
        offset = max(0, (len(keys) - 1) // per_page * per_page)
    found = keys[offset : offset + per_page]
    return found, offset + 1 if found else 0, offset > 0, offset + per_page < len(keys)


def _neg(key: Any) -> Any:
    # Keys are read newest first: bisect them on their opposite, which ascends.
    return -key


def paginate_by_key(
    session: Any,
    stmt: Select[Any],
    key_stmt: Select[Any],
    key: Any,
    *,
    per_page: int,
    cap: int,
    page: int = 1,
    after: Any = None,
    before: Any = None,
    window: int | None = None,
    unordered: bool = False,
) -> KeyedPage[Any]:
    """Page the rows that ``key_stmt`` selects (their keys alone, unordered, so that
    counting, offsets and seeks run on an index) newest first by ``key``; ``stmt`` reads
    the page's rows by their keys (the entity and its loader options, no filter).

    ``after``: the page that follows the row of that key; ``before``: the page that
    precedes it (``before`` below every key: the last page). Otherwise page ``page``.

    ``window``: read up to that many keys (at least ``cap``) in one pass, and cut the
    page from them. For a costly condition (a text search) that every query runs again:
    it then runs once per request, and the count of a list that fits is exact.
    ``unordered``: read the window in ``key_stmt``'s own order and sort it here (a text
    index gives its rows in ascending order, and the reverse costs it twice as much); a
    list longer than the window is then read again, ordered. Not for a statement whose
    planner, without an order, may prefer scanning the table until the limit.
    """
    if window is not None:
        size = max(window, cap)
        ordered = key_stmt.order_by(key.desc()).limit(size + 1)
        if unordered:
            head = sorted(session.scalars(key_stmt.limit(size + 1)), reverse=True)
            complete = len(head) <= size
            if not complete:  # the first keys read were not the newest
                head = list(session.scalars(ordered))
        else:
            head = list(session.scalars(ordered))
        complete = len(head) <= size
        cut = _cut(head, complete, per_page, page, after, before)
        if cut is not None:
            keys, first_index, has_prev, has_next = cut
            if not keys and (after is not None or before is not None) and head:
                # The rows around the key are gone: back to the first page.
                keys, first_index, has_prev, has_next = _cut(
                    head, complete, per_page, 1, None, None
                ) or ([], 0, False, False)
                after = before = None
            return _page_of(
                session,
                stmt,
                key,
                keys,
                total=len(head) if complete else cap,
                capped=not complete,
                per_page=per_page,
                first_index=first_index,
                has_prev=has_prev,
                has_next=has_next,
                numbered=after is None and before is None,
            )
        # Deeper than the keys read: seek from the key given, as below, without counts.
        return _seek(session, stmt, key_stmt, key, per_page, cap, page, after, before)
    counted = _count(session, key_stmt, cap)
    capped = counted > cap
    total = min(counted, cap)
    if after is not None or before is not None:
        if after is not None:
            found = list(
                session.scalars(
                    key_stmt.where(key < after).order_by(key.desc()).limit(per_page + 1)
                )
            )
            has_prev, has_next = True, len(found) > per_page
            keys = found[:per_page]
        else:
            found = list(
                session.scalars(
                    key_stmt.where(key > before).order_by(key.asc()).limit(per_page + 1)
                )
            )
            has_prev = len(found) > per_page
            keys = found[:per_page][::-1]
            has_next = bool(keys) and _count(session, key_stmt.where(key <= before), 0) > 0
        if not keys:  # the rows around the key are gone: back to the first page
            return paginate_by_key(session, stmt, key_stmt, key, per_page=per_page, cap=cap, page=1)
        # The position is known when few enough rows come first.
        preceding = _count(session, key_stmt.where(key > keys[0]), cap)
        first_index = preceding + 1 if preceding <= cap else 0
        numbered = False
    else:
        pages = max(1, -(-total // per_page))
        page = max(1, page) if capped else min(max(1, page), pages)
        offset = (page - 1) * per_page
        found = list(
            session.scalars(key_stmt.order_by(key.desc()).limit(per_page + 1).offset(offset))
        )
        keys = found[:per_page]
        has_prev, has_next = page > 1, len(found) > per_page
        first_index = offset + 1 if keys else 0
        numbered = True
    return _page_of(
        session,
        stmt,
        key,
        keys,
        total=total,
        capped=capped,
        per_page=per_page,
        first_index=first_index,
        has_prev=has_prev,
        has_next=has_next,
        numbered=numbered,
    )


def _seek(
    session: Any,
    stmt: Select[Any],
    key_stmt: Select[Any],
    key: Any,
    per_page: int,
    cap: int,
    page: int,
    after: Any,
    before: Any,
) -> KeyedPage[Any]:
    """A page deeper than a window of keys: one more pass, from the key given (or at an
    offset), its position and the count left unknown (more than ``cap`` rows)."""
    has_prev, has_next = True, True
    if after is not None:
        found = list(
            session.scalars(key_stmt.where(key < after).order_by(key.desc()).limit(per_page + 1))
        )
        keys, has_next = found[:per_page], len(found) > per_page
    elif before is not None:
        seek = key_stmt.where(key > before) if before else key_stmt
        found = list(session.scalars(seek.order_by(key.asc()).limit(per_page + 1)))
        keys = found[:per_page][::-1]
        # A key of the list (the first of a page) lies below, unless asked for the end.
        has_prev, has_next = len(found) > per_page, bool(before)
    else:
        offset = (max(1, page) - 1) * per_page
        found = list(
            session.scalars(key_stmt.order_by(key.desc()).limit(per_page + 1).offset(offset))
        )
        keys, has_next = found[:per_page], len(found) > per_page
    if not keys:
        return paginate_by_key(
            session, stmt, key_stmt, key, per_page=per_page, cap=cap, page=1, window=cap
        )
    return _page_of(
        session,
        stmt,
        key,
        keys,
        total=cap,
        capped=True,
        per_page=per_page,
        first_index=0,
        has_prev=has_prev,
        has_next=has_next,
        numbered=False,
    )


def _page_of(
    session: Any, stmt: Select[Any], key: Any, keys: list[Any], **fields: Any
) -> KeyedPage[Any]:
    """The page of these keys, its rows read by their primary key alone: the keys were
    filtered, and filtering the rows again would run a costly condition once more. (The
    keys may come from another table than the rows: a search index's rowids.)"""
    pk = inspect(stmt.column_descriptions[0]["entity"]).primary_key[0]
    rows = session.scalars(stmt.where(pk.in_(keys))) if keys else []
    by_key = {getattr(o, pk.key): o for o in rows}
    return KeyedPage(
        items=[by_key[k] for k in keys if k in by_key],
        first_key=keys[0] if keys else None,
        last_key=keys[-1] if keys else None,
        **fields,
    )


def paginate_sorted(
    session: Any,
    stmt: Select[Any],
    key_stmt: Select[Any],
    sort: Sort,
    *,
    per_page: int,
    cap: int,
    page: int = 1,
    after: Any = None,
    before: Any = None,
) -> KeyedPage[Any]:
    """Page the rows that ``key_stmt`` selects (their ids, with every condition) in the
    order of ``sort``: the key is (sort value, id), so rows of equal or missing values
    keep one order and a page next to another never skips nor repeats a row.

    ``after`` / ``before`` are the id of the row the page follows or precedes (the last
    or first of the page shown); its sort value is read again here, through ``key_stmt``,
    so that the URL carries an id only, whatever the column's type (``before=0``: the
    last page). A row no longer listed sends back to the first page, as
    :func:`paginate_by_key` does."""
    counted = _count(session, key_stmt, cap)
    capped = counted > cap
    total = min(counted, cap)
    ordered = key_stmt.order_by(None)
    if after is not None or before is not None:
        mark = after if after is not None else before
        backwards = after is None
        if backwards and not mark:  # the last page: the first rows of the reversed order
            rows = list(session.scalars(ordered.order_by(*_reversed(sort)).limit(per_page + 1)))
            keys = rows[:per_page][::-1]
            has_prev, has_next = len(rows) > per_page, False
        else:
            found = session.execute(
                ordered.with_only_columns(sort.value).where(sort.spec.id == mark)
            ).first()
            if found is None:  # the row around which to page is gone
                return paginate_sorted(
                    session, stmt, key_stmt, sort, per_page=per_page, cap=cap, page=1
                )
            value = found[0]
            seek = ordered.where(after_key(sort, value, mark, reverse=backwards))
            order = _reversed(sort) if backwards else sort.order_by()
            rows = list(session.scalars(seek.order_by(*order).limit(per_page + 1)))
            more = len(rows) > per_page
            keys = rows[:per_page]
            if backwards:
                keys.reverse()
                has_prev, has_next = more, True
            else:
                has_prev, has_next = True, more
            if not keys:
                return paginate_sorted(
                    session, stmt, key_stmt, sort, per_page=per_page, cap=cap, page=1
                )
        first_index = 0
        if keys:
            head = session.execute(
                ordered.with_only_columns(sort.value).where(sort.spec.id == keys[0])
            ).first()
            if head is not None:
                preceding = _count(
                    session, ordered.where(after_key(sort, head[0], keys[0], reverse=True)), cap
                )
                first_index = preceding + 1 if preceding <= cap else 0
        numbered = False
    else:
        pages = max(1, -(-total // per_page))
        page = max(1, page) if capped else min(max(1, page), pages)
        offset = (page - 1) * per_page
        found_keys = list(
            session.scalars(ordered.order_by(*sort.order_by()).limit(per_page + 1).offset(offset))
        )
        keys = found_keys[:per_page]
        has_prev, has_next = page > 1, len(found_keys) > per_page
        first_index = offset + 1 if keys else 0
        numbered = True
    return _page_of(
        session,
        stmt,
        sort.spec.id,
        keys,
        total=total,
        capped=capped,
        per_page=per_page,
        first_index=first_index,
        has_prev=has_prev,
        has_next=has_next,
        numbered=numbered,
    )


def _reversed(sort: Sort) -> list[Any]:
    return Sort(sort.spec, sort.name, not sort.descending).order_by()
