"""Sessions are typed and shown in the schools' time (metropolitan France), stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from inventory.core.db import utcnow
from inventory.training.models import SessionStatus, TrainingSession

LOCAL_TZ = ZoneInfo("Europe/Paris")


def to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Paris as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


def local_day(moment: datetime) -> date:
    return local(moment).date()


def ends_at(ts: TrainingSession) -> datetime:
    return ts.starts_at + timedelta(minutes=ts.duration_minutes)


def to_record(ts: TrainingSession, now: datetime | None = None) -> bool:
    """A planned session whose start has passed: its record is expected."""
    return ts.status is SessionStatus.PLANNED and ts.starts_at <= (now or utcnow())
