"""A school's plan: its prefixes, VLANs, ranges, read for the network page and written by
the staff who equip the school (the same rule as its equipment: ``edit`` in scope)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from netaddr import IPNetwork
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, EquipmentCategory, NetworkWork, WorkKind
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.network.allocation import (
    NetworkError,
    Usage,
    check_usable,
    key,
    next_free_subprefix,
    offset_of,
    overlapping,
    parse_address,
    parse_prefix,
    prefix_usage,
    range_usage,
    template_prefix,
)
from inventory.network.models import (
    AddressPlan,
    Aggregate,
    DhcpRange,
    IpAddress,
    Prefix,
    PrefixRole,
    Vlan,
    WifiNetwork,
)
from inventory.orgs.models import Classroom, Collectivite, Ecole

ACCESS_POINT = "borne_wifi"  # the catalogue's category of access points

ROLE_LABELS = {
    PrefixRole.PEDAGOGIQUE: _l("pedagogical"),
    PrefixRole.ADMINISTRATION: _l("administration"),
    PrefixRole.INVITES: _l("guests"),
    PrefixRole.EQUIPEMENTS: _l("devices"),
}


@dataclass
class PrefixFields:
    cidr: str
    role: PrefixRole
    vlan_id: int | None = None
    gateway: str | None = None
    dns: list[str] = field(default_factory=list)
    description: str | None = None


def editable_school(session: Session, user: Subject, ecole_id: int) -> Ecole:
    return policy.load_or_404(user, Ecole, ecole_id, session, Action.EDIT)


def _space(session: Session, collectivite_id: int, family: int) -> list[str]:
    """The prefixes of a collectivité's one space (of an IP family)."""
    rows = session.scalars(select(Prefix.cidr).where(Prefix.collectivite_id == collectivite_id))
    return [c for c in rows if (":" in c) == (family == 6)]


def _aggregates(session: Session, collectivite_id: int) -> list[str]:
    return list(
        session.scalars(
            select(Aggregate.cidr)
            .join(AddressPlan, AddressPlan.id == Aggregate.plan_id)
            .where(AddressPlan.collectivite_id == collectivite_id)
        )
    )


def check_prefix(session: Session, collectivite_id: int, net: IPNetwork) -> None:
    """A new prefix lies in one of the collectivité's aggregates of its family (when its
    plan has some) and overlaps none of its prefixes."""
    aggregates = [IPNetwork(a) for a in _aggregates(session, collectivite_id)]
    family = [a for a in aggregates if a.version == net.version]
    if family and not any(net in a for a in family):
        raise NetworkError(
            _l(
                "%(cidr)s is outside the collectivité's address plan (%(plan)s).",
                cidr=net,
                plan=", ".join(str(a) for a in family),
            ),
            "cidr",
        )
    clash = overlapping(net, _space(session, collectivite_id, net.version))
    if clash:
        raise NetworkError(
            _l("%(cidr)s overlaps %(other)s in the collectivité's space.", cidr=net, other=clash),
            "cidr",
        )


def _gateway(net: IPNetwork, text: str | None) -> str | None:
    if not (text or "").strip():
        return None
    gw = parse_address(text, field="gateway")
    offset = offset_of(net, gw, field="gateway")
    check_usable(net, offset, None, field="gateway")
    return str(gw)


def add_prefix(session: Session, user: Subject, ecole: Ecole, fields: PrefixFields) -> Prefix:
    """Record a school's prefix (its gateway inside it, its DNS servers' addresses)."""
    if ecole.collectivite_id is None:
        raise NetworkError(_l("This school has no owning collectivité."), "cidr")
    net = parse_prefix(fields.cidr)
    check_prefix(session, ecole.collectivite_id, net)
    dns = [str(parse_address(d, field="dns")) for d in fields.dns if d.strip()]
    vlan_id = fields.vlan_id
    if vlan_id and session.scalar(select(Vlan.id).filter_by(id=vlan_id, ecole_id=ecole.id)) is None:
        raise NetworkError(_l("Choose one of the school's VLANs."), "vlan_id")
    prefix = Prefix(
        collectivite_id=ecole.collectivite_id,
        ecole_id=ecole.id,
        cidr=str(net),
        role=fields.role,
        vlan_id=vlan_id or None,
        gateway=_gateway(net, fields.gateway),
        dns=",".join(dns),
        description=(fields.description or "").strip() or None,
    )
    session.add(prefix)
    session.flush()
    return prefix


