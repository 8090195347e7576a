"""The address arithmetic, on netaddr: a prefix's usable addresses, the next free address
(searched in SQL over the ``(prefix, host)`` index), the next free sub-prefix of a size in
a collectivité's space, overlaps, and utilisation.

Rules of a prefix's usable addresses: an IPv4 prefix with a broadcast (a /30 or shorter)
never gives its network or broadcast address; a /31 or /32 gives all of them (RFC 3021);
an IPv6 prefix never gives its subnet-router anycast address (offset 0). The gateway and
the DHCP ranges are never given either (the DHCP server hands those out)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from netaddr import AddrFormatError, IPAddress, IPNetwork, IPSet
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from inventory.core.errors import DomainError
from inventory.network.models import HOST_BIAS, DhcpRange, IpAddress, Prefix

# An IPv6 prefix holds at most 2**64 addresses: its offsets fit ``host``.
SHORTEST_V6 = 64


class NetworkError(DomainError):
    """A network rule refused a change (the message says which)."""


def parse_prefix(
    text: str | None, *, field: str = "cidr", shortest_v6: int = SHORTEST_V6
) -> IPNetwork:
    """``10.35.12.0/24`` → its IPNetwork; a host address with a length, or a length that
    is missing, is refused (``10.35.12.7/24`` names an address, not the prefix)."""
    value = (text or "").strip()
    if "/" not in value:
        raise NetworkError(_l("Give the prefix with its length, e.g. 10.35.12.0/24."), field)
    try:
        net = IPNetwork(value, flags=0)
    except (AddrFormatError, ValueError, TypeError):
        raise NetworkError(_l("«%(value)s» is not a prefix.", value=value[:60]), field) from None
    if net.ip != net.network:
        raise NetworkError(
            _l("«%(value)s» is an address: the prefix is %(cidr)s.", value=value, cidr=net.cidr),
            field,
        )
    if net.version == 6 and net.prefixlen < shortest_v6:
        raise NetworkError(_l("An IPv6 school prefix is a /64 or longer."), field)
    return net.cidr


def parse_address(text: str | None, *, field: str = "address") -> IPAddress:
    value = (text or "").strip()
    try:
        return IPAddress(value, flags=0)
    except (AddrFormatError, ValueError, TypeError):
        raise NetworkError(
            _l("«%(value)s» is not an IP address.", value=value[:60]), field
        ) from None


def bounds(net: IPNetwork) -> tuple[int, int]:
    """The first and last usable offsets of ``net`` (see the module's rules)."""
    if net.version == 4:
        return (1, net.size - 2) if net.broadcast is not None else (0, net.size - 1)
    return 1, net.size - 1


def usable_size(net: IPNetwork) -> int:
    first, last = bounds(net)
    return max(0, last - first + 1)


def key(offset: int) -> int:
    """The ``host`` column's value of an offset."""
    return offset - HOST_BIAS


def offset_of(net: IPNetwork, address: IPAddress, *, field: str = "address") -> int:
    """``address``'s offset in ``net``; refused outside it."""
    if address.version != net.version or address not in net:
        raise NetworkError(_l("%(address)s is outside %(cidr)s.", address=address, cidr=net), field)
    return int(address) - net.first


def address_at(net: IPNetwork, offset: int) -> IPAddress:
    return IPAddress(net.first + offset, net.version)


def check_usable(
    net: IPNetwork, offset: int, gateway: str | None, *, field: str = "address"
) -> None:
    """Refuse the network, broadcast or anycast address and the gateway."""
    first, last = bounds(net)
    if not first <= offset <= last:
        raise NetworkError(
            _l(
                "%(address)s is the network or broadcast address of %(cidr)s.",
                address=address_at(net, offset),
                cidr=net,
            ),
            field,
        )
    if gateway and IPAddress(gateway) == address_at(net, offset):
        raise NetworkError(_l("%(address)s is the gateway.", address=gateway), field)


@dataclass(frozen=True)
class Blocked:
    """Offsets never given by the free-address search: the gateway, the ranges."""

    intervals: tuple[tuple[int, int], ...]

    def skip(self, offset: int) -> int:
        """The first offset from ``offset`` on outside every interval."""
        moved = True
        while moved:
            moved = False
            for lo, hi in self.intervals:
                if lo <= offset <= hi:
                    offset, moved = hi + 1, True
        return offset


def blocked_of(net: IPNetwork, gateway: str | None, ranges: Iterable[tuple[int, int]]) -> Blocked:
    """``ranges``: (first, last) ``host`` keys of the prefix's DHCP ranges."""
    intervals = [(a + HOST_BIAS, b + HOST_BIAS) for a, b in ranges]
    if gateway:
        gw = IPAddress(gateway)
        if gw in net:
            o = int(gw) - net.first
            intervals.append((o, o))
    return Blocked(tuple(sorted(intervals)))


# The free-address search gallops: it looks this many times further at each step.
GALLOP = 64
# The runs its first query checks at once (as offsets past the stretch's start).
FIRST_RUNS = (0, GALLOP - 1, GALLOP**2 - 1)


def _place(prefix_id: int, base: int, span: int) -> ScalarSelect[int]:
    """The ``host`` of the address ``span`` places after the first from ``base`` on, in
    the ``(prefix, host)`` index's order: the index skips places without reading rows."""
    return (
        select(IpAddress.host)
        .where(IpAddress.prefix_id == prefix_id, IpAddress.host >= key(base))
        .order_by(IpAddress.host)
        .offset(span)
        .limit(1)
        .scalar_subquery()
    )


def _taken_through(session: Session, prefix_id: int, base: int, span: int) -> bool:
    """Whether every offset of ``base``..``base + span`` holds an address: the addresses
    being unique, exactly when the one ``span`` places on from ``base`` is ``base + span``."""
    return session.scalar(select(_place(prefix_id, base, span))) == key(base + span)


def _first_free(session: Session, prefix_id: int, first: int, last: int) -> int | None:
    """The first free offset of ``first``..``last``, or None.

    Past the last address held there, everything is free. Before it, the search gallops:
    it checks runs of 1, 64, 4096… offsets from the start (or up to that last address),
    since a free address is most often near the start, and steps past each run found
    full; then it halves the first run that is not until the free offset is found. One
    query finds the last address and checks the first three runs; each further check is
    one query that skips its run in the index. A /16 full from its start is searched in
    two queries, any stretch in about twice as many as its length's binary digits."""
    spans = sorted({min(s, last - first) for s in FIRST_RUNS})
    top_of = select(func.max(IpAddress.host)).where(
        IpAddress.prefix_id == prefix_id,
        IpAddress.host >= key(first),
        IpAddress.host <= key(last),
    )
    top, *places = session.execute(
        select(top_of.scalar_subquery(), *(_place(prefix_id, first, s) for s in spans))
    ).one()
    if top is None:
        return first
    top_offset = int(top) + HOST_BIAS
    # The first run checked that is not full, else past the last one.
    base, span, width = first, -1, GALLOP ** len(FIRST_RUNS)
    for s, at in zip(spans, places, strict=True):
        if at != key(first + s):
            base, span = first + (span + 1), s - (span + 1)
            break
        span = s
    else:
        base = first + span + 1
        # Gallop on from there.
        while True:
            if base > top_offset:
                return base if base <= last else None
            span = min(width, top_offset - base + 1) - 1
            if not _taken_through(session, prefix_id, base, span):
                break
            base += span + 1
            width *= GALLOP
    # Halve: the free offset is in base..base + span.
    while span > 0:
        half = (span - 1) // 2
        if _taken_through(session, prefix_id, base, half):
            base, span = base + half + 1, span - half - 1
        else:
            span = half
    return base


def next_free_offset(session: Session, prefix: Prefix, net: IPNetwork | None = None) -> int | None:
    """The lowest usable offset of ``prefix`` that no address holds, outside its gateway
    and ranges; None when the prefix is full."""
    net = net or IPNetwork(prefix.cidr)
    first, last = bounds(net)
    ranges = session.execute(
        select(DhcpRange.first_host, DhcpRange.last_host).where(DhcpRange.prefix_id == prefix.id)
    ).all()
    blocked = blocked_of(net, prefix.gateway, [(a, b) for a, b in ranges])
    offset = first
    while True:
        offset = blocked.skip(offset)
        if offset > last:
            return None
        # The stretch up to the next blocked offsets.
        stop = min([last, *(lo - 1 for lo, _hi in blocked.intervals if lo > offset)])
        found = _first_free(session, prefix.id, offset, stop)
        if found is not None:
            return found
        offset = stop + 1


def overlapping(net: IPNetwork, others: Iterable[str]) -> str | None:
    """The first of ``others`` (prefixes' text) that shares an address with ``net``."""
    for text in others:
        other = IPNetwork(text)
        if other.version == net.version and (other.first <= net.last and net.first <= other.last):
            return text
    return None


def next_free_subprefix(within: IPNetwork, taken: Sequence[str], length: int) -> IPNetwork | None:
    """The first /``length`` of ``within`` that none of ``taken`` overlaps."""
    if length < within.prefixlen or length > (32 if within.version == 4 else 128):
        return None
    free = IPSet([within]) - IPSet(
        [IPNetwork(t) for t in taken if IPNetwork(t).version == within.version]
    )
    for block in free.iter_cidrs():
        if block.prefixlen <= length:
            return next(block.subnet(length))
    return None


def template_prefix(template: str, dept: int, school: int) -> IPNetwork:
    """A plan's per-school prefix: ``10.{dept}.{school}.0/24`` for département 35, school 12
    → 10.35.12.0/24."""
    try:
        text = template.format(dept=dept, school=school)
    except (KeyError, IndexError, ValueError):
        raise NetworkError(
            _l("The template names only {dept} and {school}."), "school_template"
        ) from None
    return parse_prefix(text, field="school_template")


@dataclass(frozen=True)
class Usage:
    used: int
    size: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.used / self.size)) if self.size else 0


def prefix_usage(session: Session, prefix: Prefix) -> Usage:
    """A prefix's use: its addresses outside its ranges, plus its ranges whole (a DHCP
    range is in use as a block) and its gateway, over its usable addresses."""
    net = IPNetwork(prefix.cidr)
    ranges = session.execute(
        select(DhcpRange.first_host, DhcpRange.last_host).where(DhcpRange.prefix_id == prefix.id)
    ).all()
    inside = [IpAddress.host.between(a, b) for a, b in ranges]
    stmt = select(func.count()).where(IpAddress.prefix_id == prefix.id)
    for cond in inside:
        stmt = stmt.where(~cond)
    used = int(session.scalar(stmt) or 0) + sum(b - a + 1 for a, b in ranges)
    if prefix.gateway:
        used += 1  # the gateway's address is in use, recorded or not
    return Usage(used, usable_size(net))


def range_usage(session: Session, r: DhcpRange) -> Usage:
    """A range's addresses recorded (reservations in it), over its size."""
    n = session.scalar(
        select(func.count()).where(
            IpAddress.prefix_id == r.prefix_id, IpAddress.host.between(r.first_host, r.last_host)
        )
    )
    return Usage(int(n or 0), r.last_host - r.first_host + 1)
