"""What the network brings to the socle's connection requirement, registered at start-up
in the equipment's socle (which comes before the network in the domain order): a classroom
covered by an access point in service has Wi-Fi, and one with a network socket installed
(by finished cabling works, or there before any works recorded) is cabled. The summary's
refresh stays one set-based query: these are more rows of the finished works it groups."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Select, String, and_, inspect, literal, or_, select
from sqlalchemy.orm import Session

from inventory.assets import room_works
from inventory.assets.models import Asset, AssetStatus, NetworkWork, WorkKind, WorkStatus
from inventory.network.models import AccessPointRoom, NetworkSocket

DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)


def connection_rows(
    *, rooms: list[int] | None = None, schools: list[int] | None = None
) -> Select[Any]:
    """(classroom, school, kind) of the access points in service covering classrooms,
    and of the installed sockets, of the classrooms ``rooms`` or of the schools
    ``schools`` (all: neither). The coverage rows are narrowed first, on their own index:
    the items are then read by key, never scanned for their status."""
    wifi = (
        select(
            AccessPointRoom.classroom_id.label("classroom_id"),
            AccessPointRoom.ecole_id.label("ecole_id"),
            literal(WorkKind.WIFI.value, String(20)).label("kind"),
        )
        .join(Asset, Asset.id == AccessPointRoom.asset_id)
        .where(Asset.status == AssetStatus.IN_SERVICE)
    )
    finished = select(NetworkWork.id).where(NetworkWork.status.in_(DONE))
    cabled = select(
        NetworkSocket.classroom_id.label("classroom_id"),
        NetworkSocket.ecole_id.label("ecole_id"),
        literal(WorkKind.CABLING.value, String(20)).label("kind"),
    ).where(or_(NetworkSocket.work_id.is_(None), NetworkSocket.work_id.in_(finished)))
    if rooms is not None:
        wifi = wifi.where(AccessPointRoom.classroom_id.in_(rooms))
        cabled = cabled.where(NetworkSocket.classroom_id.in_(rooms))
    elif schools is not None:
        wifi = wifi.where(AccessPointRoom.ecole_id.in_(schools))
        cabled = cabled.where(NetworkSocket.ecole_id.in_(schools))
    return wifi.union_all(cabled)  # type: ignore[return-value]


def touched_rooms(session: Session) -> set[int]:
    """Classrooms whose connection a pending flush changes: coverage and sockets added or
    removed, an access point changing status, cabling works finishing or not."""
    rooms: set[int] = set()
    changed = (*session.new, *session.dirty, *session.deleted)
    for obj in changed:
        if isinstance(obj, AccessPointRoom | NetworkSocket) and obj.classroom_id:
            rooms.add(obj.classroom_id)
    aps = [
        o.id
        for o in session.dirty
        if isinstance(o, Asset) and o.id and inspect(o).attrs["status"].history.has_changes()
    ]
    works = [
        o.id
        for o in session.dirty
        if isinstance(o, NetworkWork) and o.id and inspect(o).attrs["status"].history.has_changes()
    ]
    if aps:
        rooms.update(
            session.scalars(
                select(AccessPointRoom.classroom_id).where(AccessPointRoom.asset_id.in_(aps))
            )
        )
    if works:
        rooms.update(
            session.scalars(
                select(NetworkSocket.classroom_id).where(and_(NetworkSocket.work_id.in_(works)))
            )
        )
    return rooms


def init_app(_app: Flask) -> None:
    room_works.register_room_works(
        "network",
        connection_rows,
        touched_rooms,
        (AccessPointRoom.__tablename__, NetworkSocket.__tablename__),
    )