def add_vlan(
    session: Session, user: Subject, ecole: Ecole, vid: int, name: str, group: str = ""
) -> Vlan:
    if not 1 <= vid <= 4094:
        raise NetworkError(_l("A VLAN id is between 1 and 4094."), "vid")
    name = name.strip()
    if not name:
        raise NetworkError(_l("Give the VLAN a name."), "name")
    if session.scalar(select(Vlan.id).filter_by(ecole_id=ecole.id, vid=vid)) is not None:
        raise NetworkError(_l("The school already has VLAN %(vid)s.", vid=vid), "vid")
    vlan = Vlan(ecole_id=ecole.id, vid=vid, name=name[:80], group_name=group.strip()[:80])
    session.add(vlan)
    session.flush()
    return vlan


def add_range(
    session: Session,
    user: Subject,
    prefix: Prefix,
    start: str,
    end: str,
    description: str | None = None,
) -> DhcpRange:
    """A DHCP range, or a block reserved (a classe mobile's): inside the prefix, usable
    addresses, not overlapping another range."""
    net = IPNetwork(prefix.cidr)
    first = offset_of(net, parse_address(start, field="start"), field="start")
    last = offset_of(net, parse_address(end, field="end"), field="end")
    if last < first:
        raise NetworkError(_l("The range ends before it starts."), "end")
    check_usable(net, first, None, field="start")
    check_usable(net, last, None, field="end")
    for other in prefix.ranges:
        if other.first_host <= key(last) and key(first) <= other.last_host:
            raise NetworkError(
                _l("The range overlaps %(start)s–%(end)s.", start=other.start, end=other.end),
                "start",
            )
    r = DhcpRange(
        prefix=prefix,
        start=str(net[first]),
        end=str(net[last]),
        first_host=key(first),
        last_host=key(last),
        description=(description or "").strip() or None,
    )
    session.add(r)
    session.flush()
    return r


@dataclass
class RangeView:
    range: DhcpRange
    usage: Usage


@dataclass
class PrefixView:
    prefix: Prefix
    usage: Usage
    ranges: list[RangeView]
    addresses: int


@dataclass
class SchoolNetwork:
    ecole: Ecole
    prefixes: list[PrefixView]
    vlans: list[Vlan]
    wifi: list[WifiNetwork]


def school_network(session: Session, user: Subject, ecole_id: int) -> SchoolNetwork:
    """The school's network page: prefixes with their use, VLANs, Wi-Fi networks."""
    ecole = policy.load_or_404(user, Ecole, ecole_id, session)
    prefixes = list(
        session.scalars(
            policy.visible(user, select(Prefix).where(Prefix.ecole_id == ecole.id))
            .options(selectinload(Prefix.vlan), selectinload(Prefix.ranges))
            .order_by(Prefix.cidr)
        )
    )
    counts = dict(
        session.execute(
            select(IpAddress.prefix_id, func.count())
            .where(IpAddress.prefix_id.in_([p.id for p in prefixes]))
            .group_by(IpAddress.prefix_id)
        ).all()
    )
    views = [
        PrefixView(
            p,
            prefix_usage(session, p),
            [RangeView(r, range_usage(session, r)) for r in p.ranges],
            int(counts.get(p.id, 0)),
        )
        for p in prefixes
    ]
    vlans = list(session.scalars(select(Vlan).filter_by(ecole_id=ecole.id).order_by(Vlan.vid)))
    wifi = list(
        session.scalars(
            select(WifiNetwork)
            .filter_by(ecole_id=ecole.id)
            .options(selectinload(WifiNetwork.vlan))
            .order_by(WifiNetwork.ssid)
        )
    )
    return SchoolNetwork(ecole, views, vlans, wifi)


@dataclass
class Choices:
    """What the network page's forms offer: (id, label) pairs."""

    vlans: list[tuple[int, str]]
    rooms: list[tuple[int, str]]
    access_points: list[tuple[int, str]]
    cabling: list[tuple[int, str]]
    items: list[tuple[int, str]]


def choices(session: Session, user: Subject, ecole: Ecole) -> Choices:
    vlans = session.scalars(
        policy.visible(user, select(Vlan).where(Vlan.ecole_id == ecole.id)).order_by(Vlan.vid)
    )
    rooms = session.execute(
        policy.visible(
            user, select(Classroom.id, Classroom.name).where(Classroom.ecole_id == ecole.id)
        ).order_by(Classroom.position, Classroom.name)
    )
    works = session.execute(
        policy.visible(
            user,
            select(NetworkWork.id, NetworkWork.title).where(
                NetworkWork.ecole_id == ecole.id, NetworkWork.kind == WorkKind.CABLING
            ),
        ).order_by(NetworkWork.id)
    )
    items = session.execute(
        policy.visible(
            user,
            select(Asset.id, Asset.tag, EquipmentCategory.code)
            .join(EquipmentCategory, EquipmentCategory.id == Asset.category_id)
            .where(Asset.ecole_id == ecole.id, EquipmentCategory.networked.is_(True)),
            Asset,
        )
        .order_by(Asset.tag)
        .limit(500)
    ).all()
    return Choices(
        vlans=[(v.id, f"{v.vid} {v.name}") for v in vlans],
        rooms=[(i, n) for i, n in rooms],
        access_points=[(i, t) for i, t, code in items if code == ACCESS_POINT],
        cabling=[(i, t) for i, t in works],
        items=[(i, t) for i, t, _ in items],
    )


