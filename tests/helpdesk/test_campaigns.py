"""Inventory campaigns through HTTP: rooms, typed tags and scanned label URLs, found /
misplaced / missing / unknown, moving an item where it was found, the CSV report, scope."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from inventory.assets.models import Asset
from inventory.helpdesk.models import CampaignScan, CampaignStatus, InventoryCampaign
from tests.factories import build_world, count, fresh, login


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch):
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def scan(client, campaign_id, room_id, code):
    return client.post(
        f"/inventaires/{campaign_id}/scan", data={"classroom": str(room_id), "code": code}
    )


def test_a_campaign_sorts_items_and_moves_the_misplaced_ones(app, world, login_as, db_session):
    tech = login_as("technicien", [("collectivite", world["coll"])])
    ecole, rooms = world["ecole"], world["rooms"]
    assert tech.get(f"/inventaires/nouveau?ecole={ecole.id}").status_code == 200
    started = tech.post(f"/inventaires/nouveau?ecole={ecole.id}", data={"ecole": ecole.id})
    assert started.status_code == 302
    campaign_id = int(re.search(r"/inventaires/(\d+)$", started.location).group(1))
    again = tech.post("/inventaires/nouveau", data={"ecole": ecole.id})
    assert again.location == started.location  # one open campaign per school

    chosen = tech.post(f"/inventaires/{campaign_id}/salle", data={"classroom": rooms[0].id})
    assert f"salle={rooms[0].id}" in chosen.location
    page = tech.get(chosen.location).get_data(as_text=True)
    assert 'name="code"' in page and "js/scanner.js" in page

    screen, screen2 = world["screen"], world["screen2"]
    found = scan(tech, campaign_id, rooms[0].id, screen.tag.lower())
    assert found.status_code == 302
    label_url = f"HTTP://LOCALHOST/Q/{world['token2']}"
    scan(tech, campaign_id, rooms[0].id, label_url)  # screen2 is recorded in room 2
    scan(tech, campaign_id, rooms[0].id, "=HYPERLINK(1)")
    # The laptop of room 1 is never scanned.
    switched = scan(tech, campaign_id, rooms[1].id, f"/q/{world['room_token']}")
    assert f"salle={rooms[0].id}" in switched.location  # a room label switches rooms

    results = tech.get(f"/inventaires/{campaign_id}/resultats")
    assert results.status_code == 200
    html = results.get_data(as_text=True)

    def section(name):
        part = html.split(f'id="{name}"')
        return part[1].split("</table>")[0].split("</ul>")[0] if len(part) > 1 else ""

    assert screen.tag in section("found")
    assert screen2.tag in section("misplaced")
    assert world["laptop"].tag in section("missing")
    assert "=HYPERLINK(1)" in section("unknown")
    assert screen2.tag not in section("missing")

    move = db_session.scalar(select(CampaignScan).filter_by(asset_id=screen2.id))
    moved = tech.post(f"/inventaires/{campaign_id}/deplacer", data={"scan": move.id})
    assert moved.status_code == 302
    asset = fresh(db_session, Asset, screen2.id)
    assert asset.classroom_id == rooms[0].id and asset.ecole_id == ecole.id
    html = tech.get(f"/inventaires/{campaign_id}/resultats").get_data(as_text=True)
    assert screen2.tag in section("found") and 'id="misplaced"' not in html

    with tech.get(f"/inventaires/{campaign_id}/rapport.csv") as export:
        assert export.status_code == 200 and export.mimetype == "text/csv"
        text = export.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 2 + 1 + 1  # header, found ×2, missing, unknown
    assert any(r[6] == "'=HYPERLINK(1)" for r in rows[1:])
    assert not any(cell.startswith("=") for r in rows for cell in r)

    closed = tech.post(f"/inventaires/{campaign_id}/cloturer")
    assert closed.status_code == 302
    campaign = fresh(db_session, InventoryCampaign, campaign_id)
    assert campaign.status is CampaignStatus.CLOSED and campaign.closed_at is not None
    before = count(db_session, CampaignScan)
    scan(tech, campaign_id, rooms[0].id, world["laptop"].tag)
    assert count(db_session, CampaignScan) == before
    assert tech.get("/inventaires").status_code == 200


def test_campaigns_are_out_of_reach_out_of_scope_and_read_only_for_auditors(
    app, world, login_as, make_user, registry, db_session
):
    tech = login_as("technicien", [("collectivite", world["coll"])])
    started = tech.post("/inventaires/nouveau", data={"ecole": world["ecole"].id})
    campaign_id = int(started.location.rsplit("/", 1)[1])

    outsider = app.test_client()
    creteil = registry["collectivites"]["Créteil"]
    login(outsider, make_user("technicien", [("collectivite", creteil)]))
    for path in ("", "/resultats", "/rapport.csv"):
        assert outsider.get(f"/inventaires/{campaign_id}{path}").status_code == 404, path
    assert scan(outsider, campaign_id, world["rooms"][0].id, "X").status_code == 404
    refused = outsider.post("/inventaires/nouveau", data={"ecole": world["ecole"].id})
    assert refused.status_code == 404

    auditor = app.test_client()
    academie = world["ecole"].departement.academie_id
    login(auditor, make_user("auditeur", [("academie", academie)]))
    assert auditor.get(f"/inventaires/{campaign_id}").status_code == 200
    for path, data in (
        ("/scan", {"classroom": world["rooms"][0].id, "code": world["screen"].tag}),
        ("/salle", {"classroom": world["rooms"][0].id}),
        ("/cloturer", {}),
    ):
        assert auditor.post(f"/inventaires/{campaign_id}{path}", data=data).status_code == 404
    assert count(db_session, CampaignScan) == 0
    assert count(db_session, InventoryCampaign) == 1
