"""Grant dossiers as a finance officer uses them, through the pages, the files and the CLI.

The worked example used throughout (SNEE 2021 preset, amounts incl. VAT):

- Fresnes covers two schools: Robert Doisneau (A, declared with 3 classes: cap
  3 × 3,500 = 10,500 €) and Jean Monet (B, 2 classes: cap 7,000 €).
- Invoice 1, 14,400 € incl. VAT (12,000 € excl.): A 12,000 € (10,000 excl.), B 2,400 €
  (2,000 excl.); it paid 4,800 € for an interactive screen in A and 1,200 € for a laptop in B.
- Invoice 2, 6,000 € incl. VAT (5,000 € excl.): 3,000 € (2,500 excl.) for each school.
- A spent 15,000 €, capped at 10,500 €; B spent 5,400 €, above the 3,500 € minimum and
  under its 7,000 € cap: all eligible. Eligible 10,500 + 5,400 = 15,900 €.
- 15,900 € is under the 200,000 € tier: aid = 70 % × 15,900 = 11,130 € (A 7,350 €, B
  3,780 €), under the convention's 12,000 € maximum.
- An advance of 3,000 € is received: 11,130 − 3,000 = 8,130 € are left to claim.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.core.audit import AuditRecord
from inventory.grants.aid import DATE_KEYS
from inventory.grants.models import Dossier, Expense, FundingLink, FundingScheme, Payment
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN, login
from tests.factories import Users, hash_passwords_cheaply, pdf_text

A_UAI, B_UAI = "0940176F", "0940289D"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NBSP = "\u00a0"


def eur(text: str) -> str:
    """'11,130.00' → '11,130.00 €' as the English pages print it."""
    return f"{text}{NBSP}€"


@pytest.fixture
def app_config(tmp_path):
    return {"STORAGE_PATH": str(tmp_path / "files")}


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Accounts are not what this module tests: hash their passwords cheaply."""
    hash_passwords_cheaply(monkeypatch)


