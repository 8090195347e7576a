"""Queries over the append-only change log, always narrowed by the policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Subject

OBJECT_TYPES = (
    "ecoles",
    "classrooms",
    "collectivites",
    "circonscriptions",
    "ownerships",
    "communes",
    "departements",
    "academies",
    "users",
    "user_scopes",
)


def history_of(
    session: Session, user: Subject, obj: Any, *, limit: int = 50, whole_school: bool = False
) -> list[AuditRecord]:
    """The latest changes of ``obj`` (and, for a school, of everything in it)."""
    stmt = select(AuditRecord)
    if whole_school:
        stmt = stmt.where(AuditRecord.ecole_id == obj.id)
    else:
        stmt = stmt.where(
            AuditRecord.object_type == obj.__tablename__, AuditRecord.object_id == obj.id
        )
    stmt = policy.visible(user, stmt, AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class LogFilters:
    actor: str = ""
    object_type: str = ""
    school: int | None = None
    since: date | None = None
    until: date | None = None


def search_log(
    session: Session, user: Subject, filters: LogFilters, page: int, per_page: int
) -> Page[AuditRecord]:
    stmt = select(AuditRecord)
    if filters.actor:
        stmt = stmt.where(AuditRecord.actor_label.contains(filters.actor.lower(), autoescape=True))
    if filters.object_type in OBJECT_TYPES:
        stmt = stmt.where(AuditRecord.object_type == filters.object_type)
    if filters.school:
        stmt = stmt.where(AuditRecord.ecole_id == filters.school)
    if filters.since:
        stmt = stmt.where(AuditRecord.at >= datetime.combine(filters.since, time(), UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time(), UTC)
        stmt = stmt.where(AuditRecord.at < end)
    stmt = policy.visible(user, stmt, AuditRecord).order_by(AuditRecord.id.desc())
    return paginate(session, stmt, page, per_page)
