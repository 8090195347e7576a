"""Wi-Fi networks, the rooms each access point covers, and the rooms' network sockets:
what the socle's connection requirement reads (:mod:`inventory.network.socle`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, EquipmentCategory, NetworkWork, WorkKind, WorkStatus
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.network.allocation import NetworkError
from inventory.network.models import AccessPointRoom, NetworkSocket, Vlan, WifiNetwork, WifiSecurity
from inventory.network.plan import ACCESS_POINT
from inventory.orgs.models import Classroom, Ecole

SECURITY_LABELS = {
    WifiSecurity.OPEN: _l("open"),
    WifiSecurity.WPA2_PSK: _l("WPA2 personal"),
    WifiSecurity.WPA2_ENTERPRISE: _l("WPA2 enterprise"),
    WifiSecurity.WPA3_SAE: _l("WPA3 personal"),
    WifiSecurity.WPA3_ENTERPRISE: _l("WPA3 enterprise"),
}


def add_wifi(
    session: Session,
    user: Subject,
    ecole: Ecole,
    ssid: str,
    security: WifiSecurity,
    vlan_id: int | None,
) -> WifiNetwork:
    ssid = ssid.strip()
    if not ssid or len(ssid.encode()) > 32:
        raise NetworkError(_l("An SSID has 1 to 32 bytes."), "ssid")
    if session.scalar(select(WifiNetwork.id).filter_by(ecole_id=ecole.id, ssid=ssid)) is not None:
        raise NetworkError(_l("The school already has this SSID."), "ssid")
    if vlan_id and session.scalar(select(Vlan.id).filter_by(id=vlan_id, ecole_id=ecole.id)) is None:
        raise NetworkError(_l("Choose one of the school's VLANs."), "vlan_id")
    row = WifiNetwork(ecole_id=ecole.id, ssid=ssid, security=security, vlan_id=vlan_id or None)
    session.add(row)
    session.flush()
    return row


def access_points(session: Session, user: Subject, ecole: Ecole) -> list[Asset]:
    """The school's access points (items of the ``borne_wifi`` category)."""
    return list(
        session.scalars(
            policy.visible(
                user,
                select(Asset)
                .join(EquipmentCategory, EquipmentCategory.id == Asset.category_id)
                .where(Asset.ecole_id == ecole.id, EquipmentCategory.code == ACCESS_POINT),
            ).order_by(Asset.tag)
        )
    )


def _room(session: Session, user: Subject, ecole: Ecole, classroom_id: int) -> Classroom:
    room = policy.load_or_404(user, Classroom, classroom_id, session, Action.EDIT)
    if room.ecole_id != ecole.id:
        raise NetworkError(_l("Choose one of the school's classrooms."), "classroom_id")
    return room


def cover_room(
    session: Session, user: Subject, ecole: Ecole, asset_id: int, classroom_id: int
) -> AccessPointRoom:
    """Record that an access point of the school covers a classroom."""
    asset = policy.load_or_404(user, Asset, asset_id, session, Action.EDIT)
    if asset.ecole_id != ecole.id or asset.category.code != ACCESS_POINT:
        raise NetworkError(_l("Choose one of the school's access points."), "asset_id")
    room = _room(session, user, ecole, classroom_id)
    found = session.scalar(
        select(AccessPointRoom).filter_by(asset_id=asset.id, classroom_id=room.id)
    )
    if found is not None:
        return found
    row = AccessPointRoom(asset_id=asset.id, classroom_id=room.id, ecole_id=ecole.id)
    session.add(row)
    session.flush()
    return row


def add_socket(
    session: Session,
    user: Subject,
    ecole: Ecole,
    classroom_id: int,
    label: str,
    work_id: int | None = None,
) -> NetworkSocket:
    room = _room(session, user, ecole, classroom_id)
    label = label.strip()
    if not label:
        raise NetworkError(_l("Name the socket (as on its faceplate)."), "label")
    if (
        session.scalar(select(NetworkSocket.id).filter_by(classroom_id=room.id, label=label))
        is not None
    ):
        raise NetworkError(_l("The classroom already has this socket."), "label")
    if work_id:
        work = policy.load_or_404(user, NetworkWork, work_id, session, Action.EDIT)
        if work.ecole_id != ecole.id or work.kind is not WorkKind.CABLING:
            raise NetworkError(_l("Choose cabling works of the school."), "work_id")
    row = NetworkSocket(
        classroom_id=room.id, ecole_id=ecole.id, label=label[:40], work_id=work_id or None
    )
    session.add(row)
    session.flush()
    return row


def sockets_from_work(
    session: Session, user: Subject, work: NetworkWork, per_room: int = 1
) -> list[NetworkSocket]:
    """On a cabling works' acceptance: the sockets it installed, ``per_room`` in each of
    its classrooms (named ``<room>-1``…), those already recorded kept."""
    if work.kind is not WorkKind.CABLING or work.status not in (
        WorkStatus.DONE,
        WorkStatus.ACCEPTED,
    ):
        raise NetworkError(_l("Only finished cabling works install sockets."))
    made = []
    for room in work.classrooms:
        for n in range(1, per_room + 1):
            label = f"{room.name[:30]}-{n}"
            if (
                session.scalar(
                    select(NetworkSocket.id).filter_by(classroom_id=room.id, label=label)
                )
                is None
            ):
                row = NetworkSocket(
                    classroom_id=room.id, ecole_id=work.ecole_id, label=label, work_id=work.id
                )
                session.add(row)
                made.append(row)
    session.flush()
    return made


@dataclass
class RoomConnection:
    classroom: Classroom
    access_points: list[str]  # tags
    sockets: list[str]


def rooms(session: Session, user: Subject, ecole: Ecole) -> list[RoomConnection]:
    """Each classroom with the access points covering it and its sockets."""
    classrooms = list(
        session.scalars(
            select(Classroom)
            .filter_by(ecole_id=ecole.id)
            .order_by(Classroom.position, Classroom.name)
        )
    )
    aps: dict[int, list[str]] = {}
    for room_id, tag in session.execute(
        select(AccessPointRoom.classroom_id, Asset.tag)
        .join(Asset, Asset.id == AccessPointRoom.asset_id)
        .where(AccessPointRoom.ecole_id == ecole.id)
        .order_by(Asset.tag)
    ):
        aps.setdefault(room_id, []).append(tag)
    sockets: dict[int, list[str]] = {}
    for s in session.scalars(
        select(NetworkSocket)
        .filter_by(ecole_id=ecole.id)
        .options(selectinload(NetworkSocket.work))
        .order_by(NetworkSocket.label)
    ):
        sockets.setdefault(s.classroom_id, []).append(s.label)
    return [RoomConnection(c, aps.get(c.id, []), sockets.get(c.id, [])) for c in classrooms]


def work_sockets(session: Session, work: NetworkWork) -> list[NetworkSocket]:
    return list(
        session.scalars(
            select(NetworkSocket)
            .where(NetworkSocket.work_id == work.id)
            .options(selectinload(NetworkSocket.classroom))
            .order_by(NetworkSocket.label)
        )
    )
