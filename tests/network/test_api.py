"""The network through the API: a school's prefixes with their use, the next free address
given to an item (and written on it), the prefix's addresses; refusals as problem details,
read-only tokens and other collectivités kept out."""

from __future__ import annotations

from sqlalchemy import select

from inventory.assets.models import Asset
from inventory.network import plan
from inventory.network.models import Prefix, PrefixRole
from inventory.orgs.models import Ecole
from tests.conftest import ADMIN
from tests.factories import api_token, bearer
from tests.network.builders import make_item


def test_next_free_address_through_the_api(app, school, make_user, registry, db_session):
    ecole = db_session.get(Ecole, school["ecole"])
    prefix = plan.add_prefix(
        db_session,
        ADMIN,
        ecole,
        plan.PrefixFields("10.94.30.0/30", PrefixRole.EQUIPEMENTS, gateway="10.94.30.1"),
    )
    db_session.commit()
    eni = make_item(db_session, ecole.id, mac="3c:22:fb:00:00:30")
    tech = make_user("technicien", [("collectivite", school["coll"])])
    write, read = api_token(app, tech, scope="write"), api_token(app, tech, scope="read")
    api = app.test_client()
    url = f"/api/v1/prefixes/{prefix.id}/next-address"
    body = {"status": "dhcp", "asset_id": eni, "hostname": "eni-1"}
    given = api.post(url, json=body, headers=bearer(write))
    assert given.status_code == 201, given.json
    assert given.json["address"] == "10.94.30.2" and given.json["mac"] == "3c:22:fb:00:00:30"
    db_session.expire_all()
    assert db_session.get(Asset, eni).ip == "10.94.30.2"
    # A /30 has two usable addresses, one the gateway: full.
    full = api.post(url, json={}, headers=bearer(write))
    assert full.status_code == 422
    assert full.json["detail"] == "10.94.30.0/30 n'a plus d'adresse libre."
    assert api.post(url, json={}, headers=bearer(read)).status_code == 403
    listed = api.get(f"/api/v1/schools/{ecole.id}/prefixes", headers=bearer(read)).json
    assert listed["items"][0]["cidr"] == "10.94.30.0/30"
    assert listed["items"][0]["usage"] == {"used": 2, "size": 2, "percent": 100}
    rows = api.get(f"/api/v1/prefixes/{prefix.id}/addresses", headers=bearer(read)).json
    assert [r["address"] for r in rows["items"]] == ["10.94.30.2"]
    other = make_user("technicien", [("collectivite", registry["collectivites"]["Fresnes"])])
    outsider = api_token(app, other, scope="write")
    assert api.post(url, json={}, headers=bearer(outsider)).status_code == 404
    assert db_session.scalar(select(Prefix.id).filter_by(id=prefix.id)) == prefix.id
