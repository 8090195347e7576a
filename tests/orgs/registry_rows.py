"""Real-shaped rows of the ministry's files outside the demo's département, for the
registry's tests: Ille-et-Vilaine (035, académie de Rennes) and Corse-du-Sud (2A, UAIs
620…), in the Annuaire's header variants (labels, lower-case API names).

The schools, UAIs and pupil figures are those of the real effectifs extract
(data/ecoles-effectifs-035-extract.csv, rentrée 2022); commune codes follow the COG
(Acigné 35001, Argentré-du-Plessis 35006, Ajaccio 2A004); classic commune SIRENs are built
as the INSEE registers them (21 + département + 0 + commune number + Luhn key). The
intercommunal and commune-nouvelle SIRENs are shaped like real ones (200…, Luhn key) but
stand for no particular body.
"""

from __future__ import annotations

import csv
import io

from inventory.orgs.identifiers import luhn_ok
from tests.factories.registry import EFFECTIFS_035, annuaire_rows, to_csv

LABEL_HEADER: list[str] = annuaire_rows(())[0]


def with_key(digits: str) -> str:
    """``digits`` followed by the Luhn key that makes the whole pass."""
    return next(digits + k for k in "0123456789" if luhn_ok(digits + k))


def siret(siren: str, nic: str = "0001") -> str:
    """A SIRET of ``siren``: the establishment number (4 digits) and the Luhn key."""
    return with_key(siren + nic)


def commune_siren(insee: str) -> str:
    return with_key("21" + insee[:2] + "0" + insee[2:])


ACIGNE, ARGENTRE, BAIN, BAGUER_MORVAN, BAGUER_PICAN = "35001", "35006", "35012", "35010", "35011"
MAEN_ROCH = "35257"  # a commune nouvelle (2017), with a SIREN of the 200… series
MAEN_ROCH_SIREN = with_key("20004172")
SIVU_SIREN = with_key("20003859")  # owns the schools of Baguer-Morvan and Baguer-Pican
OGEC_SIRET = siret(with_key("78542311"))  # a private school's organising body
BAD_SIRET = siret(commune_siren(BAIN))[:-1] + str((int(siret(commune_siren(BAIN))[-1]) + 1) % 10)

UAI_NATURE_400 = "0352686E"
UAI_COLLEGE = "0351405M"
UAI_NO_PUPILS = "0350999W"
UAI_CIRCO = "0351234B"
UAI_POSTAL = "0351981N"  # Acigné's nursery school, its commune given as its postal code
UAI_ELSEWHERE = "0350122T"  # Baulon, its commune given in the Morbihan
UAI_BAD_SIRET = "0351012K"
UAI_MAEN_ROCH = "0350260T"
UAI_SIVU = ("0350114J", "0351750M")
UAI_PRIMAIRE_ULIS = "0351633K"  # Argentré-du-Plessis: 78 pre-school, 141 elementary, 13 ULIS

BASE = {
    "Statut_public_prive": "Public",
    "Code_departement": "035",
    "Libelle_departement": "Ille-et-Vilaine",
    "Code_academie": "14",
    "Libelle_academie": "Rennes",
    "Code_region": "53",
    "Libelle_region": "Bretagne",
    "etat": "OUVERT",
    "ministere_tutelle": "MINISTERE DE L'EDUCATION NATIONALE",
}


def _school(uai, name, insee, commune, postal, code, mat, elem, siret_="", **more):
    label = {
        "101": "ECOLE MATERNELLE",
        "151": "ECOLE DE NIVEAU ELEMENTAIRE",
        "153": "ECOLE ELEMENTAIRE D APPLICATION",
    }[code]
    return {
        **BASE,
        "Identifiant_de_l_etablissement": uai,
        "Nom_etablissement": name,
        "Type_etablissement": "École",
        "Adresse_3": f"{postal} {commune.upper()}",
        "Code_postal": postal,
        "Code_commune": insee,
        "Nom_commune": commune,
        "Ecole_maternelle": mat,
        "Ecole_elementaire": elem,
        "SIREN_SIRET": siret_,
        "code_nature": code,
        "libelle_nature": label,
        "nom_circonscription": "Circonscription de Vitré",
        "code_circonscription": UAI_CIRCO,
        **more,
    }


