"""What else connects a classroom, for the socle's works requirements: rows (classroom,
school, kind) that count as finished works of ``kind`` in a classroom, registered at
start-up by a domain above equipment (the network: an access point in service covering
the room is Wi-Fi, a socket installed is cabling), with the classrooms a pending flush
changes in them, as panels and access rules are registered. The socle's summary reads
them beside the finished works, in the same set-based query (:func:`rows_of`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from sqlalchemy import Select, String, select, type_coerce, union_all
from sqlalchemy.orm import Session

from inventory.assets.models import NetworkWork, WorkStatus, work_classrooms

DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)


class RoomWorkRows(Protocol):
    """(classroom, school, kind) rows of a source, narrowed by the source itself to the
    classrooms ``rooms`` or to those of the schools ``schools`` (neither: all), on its own
    indexed columns: a filter put around a union of sources is not always pushed into it,
    and a source read whole (an access point's item among two million) costs seconds."""

    def __call__(
        self, *, rooms: list[int] | None = None, schools: list[int] | None = None
    ) -> Select[Any]: ...


TouchedRooms = Callable[[Session], set[int]]
REGISTERED: dict[str, tuple[RoomWorkRows, TouchedRooms, tuple[str, ...]]] = {}


def register_room_works(
    name: str, rows: RoomWorkRows, touched: TouchedRooms, tables: tuple[str, ...] = ()
) -> None:
    """Count ``rows(rooms=…, schools=…)`` as finished works of the classrooms they name;
    ``touched`` tells which classrooms a pending flush changes in them; ``tables``: those
    ``rows`` reads, for a whole refresh run by a migration older than them (registering
    again replaces)."""
    REGISTERED[name] = (rows, touched, tables)


def finished_works() -> Select[Any]:
    """(classroom, school, kind, work) of the finished works covering classrooms."""
    return (
        select(
            work_classrooms.c.classroom_id.label("classroom_id"),
            NetworkWork.ecole_id.label("ecole_id"),
            type_coerce(NetworkWork.kind, String(20)).label("kind"),
        )
        .join(NetworkWork, NetworkWork.id == work_classrooms.c.work_id)
        .where(NetworkWork.status.in_(DONE))
    )


def rows_of(
    *,
    rooms: list[int] | None = None,
    schools: list[int] | None = None,
    sources: Iterable[str] | None = None,
) -> Any:
    """The finished works of classrooms and what else counts as such (the registered
    ``sources``; all: None), one subquery of (classroom_id, kind), narrowed to ``rooms`` or
    the classrooms of ``schools``."""
    base = finished_works()
    if rooms is not None:
        # Only these rooms' works read, not the whole table hashed.
        base = base.where(
            work_classrooms.c.classroom_id.in_(rooms),
            NetworkWork.id.in_(
                select(work_classrooms.c.work_id).where(work_classrooms.c.classroom_id.in_(rooms))
            ),
        )
    elif schools is not None:
        base = base.where(NetworkWork.ecole_id.in_(schools))
    parts: list[Select[Any]] = [base]
    for name, (rows, _touched, _tables) in REGISTERED.items():
        if sources is not None and name not in sources:
            continue
        sq = rows(rooms=rooms, schools=schools).subquery()
        parts.append(select(sq.c.classroom_id, sq.c.ecole_id, sq.c.kind))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
