"""The identifier rules of DOMAIN.md, checked on the real extracts too."""

import csv

import pytest

from inventory.orgs import identifiers as ids
from tests.factories.registry import ANNUAIRE_094, EFFECTIFS_035


def test_every_real_uai_passes_its_check_letter():
    with ANNUAIRE_094.open(encoding="utf-8-sig") as f:
        uais = [r["Identifiant_de_l_etablissement"] for r in csv.DictReader(f, delimiter=";")]
    with EFFECTIFS_035.open(encoding="utf-8-sig") as f:
        uais += [r["Numéro de l'école"] for r in csv.DictReader(f, delimiter=";")]
    assert len(uais) == 613 + 150
    assert all(ids.is_valid_uai(u) for u in uais)


@pytest.mark.parametrize(
    "value, valid",
    [
        ("0940176F", True),
        ("0940176G", False),  # wrong check letter
        ("0940176f", False),  # lower case is not normalised by the check itself
        ("094017F", False),
        ("09401760", False),
        ("6200001G", True),  # Corse-du-Sud: 6200001 % 23 = 6 → G
        ("", False),
    ],
)
def test_uai(value, valid):
    assert ids.is_valid_uai(value) is valid


def test_uai_letters_skip_i_o_q():
    assert not set("IOQ") & set(ids.UAI_LETTERS)
    assert len(ids.UAI_LETTERS) == 23


def test_every_real_siret_passes_luhn_and_gives_a_commune_siren():
    with ANNUAIRE_094.open(encoding="utf-8-sig") as f:
        sirets = [r["SIREN_SIRET"] for r in csv.DictReader(f, delimiter=";") if r["SIREN_SIRET"]]
    assert len(sirets) == 612
    assert all(ids.is_valid_siret(s) for s in sirets)
    assert all(ids.siren_from_siret(s).startswith("21") for s in sirets)


@pytest.mark.parametrize(
    "siren, valid",
    [("214002578", True), ("214002577", False), ("21400257", False), ("21400257a", False)],
)
def test_siren(siren, valid):
    assert ids.is_valid_siren(siren) is valid


def test_siren_from_a_broken_siret_is_none():
    assert ids.siren_from_siret("21940034800196") is None
    assert ids.siren_from_siret("") is None
    assert ids.siren_from_siret("219 400 348 00195") == "219400348"


@pytest.mark.parametrize(
    "code, valid",
    [
        ("35238", True),
        ("2A004", True),
        ("2B033", True),
        ("97411", True),
        ("00123", False),
        ("3523", False),
        ("2C004", False),
        ("94260", True),
        ("A5238", False),
    ],
)
def test_insee(code, valid):
    assert ids.is_valid_insee(code) is valid


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("094", "094"),
        ("94", "094"),
        ("35", "035"),
        ("2A", "02A"),
        ("02A", "02A"),
        ("2b", "02B"),
        ("974", "974"),
        ("1", "001"),
        ("00", None),
        ("99", None),
        ("", None),
        ("2C", None),
    ],
)
def test_departement_codes_are_normalised(raw, expected):
    assert ids.normalize_departement(raw) == expected


def test_the_commune_a_classic_siren_names():
    from inventory.orgs.identifiers import communes_of_siren

    assert communes_of_siren("214002578") == ("40257",)
    assert communes_of_siren("213502388") == ("35238",)
    assert communes_of_siren("219740115") == ("97411",)
    assert communes_of_siren("212000046") == ("2A004", "2B004")
    assert communes_of_siren("200041721") == ()
    assert communes_of_siren("21350") == ()


def test_departements_of_a_uai_and_of_a_commune():
    from inventory.orgs.identifiers import departement_of_insee, departement_of_uai

    assert departement_of_uai("0350103X") == "035"
    assert departement_of_uai("6200002H") == "02A"
    assert departement_of_uai("7200001A") == "02B"
    assert departement_of_uai("9740001A") == "974"
    assert departement_of_insee("35238") == "035"
    assert departement_of_insee("2A004") == "02A"
    assert departement_of_insee("97411") == "974"


def test_postal_codes_given_as_commune_codes():
    from inventory.orgs.identifiers import looks_like_postal_code

    assert looks_like_postal_code("35690", "35690")
    assert looks_like_postal_code("35000")  # Rennes' office: no commune is number 000
    assert looks_like_postal_code("20090")  # Ajaccio: the COG writes 2A
    assert looks_like_postal_code("97400")
    assert not looks_like_postal_code("35001", "35690")
    assert not looks_like_postal_code("2A004", "20090")
    assert not looks_like_postal_code("97411", "97400")
