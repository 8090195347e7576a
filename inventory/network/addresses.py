"""Addresses: the next free one given under concurrency, one chosen, one released; a /24's
map; an item's addresses.

Decision: the address record (:class:`IpAddress`) is the one home of an item's address in a
school's plan; ``Asset.ip``, which the equipment pages, imports and the API have always
shown, is kept equal to it here, in the same transaction (given: set; released: cleared).
An item whose ``ip`` no record holds, or whose MAC another item has, is flagged on its
network panel.

Two technicians asking for the next free address at the same instant: each allocation is
its own transaction, its insert meets the unique ``(prefix, host)`` constraint, and the
loser rolls back and searches again (PostgreSQL makes it wait for the winner's commit,
SQLite serialises the writes), a few times at most."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from netaddr import IPNetwork
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset
from inventory.assets.network import AddressError, normalize_mac
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.network.allocation import (
    NetworkError,
    address_at,
    check_usable,
    key,
    next_free_offset,
    offset_of,
    parse_address,
)
from inventory.network.models import HOST_BIAS, AddressStatus, DhcpRange, IpAddress, Prefix

ATTEMPTS = 5
STATUS_LABELS = {
    AddressStatus.ACTIVE: _l("active"),
    AddressStatus.RESERVED: _l("reserved"),
    AddressStatus.DHCP: _l("DHCP reservation"),
}


@dataclass
class Holder:
    """Who holds an address: an item (by id), or someone named; its MAC and host name."""

    asset_id: int | None = None
    holder: str | None = None
    mac: str | None = None
    hostname: str | None = None


def clean_holder(
    session: Session, user: Subject, prefix: Prefix, status: AddressStatus, who: Holder
) -> tuple[Asset | None, str | None]:
    asset = None
    if who.asset_id:
        asset = policy.load_or_404(user, Asset, who.asset_id, session, Action.EDIT)
        if asset.ecole_id != prefix.ecole_id:
            raise NetworkError(_l("The item is not at this school."), "asset_id")
    try:
        mac = normalize_mac(who.mac) or (asset.mac if asset is not None else None)
    except AddressError:
        raise NetworkError(_l("«%(mac)s» is not a MAC address.", mac=who.mac), "mac") from None
    if status is AddressStatus.DHCP and not mac:
        raise NetworkError(_l("A DHCP reservation needs the MAC address."), "mac")
    return asset, mac


def _record(
    prefix: Prefix,
    net: IPNetwork,
    offset: int,
    status: AddressStatus,
    who: Holder,
    asset: Asset | None,
    mac: str | None,
) -> IpAddress:
    address = str(address_at(net, offset))
    row = IpAddress(
        prefix=prefix,
        address=address,
        host=key(offset),
        status=status,
        asset_id=asset.id if asset is not None else None,
        holder=(who.holder or "").strip()[:150] or None,
        mac=mac,
        hostname=(who.hostname or "").strip()[:63] or None,
    )
    if asset is not None:
        asset.ip = address
    return row


def allocate_next(
    session: Session,
    user: Subject,
    prefix_id: int,
    status: AddressStatus = AddressStatus.ACTIVE,
    who: Holder | None = None,
) -> IpAddress:
    """Give the prefix's next free address and commit; a lost race searches again."""
    who = who or Holder()
    for _ in range(ATTEMPTS):
        prefix = policy.load_or_404(user, Prefix, prefix_id, session, Action.EDIT)
        asset, mac = clean_holder(session, user, prefix, status, who)
        net = IPNetwork(prefix.cidr)
        offset = next_free_offset(session, prefix, net)
        if offset is None:
            raise NetworkError(_l("%(cidr)s has no free address left.", cidr=prefix.cidr))
        row = _record(prefix, net, offset, status, who, asset, mac)
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # someone took it at the same instant: search again
            continue
        return row
    raise NetworkError(_l("The addresses are being given too fast: try again."))


def record_address(
    session: Session,
    user: Subject,
    prefix: Prefix,
    text: str,
    status: AddressStatus,
    who: Holder,
) -> IpAddress:
    """Record a chosen address (in the prefix, usable, not the gateway, not taken)."""
    net = IPNetwork(prefix.cidr)
    offset = offset_of(net, parse_address(text))
    check_usable(net, offset, prefix.gateway)
    asset, mac = clean_holder(session, user, prefix, status, who)
    taken = session.scalar(
        select(IpAddress.id).where(IpAddress.prefix_id == prefix.id, IpAddress.host == key(offset))
    )
    if taken is not None:
        raise NetworkError(_l("%(address)s is already used.", address=address_at(net, offset)))
    row = _record(prefix, net, offset, status, who, asset, mac)
    session.add(row)
    session.flush()
    return row


