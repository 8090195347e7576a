"""How the network's records read in the history and the journal, declared at start-up
(the change log may not import this domain)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.network.addresses import STATUS_LABELS
from inventory.network.models import (
    AccessPointRoom,
    AddressPlan,
    Aggregate,
    DhcpRange,
    IpAddress,
    NetworkSocket,
    Prefix,
    Vlan,
    WifiNetwork,
)
from inventory.network.plan import ROLE_LABELS
from inventory.network.wifi import SECURITY_LABELS

_SCHOOL = _l("School")
_VLAN = _l("VLAN")
_PREFIX = _l("Prefix")
_CLASSROOM = _l("Classroom")
_DESCRIPTION = _l("Description")


def init_app(_app: Flask) -> None:
    describe(
        AddressPlan,
        _l("Address plan"),
        {"collectivite_id": _l("Collectivité"), "school_template": _l("School prefix template")},
    )
    describe(
        Aggregate,
        _l("Address aggregate"),
        {"plan_id": _l("Address plan"), "cidr": _PREFIX, "description": _DESCRIPTION},
    )
    describe(
        Vlan,
        _VLAN,
        {"ecole_id": _SCHOOL, "vid": _l("VLAN id"), "name": _l("Name"), "group_name": _l("Group")},
    )
    describe(
        Prefix,
        _PREFIX,
        {
            "collectivite_id": _l("Collectivité"),
            "ecole_id": _SCHOOL,
            "cidr": _PREFIX,
            "role": Field(_l("Role"), labels=ROLE_LABELS),
            "vlan_id": _VLAN,
            "gateway": _l("Gateway"),
            "dns": _l("DNS servers"),
            "description": _DESCRIPTION,
            "created_at": _l("Created on"),
        },
    )
    describe(
        DhcpRange,
        _l("Address range"),
        {
            "prefix_id": _PREFIX,
            "start": _l("First address"),
            "end": _l("Last address"),
            "description": _DESCRIPTION,
        },
    )
    describe(
        IpAddress,
        _l("IP address"),
        {
            "prefix_id": _PREFIX,
            "address": _l("Address"),
            "status": Field(_l("Status"), labels=STATUS_LABELS),
            "asset_id": _l("Equipment item"),
            "holder": _l("Holder"),
            "mac": _l("MAC address"),
            "hostname": _l("Host name"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        WifiNetwork,
        _l("Wi-Fi network"),
        {
            "ecole_id": _SCHOOL,
            "ssid": _l("SSID"),
            "security": Field(_l("Security"), labels=SECURITY_LABELS),
            "vlan_id": _VLAN,
        },
    )
    describe(
        AccessPointRoom,
        _l("Access point coverage"),
        {"asset_id": _l("Access point"), "classroom_id": _CLASSROOM, "ecole_id": _SCHOOL},
    )
    describe(
        NetworkSocket,
        _l("Network socket"),
        {
            "classroom_id": _CLASSROOM,
            "ecole_id": _SCHOOL,
            "label": _l("Socket"),
            "work_id": _l("Cabling works"),
            "notes": _l("Notes"),
        },
    )
