"""Which rows of the Annuaire de l'éducation are first-degree schools, and of what nature.

The Annuaire lists every establishment (about 66,000): schools, collèges, lycées, medical
and social institutes, administrative services, circonscriptions. Its ``Type_etablissement``
is sometimes empty, and its word "école" also names higher-education schools (nature 400,
"ECOLES COMPOSEES UNIQT DE STS ET OU CPGE") and second-degree ones ("ECOLE SECONDAIRE
SPECIALISEE", "ECOLE PROFESSIONNELLE SPECIALISEE"). So a row's school-ness is read from
its ``code_nature`` first, then from its type, then from its ``libelle_nature``.

What is verified and what is not:

- The first-degree natures below are the ministry's nomenclature (codes 1xx); 101, 103,
  151, 153 and 162 are seen in real files, with those labels. Second-degree natures are
  3xx; 400 is higher education.
- Circonscription rows carry ``libelle_nature`` "CIRCONSCRIPTIONS INSPECTION EDUC NAT"
  (seen in real files). Their numeric ``code_nature`` could not be confirmed, so they are
  recognised by that label alone, before the code is read.
- Nature 170, "ECOLE SANS EFFECTIFS PERMANENTS", is a first-degree structure with no
  pupils of its own (teachers in hospitals, with travelling families…). It is skipped, with
  that reason: it has no classes, and imported as a school it would get estimated
  classrooms, and so count target classrooms the ministry does not count.
- "ECOLE PRIMAIRE FRANCAISE A L ETRANGER" (a school abroad, outside the départements) has
  no code confirmed here: it is skipped by its label when no first-degree code says
  otherwise.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l

from inventory.core.text import fold
from inventory.orgs.models import SchoolNature

# code_nature → (nature, the ministry's label).
FIRST_DEGREE: dict[str, tuple[SchoolNature, str]] = {
    "101": (SchoolNature.MATERNELLE, "ECOLE MATERNELLE"),
    "102": (SchoolNature.MATERNELLE, "ECOLE MATERNELLE ANNEXE D IUFM"),
    "103": (SchoolNature.MATERNELLE, "ECOLE MATERNELLE D APPLICATION"),
    "111": (SchoolNature.MATERNELLE, "ECOLE MATERNELLE SPECIALISEE"),
    "151": (SchoolNature.ELEMENTAIRE, "ECOLE DE NIVEAU ELEMENTAIRE"),
    "152": (SchoolNature.ELEMENTAIRE, "ECOLE ELEMENTAIRE ANNEXE D IUFM"),
    "153": (SchoolNature.ELEMENTAIRE, "ECOLE ELEMENTAIRE D APPLICATION"),
    "160": (SchoolNature.ELEMENTAIRE, "ECOLE DE PLEIN AIR"),
    "161": (SchoolNature.ELEMENTAIRE, "ECOLE AUTONOME DE PERFECTIONNEMENT"),
    "162": (SchoolNature.ELEMENTAIRE, "ECOLE DE NIVEAU ELEMENTAIRE SPECIALISEE"),
    "169": (SchoolNature.ELEMENTAIRE, "ECOLE REGIONALE DU PREMIER DEGRE"),
}
NO_PERMANENT_PUPILS = "170"
NO_PERMANENT_PUPILS_LABEL = "ECOLE SANS EFFECTIFS PERMANENTS"
HIGHER_EDUCATION = "400"

_CODE_OF_LABEL = {fold(label): code for code, (_, label) in FIRST_DEGREE.items()}
_CODE_OF_LABEL[fold(NO_PERMANENT_PUPILS_LABEL)] = NO_PERMANENT_PUPILS


class Verdict(NamedTuple):
    """What a row is: ``kind`` 'school', 'circonscription' or 'skip'; a school's
    first-degree ``code`` when one says it; a skip's ``reason``."""

    kind: str
    code: str = ""
    reason: Any = None


CIRCONSCRIPTION = Verdict("circonscription")


def _skip(reason: Any) -> Verdict:
    return Verdict("skip", reason=reason)


def classify(code_nature: str, type_etablissement: str, libelle_nature: str) -> Verdict:
    """Whether a row of the Annuaire is a first-degree school, a circonscription, or a
    row to skip (with the reason the report shows)."""
    label = fold(libelle_nature)
    if "circonscription" in label:
        return CIRCONSCRIPTION
    code = code_nature.strip()
    if code:
        if code in FIRST_DEGREE:
            return Verdict("school", code)
        if code == NO_PERMANENT_PUPILS:
            return _no_permanent_pupils()
        # A 1xx this table does not know is still first degree: the type and label decide.
        if not (len(code) == 3 and code.startswith("1")):
            return _skip(
                _l(
                    "Not a first-degree school: nature %(code)s «%(label)s».",
                    code=code,
                    label=libelle_nature or type_etablissement or "?",
                )
            )
    kind = fold(type_etablissement)
    if kind:
        if kind == "ecole":
            return Verdict("school", _CODE_OF_LABEL.get(label, ""))
        return _skip(_l("Not a school: type «%(type)s».", type=type_etablissement))
    if label:
        known = _CODE_OF_LABEL.get(label)
        if known == NO_PERMANENT_PUPILS:
            return _no_permanent_pupils()
        if known:
            return Verdict("school", known)
        return _skip(_l("Not a first-degree school: nature «%(label)s».", label=libelle_nature))
    return _skip(_l("Neither the nature nor the type of this row says it is a school."))


def _no_permanent_pupils() -> Verdict:
    return _skip(
        _l(
            "A school without permanent pupils (nature 170 «ECOLE SANS EFFECTIFS "
            "PERMANENTS»): it has no classes of its own to equip."
        )
    )


def school_nature(code: str, maternelle: str, elementaire: str, label: str) -> SchoolNature:
    """A school's nature: primaire when the file says it has both nursery and elementary
    classes, else what its flags, its first-degree code, then its label say."""
    mat, elem = maternelle == "1", elementaire == "1"
    if mat and elem:
        return SchoolNature.PRIMAIRE
    if mat:
        return SchoolNature.MATERNELLE
    if elem:
        return SchoolNature.ELEMENTAIRE
    if code in FIRST_DEGREE:
        return FIRST_DEGREE[code][0]
    folded = fold(label)
    if "maternelle" in folded:
        return SchoolNature.MATERNELLE
    if "elementaire" in folded:
        return SchoolNature.ELEMENTAIRE
    return SchoolNature.PRIMAIRE