@pytest.fixture
def world(app, registry, make_user, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grants", "install-presets"])
    assert result.exit_code == 0, result.output
    assert "snee-2021" in result.output
    assert "snee-2021" not in runner.invoke(args=["grants", "install-presets"]).output

    schools = registry["schools"]
    fresnes = registry["collectivites"]["Fresnes"]
    other = registry["collectivites"]["Villecresnes"]
    a, b = schools[A_UAI][0], schools[B_UAI][0]
    users = Users(
        make_user,
        {
            "gestionnaire": ("gestionnaire", [("collectivite", fresnes)]),
            "technicien": ("technicien", [("collectivite", fresnes)]),
            "other": ("gestionnaire", [("collectivite", other)]),
            "admin": ("admin", []),
        },
    )
    snee = db_session.scalar(select(FundingScheme.id).filter_by(code="snee-2021"))
    return {"fresnes": fresnes, "other": other, "a": a, "b": b, "users": users, "snee": snee}


def client_for(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.post("/language", data={"lang": "en", "next": "/"})
    return client


def new_asset(db_session, ecole_id, category, status, price_ttc, serial):
    room = db_session.scalar(
        select(Classroom).where(Classroom.ecole_id == ecole_id).order_by(Classroom.id).limit(1)
    )
    cat = catalogue.category_by_code(db_session, category)
    model = catalogue.get_or_create_model(db_session, "Speechi", f"Modèle {category}", cat)
    where = lifecycle.Where(room.ecole.collectivite, room.ecole, room)
    asset = lifecycle.create_asset(
        db_session,
        ADMIN,
        where=where,
        model=model,
        status=status,
        fields=lifecycle.AssetFields(
            serial=serial,
            price_ht_cents=None if price_ttc is None else price_ttc * 100 // 120,
            price_ttc_cents=price_ttc,
        ),
    )
    return asset.id, room.name


def dossier_form(world, **extra):
    data = {
        "title": "Socle numérique 2021",
        "reference": "4512345",
        "convention_max": "12 000,00",
        "decision_on": "2021-06-01",
        "convention_signed_on": "2021-07-01",
        "spending_deadline": "2022-12-31",
        "schools-0-ecole_id": str(world["a"]),
        "schools-0-covered": "y",
        "schools-0-classes": "3",
        "schools-0-pupils": "70",
        "schools-1-ecole_id": str(world["b"]),
        "schools-1-covered": "y",
        "schools-1-classes": "2",
        "schools-1-pupils": "45",
        "planned-0-code": "equipement",
        "planned-0-amount": "20000",
        "planned-1-code": "services",
        "planned-1-amount": "",
    }
    data.update(extra)
    return data


def create_dossier(client, world, **extra):
    url = f"/subventions/nouveau?collectivite={world['fresnes']}&scheme={world['snee']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Robert Doisneau" in page.get_data(as_text=True)
    (deadline,) = re.findall(
        r'<input[^>]*id="spending_deadline"[^>]*>', page.get_data(as_text=True)
    )
    assert 'value="2022-12-31"' in deadline  # the scheme's end of eligible spending
    response = client.post(url, data=dossier_form(world, **extra))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.location.rstrip("/").split("/")[-1])


def expense_form(world, ht, ttc, shares=(), links=(), **extra):
    data = {
        "volet": "equipement",
        "supplier": "Speechi",
        "invoice_number": "F-001",
        "invoice_date": "2021-10-04",
        "amount_ht": ht,
        "amount_ttc": ttc,
    }
    for i, (ecole, s_ht, s_ttc) in enumerate(shares):
        data[f"allocations-{i}-ecole_id"] = str(ecole)
        data[f"allocations-{i}-amount_ht"] = s_ht
        data[f"allocations-{i}-amount_ttc"] = s_ttc
    for i, (key, amount) in enumerate(links):
        data[f"links-{i}-item"] = key
        data[f"links-{i}-chosen"] = "y"
        data[f"links-{i}-amount"] = amount
    data.update(extra)
    return data


def scheme_form(scheme, **extra):
    """The scheme's page as saved again: its fields, its dates and its rules' JSON."""
    rules = {k: v for k, v in scheme.rules.items() if k not in DATE_KEYS}
    data = {
        "code": scheme.code,
        "name": scheme.name,
        "note": scheme.note,
        "funding_mention": scheme.funding_mention,
        "spending_from": scheme.rules.get("spending_from") or "",
        "spending_to": scheme.rules.get("spending_to") or "",
        "claim_deadline": scheme.rules.get("claim_deadline") or "",
        "active": "y",
        "rules": json.dumps(rules),
    }
    data.update(extra)
    return data


def count(db_session, model):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def move(client, dossier_id, *statuses):
    for status in statuses:
        response = client.post(f"/subventions/{dossier_id}/statut", data={"status-status": status})
        assert response.status_code == 302, (status, response.get_data(as_text=True)[:2000])


@pytest.fixture
def funded(app, world, db_session):
    """The worked example: dossier, two invoices split across A and B, linked to items."""
    screen, screen_room = new_asset(
        db_session, world["a"], "eni", AssetStatus.IN_SERVICE, 480_000, "ENI-A-1"
    )
    laptop, _room = new_asset(
        db_session, world["b"], "poste_enseignant", AssetStatus.DELIVERED, 120_000, "PC-B-1"
    )
    client = client_for(app, world["users"]["gestionnaire"])
    dossier_id = create_dossier(client, world)
    first = expense_form(
        world,
        "12 000",
        "14 400",
        shares=[(world["a"], "10 000", "12 000"), (world["b"], "2 000", "2 400")],
        links=[(f"a:{screen}", "4 800"), (f"a:{laptop}", "")],
    )
    response = client.post(f"/subventions/{dossier_id}/depenses/nouvelle", data=first)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    second = expense_form(
        world,
        "5000",
        "6000",
        shares=[(world["a"], "2500", "3000"), (world["b"], "2500", "3000")],
        invoice_number="F-002",
        supplier="Réseaux & Câbles",
    )
    response = client.post(f"/subventions/{dossier_id}/depenses/nouvelle", data=second)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return {
        "client": client,
        "dossier": dossier_id,
        "screen": screen,
        "screen_room": screen_room,
        "laptop": laptop,
    }


def test_a_finance_officer_follows_a_dossier_to_the_claim_file(app, world, funded, db_session):
    client, dossier_id = funded["client"], funded["dossier"]
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    # The figures of the worked example (see the module's docstring).
    assert eur("20,400.00") in html  # spent incl. VAT
    assert eur("15,900.00") in html  # eligible
    assert eur("11,130.00") in html  # aid
    assert eur("7,350.00") in html and eur("3,780.00") in html  # per school
    # The computation, line by line.
    assert (
        f"Ecole élémentaire Robert Doisneau: spending {eur('15,000.00')} capped at "
        f"{eur('10,500.00')} (3 classes × {eur('3,500.00')})" in html
    )
    assert (
        f"Ecole élémentaire Jean Monet: spending {eur('5,400.00')}, within its cap of "
        f"{eur('7,000.00')} (2 classes × {eur('3,500.00')})" in html
    )
    assert f"70% of {eur('15,900.00')} = {eur('11,130.00')}" in html
    assert f"State aid: {eur('11,130.00')}" in html
    assert "non confirmés par le cahier des charges" in html  # the scheme's note
    # Planned against spent.
    assert eur("20,000.00") in html
    # The items and where they are.
    assert "ENI-A-1" in html and "PC-B-1" in html
    laptop = db_session.scalar(
        select(FundingLink.amount_cents).where(FundingLink.asset_id == funded["laptop"])
    )
    assert laptop == 120_000, "an empty amount takes the item's price"

    move(client, dossier_id, "submitted", "approved", "signed")
    response = client.post(
        f"/subventions/{dossier_id}/versements",
        data={
            "payment-kind": "advance",
            "payment-requested_on": "2021-07-15",
            "payment-requested": "3000",
            "payment-received_on": "2021-09-01",
            "payment-received": "3 000,00",
            "payment-reference": "VIR-42",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert eur("3,000.00") in html and eur("8,130.00") in html  # received, left to claim
    assert "VIR-42" in html

    pdf = client.get(f"/subventions/{dossier_id}/demande-de-versement.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in (
        "Claim for payment",
        "Fresnes",
        "4512345",
        "F-001",
        "Réseaux & Câbles",
        "ENI-A-1",
        "PC-B-1",
        funded["screen_room"],
        "Ecole élémentaire Robert Doisneau",
        "capped at",
        "11,130.00",
        "8,130.00",
        "Financé par l'Union européenne",
    ):
        assert expected in text, expected

    csv = client.get(f"/subventions/{dossier_id}/depenses.csv")
    assert csv.status_code == 200
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) == 1 + 4  # two invoices × two schools
    # For French spreadsheets: ';' and a decimal comma; ?csv=plain: ',' and a dot, no BOM.
    assert any("F-001;" in line and "0940176F" in line and ";12000,00" in line for line in lines)
    assert any("ENI-A-1" in line for line in lines)
    plain = client.get(f"/subventions/{dossier_id}/depenses.csv?csv=plain").get_data(as_text=True)
    assert not plain.startswith("\ufeff")
    assert any("F-001," in line and ",12000.00" in line for line in plain.splitlines())

    xlsx = client.get(f"/subventions/{dossier_id}/depenses.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 5 and rows[1][1] == "F-001" and rows[1][7] == 14400
    amount = next(book.worksheets[0].iter_rows(min_row=2, max_row=2))[7]
    assert amount.number_format == "#,##0.00"  # an amount, shown as one
    items = list(book.worksheets[1].iter_rows(values_only=True))
    assert {r[3] for r in items[1:]} == {"ENI-A-1", "PC-B-1"}
    book.close()

    # The CLI prints the same breakdown.
    result = app.test_cli_runner().invoke(args=["grants", "compute", str(dossier_id)])
    assert result.exit_code == 0, result.output
    assert "11" in result.output and "130,00" in result.output  # French by default


def test_status_transitions(app, world, db_session):
    client = client_for(app, world["users"]["gestionnaire"])
    dossier_id = create_dossier(client, world)
    refused = client.post(f"/subventions/{dossier_id}/statut", data={"status-status": "paid"})
    assert refused.status_code == 422
    assert "cannot become" in refused.get_data(as_text=True)
    move(client, dossier_id, "submitted", "draft", "submitted", "rejected", "draft")
    db_session.expire_all()
    assert db_session.get(Dossier, dossier_id).status.value == "draft"
    payment = client.post(
        f"/subventions/{dossier_id}/versements",
        data={
            "payment-kind": "advance",
            "payment-received_on": "2021-09-01",
            "payment-received": "100",
        },
    )
    assert payment.status_code == 422, "no payment before the convention is signed"
    assert count(db_session, Payment) == 0


def test_a_conflicting_edit_answers_409_and_saves_nothing(app, world, funded, db_session):
    client, dossier_id = funded["client"], funded["dossier"]
    page = client.get(f"/subventions/{dossier_id}/modifier").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page or 'value="1"' in page
    theirs = db_session.get(Dossier, dossier_id)
    theirs.title = "Their title"
    db_session.commit()
    response = client.post(
        f"/subventions/{dossier_id}/modifier",
        data=dossier_form(world, title="My title", version="1"),
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved" in html and 'value="My title"' in html  # nothing lost
    db_session.expire_all()
    assert db_session.get(Dossier, dossier_id).title == "Their title"

    expense = db_session.scalar(select(Expense).filter_by(invoice_number="F-002"))
    expense.description = "their note"
    db_session.commit()
    form = expense_form(
        world,
        "5000",
        "6000",
        shares=[(world["a"], "2500", "3000"), (world["b"], "2500", "3000")],
        invoice_number="F-002-bis",
        version="1",
    )
    response = client.post(f"/subventions/depenses/{expense.id}", data=form)
    assert response.status_code == 409
    assert 'value="F-002-bis"' in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Expense, expense.id).invoice_number == "F-002"
    # Saved again knowingly (the page now carries the current version), it goes through.
    form["version"] = str(db_session.get(Expense, expense.id).version)
    assert client.post(f"/subventions/depenses/{expense.id}", data=form).status_code == 302


def test_splits_and_links_that_do_not_add_up_are_refused(app, world, funded, db_session):
    client, dossier_id = funded["client"], funded["dossier"]
    cart, _room = new_asset(db_session, world["a"], "tablette", AssetStatus.ORDERED, None, "T-1")
    before = (count(db_session, Expense), count(db_session, FundingLink))
    url = f"/subventions/{dossier_id}/depenses/nouvelle"
    cases = [
        (
            expense_form(
                world,
                "1000",
                "1200",
                shares=[(world["a"], "500", "600"), (world["b"], "400", "500")],
            ),
            "add up to",
        ),
        (expense_form(world, "1000", "1200"), "Split the invoice"),
        (
            expense_form(
                world,
                "1000",
                "1200",
                shares=[(world["a"], "1000", "1200")],
                links=[(f"a:{cart}", "1300")],
            ),
            "more than the invoice",
        ),
        (
            # The screen costs 4,800 €, all of it already paid by invoice 1.
            expense_form(
                world,
                "1000",
                "1200",
                shares=[(world["a"], "1000", "1200")],
                links=[(f"a:{funded['screen']}", "100")],
            ),
            "costs",
        ),
        (expense_form(world, "1000", "900", shares=[(world["a"], "1000", "900")]), "lower"),
        (
            expense_form(
                world,
                "1000",
                "1200",
                shares=[(world["a"], "1000", "1200")],
                links=[(f"a:{cart}", "")],
            ),
            "Give the amount",
        ),
        (expense_form(world, "abc", "1200"), "not an amount"),
    ]
    for data, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), message
    assert (count(db_session, Expense), count(db_session, FundingLink)) == before


def test_a_one_school_dossier_takes_the_whole_invoice(app, world, db_session):
    """Classes and pupils left empty default to the school's elementary classrooms and its
    pupils (here the sum of its classrooms')."""
    client = client_for(app, world["users"]["gestionnaire"])
    data = dossier_form(world, **{"schools-0-classes": "", "schools-0-pupils": ""})
    for key in [k for k in data if k.startswith("schools-1-")]:
        del data[key]
    url = f"/subventions/nouveau?collectivite={world['fresnes']}&scheme={world['snee']}"
    response = client.post(url, data={**data, "reference": "99"})
    assert response.status_code == 302
    dossier_id = int(response.location.split("/")[-1])
    response = client.post(
        f"/subventions/{dossier_id}/depenses/nouvelle", data=expense_form(world, "7500", "9000")
    )
    assert response.status_code == 302
    dossier = db_session.get(Dossier, dossier_id)
    ecole = db_session.get(Ecole, world["a"])
    (row,) = dossier.schools
    assert row.classes == len(ecole.classrooms) >= 3  # an élémentaire: every room is a target
    assert row.pupils == (ecole.pupils or sum(r.pupils or 0 for r in ecole.classrooms))
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    # 70 % of 9,000 €, under the cap of at least 3 classes × 3,500 €.
    assert f"State aid: {eur('6,300.00')}" in html


def test_a_scheme_change_waits_for_apply_current_rules(app, world, funded, db_session):
    admin = client_for(app, world["users"]["admin"])
    page = admin.get(f"/subventions/dispositifs/{world['snee']}")
    assert page.status_code == 200
    scheme = db_session.get(FundingScheme, world["snee"])
    form = scheme_form(scheme)
    html = page.get_data(as_text=True)
    assert 'value="2021-01-14"' in html and 'value="2023-06-30"' in html  # its dates
    assert "spending_from" not in html.split('name="rules"')[1]  # not in the JSON
    rules = json.loads(form["rules"])
    rules["volets"][0]["tiers"][0]["rate"] = "0.50"
    form["rules"] = json.dumps(rules)
    bad = admin.post(
        f"/subventions/dispositifs/{world['snee']}",
        data={**form, "rules": '{"volets": [{"code": "x", "tiers": [{"rate": "7"}]}]}'},
    )
    assert bad.status_code == 422 and "between 0 and 1" in bad.get_data(as_text=True)
    assert admin.post(f"/subventions/dispositifs/{world['snee']}", data=form).status_code == 302
    db_session.expire_all()
    assert db_session.get(FundingScheme, world["snee"]).version == 2

    client, dossier_id = funded["client"], funded["dossier"]
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert "version 1 → 2" in html
    assert f"State aid: {eur('11,130.00')}" in html, "the frozen rules still apply"
    assert eur("7,950.00") in html  # the preview: 50 % of 15,900 €
    response = client.post(f"/subventions/{dossier_id}/regles", data={"rules-version": "1"})
    assert response.status_code == 302
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert f"State aid: {eur('7,950.00')}" in html and "version 1 → 2" not in html
    change = db_session.scalar(
        select(AuditRecord)
        .where(AuditRecord.object_type == "dossiers", AuditRecord.object_id == dossier_id)
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    assert change.changes["scheme_version"] == [1, 2]


def test_a_technicien_reads_but_cannot_write(app, world, funded, db_session):
    dossier_id = funded["dossier"]
    expense_id = db_session.scalar(select(Expense.id).filter_by(invoice_number="F-001"))
    tech = client_for(app, world["users"]["technicien"])
    page = tech.get(f"/subventions/{dossier_id}")
    assert page.status_code == 200 and eur("11,130.00") in page.get_data(as_text=True)
    assert "Add an invoice" not in page.get_data(as_text=True)
    assert tech.get(f"/subventions/{dossier_id}/demande-de-versement.pdf").status_code == 200
    before = count(db_session, AuditRecord)
    for url, data in [
        (f"/subventions/{dossier_id}/depenses/nouvelle", expense_form(world, "10", "12")),
        (f"/subventions/{dossier_id}/statut", {"status-status": "submitted"}),
        (f"/subventions/{dossier_id}/modifier", dossier_form(world, title="x")),
        (f"/subventions/depenses/{expense_id}", expense_form(world, "10", "12")),
        (f"/subventions/{dossier_id}/versements", {"payment-kind": "advance"}),
        (f"/subventions/{dossier_id}/regles", {}),
        ("/subventions/nouveau", {}),
    ]:
        assert tech.post(url, data=data).status_code == 404, url
    assert tech.get(f"/subventions/depenses/{expense_id}").status_code == 404
    assert count(db_session, AuditRecord) == before


def test_documents_and_the_other_communes_finance_officer(app, world, funded, db_session):
    client, dossier_id = funded["client"], funded["dossier"]
    refused = client.post(
        f"/subventions/{dossier_id}/documents",
        data={
            "document-kind": "convention",
            "document-file": (io.BytesIO(b"MZ not a pdf"), "convention.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422 and "PDF, JPEG or PNG" in refused.get_data(as_text=True)
    response = client.post(
        f"/subventions/{dossier_id}/documents",
        data={
            "document-kind": "convention",
            "document-file": (io.BytesIO(PDF), "convention signée.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert "convention signée.pdf" in html
    doc_url = "/subventions/documents/" + html.split("/subventions/documents/")[1].split('"')[0]
    download = client.get(doc_url)
    assert download.status_code == 200 and download.data == PDF
    download.close()
    expense_id = db_session.scalar(select(Expense.id).filter_by(invoice_number="F-001"))
    edit = expense_form(
        world,
        "12 000",
        "14 400",
        shares=[(world["a"], "10 000", "12 000"), (world["b"], "2 000", "2 400")],
        links=[(f"a:{funded['screen']}", "4 800"), (f"a:{funded['laptop']}", "1200")],
        version="1",
        invoice_file=(io.BytesIO(b"\x89PNG\r\n\x1a\nrest"), "facture.png"),
    )
    response = client.post(
        f"/subventions/depenses/{expense_id}", data=edit, content_type="multipart/form-data"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    invoice = client.get(f"/subventions/depenses/{expense_id}/facture")
    assert invoice.status_code == 200 and invoice.mimetype == "image/png"
    invoice.close()

    other = client_for(app, world["users"]["other"])
    for url in (
        f"/subventions/{dossier_id}",
        f"/subventions/{dossier_id}/demande-de-versement.pdf",
        f"/subventions/{dossier_id}/depenses.csv",
        doc_url,
        f"/subventions/depenses/{expense_id}/facture",
    ):
        assert other.get(url).status_code == 404, url
    listing = other.get("/subventions").get_data(as_text=True)
    assert "Socle numérique 2021" not in listing


def test_reconciliation(app, world, funded, db_session):
    client, dossier_id = funded["client"], funded["dossier"]
    unfunded, _room = new_asset(
        db_session, world["a"], "vpi", AssetStatus.IN_SERVICE, 150_000, "VPI-UNFUNDED"
    )
    dossier = db_session.get(Dossier, dossier_id)
    dossier.spending_deadline = date.today() + timedelta(days=30)
    db_session.commit()
    html = client.get("/subventions/rapprochement").get_data(as_text=True)
    funded_part = html.split('id="funded-not-in-service"')[1].split("</section>")[0]
    unfunded_part = html.split('id="in-service-unfunded"')[1].split("</section>")[0]
    deadlines = html.split('id="deadlines"')[1].split("</section>")[0]
    caps = html.split('id="over-caps"')[1].split("</section>")[0]
    assert "PC-B-1" in funded_part and "ENI-A-1" not in funded_part
    assert "VPI-UNFUNDED" in unfunded_part and "ENI-A-1" not in unfunded_part
    assert "Socle numérique 2021" in deadlines
    assert "Robert Doisneau" in caps and eur("4,500.00") in caps  # 15,000 − 10,500
    # Another commune's officer sees none of it.
    other = client_for(app, world["users"]["other"]).get("/subventions/rapprochement")
    assert "PC-B-1" not in other.get_data(as_text=True)
    assert db_session.get(Asset, unfunded).status is AssetStatus.IN_SERVICE


# -- the scheme's dates ----------------------------------------------------------------
LATE = expense_form  # an invoice of the worked example's dossier, dated as the test says


def test_an_invoice_after_the_spending_window_counts_for_nothing(app, world, funded, db_session):
    """Invoice F-003, 1,200 € incl. VAT for Jean Monet (B), is dated 15 January 2023, after
    the SNEE 2021 window (31 December 2022). Counted, it would raise B's eligible spending to
    6,600 € (under its 7,000 € cap) and the aid by 840 €; it is recorded, flagged and left
    out: the aid stays 11,130 €, and the claim file does not claim it."""
    client, dossier_id = funded["client"], funded["dossier"]
    late = LATE(
        world,
        "1000",
        "1200",
        shares=[(world["b"], "1000", "1200")],
        invoice_number="F-003",
        invoice_date="2023-01-15",
    )
    response = client.post(
        f"/subventions/{dossier_id}/depenses/nouvelle", data=late, follow_redirects=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "flash-warning" in html and "Invoice F-003 recorded. It counts for no aid" in html
    reason = "dated 15 Jan 2023, after the end of eligible spending (31 Dec 2022)"
    assert reason in html
    assert f"State aid: {eur('11,130.00')}" in html
    assert eur("21,600.00") in html  # every invoice recorded, incl. VAT
    assert eur("15,900.00") in html  # eligible: unchanged
    row = html.split('class="expense-ineligible"')[1].split("</tr>")[0]
    assert "F-003" in row
    assert "not eligible" in row and reason in row
    assert "1 invoice (1,200.00" in html and "not claimed" in html
    assert (
        f"Invoice Speechi F-003 (Ecole élémentaire Jean Monet, {eur('1,200.00')}): {reason}: "
        "not eligible" in html
    )
    assert "Eligible spending (invoice dates)" in html and "from 14 Jan 2021 to 31 Dec 2022" in html
    assert "30 Jun 2023" in html  # the claim deadline, day first (en-GB)

    text = pdf_text(client.get(f"/subventions/{dossier_id}/demande-de-versement.pdf").data)
    assert "F-003" not in text
    assert "Spending claimed (incl. VAT)" in text and "20,400.00" in text
    assert "21,600.00" not in text
    assert "1 invoice of the dossier is not claimed" in text
    assert "11,130.00" in text
    lines = client.get(f"/subventions/{dossier_id}/depenses.csv").get_data(as_text=True)
    assert "F-003" not in lines and len(lines.strip().splitlines()) == 1 + 4
    result = app.test_cli_runner().invoke(args=["grants", "compute", str(dossier_id)])
    assert result.exit_code == 0 and "F-003" in result.output and "2023" in result.output

    # Without a date the invoice is refused: nothing would show it lies within the window.
    undated = LATE(world, "100", "120", shares=[(world["b"], "100", "120")], invoice_number="F-004")
    undated["invoice_date"] = ""
    refused = client.post(f"/subventions/{dossier_id}/depenses/nouvelle", data=undated)
    assert refused.status_code == 422
    assert "Give the invoice date" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).where(Expense.invoice_number == "F-004")) == 0


def test_a_dossier_keeps_the_dates_it_was_created_under(app, world, funded, db_session):
    """The administrator moves the end of eligible spending to 31 December 2023: the scheme's
    rules become version 2, the dossier keeps 2022 (the late invoice still counts for
    nothing) until its finance officer applies the new rules: then the 1,200 € count, and
    the aid is 11,130 + 70 % × 1,200 = 11,970 €."""
    client, dossier_id = funded["client"], funded["dossier"]
    late = LATE(
        world,
        "1000",
        "1200",
        shares=[(world["b"], "1000", "1200")],
        invoice_number="F-003",
        invoice_date="2023-01-15",
    )
    assert client.post(f"/subventions/{dossier_id}/depenses/nouvelle", data=late).status_code == 302
    admin = client_for(app, world["users"]["admin"])
    scheme = db_session.get(FundingScheme, world["snee"])
    url = f"/subventions/dispositifs/{world['snee']}"
    bad = admin.post(url, data=scheme_form(scheme, spending_to="2020-12-31"))
    assert bad.status_code == 422 and "comes before its start" in bad.get_data(as_text=True)
    bad = admin.post(url, data=scheme_form(scheme, claim_deadline="2022-06-30"))
    assert bad.status_code == 422
    assert "The claim deadline comes before the end" in bad.get_data(as_text=True)
    moved = scheme_form(scheme, spending_to="2023-12-31", claim_deadline="2024-06-30")
    assert admin.post(url, data=moved).status_code == 302
    db_session.expire_all()
    scheme = db_session.get(FundingScheme, world["snee"])
    assert scheme.version == 2 and scheme.rules["spending_to"] == "2023-12-31"
    assert "31 Dec 2023" in admin.get("/subventions/dispositifs").get_data(as_text=True)
    assert db_session.get(Dossier, dossier_id).rules["spending_to"] == "2022-12-31"

    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert f"State aid: {eur('11,130.00')}" in html and "version 1 → 2" in html
    assert eur("11,970.00") in html  # the preview under the new rules
    version = db_session.get(Dossier, dossier_id).version
    response = client.post(
        f"/subventions/{dossier_id}/regles", data={"rules-version": str(version)}
    )
    assert response.status_code == 302
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert f"State aid: {eur('11,970.00')}" in html and "not eligible" not in html


def test_a_payment_above_the_aid_needs_a_confirmation_the_log_keeps(app, world, funded, db_session):
    """The aid is 11,130 €. 11,000 € received are recorded; 500 € more would make 11,500 €,
    370 € above the aid: refused, unless the officer ticks the confirmation, which the
    payment keeps and the change log shows; the dossier page then warns."""
    client, dossier_id = funded["client"], funded["dossier"]
    move(client, dossier_id, "submitted", "approved", "signed")

    def pay(cents_text, **extra):
        data = {
            "payment-kind": "instalment",
            "payment-received_on": "2022-03-01",
            "payment-received": cents_text,
            **extra,
        }
        return client.post(f"/subventions/{dossier_id}/versements", data=data)

    assert pay("11 000").status_code == 302
    refused = pay("500", **{"payment-reference": "VIR-2"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert (
        f"With this payment, {eur('11,500.00')} would be received: {eur('370.00')} more than "
        f"the aid computed from the eligible spending ({eur('11,130.00')})" in html
    )
    assert 'name="payment-over_aid_confirmed"' in html and 'value="VIR-2"' in html
    assert count(db_session, Payment) == 1
    # A request for money (nothing received yet) is never refused.
    request_only = {"payment-requested_on": "2022-03-01", "payment-requested": "5000"}
    response = client.post(
        f"/subventions/{dossier_id}/versements",
        data={"payment-kind": "balance", **request_only},
    )
    assert response.status_code == 302

    assert pay("500", **{"payment-over_aid_confirmed": "y"}).status_code == 302
    db_session.expire_all()
    confirmed = db_session.scalar(select(Payment).where(Payment.received_cents == 50_000))
    assert confirmed.over_aid_confirmed is True
    first = db_session.scalar(select(Payment).where(Payment.received_cents == 1_100_000))
    assert first.over_aid_confirmed is False
    record = db_session.scalar(
        select(AuditRecord).where(
            AuditRecord.object_type == "payments", AuditRecord.object_id == confirmed.id
        )
    )
    assert record.changes["over_aid_confirmed"] == [None, True]
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert (
        f"The payments received ({eur('11,500.00')}) exceed the aid computed from the eligible "
        f"spending ({eur('11,130.00')}) by {eur('370.00')}" in html
    )
    assert "above the aid, confirmed" in html
    report = client.get("/subventions/rapprochement").get_data(as_text=True)
    part = report.split('id="over-received"')[1].split("</section>")[0]
    assert "Socle numérique 2021" in part and eur("370.00") in part
    other = client_for(app, world["users"]["other"]).get("/subventions/rapprochement")
    assert "Socle numérique 2021" not in other.get_data(as_text=True).split('id="over-received"')[1]

    # Corrected to 100 €, it no longer goes above the aid: the confirmation is dropped.
    page = client.get(f"/subventions/versements/{confirmed.id}").get_data(as_text=True)
    (box,) = re.findall(r'<input[^>]*name="over_aid_confirmed"[^>]*>', page)
    assert "checked" in box
    edited = client.post(
        f"/subventions/versements/{confirmed.id}",
        data={"kind": "instalment", "received_on": "2022-03-01", "received": "100"},
    )
    assert edited.status_code == 302
    db_session.expire_all()
    assert db_session.get(Payment, confirmed.id).over_aid_confirmed is False
    change = db_session.scalar(
        select(AuditRecord)
        .where(AuditRecord.object_type == "payments", AuditRecord.object_id == confirmed.id)
        .order_by(AuditRecord.id.desc())
        .limit(1)
    )
    assert change.changes["over_aid_confirmed"] == [True, False]
    # Back above the aid without the box ticked: refused, nothing changes.
    again = client.post(
        f"/subventions/versements/{confirmed.id}",
        data={"kind": "instalment", "received_on": "2022-03-01", "received": "900"},
    )
    assert again.status_code == 422 and "would be received" in again.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Payment, confirmed.id).received_cents == 10_000


def test_dossier_statuses_use_the_programmes_words(app, world, funded, db_session):
    """In French: brouillon, déposé, retenu, convention signée… on the dossier, the list, the
    filter, the claim file; and in English the matching words."""
    client, dossier_id = funded["client"], funded["dossier"]
    move(client, dossier_id, "submitted", "approved")
    html = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert '<span class="tag dossier-status-approved">selected</span>' in html
    client.post("/language", data={"lang": "fr", "next": "/"})
    listing = client.get("/subventions").get_data(as_text=True)
    assert '<span class="tag dossier-status-approved">retenu</span>' in listing
    for word in ("brouillon", "déposé", "non retenu", "convention signée", "soldé", "clôturé"):
        assert f">{word}</option>" in listing, word
    page = client.get(f"/subventions/{dossier_id}").get_data(as_text=True)
    assert ">convention signée</option>" in page and ">non retenu</option>" in page
    text = pdf_text(client.get(f"/subventions/{dossier_id}/demande-de-versement.pdf").data)
    assert "retenu" in text
