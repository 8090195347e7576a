"""The afterlife on the dashboards and the supplier typed on an item, through the pages:
the collectivité's and the académie's dashboards count what ends within the alert window,
the visits overdue and the items retired this year by route, each figure linking to its
list, within the reader's scope; a supplier typed on a new or edited item is its
collectivité's directory entry of that name (case and spaces aside), or a new one written
in the item's transaction."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from inventory.assets import catalogue, disposal
from inventory.assets.models import Asset, DisposalRoute
from inventory.assets.socle import paris_today
from inventory.core import storage
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Classroom, Collectivite, Departement
from inventory.suppliers import contracts, maintenance
from inventory.suppliers.models import ContractKind, Supplier
from tests.factories import ADMIN, fresh, signed_in
from tests.suppliers.builders import item, school_of, subscription, supplier


def _afterlife(collectivite_id: int, db_session, app) -> list[str]:
    """In one collectivité: a subscription and a contract ending within the window, an item
    whose warranty ends soon and whose visit is overdue, two items retired by DEEE."""
    today = paris_today()
    subscription(db_session, collectivite_id, ends_on=today + timedelta(days=40))
    maker = supplier(db_session, collectivite_id, "Speechi")
    contracts.save_contract(
        db_session,
        ADMIN,
        None,
        contracts.ContractFields(
            ContractKind.MAINTENANCE, "M-1", "Maintenance", date(2025, 1, 1), today + timedelta(10)
        ),
        supplier=maker,
    )
    screen = item(db_session, collectivite_id, warranty_end=today + timedelta(days=20))
    maintenance.plan_maintenance(
        db_session,
        ADMIN,
        screen,
        maintenance.PlanFields("Filters", 12, today - timedelta(days=3)),
    )
    old_items = [item(db_session, collectivite_id) for _ in range(2)]
    old = [a.id for a in old_items]
    result = disposal.retire_batch(
        db_session,
        ADMIN,
        old,
        disposal.DisposalFields(DisposalRoute.DEEE, today, "Ecosystem", "E-7"),
        certificate=None,
        directory=storage.of(app).folder("uploads/assets/disposals"),
        today=today,
    )
    assert len(result.done) == 2
    return [a.tag for a in old_items]


def _figures(html: str) -> str:
    found = re.search(r'<section[^>]*id="afterlife-figures".*?</section>', html, re.S)
    assert found, "no afterlife figures"
    return found.group(0)


def test_the_collectivite_dashboard_counts_what_ends_and_what_left(
    tech, creteil, fresnes, db_session, app
):
    retired = _afterlife(creteil, db_session, app)
    theirs = _afterlife(fresnes, db_session, app)  # out of the technician's scope
    page = tech.get(f"/tableau-de-bord/collectivite/{creteil}")
    assert page.status_code == 200
    panel = _figures(page.text)
    for line in (
        "Subscriptions ending within 90 days: 1",
        "Contracts ending within 90 days: 1",
        "Warranties ending within 90 days: 1",
        "Planned visits overdue: 1",
    ):
        assert line in panel
    year = paris_today().year
    register = f"/equipements/sorties?year={year}&amp;route=deee&amp;collectivite={creteil}"
    assert f'href="{register}"' in panel and "DEEE collection by an eco-organism: 2" in panel
    assert 'href="/echeances#due-visits"' in panel
    # The lists behind the figures show the same things.
    assert "Filters" in tech.get("/echeances").text
    listed = tech.get(register.replace("&amp;", "&")).text
    assert all(t in listed for t in retired) and not any(t in listed for t in theirs)
    # Fresnes' dashboard is not the technician's: 404.
    assert tech.get(f"/tableau-de-bord/collectivite/{fresnes}").status_code == 404


def test_the_academie_dashboard_adds_its_collectivites(
    app, make_user, creteil, fresnes, db_session
):
    _afterlife(creteil, db_session, app)
    _afterlife(fresnes, db_session, app)
    dept = db_session.get(Departement, db_session.get(Collectivite, creteil).departement_id)
    client, _ = signed_in(app, make_user, "auditeur", [("academie", dept.academie_id)])
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    page = client.get(f"/tableau-de-bord/academie/{dept.academie_id}")
    assert page.status_code == 200
    panel = _figures(page.text)
    assert "Planned visits overdue: 2" in panel and "Contracts ending within 90 days: 2" in panel
    assert "DEEE collection by an eco-organism: 4" in panel
    # Without a collectivité, the register's link is not narrowed to one.
    assert "collectivite=" not in panel


def test_a_dashboard_with_nothing_ending_shows_no_afterlife(tech, creteil):
    page = tech.get(f"/tableau-de-bord/collectivite/{creteil}")
    assert page.status_code == 200 and 'id="afterlife-figures"' not in page.text


# -- the supplier typed on an item ---------------------------------------------------------
def _entries(db_session, collectivite_id: int) -> list[str]:
    return list(
        db_session.scalars(
            select(Supplier.name)
            .where(Supplier.collectivite_id == collectivite_id)
            .order_by(Supplier.id)
        )
    )


def test_a_supplier_typed_on_an_item_joins_the_directory(tech, creteil, fresnes, db_session):
    ugap = supplier(db_session, creteil, "UGAP")
    supplier(db_session, fresnes, "Manutan")  # another collectivité's: never used
    screen = item(db_session, creteil, supplier="  ugap ")
    assert fresh(db_session, Asset, screen.id).supplier_id == ugap.id
    form = tech.get(f"/equipements/{screen.id}/modifier").text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1)
    data = {
        "tag": screen.tag,
        "category": str(screen.category_id),
        "manufacturer": "Speechi",
        "model": "ENI 75",
        "version": version,
        "supplier": "Manutan  Pro",
    }
    response = tech.post(f"/equipements/{screen.id}/modifier", data=data)
    assert response.status_code == 302, response.text[:2000]
    saved = fresh(db_session, Asset, screen.id)
    created = db_session.scalar(
        select(Supplier).where(Supplier.collectivite_id == creteil, Supplier.name == "Manutan Pro")
    )
    assert created is not None and saved.supplier_id == created.id
    assert _entries(db_session, creteil) == ["UGAP", "Manutan Pro"]
    assert _entries(db_session, fresnes) == ["Manutan"]
    # The new entry is in the change log, and its page lists the item.
    assert db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "suppliers", AuditRecord.object_id == created.id
        )
    )
    assert screen.tag in tech.get(f"/fournisseurs/{created.id}").text
    # Typed again differently, the same entry; cleared, no entry.
    data["version"] = str(saved.version)
    data["supplier"] = "MANUTAN PRO"
    assert tech.post(f"/equipements/{screen.id}/modifier", data=data).status_code == 302
    again = fresh(db_session, Asset, screen.id)
    assert again.supplier_id == created.id
    assert db_session.scalar(select(func.count(Supplier.id))) == 3
    data["version"], data["supplier"] = str(again.version), ""
    assert tech.post(f"/equipements/{screen.id}/modifier", data=data).status_code == 302
    assert fresh(db_session, Asset, screen.id).supplier_id is None


def test_items_added_through_the_form_share_one_new_entry(tech, creteil, db_session):
    ecole = school_of(db_session, creteil)
    room = db_session.scalar(select(Classroom.id).where(Classroom.ecole_id == ecole.id).limit(1))
    eni = catalogue.category_by_code(db_session, "eni").id
    for serial, typed in (("R-1", "Rexel"), ("R-2", " rexel")):
        response = tech.post(
            f"/equipements/nouveau?classroom={room}",
            data={
                "category": str(eni),
                "manufacturer": "Speechi",
                "model": "ENI 75",
                "status": "delivered",
                "serial": serial,
                "supplier": typed,
            },
        )
        assert response.status_code == 302, response.text[:2000]
    linked = set(db_session.scalars(select(Asset.supplier_id)))
    assert len(linked) == 1 and None not in linked
    assert _entries(db_session, creteil) == ["Rexel"]
