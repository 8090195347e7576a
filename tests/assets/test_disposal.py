"""The equipment's end of life, through HTTP: ticked items retired together with their
disposal route and certificate, the register and its export, what a batch refuses, the
retired items leaving the socle and the figures, and the expected end-of-life dates."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle, socle
from inventory.assets.models import Asset, AssetStatus, Disposal, DisposalRoute, StatusChange
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom, Ecole
from tests.assets.builders import english
from tests.factories import ADMIN, PDF_HEADER, count, fresh, login

CERTIFICATE = PDF_HEADER + b"certificat de collecte 2026-118\n"


@pytest.fixture
def items(creteil, fresnes, db_session):
    """Three projectors in a Créteil school's first target room (one in service, the
    room's only display), and one at a Fresnes school."""
    model = catalogue.get_or_create_model(
        db_session, "Epson", "EB-680", catalogue.category_by_code(db_session, "vp")
    )

    def placed(ecole_id, room_id, status):
        ecole = db_session.get(Ecole, ecole_id)
        where = lifecycle.Where(ecole.collectivite, ecole, db_session.get(Classroom, room_id))
        return lifecycle.create_asset(db_session, ADMIN, where=where, model=model, status=status)

    room = creteil["rooms"][0]
    mine = [
        placed(creteil["ecole"], room, status)
        for status in (AssetStatus.IN_SERVICE, AssetStatus.DELIVERED, AssetStatus.UNDER_REPAIR)
    ]
    other = placed(fresnes["ecole"], fresnes["rooms"][0], AssetStatus.IN_SERVICE)
    return {
        "ids": [a.id for a in mine],
        "tags": [a.tag for a in mine],
        "other": other.id,
        "model": model.id,
        "room": room,
    }


def _display_met(db_session, room_id) -> bool:
    db_session.expire_all()
    checks = socle.classroom_status(db_session, [room_id])[room_id].checks
    return next(c.met for c in checks if c.requirement.code == "affichage_collectif")


def _retire(client, ids, **data):
    """Tick ``ids`` on the list and press «Retire…», then send the disposal's form."""
    ticked = client.post(
        "/equipements/lot", data={"action": "retire", "ids": [str(i) for i in ids]}
    )
    assert ticked.status_code == 302
    form_url = ticked.location
    page = client.get(form_url)
    assert page.status_code == 200
    fields = {
        "ids": re.search(
            r'name="ids" type="hidden" value="([^"]*)"', page.get_data(as_text=True)
        ).group(1),
        "route": "deee",
        "disposed_on": date.today().isoformat(),
        "organism": "Ecosystem",
        "organism_reference": "ECO-2026-118",
        **data,
    }
    return client.post(form_url, data=fields, content_type="multipart/form-data")


