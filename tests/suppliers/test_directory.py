"""The suppliers' directory through its pages: SIRET checked with Luhn, a stale save kept,
the scope, items linked to their supplier, contracts and the import of a file."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from inventory.assets.models import Asset
from inventory.core.audit import AuditRecord
from inventory.orgs.models import Collectivite
from inventory.suppliers.models import Contract, Supplier
from tests.factories import fresh
from tests.suppliers.builders import item, siret, supplier

GOOD = siret("1800470000001")


def test_a_supplier_is_recorded_with_a_checked_siret(tech, creteil, db_session):
    data = {"name": "Manutan", "siret": "1234 5678 9012 34", "email": "pro@manutan.fr"}
    response = tech.post(f"/fournisseurs/nouveau?collectivite={creteil}", data=data)
    assert response.status_code == 422
    assert "check digit (Luhn)" in response.text and 'value="pro@manutan.fr"' in response.text
    assert db_session.scalar(select(Supplier)) is None

    spaced = " ".join([GOOD[:3], GOOD[3:6], GOOD[6:9], GOOD[9:]])
    response = tech.post(
        f"/fournisseurs/nouveau?collectivite={creteil}", data={**data, "siret": spaced}
    )
    assert response.status_code == 302
    saved = db_session.scalar(select(Supplier))
    assert saved.siret == GOOD and saved.collectivite_id == creteil
    # The same SIRET twice in one collectivité is refused with its reason.
    again = tech.post(
        f"/fournisseurs/nouveau?collectivite={creteil}",
        data={"name": "Manutan bis", "siret": GOOD},
    )
    assert again.status_code == 422 and "already has a supplier with this SIRET" in again.text
    page = tech.get(f"/fournisseurs/{saved.id}")
    assert page.status_code == 200 and GOOD in page.text and "pro@manutan.fr" in page.text
    assert db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "suppliers", AuditRecord.object_id == saved.id
        )
    )


def test_a_stale_save_is_a_conflict_that_keeps_the_input(tech, creteil, db_session):
    saved = supplier(db_session, creteil, "UGAP")
    form = {"name": "UGAP Île-de-France", "version": str(saved.version)}
    assert tech.post(f"/fournisseurs/{saved.id}", data=form).status_code == 302
    stale = tech.post(f"/fournisseurs/{saved.id}", data={**form, "phone": "01 02 03 04 05"})
    assert stale.status_code == 409 and 'value="01 02 03 04 05"' in stale.text
    assert fresh(db_session, Supplier, saved.id).phone is None


def test_suppliers_of_another_collectivite_answer_404(tech, fresnes, db_session):
    theirs = supplier(db_session, fresnes, "Fresnes Bureautique")
    assert tech.get(f"/fournisseurs/{theirs.id}").status_code == 404
    assert "Fresnes Bureautique" not in tech.get("/fournisseurs").text
    assert tech.get(f"/fournisseurs/nouveau?collectivite={fresnes}").status_code == 404


def test_an_item_links_to_its_supplier_and_contracts_cover_items(tech, creteil, db_session):
    screen = item(db_session, creteil, supplier="Speechi")  # joins the directory
    speechi = supplier(db_session, creteil, "Speechi SAV", email="sav@speechi.net")
    assert fresh(db_session, Asset, screen.id).supplier_id != speechi.id
    response = tech.post(f"/equipements/{screen.id}/fournisseur", data={"supplier": speechi.id})
    assert response.status_code == 302
    assert fresh(db_session, Asset, screen.id).supplier_id == speechi.id
    assert "Speechi" in tech.get(f"/equipements/{screen.id}").text

    contract = {
        "kind": "maintenance",
        "reference": "M-2026-01",
        "title": "Maintenance des écrans",
        "starts_on": "2026-01-01",
        "ends_on": "2028-12-31",
        "cost": "1 200,50",
        "items": f"{screen.tag}, NOPE-0000",
    }
    bad = tech.post(f"/fournisseurs/{speechi.id}/contrats/nouveau", data=contract)
    assert bad.status_code == 422 and "NOPE-0000" in bad.text
    ok = tech.post(
        f"/fournisseurs/{speechi.id}/contrats/nouveau", data={**contract, "items": screen.tag}
    )
    assert ok.status_code == 302
    saved = db_session.scalar(select(Contract))
    assert saved.cost_per_year_cents == 120050 and [i.asset_id for i in saved.items] == [screen.id]
    page = tech.get(f"/equipements/{screen.id}").text
    assert "M-2026-01" in page
    assert saved.ends_on == date(2028, 12, 31)


def test_the_import_is_idempotent_on_siret(tech, creteil, db_session):
    other = siret("4012345678901")
    csv = (
        "nom;siret;adresse;code_postal;ville;telephone;email\n"
        f"UGAP;{GOOD};1 bd Archimède;77444;Champs-sur-Marne;01 64 73 20 00;contact@ugap.fr\n"
        f"Manutan;{other};;95500;Gonesse;;\n"
        "Mauvais;12345678901234;;;;;\n"
    ).encode()

    def send():
        return tech.post(
            f"/fournisseurs/import?collectivite={creteil}",
            data={"file": (io.BytesIO(csv), "fournisseurs.csv")},
            content_type="multipart/form-data",
        )

    first = send()
    assert first.status_code == 200
    names = db_session.scalars(select(Supplier.name).order_by(Supplier.name)).all()
    assert names == ["Manutan", "UGAP"]
    assert "Luhn" in first.text  # the bad row's reason, on its line
    second = send()
    assert "Nothing changed" in second.text
    assert db_session.scalar(select(Supplier).filter_by(name="UGAP")).address.endswith(
        "77444 Champs-sur-Marne"
    )


def test_the_command_line_imports_a_collectivite_s_suppliers(app, creteil, db_session, tmp_path):
    siren = db_session.get(Collectivite, creteil).siren
    path = tmp_path / "fournisseurs.csv"
    path.write_text(f"Raison sociale;SIRET;Courriel\nUGAP;{GOOD};contact@ugap.fr\n", "utf-8")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["suppliers", "import", str(path), "--collectivite", siren])
    assert "created: 1" in first.output
    again = runner.invoke(args=["suppliers", "import", str(path), "--collectivite", siren])
    assert "unchanged: 1" in again.output
    assert db_session.scalar(select(Supplier)).email == "contact@ugap.fr"


def _item_with_supplier_in(app, collectivite_id: int, name: str):
    """A new item naming ``name`` as its supplier, in a context (a session, a connection)
    of its own; the supplier entry it was linked to."""
    from inventory.extensions import db

    with app.app_context():
        try:
            return item(db.session, collectivite_id, supplier=name).supplier_id
        finally:
            db.session.remove()


def test_two_items_naming_the_same_new_supplier_at_once_share_one_entry(app, creteil, db_session):
    """Two technicians (or two imports) add, at the same instant, an item whose supplier
    is not in the directory yet: the second waits for the first one's entry and links to
    it, rather than failing on the directory's unique name; one entry, one record."""
    from functools import partial

    from inventory.orgs.models import Ecole
    from tests.concurrently import simultaneously

    for round_ in range(3):
        name = f"Nouveau fournisseur {round_}"
        results = simultaneously(
            Ecole,
            partial(_item_with_supplier_in, app, creteil, name),
            partial(_item_with_supplier_in, app, creteil, name),
        )
        assert all(isinstance(r, int) for r in results), results
        entries = db_session.scalars(select(Supplier).where(Supplier.name == name)).all()
        assert [e.id for e in entries] == [results[0]] == [results[1]]
        created = db_session.scalars(
            select(AuditRecord).where(
                AuditRecord.object_type == "suppliers", AuditRecord.object_id == results[0]
            )
        ).all()
        assert [r.action for r in created] == ["create"]
        db_session.expire_all()


