"""The allocation rules, property-based (hypothesis) on the real database: whatever the
prefix (IPv4 of any length, IPv6 /64 and longer), its gateway, its ranges and the addresses
already recorded, the next free addresses are in the prefix, unique, never its network or
broadcast address (IPv4 with a broadcast), never the gateway nor in a range, and the lowest
ones left; a full prefix says so. Two allocations at the same instant get two addresses."""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from netaddr import IPAddress, IPNetwork
from sqlalchemy import select

from inventory.core.db import insert_rows, utcnow
from inventory.extensions import db
from inventory.network import addresses, allocation, plan
from inventory.network.models import IpAddress, Prefix, PrefixRole
from inventory.orgs.models import Ecole
from tests.concurrently import simultaneously
from tests.conftest import ADMIN


@st.composite
def layouts(draw):
    """A prefix, its gateway (or none), a range (or none), addresses already taken."""
    v6 = draw(st.booleans())
    length = draw(st.integers(120, 128) if v6 else st.integers(23, 32))
    base = IPNetwork("2001:db8:35:12::/64" if v6 else "10.35.0.0/16")
    net = IPNetwork(f"{base.network}/{length}")
    size = net.size
    offsets = st.integers(0, size - 1)
    gateway = draw(st.none() | offsets)
    taken = draw(st.sets(offsets, max_size=min(40, size)))
    span = draw(st.none() | st.tuples(offsets, offsets).map(sorted))
    asks = draw(st.integers(1, 6))
    return net, gateway, span, taken, asks


def _setup(session, ecole, net, gateway, span, taken):
    first, last = allocation.bounds(net)
    gw = None
    if gateway is not None and first <= gateway <= last:
        gw = str(net[gateway])
    prefix = plan.add_prefix(
        session, ADMIN, ecole, plan.PrefixFields(str(net), PrefixRole.PEDAGOGIQUE, gateway=gw)
    )
    blocked = set()
    if span is not None and first <= span[0] and span[1] <= last:
        plan.add_range(session, ADMIN, prefix, str(net[span[0]]), str(net[span[1]]))
        blocked |= set(range(span[0], span[1] + 1))
    held = set()
    for o in sorted(taken):
        if first <= o <= last and str(net[o]) != gw:
            addresses.record_address(
                session,
                ADMIN,
                prefix,
                str(net[o]),
                addresses.AddressStatus.RESERVED,
                addresses.Holder(holder="x"),
            )
            held.add(o)
    session.commit()
    return prefix, gw, blocked, held


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(layout=layouts())
def test_next_free_addresses_follow_the_rules(app, school, layout):
    net, gateway, span, taken, asks = layout
    with app.app_context():
        session = db.session
        ecole = session.get(Ecole, school["ecole"])
        prefix, gw, blocked, held = _setup(session, ecole, net, gateway, span, taken)
        try:
            _check_allocations(session, prefix, net, gw, blocked, held, asks)
        finally:
            session.rollback()
            session.delete(session.get(Prefix, prefix.id))
            session.commit()
            db.session.remove()


def _check_allocations(session, prefix, net, gw, blocked, held, asks):
    first, last = allocation.bounds(net)
    free = [
        o
        for o in range(first, last + 1)
        if o not in held and o not in blocked and str(net[o]) != gw
    ]
    given_ = []
    for _ in range(asks):
        try:
            row = addresses.allocate_next(session, ADMIN, prefix.id)
        except allocation.NetworkError:
            break  # full: checked below (no free offset was left)
        given_.append(IPAddress(row.address))
    # Each in the prefix, unique, never network/broadcast nor gateway nor in the range.
    assert len(set(given_)) == len(given_)
    for ip in given_:
        assert ip in net
        if net.version == 4 and net.broadcast is not None:
            assert ip not in (net.network, net.broadcast)
        assert str(ip) != gw
        assert int(ip) - net.first not in blocked
    # The lowest free ones, in order; and when they ran out, none were left.
    assert [int(ip) - net.first for ip in given_] == free[: len(given_)]
    assert len(given_) == min(asks, len(free))


