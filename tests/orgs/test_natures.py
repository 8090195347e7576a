"""Which rows of the Annuaire are first-degree schools: every nature real files carry."""

from __future__ import annotations

import pytest

from inventory.orgs.models import SchoolNature
from inventory.orgs.natures import FIRST_DEGREE, classify, school_nature

# Every libelle_nature seen in real Annuaire files (public copies of the full file).
REAL_LABELS = {
    "ADMINISTRATION CENTRALE": "skip",
    "CENTRE D INFORMATION ET D ORIENTATION": "skip",
    "CIRCONSCRIPTIONS INSPECTION EDUC NAT": "circonscription",
    "COLLEGE": "skip",
    "COLLEGE CLIMATIQUE": "skip",
    "COLLEGE EXPERIMENTAL": "skip",
    "COLLEGE SPECIALISE": "skip",
    "DIRECTION SERVICES DEPARTEMENTAUX EN": "skip",
    "ECOLE DE NIVEAU ELEMENTAIRE": "school",
    "ECOLE DE NIVEAU ELEMENTAIRE SPECIALISEE": "school",
    "ECOLE DE PLEIN AIR": "school",
    "ECOLE ELEMENTAIRE D APPLICATION": "school",
    "ECOLE MATERNELLE": "school",
    "ECOLE MATERNELLE D APPLICATION": "school",
    "ECOLE PRIMAIRE FRANCAISE A L ETRANGER": "skip",
    "ECOLE PROFESSIONNELLE SPECIALISEE": "skip",
    "ECOLE REGIONALE DU PREMIER DEGRE": "school",
    "ECOLE SANS EFFECTIFS PERMANENTS": "skip",
    "ECOLE SECONDAIRE SPECIALISEE (2 D CYCLE)": "skip",
    "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE": "skip",
    "ETAB REGIONAL/LYCEE ENSEIGNEMENT ADAPTE": "skip",
    "ETABLISSEMENT DE REINSERTION SCOLAIRE": "skip",
    "ETABLISSEMENT MEDICO-EXPERIMENTAL": "skip",
    "ETABLISSEMENT POUR POLY-HANDICAPES": "skip",
    "IES POUR DEFICIENTS AUDITIFS/VISUELS": "skip",
    "IES POUR SOURDS-AVEUGLES": "skip",
    "INSTITUT EDUCATION MOTRICE (IEM)": "skip",
    "INSTITUT MEDICO-EDUCATIF": "skip",
    "INSTITUT THERAPEUT. EDUCATIF PEDAGOGIQUE": "skip",
    "LYCEE CLIMATIQUE": "skip",
    "LYCEE D ENSEIGNEMENT GENERAL": "skip",
    "LYCEE D ENSEIGNEMENT TECHNOLOGIQUE": "skip",
    "LYCEE ENS GENERAL TECHNO PROF AGRICOLE": "skip",
    "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE": "skip",
    "LYCEE EXPERIMENTAL": "skip",
    "LYCEE POLYVALENT": "skip",
    "LYCEE PROFESSIONNEL": "skip",
    "MAISON FAMILIALE RURALE EDUCATION ORIENT": "skip",
    "RECTORAT": "skip",
    "SECTION D ENSEIGNEMENT PROFESSIONNEL": "skip",
    "SECTION ENSEIGNT GEN. ET PROF. ADAPTE": "skip",
    "SECTION ENSEIGT GENERAL ET TECHNOLOGIQUE": "skip",
    "SERVICE DE LA DSDEN": "skip",
    "SERVICE RECTORAL": "skip",
}
REAL_TYPES = ["Autre", "Collège", "EREA", "Information et orientation", "Lycée", "Médico-social"]


@pytest.mark.parametrize("label", sorted(REAL_LABELS))
def test_every_real_label_alone_with_an_empty_type(label):
    """A row with no code and an empty type is read by its label."""
    assert classify("", "", label).kind == REAL_LABELS[label]


@pytest.mark.parametrize("code", sorted(FIRST_DEGREE))
def test_the_first_degree_codes_are_schools_whatever_the_type(code):
    assert classify(code, "", "").kind == "school"
    assert classify(code, "Autre", "").kind == "school"


@pytest.mark.parametrize(
    ("code", "type_", "label", "why"),
    [
        ("400", "", "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE", "nature 400"),
        ("400", "École", "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE", "nature 400"),
        ("340", "Collège", "COLLEGE", "nature 340 «COLLEGE»"),
        ("300", "Lycée", "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE", "nature 300"),
        ("170", "École", "ECOLE SANS EFFECTIFS PERMANENTS", "nature 170"),
        ("", "EREA", "", "type «EREA»"),
        ("", "", "", "Neither the nature nor the type"),
    ],
)
def test_other_rows_are_skipped_with_their_reason(code, type_, label, why):
    verdict = classify(code, type_, label)
    assert verdict.kind == "skip" and why in str(verdict.reason)


@pytest.mark.parametrize("type_", REAL_TYPES)
def test_a_real_type_other_than_ecole_is_no_school_without_a_first_degree_code(type_):
    assert classify("", type_, "").kind == "skip"
    assert classify("151", type_, "ECOLE DE NIVEAU ELEMENTAIRE").kind == "school"


@pytest.mark.parametrize("spelling", ["École", "Ecole", "ECOLE", "école"])
def test_the_type_ecole_in_every_spelling(spelling):
    assert classify("", spelling, "").kind == "school"


def test_circonscriptions_are_told_by_their_label_before_any_code():
    assert classify("999", "Autre", "CIRCONSCRIPTIONS INSPECTION EDUC NAT").kind == (
        "circonscription"
    )


def test_an_unknown_first_degree_code_lets_the_type_decide():
    assert classify("199", "École", "").kind == "school"
    assert classify("199", "", "").kind == "skip"


@pytest.mark.parametrize(
    ("code", "mat", "elem", "label", "nature"),
    [
        ("151", "1", "1", "", SchoolNature.PRIMAIRE),
        ("101", "1", "1", "", SchoolNature.PRIMAIRE),
        ("151", "0", "1", "", SchoolNature.ELEMENTAIRE),
        ("101", "1", "0", "", SchoolNature.MATERNELLE),
        ("111", "", "", "", SchoolNature.MATERNELLE),
        ("162", "", "", "", SchoolNature.ELEMENTAIRE),
        ("", "", "", "ECOLE MATERNELLE", SchoolNature.MATERNELLE),
        ("", "", "", "", SchoolNature.PRIMAIRE),
    ],
)
def test_school_nature(code, mat, elem, label, nature):
    assert school_nature(code, mat, elem, label) is nature
