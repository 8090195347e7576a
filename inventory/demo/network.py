"""The demo's school networks, at the first two equipped schools: VLANs, a pedagogical
/24 and an administration /26 with gateway and DNS, a DHCP range, Wi-Fi networks, the
displays' DHCP reservations and the teachers' laptops' addresses, each given the next free
address as a technician would; the access points covering their rooms, and a socket per
cabled room recorded from the cabling works. Rooms the demo leaves without a connection
(equipment.py's missing rooms) stay so: nothing here covers them."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from inventory.assets.models import Asset, NetworkWork
from inventory.auth.models import User
from inventory.network import addresses, plan, wifi
from inventory.network.models import AddressStatus, PrefixRole, WifiSecurity

from .equipment import Equipment

SCHOOLS = 2


def _mac(asset_id: int) -> str:
    return (
        f"3c:22:fb:{(asset_id >> 16) & 0xFF:02x}:{(asset_id >> 8) & 0xFF:02x}:{asset_id & 0xFF:02x}"
    )


def load_network(session: Session, tech: User, equipment: Equipment) -> Iterator[str]:
    for n, ecole in enumerate(equipment.schools[:SCHOOLS], start=1):
        vlans = {
            vid: plan.add_vlan(session, tech, ecole, vid, name, "École")
            for vid, name in ((10, "Pédagogie"), (20, "Administration"), (30, "Invités"))
        }
        peda = plan.add_prefix(
            session,
            tech,
            ecole,
            plan.PrefixFields(
                f"10.94.{n}.0/24",
                PrefixRole.PEDAGOGIQUE,
                vlans[10].id,
                f"10.94.{n}.1",
                ["10.94.0.53", "10.94.0.54"],
                "Classes",
            ),
        )
        plan.add_prefix(
            session,
            tech,
            ecole,
            plan.PrefixFields(
                f"10.194.{n}.0/26", PrefixRole.ADMINISTRATION, vlans[20].id, f"10.194.{n}.1"
            ),
        )
        plan.add_range(session, tech, peda, f"10.94.{n}.100", f"10.94.{n}.199", "DHCP tablettes")
        wifi.add_wifi(
            session, tech, ecole, f"ECOLE-{ecole.uai}", WifiSecurity.WPA2_ENTERPRISE, vlans[10].id
        )
        wifi.add_wifi(session, tech, ecole, "INVITES", WifiSecurity.WPA2_PSK, vlans[30].id)
        session.commit()
        items = equipment.by_school.get(ecole.id, {})
        given = 0
        for kind, status in (("display", AddressStatus.DHCP), ("poste", AddressStatus.ACTIVE)):
            for asset_id in items.get(kind, []):
                asset = session.get(Asset, asset_id)
                if asset is None or asset.classroom_id is None:
                    continue
                who = addresses.Holder(asset_id=asset_id, mac=_mac(asset_id))
                addresses.allocate_next(session, tech, peda.id, status, who)
                given += 1
        # The rooms the Wi-Fi works connected: covered by the school's access points, each
        # with the socket of its teacher's desk.
        work_id = equipment.works.get(ecole.id)
        work = session.get(NetworkWork, work_id) if work_id else None
        connected = sorted(r.id for r in work.classrooms) if work is not None else []
        aps = items.get("borne", [])
        for i, room_id in enumerate(connected):
            if aps:
                wifi.cover_room(session, tech, ecole, aps[i % len(aps)], room_id)
            wifi.add_socket(session, tech, ecole, room_id, "P-01")
        session.commit()
        yield f"Network of {ecole.name}: 2 prefixes, 3 VLANs, {given} addresses given"