def test_next_free_subprefix_and_plan_template():
    taken = ["10.35.0.0/24", "10.35.1.0/25"]
    found = allocation.next_free_subprefix(IPNetwork("10.35.0.0/16"), taken, 24)
    assert found == IPNetwork("10.35.2.0/24")
    assert allocation.next_free_subprefix(IPNetwork("10.35.0.0/16"), taken, 26) == IPNetwork(
        "10.35.1.128/26"
    )
    assert allocation.next_free_subprefix(IPNetwork("10.35.0.0/24"), taken, 26) is None
    assert allocation.template_prefix("10.{dept}.{school}.0/24", 35, 12) == IPNetwork(
        "10.35.12.0/24"
    )
    with pytest.raises(allocation.NetworkError):
        allocation.template_prefix("10.{town}.0.0/16", 35, 12)


def _allocate(app, prefix_id):
    with app.app_context():
        try:
            return addresses.allocate_next(db.session, ADMIN, prefix_id).address
        finally:
            db.session.remove()


def test_two_allocations_at_the_same_instant_get_two_addresses(app, school, db_session):
    ecole = db_session.get(Ecole, school["ecole"])
    prefix = plan.add_prefix(
        db_session, ADMIN, ecole, plan.PrefixFields("10.94.20.0/29", PrefixRole.ADMINISTRATION)
    )
    db_session.commit()
    for _ in range(3):
        results = simultaneously(
            Prefix, partial(_allocate, app, prefix.id), partial(_allocate, app, prefix.id)
        )
        assert all(isinstance(r, str) for r in results), results
        assert len(set(results)) == 2
    rows = db_session.scalars(select(IpAddress.address).filter_by(prefix_id=prefix.id)).all()
    assert sorted(rows, key=IPAddress) == [f"10.94.20.{n}" for n in range(1, 7)]
    # The /29 is full: the next ask says so.
    with pytest.raises(allocation.NetworkError):
        addresses.allocate_next(db_session, ADMIN, prefix.id)


@st.composite
def runs(draw):
    """A prefix mostly full: runs of taken addresses (long ones, as a prefix filled from its
    start), a gap here and there, perhaps a range; IPv6 /64s with runs at their very end."""
    v6 = draw(st.booleans())
    net = IPNetwork("2001:db8:35:12::/64" if v6 else f"10.36.0.0/{draw(st.integers(19, 24))}")
    first, last = allocation.bounds(net)
    anchors = st.sampled_from([first, last - 5000, last - 300]).map(lambda o: max(first, o))
    starts = anchors | st.integers(first, min(last, first + 9000))
    spans = draw(st.lists(st.tuples(starts, st.integers(1, 5000)), min_size=1, max_size=4))
    taken = {o for start, length in spans for o in range(start, min(last, start + length - 1) + 1)}
    holes = draw(st.sets(st.sampled_from(sorted(taken)), max_size=3))
    span = draw(
        st.none() | st.tuples(st.integers(first, min(last, first + 9000)), st.integers(0, 99))
    )
    dhcp = None if span is None else (span[0], min(last, span[0] + span[1]))
    return net, taken - holes, dhcp


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(layout=runs())
def test_next_free_address_past_long_runs(app, school, layout):
    """Thousands of addresses are inserted in bulk (recording each through the service
    would take minutes); the search then finds the lowest free offset outside the range."""
    net, taken, dhcp = layout
    with app.app_context():
        session = db.session
        ecole = session.get(Ecole, school["ecole"])
        prefix = plan.add_prefix(
            session, ADMIN, ecole, plan.PrefixFields(str(net), PrefixRole.EQUIPEMENTS)
        )
        try:
            blocked: set[int] = set()
            if dhcp is not None:
                plan.add_range(session, ADMIN, prefix, str(net[dhcp[0]]), str(net[dhcp[1]]))
                blocked = set(range(dhcp[0], dhcp[1] + 1))
            rows = [
                {
                    "prefix_id": prefix.id,
                    "address": str(net[o]),
                    "host": allocation.key(o),
                    "status": "reserved",
                    "created_at": utcnow(),
                }
                for o in sorted(taken - blocked)
            ]
            insert_rows(session, IpAddress.__table__, rows)
            session.commit()
            first, last = allocation.bounds(net)
            free = next(
                (o for o in _offsets(first, last) if o not in taken and o not in blocked), None
            )
            assert allocation.next_free_offset(session, prefix, net) == free
        finally:
            session.rollback()
            session.delete(session.get(Prefix, prefix.id))
            session.commit()
            db.session.remove()


def _offsets(first, last):
    """first..last without building a /64's range in memory."""
    o = first
    while o <= last:
        yield o
        o += 1
