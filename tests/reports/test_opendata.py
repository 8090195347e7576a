"""The open-data files in the ministry's shapes (fr-en-aap-snee-collectivites and
fr-en-aap-snee-ecoles), their extended variants, and the page that documents their fields.

The arranged case: Créteil's signed convention covers two of its elementary schools, in two
circonscriptions, with 16,000 € of invoices and one payment of 5,000 € received (a second
one only requested)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import select, update

from inventory.core import audit
from inventory.core.policy import Role
from inventory.grants import services as grants
from inventory.grants.models import Dossier, DossierStatus, PaymentKind
from inventory.orgs.models import Academie, Collectivite, Ecole
from inventory.reports import opendata
from tests.factories.registry import ADMIN, ANNUAIRE_094, login

BASE = "/tableau-de-bord/donnees-ouvertes"

# The ministry's fields, in the ministry's order (DOMAIN.md, issue 19).
MINISTRY_COLLECTIVITES = [
    "code_region",
    "region_academique_ou_com",
    "code_academie",
    "academie",
    "code_departement",
    "departement",
    "raison_sociale_du_signataire_de_la_convention",
    "siren_signataire_de_la_convention",
    "code_commune_siege",
    "nom_officiel_commune_siege",
    "nombre_de_communes",
    "nombre_d_ecoles",
    "depenses_realisees_par_la_collectivite",
    "montant_de_la_subvention",
    "position",
]
MINISTRY_ECOLES = [
    "code_region",
    "region_academique_ou_com",
    "code_academie",
    "academie",
    "code_departement_uai",
    "departement_uai",
    "code_commune_uai",
    "nom_de_la_commune_uai",
    "uai",
    "nom_de_l_ecole",
    "secteur_public_prive",
    "nombre_d_eleves",
    "nombre_de_classes_referentiel",
    "raison_sociale_du_signataire_de_la_convention",
    "siren_signataire_de_la_convention",
    "code_commune_siege",
    "nom_officiel_commune_siege",
    "position_ecole",
]
EXTENDED_COLLECTIVITES = [
    *MINISTRY_COLLECTIVITES,
    "socle_reference_convention",
    "socle_depenses_eligibles",
    "socle_aide_calculee",
    "socle_montant_maximal_convention",
    "socle_reste_a_percevoir",
]
EXTENDED_ECOLES = [
    *MINISTRY_ECOLES,
    "socle_reference_convention",
    "socle_nombre_de_classes_cibles",
    "socle_nombre_de_classes_au_socle",
    "socle_depenses_realisees",
    "socle_depenses_eligibles",
    "socle_aide_calculee",
    "socle_aide_versee",
]
HEADERS = {
    "fr-en-aap-snee-collectivites": MINISTRY_COLLECTIVITES,
    "fr-en-aap-snee-ecoles": MINISTRY_ECOLES,
    "fr-en-aap-snee-collectivites-etendu": EXTENDED_COLLECTIVITES,
    "fr-en-aap-snee-ecoles-etendu": EXTENDED_ECOLES,
}
# Two elementary schools of Créteil, in two circonscriptions, and their Annuaire rows.
CAMUS, PASCAL = "0940535W", "0942147Y"
REFERENCE = "SNEE-2021-CRETEIL-07"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))


def read_xlsx(response) -> list[list[Any]]:
    assert response.status_code == 200, response.data[:300]
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def annuaire(uai: str) -> dict[str, str]:
    with ANNUAIRE_094.open(encoding="utf-8-sig", newline="") as f:
        return next(r for r in csv.DictReader(f, delimiter=";") if r[HEAD_UAI] == uai)


HEAD_UAI = "Identifiant_de_l_etablissement"


@pytest.fixture
def convention(app, registry, db_session) -> dict[str, Any]:
    """Créteil's signed convention over Camus (12,000 €) and Pascal (4,000 €), one payment
    of 5,000 € received and one requested, nothing received yet on the other."""
    camus = db_session.scalar(select(Ecole).filter_by(uai=CAMUS))
    pascal = db_session.scalar(select(Ecole).filter_by(uai=PASCAL))
    creteil = db_session.get(Collectivite, registry["collectivites"]["Créteil"])
    assert camus.circonscription_id != pascal.circonscription_id
    with audit.acting_as(audit.Actor(None, "fixture")):
        grants.install_presets(db_session)
        scheme = next(s for s in grants.schemes(db_session) if s.code == "snee-2021")
        dossier = grants.create_dossier(
            db_session,
            ADMIN,
            collectivite=creteil,
            scheme=scheme,
            fields=grants.DossierFields(
                title="Socle numérique Créteil",
                reference=REFERENCE,
                convention_max_cents=2_000_000,
            ),
            schools=[
                grants.SchoolCover(camus.id, classes=4, pupils=100),
                grants.SchoolCover(pascal.id, classes=2, pupils=45),
            ],
        )
        grants.add_expense(
            db_session,
            ADMIN,
            dossier,
            grants.ExpenseFields(
                volet="equipement",
                supplier="Speechi",
                invoice_number="F-2022-118",
                amount_ht_cents=1_333_334,
                amount_ttc_cents=1_600_000,
                invoice_date=date(2022, 2, 1),
            ),
            allocations=[
                grants.AllocationInput(camus.id, 1_000_000, 1_200_000),
                grants.AllocationInput(pascal.id, 333_334, 400_000),
            ],
        )
        for step in (DossierStatus.SUBMITTED, DossierStatus.APPROVED, DossierStatus.SIGNED):
            grants.change_dossier_status(db_session, ADMIN, dossier, step)
        grants.record_payment(
            db_session,
            ADMIN,
            dossier,
            grants.PaymentFields(
                kind=PaymentKind.ADVANCE, received_on=date(2022, 5, 2), received_cents=500_000
            ),
        )
        grants.record_payment(
            db_session,
            ADMIN,
            dossier,
            grants.PaymentFields(
                kind=PaymentKind.BALANCE, requested_on=date(2022, 9, 1), requested_cents=400_000
            ),
        )
        result = grants.dossier_aid(db_session.get(Dossier, dossier.id))
    return {
        "dossier": dossier.id,
        "creteil": creteil.id,
        "siren": creteil.siren,
        "academie": camus.departement.academie_id,
        "schools": {CAMUS: camus.id, PASCAL: pascal.id},
        "circonscriptions": {CAMUS: camus.circonscription_id, PASCAL: pascal.circonscription_id},
        "coordinates": {
            CAMUS: (camus.latitude, camus.longitude),
            PASCAL: (pascal.latitude, pascal.longitude),
        },
        "aid": result,
    }


def client_for(app, make_user, role, scopes=()):
    client = app.test_client()
    assert login(client, make_user(role, scopes)).status_code == 302
    return client


def euros(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


# -- headers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(HEADERS))
def test_each_file_has_exactly_its_fields_in_order_in_csv_and_xlsx(
    app, convention, make_user, name
):
    client = client_for(app, make_user, Role.AUDITEUR, [("academie", convention["academie"])])
    rows = read_csv(client.get(f"{BASE}/{name}"))
    assert rows[0] == HEADERS[name]
    assert len(rows) > 1 and all(len(r) == len(HEADERS[name]) for r in rows)
    sheet = read_xlsx(client.get(f"{BASE}/{name}?format=xlsx"))
    assert [str(c) for c in sheet[0]] == HEADERS[name]
    assert len(sheet) == len(rows)


def test_the_module_columns_are_the_ministry_lists():
    assert list(opendata.COLLECTIVITES_COLUMNS) == MINISTRY_COLLECTIVITES
    assert list(opendata.ECOLES_COLUMNS) == MINISTRY_ECOLES
    assert len(MINISTRY_COLLECTIVITES) == 15 and len(MINISTRY_ECOLES) == 18
    assert list(opendata.COLLECTIVITES_EXTENDED_COLUMNS) == EXTENDED_COLLECTIVITES
    assert list(opendata.ECOLES_EXTENDED_COLUMNS) == EXTENDED_ECOLES
    # Socle's own figures never sit in a ministry-shaped file, and always say they are Socle's.
    for ds in opendata.DATASETS:
        assert not any(c.startswith("socle_") for c in ds.columns)
        assert all(f.name.startswith("socle_") for f in ds.extra)


def test_a_reader_without_convention_gets_the_headers_alone(app, convention, make_user, registry):
    fresnes = next(v for k, v in registry["circonscriptions"].items() if "Fresnes" in k)
    client = client_for(app, make_user, Role.AUDITEUR, [("circonscription", fresnes)])
    for name, header in HEADERS.items():
        assert read_csv(client.get(f"{BASE}/{name}")) == [header]
        assert [
            [str(c) for c in r] for r in read_xlsx(client.get(f"{BASE}/{name}?format=xlsx"))
        ] == [header]


# -- values of the arranged case ----------------------------------------------------------------
def test_the_conventions_file_says_the_aid_paid_and_the_extended_one_the_aid_computed(
    app, convention, make_user
):
    client = client_for(app, make_user, Role.AUDITEUR, [("academie", convention["academie"])])
    (header, row) = read_csv(client.get(f"{BASE}/fr-en-aap-snee-collectivites"))
    values = dict(zip(header, row, strict=True))
    (lat_a, lon_a), (lat_b, lon_b) = convention["coordinates"].values()
    assert values == {
        "code_region": "11",
        "region_academique_ou_com": "Ile-de-France",
        "code_academie": "24",
        "academie": "Créteil",
        "code_departement": "094",
        "departement": "Val-de-Marne",
        "raison_sociale_du_signataire_de_la_convention": "Créteil",
        "siren_signataire_de_la_convention": convention["siren"],
        "code_commune_siege": "94028",
        "nom_officiel_commune_siege": "Créteil",
        "nombre_de_communes": "1",
        "nombre_d_ecoles": "2",
        "depenses_realisees_par_la_collectivite": "16000.00",
        "montant_de_la_subvention": "5000.00",  # received, not computed, not requested
        # The siège's point: the mean of its two schools' Annuaire coordinates.
        "position": f"{round((lat_a + lat_b) / 2, 6)}, {round((lon_a + lon_b) / 2, 6)}",
    }
    assert re.fullmatch(r"48\.7\d+, 2\.4\d+", values["position"])
    aid = convention["aid"]
    assert aid.aid_cents not in (0, 500_000)
    assert euros(aid.aid_cents) not in row  # the computed aid is not in the ministry's file
    (ext_header, ext_row) = read_csv(client.get(f"{BASE}/fr-en-aap-snee-collectivites-etendu"))
    assert ext_row[:15] == row
    extended = dict(zip(ext_header, ext_row, strict=True))
    assert extended["socle_reference_convention"] == REFERENCE
    assert extended["socle_aide_calculee"] == euros(aid.aid_cents)
    assert extended["socle_depenses_eligibles"] == euros(aid.eligible_cents)
    assert extended["socle_montant_maximal_convention"] == "20000.00"
    assert extended["socle_reste_a_percevoir"] == euros(aid.aid_cents - 500_000)
    # XLSX: amounts are numbers, codes stay text.
    sheet = read_xlsx(client.get(f"{BASE}/fr-en-aap-snee-collectivites-etendu?format=xlsx"))
    cells = dict(zip(sheet[0], sheet[1], strict=True))
    assert cells["montant_de_la_subvention"] == 5000
    assert cells["socle_aide_calculee"] == pytest.approx(aid.aid_cents / 100)
    assert cells["code_departement"] == "094" and cells["code_region"] == "11"


def test_the_schools_file_has_one_row_per_school_of_the_convention(app, convention, make_user):
    client = client_for(app, make_user, Role.AUDITEUR, [("academie", convention["academie"])])
    header, *rows = read_csv(client.get(f"{BASE}/fr-en-aap-snee-ecoles"))
    by_uai = {r[header.index("uai")]: dict(zip(header, r, strict=True)) for r in rows}
    assert sorted(by_uai) == sorted([CAMUS, PASCAL])
    camus, source = by_uai[CAMUS], annuaire(CAMUS)
    assert camus == {
        "code_region": source["Code_region"],
        "region_academique_ou_com": source["Libelle_region"],
        "code_academie": source["Code_academie"],
        "academie": source["Libelle_academie"],
        "code_departement_uai": source["Code_departement"],
        "departement_uai": source["Libelle_departement"],
        "code_commune_uai": source["Code_commune"],
        "nom_de_la_commune_uai": source["Nom_commune"],
        "uai": CAMUS,
        "nom_de_l_ecole": source["Nom_etablissement"],
        "secteur_public_prive": source["Statut_public_prive"],
        "nombre_d_eleves": "100",
        "nombre_de_classes_referentiel": "4",
        "raison_sociale_du_signataire_de_la_convention": "Créteil",
        "siren_signataire_de_la_convention": convention["siren"],
        "code_commune_siege": "94028",
        "nom_officiel_commune_siege": "Créteil",
        # As the Annuaire's own position column writes it.
        "position_ecole": source["position"],
    }
    assert by_uai[PASCAL]["nombre_de_classes_referentiel"] == "2"
    assert by_uai[PASCAL]["position_ecole"] == annuaire(PASCAL)["position"]
    # The extended file: the same rows first, then Socle's figures per school.
    ext_header, *ext_rows = read_csv(client.get(f"{BASE}/fr-en-aap-snee-ecoles-etendu"))
    assert [r[:18] for r in ext_rows] == rows
    ext = {r[8]: dict(zip(ext_header, r, strict=True)) for r in ext_rows}
    aid = convention["aid"]
    ids = convention["schools"]
    for uai in (CAMUS, PASCAL):
        assert ext[uai]["socle_reference_convention"] == REFERENCE
        assert ext[uai]["socle_aide_calculee"] == euros(aid.by_school.get(ids[uai], 0))
    assert ext[CAMUS]["socle_depenses_realisees"] == "12000.00"
    assert ext[PASCAL]["socle_depenses_realisees"] == "4000.00"
    paid = [Decimal(ext[u]["socle_aide_versee"]) for u in (CAMUS, PASCAL)]
    assert sum(paid) == Decimal("5000.00")
    eligible = sum(Decimal(ext[u]["socle_depenses_eligibles"]) for u in (CAMUS, PASCAL))
    assert eligible == Decimal(aid.eligible_cents) / 100
    for uai in (CAMUS, PASCAL):
        targets = int(ext[uai]["socle_nombre_de_classes_cibles"])
        assert targets > 0 and int(ext[uai]["socle_nombre_de_classes_au_socle"]) == 0


def test_an_academie_without_region_leaves_the_region_fields_empty(
    app, convention, make_user, db_session
):
    db_session.execute(update(Academie).values(region_code=None, region_name=None))
    db_session.commit()
    client = client_for(app, make_user, Role.ADMIN)
    (_header, row) = read_csv(client.get(f"{BASE}/fr-en-aap-snee-collectivites"))
    assert row[:4] == ["", "", "24", "Créteil"]
    # The next Annuaire import completes the académie, and the files follow.
    result = app.test_cli_runner().invoke(args=["schools", "import-annuaire", str(ANNUAIRE_094)])
    assert result.exit_code == 0, result.output
    (_header, row) = read_csv(client.get(f"{BASE}/fr-en-aap-snee-collectivites"))
    assert row[:4] == ["11", "Ile-de-France", "24", "Créteil"]


# -- the policy --------------------------------------------------------------------------------
def test_an_ien_file_counts_only_their_circonscriptions_part(app, convention, make_user):
    circo = convention["circonscriptions"][CAMUS]
    ien = client_for(app, make_user, Role.AUDITEUR, [("circonscription", circo)])
    dan = client_for(app, make_user, Role.AUDITEUR, [("academie", convention["academie"])])
    theirs = dict(
        zip(*read_csv(ien.get(f"{BASE}/fr-en-aap-snee-collectivites-etendu")), strict=True)
    )
    whole = dict(
        zip(*read_csv(dan.get(f"{BASE}/fr-en-aap-snee-collectivites-etendu")), strict=True)
    )
    schools = read_csv(dan.get(f"{BASE}/fr-en-aap-snee-ecoles-etendu"))
    camus = dict(zip(schools[0], next(r for r in schools[1:] if r[8] == CAMUS), strict=True))
    assert theirs["nombre_d_ecoles"] == "1" and whole["nombre_d_ecoles"] == "2"
    assert theirs["depenses_realisees_par_la_collectivite"] == "12000.00"
    # Camus's part of the money received and of the aid, as in the schools' file.
    assert theirs["montant_de_la_subvention"] == camus["socle_aide_versee"]
    assert 0 < Decimal(theirs["montant_de_la_subvention"]) < Decimal("5000.00")
    assert theirs["socle_aide_calculee"] == camus["socle_aide_calculee"]
    # The position is that of their part: Camus's own point.
    lat, lon = convention["coordinates"][CAMUS]
    assert theirs["position"] == f"{lat}, {lon}"
    ien_schools = read_csv(ien.get(f"{BASE}/fr-en-aap-snee-ecoles"))
    assert [r[8] for r in ien_schools[1:]] == [CAMUS]
    # Another circonscription's convention part is out of reach, narrowed or not.
    other = convention["circonscriptions"][PASCAL]
    url = f"{BASE}/fr-en-aap-snee-ecoles-etendu?niveau=circonscription&id={other}"
    assert ien.get(url).status_code == 404


def test_a_collectivite_sees_its_own_conventions_only(app, convention, make_user, registry):
    mine = client_for(app, make_user, Role.GESTIONNAIRE, [("collectivite", convention["creteil"])])
    other = client_for(
        app, make_user, Role.GESTIONNAIRE, [("collectivite", registry["collectivites"]["Fresnes"])]
    )
    assert len(read_csv(mine.get(f"{BASE}/fr-en-aap-snee-collectivites"))) == 2
    assert len(read_csv(mine.get(f"{BASE}/fr-en-aap-snee-ecoles"))) == 3
    assert len(read_csv(other.get(f"{BASE}/fr-en-aap-snee-collectivites"))) == 1
    assert len(read_csv(other.get(f"{BASE}/fr-en-aap-snee-ecoles-etendu"))) == 1


def test_narrowed_to_a_school_the_files_hold_its_part(app, convention, make_user):
    client = client_for(app, make_user, Role.ADMIN)
    pascal = convention["schools"][PASCAL]
    rows = read_csv(client.get(f"{BASE}/fr-en-aap-snee-collectivites?niveau=ecole&id={pascal}"))
    values = dict(zip(*rows, strict=True))
    assert values["nombre_d_ecoles"] == "1"
    assert values["depenses_realisees_par_la_collectivite"] == "4000.00"


# -- the seat's position -----------------------------------------------------------------------
def _school(commune_id, lat, lon):
    place = opendata.Place(
        "11", "Ile-de-France", "24", "Créteil", "094", "Val-de-Marne", commune_id, None, None
    )
    return opendata.SchoolPlace("0000000A", "École", False, lat, lon, place)


def test_the_seat_position_comes_from_the_schools_at_the_seat():
    at_seat = [_school(1, 48.0, 2.0), _school(1, 48.5, 2.5)]
    elsewhere = [_school(2, 40.0, 1.0), _school(2, None, None)]
    assert opendata.seat_position(1, at_seat + elsewhere) == "48.25, 2.25"
    # Seat unknown (an intercommunal body), or none of its schools there: all of them.
    assert opendata.seat_position(None, at_seat + elsewhere) == "45.5, 1.833333"
    assert opendata.seat_position(3, elsewhere) == "40.0, 1.0"
    # One school: its point as the Annuaire gives it; none located: empty.
    assert opendata.geo_point([(48.75113972238502, 2.3235583553613646)]) == (
        "48.75113972238502, 2.3235583553613646"
    )
    assert opendata.seat_position(1, [_school(1, None, None)]) is None
    # Near the Greenwich meridian, plain decimals still.
    assert opendata.geo_point([(44.8378, 0.0000123)]) == "44.8378, 0.0000123"


_coordinate = st.floats(min_value=-60, max_value=60, allow_nan=False)
_located_school = st.tuples(st.sampled_from([1, 2, 3]), _coordinate, _coordinate)


@given(st.lists(_located_school, min_size=1, max_size=12), st.sampled_from([None, 1, 2, 4]))
def test_the_seat_position_lies_among_the_schools_it_comes_from(schools, seat):
    """Whatever the schools: the point is within the box of the schools at the seat, or of
    all of them when none is there, and reads as 'lat, lon'."""
    places = [_school(c, lat, lon) for c, lat, lon in schools]
    chosen = [s for s in schools if seat is not None and s[0] == seat] or schools
    point = opendata.seat_position(seat, places)
    assert point is not None and re.fullmatch(r"-?\d+\.\d+, -?\d+\.\d+", point)
    lat, lon = (float(x) for x in point.split(", "))
    for value, index in ((lat, 1), (lon, 2)):
        low = min(s[index] for s in chosen)
        high = max(s[index] for s in chosen)
        assert low - 1e-6 <= value <= high + 1e-6


# -- the documentation of the fields -----------------------------------------------------------
def test_every_field_is_documented_once():
    for ds in opendata.DATASETS:
        names = [f.name for f in ds.fields + ds.extra]
        assert len(names) == len(set(names)), ds.name
        for f in ds.fields + ds.extra:
            assert str(f.content).strip() and str(f.source).strip(), f.name


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_field_page_documents_every_field_in_the_interface_language(
    app, convention, make_user, lang
):
    from flask_babel import force_locale

    client = client_for(app, make_user, Role.AUDITEUR, [("academie", convention["academie"])])
    client.post("/language", data={"lang": lang, "next": "/"})
    dashboard = client.get("/tableau-de-bord").get_data(as_text=True)
    assert f'href="{BASE}"' in dashboard  # linked from where the files are offered
    page = client.get(BASE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "style=" not in html
    with app.test_request_context(), force_locale(lang):
        for ds in opendata.DATASETS:
            assert ds.name in html and ds.extended_name in html
            for f in ds.fields + ds.extra:
                assert f"<code>{f.name}</code>" in html, f.name
                for text in (str(f.content), str(f.source)):
                    assert str(escape(text)) in html, (f.name, text)
        for name in HEADERS:
            assert f'href="{BASE}/{name}?format=csv"' in html
    phrase = {
        "fr": "Où Socle le prend",
        "en": "Where Socle takes it from",
    }[lang]
    assert phrase in html
    montant = {"fr": "Aide versée au signataire", "en": "Aid paid to the signatory"}[lang]
    assert montant in html


# -- who may ---------------------------------------------------------------------------------
def test_who_may_read_the_field_page_and_the_extended_files(app, convention, make_user, registry):
    urls = [BASE, *(f"{BASE}/{name}" for name in HEADERS)]
    anonymous = app.test_client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url
    circo = convention["circonscriptions"][CAMUS]
    trainer = client_for(app, make_user, Role.FORMATEUR, [("circonscription", circo)])
    for url in urls:
        assert trainer.get(url).status_code == 404, url
    assert f'href="{BASE}"' not in trainer.get("/tableau-de-bord").get_data(as_text=True)
    for role, scopes in (
        (Role.ADMIN, []),
        (Role.AUDITEUR, [("circonscription", circo)]),
        (Role.TECHNICIEN, [("collectivite", convention["creteil"])]),
        (Role.GESTIONNAIRE, [("collectivite", convention["creteil"])]),
    ):
        client = client_for(app, make_user, role, scopes)
        for url in urls:
            assert client.get(url).status_code == 200, (role, url)
