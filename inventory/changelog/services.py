"""Queries over the append-only change log, always narrowed by the policy, and read in the
words of its users (:mod:`inventory.core.describe`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from inventory.core import describe, policy
from inventory.core.audit import AuditRecord
from inventory.core.describe import Entry, readable
from inventory.core.pagination import KeyedPage, paginate_by_key
from inventory.core.policy import Subject

# Past this many matching records the journal stops counting (and pages next to a key).
JOURNAL_COUNT_CAP = 10_000
# A text search reads up to this many keys once, and cuts its pages from them.
JOURNAL_SEARCH_WINDOW = 20_000
EXPORT_BATCH = 500


def object_types() -> list[tuple[str, str]]:
    """The types the journal filters on, (table, name), from the models' descriptions."""
    return describe.object_types()


def _of_object(obj: Any, whole_school: bool) -> ColumnElement[bool]:
    if whole_school:
        return AuditRecord.ecole_id == obj.id
    return and_(AuditRecord.object_type == obj.__tablename__, AuditRecord.object_id == obj.id)


def history_of(
    session: Session, user: Subject, obj: Any, *, limit: int = 50, whole_school: bool = False
) -> list[Entry]:
    """The latest changes of ``obj`` (and, for a school, of everything in it), readable."""
    stmt = select(AuditRecord).where(_of_object(obj, whole_school))
    stmt = policy.visible(user, stmt, AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    return readable(session, session.scalars(stmt))


def records_page(
    session: Session,
    user: Subject,
    where: ColumnElement[bool],
    *,
    per_page: int,
    after: int | None = None,
) -> KeyedPage[Entry]:
    """The change-log records ``where`` selects, newest first, a page read along their id
    after the record ``after`` (the API's cursor), readable."""
    keys = policy.visible(user, select(AuditRecord.id).where(where), AuditRecord)
    page = paginate_by_key(
        session,
        select(AuditRecord),
        keys,
        AuditRecord.id,
        per_page=per_page,
        cap=JOURNAL_COUNT_CAP,
        after=after,
    )
    page.items = readable(session, page.items)
    return page


def history_page(
    session: Session,
    user: Subject,
    obj: Any,
    *,
    per_page: int,
    after: int | None = None,
    whole_school: bool = False,
) -> KeyedPage[Entry]:
    """A page of the changes of ``obj`` (for a school, of everything in it), newest first."""
    return records_page(
        session, user, _of_object(obj, whole_school), per_page=per_page, after=after
    )


@dataclass(frozen=True)
class LogFilters:
    actor: str = ""
    object_type: str = ""
    school: int | None = None
    since: date | None = None
    until: date | None = None
    q: str = ""


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return func.lower(column).contains(text.lower(), autoescape=True)


def _text_match(q: str) -> ColumnElement[bool]:
    """Records whose object's name, author, type or changed values contain ``q``: the
    values as stored (codes, in the JSON's escaped form too) or an enum's translated name."""
    changes = cast(AuditRecord.changes, Text)
    parts = [
        _contains(AuditRecord.object_label, q),
        _contains(AuditRecord.actor_label, q),
        _contains(changes, q),
    ]
    escaped = json.dumps(q)[1:-1]  # the JSON's own spelling of accented letters
    if escaped != q:
        parts.append(_contains(changes, escaped))
    for code in sorted(describe.matching_codes(q))[:50]:
        parts.append(changes.contains(json.dumps(code), autoescape=True))
    types = describe.matching_types(q)
    if types:
        parts.append(AuditRecord.object_type.in_(types))
    return or_(*parts)


def _filtered(stmt: Select[Any], filters: LogFilters) -> Select[Any]:
    if filters.actor:
        stmt = stmt.where(AuditRecord.actor_label.contains(filters.actor.lower(), autoescape=True))
    if filters.object_type and describe.known_type(filters.object_type):
        stmt = stmt.where(AuditRecord.object_type == filters.object_type)
    if filters.school:
        stmt = stmt.where(AuditRecord.ecole_id == filters.school)
    if filters.since:
        stmt = stmt.where(AuditRecord.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(AuditRecord.at < end)
    if filters.q.strip():
        stmt = stmt.where(_text_match(filters.q.strip()))
    return stmt


def search_log(
    session: Session,
    user: Subject,
    filters: LogFilters,
    page: int,
    per_page: int,
    *,
    after: int | None = None,
    before: int | None = None,
) -> KeyedPage[Entry]:
    """One page of the matching records, newest first, paged along their ids."""
    keys = policy.visible(user, _filtered(select(AuditRecord.id), filters), AuditRecord)
    found = paginate_by_key(
        session,
        select(AuditRecord),
        keys,
        AuditRecord.id,
        per_page=per_page,
        cap=JOURNAL_COUNT_CAP,
        page=page,
        after=after,
        before=before,
        window=JOURNAL_SEARCH_WINDOW if filters.q.strip() else None,
    )
    found.items = readable(session, found.items)
    return found


def export_log(session: Session, user: Subject, filters: LogFilters) -> Iterator[Entry]:
    """Every matching record, newest first, read in batches (references named per batch)."""
    keys = policy.visible(user, _filtered(select(AuditRecord.id), filters), AuditRecord)
    last: int | None = None
    while True:
        stmt = keys if last is None else keys.where(AuditRecord.id < last)
        ids = list(session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(EXPORT_BATCH)))
        if not ids:
            return
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.id.in_(ids)).order_by(AuditRecord.id.desc())
        )
        yield from readable(session, rows)
        last = ids[-1]