def annuaire_035() -> list[dict[str, str]]:
    """An Annuaire extract of Ille-et-Vilaine with each trap real files hold."""
    acigne = siret(commune_siren(ACIGNE))
    bain = commune_siren(BAIN)
    return [
        _school(
            "0350103X",
            "Ecole élémentaire publique Le Chêvre",
            ACIGNE,
            "Acigné",
            "35690",
            "151",
            "0",
            "1",
            acigne,
        ),
        # The commune field holds the postal code (35690): taken as Acigné, with a warning.
        _school(
            UAI_POSTAL,
            "Ecole maternelle publique Le Chat Perché",
            "35690",
            "Acigné",
            "35690",
            "101",
            "1",
            "0",
            siret(commune_siren(ACIGNE), "0002"),
        ),
        _school(
            UAI_PRIMAIRE_ULIS,
            "Ecole primaire publique Jean-Louis Etienne",
            ARGENTRE,
            "Argentré-du-Plessis",
            "35370",
            "151",
            "1",
            "1",
            siret(commune_siren(ARGENTRE)),
            ULIS="1",
        ),
        _school(
            "0352129Z",
            "Ecole primaire privée Saint-Joseph",
            ARGENTRE,
            "Argentré-du-Plessis",
            "35370",
            "151",
            "1",
            "1",
            OGEC_SIRET,
            Statut_public_prive="Privé",
        ),
        _school(
            "0352778E",
            "Ecole primaire publique Les Quatre Vents",
            BAIN,
            "Bain-de-Bretagne",
            "35470",
            "151",
            "1",
            "1",
            siret(bain, "0003"),
        ),
        # A broken SIRET: reported, and the school goes to its commune's collectivité.
        _school(
            UAI_BAD_SIRET,
            "Ecole primaire publique Henri Guérin",
            BAIN,
            "Bain-de-Bretagne",
            "35470",
            "151",
            "1",
            "1",
            BAD_SIRET,
        ),
        # A commune nouvelle: a 200… SIREN whose only school lies in Maen Roch.
        _school(
            UAI_MAEN_ROCH,
            "Ecole primaire publique Les Horizons",
            MAEN_ROCH,
            "Maen Roch",
            "35460",
            "151",
            "1",
            "1",
            siret(MAEN_ROCH_SIREN),
        ),
        # One SIREN, schools in two communes: an intercommunal body (a SIVU carrying an RPI).
        _school(
            UAI_SIVU[0],
            "Ecole primaire publique du Bourg",
            BAGUER_MORVAN,
            "Baguer-Morvan",
            "35120",
            "151",
            "1",
            "1",
            siret(SIVU_SIREN, "0001"),
            rpi_disperse="R35120",
        ),
        _school(
            UAI_SIVU[1],
            "Ecole primaire publique Le Petit Prince",
            BAGUER_PICAN,
            "Baguer-Pican",
            "35120",
            "151",
            "1",
            "1",
            siret(SIVU_SIREN, "0002"),
            rpi_disperse="R35120",
        ),
        # A UAI of Ille-et-Vilaine whose commune code is in the Morbihan.
        _school(
            UAI_ELSEWHERE,
            "Ecole primaire publique Baulon",
            "56001",
            "Allaire",
            "35580",
            "151",
            "1",
            "1",
            siret(commune_siren("56001")),
            Code_departement="035",
        ),
        # An empty type and nature 400: the BTS sections of a lycée, not a school.
        {
            **BASE,
            "Identifiant_de_l_etablissement": UAI_NATURE_400,
            "Nom_etablissement": "Section de techniciens supérieurs Saint-Martin",
            "Type_etablissement": "",
            "Statut_public_prive": "Privé",
            "Code_postal": "35000",
            "Code_commune": "35238",
            "Nom_commune": "Rennes",
            "SIREN_SIRET": siret(with_key("77756730")),
            "code_nature": "400",
            "libelle_nature": "ECOLES COMPOSEES UNIQT DE STS ET OU CPGE",
        },
        {
            **BASE,
            "Identifiant_de_l_etablissement": UAI_COLLEGE,
            "Nom_etablissement": "Collège Les Gayeulles",
            "Type_etablissement": "Collège",
            "Code_postal": "35700",
            "Code_commune": "35238",
            "Nom_commune": "Rennes",
            "SIREN_SIRET": siret(with_key("20004650"), "0021"),
            "code_nature": "340",
            "libelle_nature": "COLLEGE",
        },
        {
            **BASE,
            "Identifiant_de_l_etablissement": UAI_NO_PUPILS,
            "Nom_etablissement": "Ecole de l'hôpital",
            "Type_etablissement": "École",
            "Code_postal": "35000",
            "Code_commune": "35238",
            "Nom_commune": "Rennes",
            "code_nature": "170",
            "libelle_nature": "ECOLE SANS EFFECTIFS PERMANENTS",
        },
        # A circonscription: told by its label (its numeric nature is not relied upon).
        {
            **BASE,
            "Identifiant_de_l_etablissement": UAI_CIRCO,
            "Nom_etablissement": "Circonscription de Vitré",
            "Type_etablissement": "",
            "Code_postal": "35500",
            "Code_commune": "35360",
            "Nom_commune": "Vitré",
            "libelle_nature": "CIRCONSCRIPTIONS INSPECTION EDUC NAT",
        },
    ]