def test_a_batch_leaves_with_its_route_and_certificate(tech, creteil, items, db_session):
    assert _display_met(db_session, items["room"])
    figures = f"/tableau-de-bord/ecole/{creteil['ecole']}/liste/items"
    before = tech.get(figures).get_data(as_text=True)
    assert all(tag in before for tag in items["tags"])

    done = _retire(tech, items["ids"], certificate=(io.BytesIO(CERTIFICATE), "certificat.pdf"))
    html = done.get_data(as_text=True)
    assert done.status_code == 200, html
    assert "3 items retired, 0 refused." in html

    batch = db_session.scalar(select(Disposal))
    assert (batch.route, batch.organism, batch.organism_reference) == (
        DisposalRoute.DEEE,
        "Ecosystem",
        "ECO-2026-118",
    )
    assert batch.collectivite_id == creteil["coll"] and batch.certificate_type == "application/pdf"
    for asset_id in items["ids"]:
        asset = fresh(db_session, Asset, asset_id)
        assert asset.status is AssetStatus.RETIRED and asset.disposal_id == batch.id
    # Each item went through the one status path: its step, noted with the route, and its
    # change-log record; the batch has its own record.
    steps = db_session.scalars(
        select(StatusChange).where(
            StatusChange.asset_id.in_(items["ids"]), StatusChange.to_status == AssetStatus.RETIRED
        )
    ).all()
    assert len(steps) == 3 and all("DEEE" in s.note for s in steps)
    assert count(db_session, AuditRecord, AuditRecord.object_type == "asset_disposals") == 1
    assert (
        count(
            db_session,
            AuditRecord,
            AuditRecord.object_type == "assets",
            AuditRecord.object_id == items["ids"][0],
            AuditRecord.action == "update",
        )
        == 1
    )

    # The certificate, served to who may read the batch; the batch's page and the item's.
    page = tech.get(f"/equipements/sorties/{batch.id}").get_data(as_text=True)
    assert "ECO-2026-118" in page and items["tags"][0] in page
    with tech.get(f"/equipements/sorties/{batch.id}/certificat") as served:
        assert served.status_code == 200 and served.data == CERTIFICATE
        assert served.mimetype == "application/pdf"
    item_page = tech.get(f"/equipements/{items['ids'][0]}").get_data(as_text=True)
    assert f"/equipements/sorties/{batch.id}" in item_page

    # The register lists them, and exports them.
    register = tech.get("/equipements/sorties").get_data(as_text=True)
    assert all(tag in register for tag in items["tags"]) and "ECO-2026-118" in register
    exported = tech.get("/equipements/sorties/export.csv?csv=plain").get_data(as_text=True)
    lines = exported.strip().splitlines()
    assert len(lines) == 4 and "Eco-organism's reference" in lines[0]
    assert all("ECO-2026-118" in line and "Ecosystem" in line for line in lines[1:])
    xlsx = tech.get("/equipements/sorties/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"

    # Retired, they leave the socle and the figures.
    assert not _display_met(db_session, items["room"])
    after = tech.get(figures).get_data(as_text=True)
    assert not any(tag in after for tag in items["tags"])


def test_a_batch_refuses_what_cannot_leave_and_keeps_the_rest(
    tech, app, make_user, creteil, items, db_session
):
    lifecycle.change_status(
        db_session, ADMIN, db_session.get(Asset, items["ids"][2]), AssetStatus.RETIRED
    )
    # A DEEE collection without its eco-organism, a certificate that is no PDF or image,
    # a date to come: refused, nothing retired, the form kept.
    for data, message in (
        ({"organism": ""}, "names the eco-organism"),
        ({"certificate": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "c.pdf")}, "PDF"),
        ({"disposed_on": (date.today() + timedelta(days=3)).isoformat()}, "after today"),
    ):
        refused = _retire(tech, items["ids"], **data)
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
        assert count(db_session, Disposal) == 0
        assert fresh(db_session, Asset, items["ids"][0]).status is AssetStatus.IN_SERVICE

    # An administrator ticks an item of another collectivité with them, and a retired one.
    admin = app.test_client()
    assert login(admin, make_user("admin", email="chef@example.org")).status_code == 302
    english(admin)
    done = _retire(admin, [*items["ids"], items["other"]], route="donation", organism="")
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "2 items retired, 2 refused." in html
    assert "another collectivité" in html and "cannot be retired" in html
    assert fresh(db_session, Asset, items["other"]).status is AssetStatus.IN_SERVICE
    assert db_session.scalar(select(Disposal.route)) is DisposalRoute.DONATION

    # The technician's own list: out of scope, an item is not even shown.
    page = tech.get(f"/equipements/sortie?ids={items['other']}").get_data(as_text=True)
    assert "Tick the items to retire" in page


def test_expected_end_of_life_by_model_then_by_item(tech, app, make_user, items, db_session):
    admin = app.test_client()
    assert login(admin, make_user("admin", email="chef@example.org")).status_code == 302
    saved = admin.post(
        f"/equipements/modeles/{items['model']}/fin-de-vie", data={"end_of_life": "30/06/2031"}
    )
    assert saved.status_code == 302
    asset = fresh(db_session, Asset, items["ids"][0])
    assert asset.expected_end_of_life == date(2031, 6, 30)
    page = tech.get(f"/equipements/{asset.id}").get_data(as_text=True)
    assert "30 Jun 2031" in page and "its model's" in page
    # The technician may not set a model's date (administrators' reference data).
    assert (
        tech.post(
            f"/equipements/modeles/{items['model']}/fin-de-vie", data={"end_of_life": "2030-01-01"}
        ).status_code
        == 404
    )
    # An item's own date, typed on its edit form, wins over its model's.
    form = tech.get(f"/equipements/{asset.id}/modifier").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    edited = tech.post(
        f"/equipements/{asset.id}/modifier",
        data={
            "category": str(asset.category_id),
            "manufacturer": "Epson",
            "model": "EB-680",
            "tag": asset.tag,
            "version": version,
            "end_of_life": "2028-09-01",
        },
    )
    assert edited.status_code == 302
    assert fresh(db_session, Asset, asset.id).expected_end_of_life == date(2028, 9, 1)
    page = tech.get(f"/equipements/{asset.id}").get_data(as_text=True)
    assert "1 Sept 2028" in page or "1 Sep 2028" in page
    assert "its model's" not in page
