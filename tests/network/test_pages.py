"""The school's network tab through its pages: a prefix and a VLAN defined, an ENI given the
next free address, the use changing, ranges, refusals, the DHCP exports parsed back, the
item's panel; an auditor reads, out of scope is 404."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from inventory.assets.models import Asset
from inventory.network.models import AddressStatus, IpAddress, Prefix, Vlan
from inventory.orgs.models import Ecole
from tests.assets.builders import english
from tests.factories import login
from tests.network.builders import make_item


def _prefix(tech, school, cidr="10.94.12.0/24", **extra):
    data = {"cidr": cidr, "role": "pedagogique", "vlan_id": "0", "gateway": "", "dns": ""}
    data.update(extra)
    return tech.post(f"/ecoles/{school['ecole']}/reseau/prefixes", data=data)


def test_define_a_plan_and_give_an_eni_the_next_free_address(tech, school, db_session):
    ecole = school["ecole"]
    assert (
        tech.post(
            f"/ecoles/{ecole}/reseau/vlans",
            data={"vid": "10", "name": "Pédagogie", "group": "École"},
        ).status_code
        == 302
    )
    vlan = db_session.scalar(select(Vlan).filter_by(ecole_id=ecole))
    response = _prefix(
        tech, school, vlan_id=str(vlan.id), gateway="10.94.12.1", dns="10.94.0.53, 10.94.0.54"
    )
    assert response.status_code == 302
    prefix = db_session.scalar(select(Prefix).filter_by(ecole_id=ecole))
    assert (prefix.gateway, prefix.dns_list, prefix.vlan_id) == (
        "10.94.12.1",
        ["10.94.0.53", "10.94.0.54"],
        vlan.id,
    )
    tab = tech.get(f"/ecoles/{ecole}/reseau").get_data(as_text=True)
    assert "10.94.12.0/24" in tab and "1 of 254 used (0 %)" in tab
    eni = make_item(db_session, ecole, mac="3C-22-FB-00-00-09")
    # The next free address: .1 is the gateway, so .2.
    response = tech.post(
        f"/reseau/prefixes/{prefix.id}/adresses",
        data={"address": "", "status": "dhcp", "asset_id": str(eni), "hostname": "eni-cp"},
    )
    assert response.status_code == 302
    row = db_session.scalar(select(IpAddress).filter_by(prefix_id=prefix.id))
    assert (row.address, row.status, row.mac) == (
        "10.94.12.2",
        AddressStatus.DHCP,
        "3c:22:fb:00:00:09",
    )
    db_session.expire_all()
    assert db_session.get(Asset, eni).ip == "10.94.12.2"
    page = tech.get(f"/reseau/prefixes/{prefix.id}").get_data(as_text=True)
    assert "2 of 254 used (1 %)" in page
    assert "10.94.12.2: DHCP reservation" in page and "10.94.12.1: gateway" in page
    # A range reserved for the classe mobile counts as used, and the next free skips it.
    assert (
        tech.post(
            f"/reseau/prefixes/{prefix.id}/plages",
            data={"start": "10.94.12.3", "end": "10.94.12.102", "description": "classe mobile"},
        ).status_code
        == 302
    )
    tech.post(
        f"/reseau/prefixes/{prefix.id}/adresses", data={"status": "active", "holder": "Copieur"}
    )
    assert (
        db_session.scalar(
            select(IpAddress.address).filter_by(prefix_id=prefix.id, holder="Copieur")
        )
        == "10.94.12.103"
    )
    page = tech.get(f"/reseau/prefixes/{prefix.id}").get_data(as_text=True)
    assert "103 of 254 used (41 %)" in page
    # The Kea file and the dnsmasq lines, parsed back.
    kea = json.loads(tech.get(f"/ecoles/{ecole}/reseau/kea.json").get_data(as_text=True))
    (subnet,) = kea["Dhcp4"]["subnet4"]
    assert subnet["subnet"] == "10.94.12.0/24"
    assert subnet["pools"] == [{"pool": "10.94.12.3 - 10.94.12.102"}]
    assert subnet["reservations"] == [
        {"hw-address": "3c:22:fb:00:00:09", "ip-address": "10.94.12.2", "hostname": "eni-cp"}
    ]
    assert {"name": "routers", "data": "10.94.12.1"} in subnet["option-data"]
    lines = tech.get(f"/ecoles/{ecole}/reseau/dnsmasq.conf").get_data(as_text=True).splitlines()
    hosts = [line.split("=", 1)[1].split(",") for line in lines if line.startswith("dhcp-host=")]
    assert hosts == [["3c:22:fb:00:00:09", "10.94.12.2", "eni-cp"]]
    # The item's page shows its address; released, the item no longer has it.
    assert "10.94.12.2" in tech.get(f"/equipements/{eni}").get_data(as_text=True)
    assert tech.post(f"/reseau/adresses/{row.id}/liberer").status_code == 302
    db_session.expire_all()
    assert db_session.get(Asset, eni).ip is None


def test_refusals_are_explained_and_keep_the_input(tech, school, db_session):
    assert _prefix(tech, school, gateway="10.94.12.1").status_code == 302
    overlap = _prefix(tech, school, cidr="10.94.12.128/25")
    assert overlap.status_code == 422
    text = overlap.get_data(as_text=True)
    assert "overlaps 10.94.12.0/24" in text and 'value="10.94.12.128/25"' in text
    assert "is an address" in _prefix(tech, school, cidr="10.94.13.7/24").get_data(as_text=True)
    assert "/64 or longer" in _prefix(tech, school, cidr="2001:db8::/48").get_data(as_text=True)
    prefix = db_session.scalar(select(Prefix).filter_by(ecole_id=school["ecole"]))
    url = f"/reseau/prefixes/{prefix.id}/adresses"
    for address, message in (
        ("10.94.12.0", "network or broadcast"),
        ("10.94.12.255", "network or broadcast"),
        ("10.94.12.1", "is the gateway"),
        ("10.94.13.4", "outside 10.94.12.0/24"),
    ):
        response = tech.post(url, data={"address": address, "status": "reserved"})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    dhcp = tech.post(url, data={"address": "10.94.12.9", "status": "dhcp"})
    assert "needs the MAC" in dhcp.get_data(as_text=True)
    assert tech.post(url, data={"address": "10.94.12.9", "status": "reserved"}).status_code == 302
    again = tech.post(url, data={"address": "10.94.12.9", "status": "reserved"})
    assert "already used" in again.get_data(as_text=True)
    # IPv6 alongside.
    assert _prefix(tech, school, cidr="2001:db8:94:12::/64").status_code == 302
    v6 = db_session.scalar(select(Prefix).filter_by(cidr="2001:db8:94:12::/64"))
    tech.post(f"/reseau/prefixes/{v6.id}/adresses", data={"status": "reserved", "holder": "x"})
    assert (
        db_session.scalar(select(IpAddress.address).filter_by(prefix_id=v6.id))
        == "2001:db8:94:12::1"
    )


def test_an_item_sharing_a_mac_or_off_plan_is_flagged(tech, school, db_session):
    assert _prefix(tech, school).status_code == 302
    first = make_item(db_session, school["ecole"], mac="3c:22:fb:00:00:01")
    second = make_item(db_session, school["ecole"], mac="3c:22:fb:00:00:01")
    asset = db_session.get(Asset, second)
    asset.ip = "192.168.1.9"
    db_session.commit()
    page = tech.get(f"/equipements/{second}").get_data(as_text=True)
    tag = db_session.get(Asset, first).tag
    assert re.search(rf"also that of: {tag}", page)
    assert "outside every prefix of its school" in page


def test_auditor_reads_and_other_collectivites_see_nothing(
    app, tech, school, make_user, registry, db_session
):
    assert _prefix(tech, school).status_code == 302
    prefix = db_session.scalar(select(Prefix).filter_by(ecole_id=school["ecole"]))
    circo = next(v[2] for v in registry["schools"].values() if v[0] == school["ecole"])

    def client(role, scopes):
        c = app.test_client()
        assert login(c, make_user(role, scopes)).status_code == 302
        return english(c)

    auditor = client("auditeur", [("circonscription", circo)])
    page = auditor.get(f"/ecoles/{school['ecole']}/reseau")
    assert page.status_code == 200 and "Add a prefix" not in page.get_data(as_text=True)
    assert "10.94.12.0/24" in page.get_data(as_text=True)
    url = f"/reseau/prefixes/{prefix.id}/adresses"
    assert auditor.post(url, data={"status": "active"}).status_code == 404
    other = client("technicien", [("collectivite", registry["collectivites"]["Fresnes"])])
    assert other.get(f"/reseau/prefixes/{prefix.id}").status_code == 404
    assert other.get(f"/ecoles/{school['ecole']}/reseau/kea.json").status_code == 404


def test_a_collectivite_plan_keeps_its_schools_inside_and_suggests_their_prefix(
    tech, school, db_session
):
    coll = school["coll"]
    url = f"/collectivites/{coll}/plan-adressage"
    assert tech.get(url).status_code == 200
    bad = tech.post(url, data={"aggregates": "10.94.0.0/16\n10.94.3.0/24", "school_template": ""})
    assert bad.status_code == 422 and "overlaps" in bad.get_data(as_text=True)
    saved = tech.post(
        url,
        data={
            "aggregates": "10.94.0.0/16\n2001:db8:94::/48",
            "school_template": "10.{dept}.{school}.0/24",
        },
    )
    assert saved.status_code == 302
    # The tab suggests the school's prefix from the template (département 94, its rank).
    ecole = db_session.get(Ecole, school["ecole"])
    rank = db_session.scalar(
        select(func.count()).where(Ecole.collectivite_id == coll, Ecole.uai <= ecole.uai)
    )
    tab = tech.get(f"/ecoles/{ecole.id}/reseau").get_data(as_text=True)
    assert f'value="10.94.{rank}.0/24"' in tab
    outside = _prefix(tech, school, cidr="192.168.0.0/24")
    assert outside.status_code == 422
    assert "outside the collectivité&#39;s address plan" in outside.get_data(as_text=True)
    assert _prefix(tech, school, cidr=f"10.94.{rank}.0/24").status_code == 302
    # A plan its schools' prefixes would fall out of is refused.
    moved = tech.post(url, data={"aggregates": "10.95.0.0/16", "school_template": ""})
    assert moved.status_code == 422 and "outside these aggregates" in moved.get_data(as_text=True)