def test_a_new_name_the_directory_is_adding_elsewhere_is_read_not_added_twice(
    app, creteil, db_session
):
    """One transaction has added a new supplier and not committed yet; another adds the
    same name (its read of the directory cannot see the first one's): it waits for the
    first to commit and links to its entry. Before, it failed on the directory's unique
    name, on either engine."""
    import threading

    from sqlalchemy.orm import Session

    from inventory.extensions import db
    from inventory.suppliers.linking import find_or_create

    wanted = {(creteil, "Fournisseur du jour")}
    with app.app_context():
        first, second = Session(db.engine), Session(db.engine)
        try:
            mine = find_or_create(first, wanted)  # added, not committed
            theirs: list[object] = []

            def add_too() -> None:
                try:
                    theirs.append(find_or_create(second, wanted))
                    second.commit()
                except Exception as exc:  # handed to the assertion below
                    second.rollback()
                    theirs.append(exc)

            waiting = threading.Thread(target=add_too)
            waiting.start()
            waiting.join(0.5)
            first.commit()
            waiting.join(60)
        finally:
            first.close()
            second.close()
    assert theirs == [mine], theirs
    entries = db_session.scalars(select(Supplier).where(Supplier.name == "Fournisseur du jour"))
    assert [e.id for e in entries] == list(mine.values())
    records = db_session.scalars(
        select(AuditRecord).where(
            AuditRecord.object_type == "suppliers",
            AuditRecord.object_id.in_(mine.values()),
        )
    ).all()
    assert [r.action for r in records] == ["create"]
