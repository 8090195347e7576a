"""A school's DHCP reservations for the town's DHCP server: ISC Kea's JSON (``Dhcp4``
``subnet4`` with pools, options and reservations; ``Dhcp6`` likewise) and dnsmasq's
``dhcp-host`` lines. The reservations are the addresses of status DHCP (they have a MAC)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.core import policy
from inventory.core.policy import Subject
from inventory.network.models import AddressStatus, IpAddress, Prefix
from inventory.orgs.models import Ecole


def _prefixes(
    session: Session, user: Subject, ecole: Ecole
) -> list[tuple[Prefix, list[IpAddress]]]:
    prefixes = list(
        session.scalars(
            policy.visible(user, select(Prefix).where(Prefix.ecole_id == ecole.id))
            .options(selectinload(Prefix.ranges))
            .order_by(Prefix.id)
        )
    )
    rows = session.scalars(
        select(IpAddress)
        .where(
            IpAddress.prefix_id.in_([p.id for p in prefixes]),
            IpAddress.status == AddressStatus.DHCP,
            IpAddress.mac.is_not(None),
        )
        .order_by(IpAddress.prefix_id, IpAddress.host)
    )
    by_prefix: dict[int, list[IpAddress]] = {p.id: [] for p in prefixes}
    for row in rows:
        by_prefix[row.prefix_id].append(row)
    return [(p, by_prefix[p.id]) for p in prefixes]


def _subnet(prefix: Prefix, rows: list[IpAddress], v6: bool) -> dict[str, Any]:
    options = []
    if prefix.gateway and not v6:
        options.append({"name": "routers", "data": prefix.gateway})
    if prefix.dns_list:
        options.append(
            {
                "name": "dns-servers" if v6 else "domain-name-servers",
                "data": ", ".join(prefix.dns_list),
            }
        )
    reservations = []
    for row in rows:
        entry: dict[str, Any] = {"hw-address": row.mac}
        entry["ip-addresses" if v6 else "ip-address"] = [row.address] if v6 else row.address
        if row.hostname:
            entry["hostname"] = row.hostname
        reservations.append(entry)
    subnet: dict[str, Any] = {
        "id": prefix.id,
        "subnet": prefix.cidr,
        "pools": [{"pool": f"{r.start} - {r.end}"} for r in prefix.ranges],
        "reservations": reservations,
    }
    if options:
        subnet["option-data"] = options
    return subnet


def kea(session: Session, user: Subject, ecole: Ecole) -> dict[str, Any]:
    """The school's subnets as a Kea configuration fragment."""
    v4: list[dict[str, Any]] = []
    v6: list[dict[str, Any]] = []
    for prefix, rows in _prefixes(session, user, ecole):
        is_v6 = ":" in prefix.cidr
        (v6 if is_v6 else v4).append(_subnet(prefix, rows, is_v6))
    out: dict[str, Any] = {"Dhcp4": {"subnet4": v4}}
    if v6:
        out["Dhcp6"] = {"subnet6": v6}
    return out


def dnsmasq(session: Session, user: Subject, ecole: Ecole) -> str:
    """``dhcp-host=<mac>,<address>[,<name>]`` per reservation (IPv6 in brackets)."""
    lines = [f"# {ecole.uai} {ecole.name}"]
    for prefix, rows in _prefixes(session, user, ecole):
        lines.append(f"# {prefix.cidr}")
        for row in rows:
            address = f"[{row.address}]" if ":" in row.address else row.address
            parts = [row.mac or "", address, *([row.hostname] if row.hostname else [])]
            lines.append("dhcp-host=" + ",".join(parts))
    return "\n".join(lines) + "\n"