def block_count(prefix: Prefix) -> int:
    """How many /24-sized pages the prefix's address map has (at most 256 shown)."""
    return min(256, max(1, IPNetwork(prefix.cidr).size // 256))


@dataclass
class SchoolSummary:
    ecole: Ecole
    prefixes: list[tuple[str, PrefixRole]]


def school_summary(session: Session, user: Subject, ecole: Ecole) -> SchoolSummary:
    rows = session.execute(
        policy.visible(
            user, select(Prefix.cidr, Prefix.role).where(Prefix.ecole_id == ecole.id)
        ).order_by(Prefix.cidr)
    ).all()
    return SchoolSummary(ecole, [(c, r) for c, r in rows])


# -- the collectivité's address plan ----------------------------------------------------
def address_plan(session: Session, user: Subject, collectivite_id: int) -> AddressPlan | None:
    coll = policy.load_or_404(user, Collectivite, collectivite_id, session)
    return session.scalar(
        select(AddressPlan)
        .where(AddressPlan.collectivite_id == coll.id)
        .options(selectinload(AddressPlan.aggregates))
    )


def set_address_plan(
    session: Session,
    user: Subject,
    collectivite: Collectivite,
    aggregates: list[str],
    template: str | None,
) -> AddressPlan:
    """A collectivité's aggregates (its schools' prefixes must lie in one of their family)
    and its per-school template; existing prefixes must stay inside the new aggregates."""
    nets = []
    for text in aggregates:
        if text.strip():
            nets.append(parse_prefix(text, field="aggregates", shortest_v6=0))
    for a, b in ((a, b) for i, a in enumerate(nets) for b in nets[i + 1 :]):
        if overlapping(a, [str(b)]):
            raise NetworkError(
                _l("%(cidr)s overlaps %(other)s in the collectivité's space.", cidr=a, other=b),
                "aggregates",
            )
    template = (template or "").strip() or None
    if template:
        template_prefix(template, 1, 1)
    for cidr in session.scalars(
        select(Prefix.cidr).where(Prefix.collectivite_id == collectivite.id)
    ):
        net = IPNetwork(cidr)
        family = [a for a in nets if a.version == net.version]
        if family and not any(net in a for a in family):
            raise NetworkError(
                _l("%(cidr)s, a prefix of its schools, is outside these aggregates.", cidr=cidr),
                "aggregates",
            )
    plan = session.scalar(select(AddressPlan).filter_by(collectivite_id=collectivite.id))
    if plan is None:
        plan = AddressPlan(collectivite_id=collectivite.id)
        session.add(plan)
    plan.school_template = template
    wanted = {str(n) for n in nets}
    for agg in list(plan.aggregates):
        if agg.cidr not in wanted:
            plan.aggregates.remove(agg)
    have = {a.cidr for a in plan.aggregates}
    for n in nets:
        if str(n) not in have:
            plan.aggregates.append(Aggregate(cidr=str(n)))
    session.flush()
    return plan


def suggested_prefix(session: Session, ecole: Ecole) -> str | None:
    """The school's prefix as its collectivité's plan would have it: its template (the
    département's number, the school's rank by UAI among the collectivité's schools), else
    the first free /24 of its first IPv4 aggregate; None without a plan."""
    if ecole.collectivite_id is None:
        return None
    plan = session.scalar(
        select(AddressPlan)
        .where(AddressPlan.collectivite_id == ecole.collectivite_id)
        .options(selectinload(AddressPlan.aggregates))
    )
    if plan is None:
        return None
    taken = _space(session, ecole.collectivite_id, 4)
    if plan.school_template:
        dept = int("".join(ch for ch in ecole.uai[:3] if ch.isdigit()) or 0)
        rank = session.scalar(
            select(func.count()).where(
                Ecole.collectivite_id == ecole.collectivite_id, Ecole.uai <= ecole.uai
            )
        )
        try:
            net = template_prefix(plan.school_template, dept, int(rank or 1))
        except NetworkError:
            return None
        return None if overlapping(net, taken) else str(net)
    for agg in plan.aggregates:
        net = IPNetwork(agg.cidr)
        if net.version == 4:
            free = next_free_subprefix(net, taken, max(24, net.prefixlen))
            return str(free) if free is not None else None
    return None
