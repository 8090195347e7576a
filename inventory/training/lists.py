"""Lists of sessions: the filtered list, the count still to record, a school's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Subject
from inventory.core.sorting import Sort, SortSpec
from inventory.orgs.models import Ecole
from inventory.training.models import SessionStatus, Trainer, TrainingSession, session_schools
from inventory.training.times import to_utc


@dataclass(frozen=True)
class SessionFilters:
    status: str = ""
    ecole: int | None = None
    trainer: int | None = None
    since: date | None = None
    until: date | None = None

    def apply(self, stmt: Select[Any], now: datetime) -> Select[Any]:
        if self.status == "to_record":
            stmt = stmt.where(
                TrainingSession.status == SessionStatus.PLANNED,
                TrainingSession.starts_at <= now,
            )
        elif self.status in SessionStatus._value2member_map_:
            stmt = stmt.where(TrainingSession.status == SessionStatus(self.status))
        if self.ecole:
            stmt = stmt.where(
                TrainingSession.id.in_(
                    select(session_schools.c.session_id).where(
                        session_schools.c.ecole_id == self.ecole
                    )
                )
            )
        if self.trainer:
            stmt = stmt.where(
                TrainingSession.id.in_(
                    select(Trainer.session_id).where(Trainer.user_id == self.trainer)
                )
            )
        if self.since:
            stmt = stmt.where(TrainingSession.starts_at >= to_utc(self.since, time()))
        if self.until:
            stmt = stmt.where(
                TrainingSession.starts_at < to_utc(self.until + timedelta(days=1), time())
            )
        return stmt


def list_options() -> list[Any]:
    """What a row of a list of sessions shows, loaded with the list."""
    return [
        selectinload(TrainingSession.schools).selectinload(Ecole.commune),
        selectinload(TrainingSession.trainers),
        selectinload(TrainingSession.topics),
    ]


# The columns the session list sorts by (its own order: the latest first).
SESSION_SORT = SortSpec(
    columns={"date": TrainingSession.starts_at, "session": TrainingSession.title},
    id=TrainingSession.id,
)


def list_sessions(
    session: Session,
    user: Subject,
    filters: SessionFilters,
    page: int,
    per_page: int,
    now: datetime | None = None,
    sort: Sort | None = None,
) -> Page[TrainingSession]:
    now = now or utcnow()
    order = (
        sort.order_by() if sort else [TrainingSession.starts_at.desc(), TrainingSession.id.desc()]
    )
    stmt = (
        policy.visible(user, filters.apply(select(TrainingSession), now), TrainingSession)
        .options(*list_options())
        .order_by(*order)
    )
    return paginate(session, stmt, page, per_page)


# Past this many sessions a keyed list stops counting.
KEYED_COUNT_CAP = 10_000


def sessions_by_key(
    session: Session,
    user: Subject,
    filters: SessionFilters,
    per_page: int,
    *,
    after: int | None,
    now: datetime | None = None,
) -> KeyedPage[TrainingSession]:
    """The sessions newest recorded first, read along their id (the API's cursor pages)."""
    rows = select(TrainingSession).options(*list_options())
    keys = policy.visible(
        user, filters.apply(select(TrainingSession.id), now or utcnow()), TrainingSession
    )
    return paginate_by_key(
        session,
        rows,
        keys,
        TrainingSession.id,
        per_page=per_page,
        cap=KEYED_COUNT_CAP,
        after=after,
    )


def count_to_record(session: Session, user: Subject, now: datetime | None = None) -> int:
    stmt = SessionFilters(status="to_record").apply(
        select(func.count(TrainingSession.id)), now or utcnow()
    )
    return session.scalar(policy.visible(user, stmt, TrainingSession)) or 0


def school_sessions(
    session: Session, user: Subject, ecole_id: int, limit: int = 20
) -> list[TrainingSession]:
    """The school's sessions the user may read, cancelled ones left out, latest first."""
    stmt = (
        select(TrainingSession)
        .where(
            TrainingSession.status != SessionStatus.CANCELLED,
            TrainingSession.id.in_(
                select(session_schools.c.session_id).where(session_schools.c.ecole_id == ecole_id)
            ),
        )
        .options(*list_options())
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id.desc())
        .limit(limit)
    )
    return list(session.scalars(policy.visible(user, stmt, TrainingSession)))