def release(session: Session, user: Subject, row: IpAddress) -> None:
    """Free an address; the item that held it no longer shows it."""
    if row.asset_id:
        asset = session.get(Asset, row.asset_id)
        if asset is not None and asset.ip == row.address:
            asset.ip = None
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class Cell:
    """One address of a map: its last part, its state and who holds it."""

    address: str
    label: str
    state: str  # free, used, reserved, dhcp, range, gateway, network
    holder: str = ""


def address_map(session: Session, prefix: Prefix, block: int = 0) -> list[Cell]:
    """The 256 addresses of the prefix's ``block``-th /24 (the whole prefix if smaller),
    each with its state, for the map's grid."""
    net = IPNetwork(prefix.cidr)
    start = block * 256
    count = min(256, net.size - start) if start < net.size else 0
    rows = session.execute(
        select(IpAddress.host, IpAddress.status, IpAddress.holder, Asset.tag)
        .outerjoin(Asset, Asset.id == IpAddress.asset_id)
        .where(
            IpAddress.prefix_id == prefix.id,
            IpAddress.host.between(key(start), key(start + count - 1)),
        )
    ).all()
    held = {h + HOST_BIAS: (s, tag or holder or "") for h, s, holder, tag in rows}
    ranges = [(r.first_host + HOST_BIAS, r.last_host + HOST_BIAS) for r in prefix.ranges]
    gateway = prefix.gateway
    first, last = (
        (1, net.size - 2) if net.version == 4 and net.broadcast is not None else (0, net.size - 1)
    )
    cells = []
    for offset in range(start, start + count):
        ip = net[offset]
        text = str(ip)
        label = text.rsplit(".", 1)[-1] if net.version == 4 else text.rsplit(":", 1)[-1]
        if offset in held:
            status, who = held[offset]
            cells.append(
                Cell(
                    text, label, status.value if status is not AddressStatus.ACTIVE else "used", who
                )
            )
        elif gateway and text == gateway:
            cells.append(Cell(text, label, "gateway"))
        elif not first <= offset <= last or (net.version == 6 and offset == 0):
            cells.append(Cell(text, label, "network"))
        elif any(a <= offset <= b for a, b in ranges):
            cells.append(Cell(text, label, "range"))
        else:
            cells.append(Cell(text, label, "free"))
    return cells


def prefix_addresses(
    session: Session, user: Subject, prefix: Prefix, limit: int = 500
) -> list[IpAddress]:
    return list(
        session.scalars(
            select(IpAddress)
            .where(IpAddress.prefix_id == prefix.id)
            .options(selectinload(IpAddress.asset))
            .order_by(IpAddress.host)
            .limit(limit)
        )
    )


@dataclass
class ItemNetwork:
    """An item's network panel: its addresses, and what is wrong with them."""

    addresses: list[IpAddress]
    unrecorded_ip: bool  # its ip is held by no address record
    shared_mac: list[str]  # tags of other items with the same MAC
    outside: bool  # its ip falls in none of its school's prefixes


def item_network(session: Session, user: Subject, asset: Asset) -> ItemNetwork:
    rows = list(
        session.scalars(
            select(IpAddress)
            .where(IpAddress.asset_id == asset.id)
            .options(selectinload(IpAddress.prefix))
            .order_by(IpAddress.id)
        )
    )
    unrecorded = bool(asset.ip) and asset.ip not in {r.address for r in rows}
    outside = False
    if asset.ip and asset.ecole_id:
        cidrs = session.scalars(select(Prefix.cidr).where(Prefix.ecole_id == asset.ecole_id)).all()
        outside = bool(cidrs) and not any(
            asset.ip in IPNetwork(c) for c in cidrs if (":" in c) == (":" in asset.ip)
        )
    macs = [m for m in (asset.mac, asset.mac_wifi) if m]
    shared: list[str] = []
    if macs:
        shared = list(
            session.scalars(
                policy.visible(
                    user,
                    select(Asset.tag).where(
                        Asset.id != asset.id, or_(Asset.mac.in_(macs), Asset.mac_wifi.in_(macs))
                    ),
                ).limit(5)
            )
        )
    return ItemNetwork(rows, unrecorded, shared, outside)


def range_count(session: Session, prefix_id: int) -> int:
    return int(session.scalar(select(func.count()).where(DhcpRange.prefix_id == prefix_id)) or 0)