def corse_2a() -> list[dict[str, str]]:
    """Two schools of Ajaccio (UAIs 620…, commune 2A004, SIREN 212000046)."""
    ajaccio = with_key("21200004")
    more = {
        "Code_departement": "02A",
        "Libelle_departement": "Corse-du-Sud",
        "Code_academie": "27",
        "Libelle_academie": "Corse",
        "nom_circonscription": "",
        "code_circonscription": "",
    }
    return [
        _school(
            "6200002H",
            "Ecole élémentaire Campo dell'Oro",
            "2A004",
            "Ajaccio",
            "20090",
            "151",
            "0",
            "1",
            siret(ajaccio, "0011"),
            **more,
        ),
        _school(
            "6209001P",
            "Ecole maternelle Pietralba",
            "2A004",
            "Ajaccio",
            "20090",
            "101",
            "1",
            "0",
            siret(ajaccio, "0012"),
            **more,
        ),
    ]


def annuaire_csv(rows: list[dict[str, str]], *, variant: str = "labels") -> bytes:
    """The rows in the Annuaire's full header, as labels or as the API's lower-case names."""
    header = LABEL_HEADER if variant == "labels" else [h.lower() for h in LABEL_HEADER]
    unknown = {k for r in rows for k in r} - set(LABEL_HEADER)
    assert not unknown, unknown
    return to_csv(header, [[r.get(h, "") for h in LABEL_HEADER] for r in rows])


# -- effectifs -------------------------------------------------------------------------------
def effectifs_rows() -> tuple[list[str], dict[str, dict[str, str]]]:
    """The real extract: its header and its rows by UAI, as column → value."""
    with EFFECTIFS_035.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        header = next(reader)
        rows = {
            r[header.index("Numéro de l'école")]: dict(zip(header, r, strict=True)) for r in reader
        }
    return header, rows


def effectifs_csv(rows: list[dict[str, str]]) -> bytes:
    header, _ = effectifs_rows()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return b"\xef\xbb\xbf" + out.getvalue().encode()
