"""Exports in the shape of the ministry's open datasets of the programme.

- ``fr-en-aap-snee-collectivites``: one row per convention (an awarded dossier), with the
  ministry's 15 fields in its order (:data:`COLLECTIVITES_COLUMNS`).
- ``fr-en-aap-snee-ecoles``: one row per school of a convention (a school two conventions
  cover has a row for each), 18 fields in the ministry's naming (:data:`ECOLES_COLUMNS`).

The ministry-shaped files hold those fields and nothing else, so that they can be laid next
to the published ones column for column. Socle's own figures (the computed aid, eligible
spending, target classrooms, classrooms at the socle…) are in a separate *extended* variant
of each file (``…-etendu``): the same rows, the same fields first, then ``socle_`` columns.

``montant_de_la_subvention`` is the aid *paid* (the payments received), as the ministry
publishes it, not the aid computed from the invoices (``socle_aide_calculee``).

Every field's content and source is in :data:`DATASETS`, which the page that documents the
files shows; the columns are read from there, so the headers and their documentation cannot
drift apart.

Both go through the policy: a reader sees the conventions and schools of their scope, and a
convention's figures count only the schools they may see (an IEN's file holds their
circonscription's part of each convention). Amounts are euros with a dot decimal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from inventory.assets.models import ClassroomSocle
from inventory.core import policy
from inventory.core.exporting import Cell
from inventory.grants.models import Dossier, DossierSchool
from inventory.orgs.models import Academie, Collectivite, Commune, Departement, Ecole
from inventory.reports import indicators as ind
from inventory.reports.indicators import Facts
from inventory.reports.levels import Level, context, count_if, school_set, without_jit
from inventory.reports.money import money_by_dossier
from inventory.reports.values import euros

COLLECTIVITES = "fr-en-aap-snee-collectivites"
ECOLES = "fr-en-aap-snee-ecoles"
EXTENDED_SUFFIX = "-etendu"
COLLECTIVITES_EXTENDED = COLLECTIVITES + EXTENDED_SUFFIX
ECOLES_EXTENDED = ECOLES + EXTENDED_SUFFIX


# -- the fields, documented ------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """A column of a file: what it holds and where Socle takes it from."""

    name: str
    content: Any  # lazy strings: shown in the reader's language
    source: Any


@dataclass(frozen=True)
class Dataset:
    name: str
    title: Any
    rows: Any  # what one row is
    fields: tuple[Field, ...]  # the ministry's
    extra: tuple[Field, ...]  # Socle's, after them in the extended variant

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def extended_name(self) -> str:
        return self.name + EXTENDED_SUFFIX

    @property
    def extended_columns(self) -> tuple[str, ...]:
        return self.columns + tuple(f.name for f in self.extra)


ANNUAIRE = _l("Annuaire de l'éducation")
_REGION_SOURCE = _l(
    "%(annuaire)s, Code_region, kept on the académie when the Annuaire is imported (empty "
    "until a file that has it is imported).",
    annuaire=ANNUAIRE,
)
_REGION_NAME_SOURCE = _l("%(annuaire)s, Libelle_region, kept on the académie.", annuaire=ANNUAIRE)
_ACADEMIE_CODE_SOURCE = _l("%(annuaire)s, Code_academie.", annuaire=ANNUAIRE)
_ACADEMIE_SOURCE = _l("%(annuaire)s, Libelle_academie.", annuaire=ANNUAIRE)

_SIGNATORY_FIELDS = (
    Field(
        "raison_sociale_du_signataire_de_la_convention",
        _l("Name of the collectivité that signed the convention (commune, EPCI, syndicat, RPI)."),
        _l(
            "Socle's registry: the dossier's collectivité, named after its commune when the "
            "Annuaire is imported, or as an administrator named it."
        ),
    ),
    Field(
        "siren_signataire_de_la_convention",
        _l("SIREN of the signatory (9 digits)."),
        _l(
            "%(annuaire)s: the first 9 digits of SIREN_SIRET, the owner's SIRET, of its schools.",
            annuaire=ANNUAIRE,
        ),
    ),
    Field(
        "code_commune_siege",
        _l("INSEE code of the signatory's seat commune."),
        _l(
            "%(annuaire)s, Code_commune of the commune the collectivité is; empty for an "
            "intercommunal body, whose seat Socle does not know.",
            annuaire=ANNUAIRE,
        ),
    ),
    Field(
        "nom_officiel_commune_siege",
        _l("Name of the signatory's seat commune."),
        _l("%(annuaire)s, Nom_commune; empty when the seat is not known.", annuaire=ANNUAIRE),
    ),
)

_REFERENCE = Field(
    "socle_reference_convention",
    _l("Socle's reference of the dossier."),
    _l("Dossier: its reference (#id when it has none)."),
)

COLLECTIVITES_DATASET = Dataset(
    COLLECTIVITES,
    _l("Conventions of the collectivités"),
    _l(
        "One row per convention: a dossier retained or further on (convention signed, paid "
        "in part or in full, closed)."
    ),
    (
        Field(
            "code_region",
            _l("Code of the signatory's région académique (or overseas collectivity)."),
            _REGION_SOURCE,
        ),
        Field(
            "region_academique_ou_com",
            _l("Name of the signatory's région académique (or overseas collectivity)."),
            _REGION_NAME_SOURCE,
        ),
        Field("code_academie", _l("Code of the signatory's académie."), _ACADEMIE_CODE_SOURCE),
        Field("academie", _l("Name of the signatory's académie."), _ACADEMIE_SOURCE),
        Field(
            "code_departement",
            _l("Code of the signatory's département, on three characters (094, 02A)."),
            _l("%(annuaire)s, Code_departement.", annuaire=ANNUAIRE),
        ),
        Field(
            "departement",
            _l("Name of the signatory's département."),
            _l("%(annuaire)s, Libelle_departement.", annuaire=ANNUAIRE),
        ),
        *_SIGNATORY_FIELDS,
        Field(
            "nombre_de_communes",
            _l("Communes where the convention's schools are."),
            _l("Dossier: its schools (those you may see), counted by their Annuaire commune."),
        ),
        Field(
            "nombre_d_ecoles",
            _l("Schools the convention covers."),
            _l("Dossier: its schools (those you may see)."),
        ),
        Field(
            "depenses_realisees_par_la_collectivite",
            _l("Spending on the convention's invoices, in euros."),
            _l(
                "Dossier: the invoices' shares at its schools, including VAT or not as the "
                "scheme says."
            ),
        ),
        Field(
            "montant_de_la_subvention",
            _l("Aid paid to the signatory, in euros: the payments received."),
            _l(
                "Dossier: its payments with an amount and a date received. Not the aid "
                "computed from the invoices, which is socle_aide_calculee in the extended file."
            ),
        ),
        Field(
            "position",
            _l('Geographic point of the seat commune: "latitude, longitude" (48.75, 2.32).'),
            _l(
                "Computed by Socle, which knows the schools' coordinates, not the communes': "
                "the mean of the %(annuaire)s coordinates (latitude, longitude) of the "
                "convention's schools in the seat commune, or of all its schools when none is "
                "there or the seat is not known; empty when none has coordinates.",
                annuaire=ANNUAIRE,
            ),
        ),
    ),
    (
        _REFERENCE,
        Field(
            "socle_depenses_eligibles",
            _l("Spending the scheme counts, after its caps and minimums, in euros."),
            _l("Aid engine: the scheme's rules as frozen on the dossier."),
        ),
        Field(
            "socle_aide_calculee",
            _l(
                "Aid computed from the invoices by the scheme's rules, within the "
                "convention's maximum, in euros."
            ),
            _l("Aid engine: the scheme's rules as frozen on the dossier."),
        ),
        Field(
            "socle_montant_maximal_convention",
            _l("Maximum subsidy stated by the convention, in euros."),
            _l(
                "Dossier: its convention maximum; for part of a convention, shared among its "
                "schools in proportion to their classes."
            ),
        ),
        Field(
            "socle_reste_a_percevoir",
            _l("Computed aid not received yet, in euros."),
            _l("Aid engine and payments received, school by school."),
        ),
    ),
)

ECOLES_DATASET = Dataset(
    ECOLES,
    _l("Schools of the conventions"),
    _l(
        "One row per school of a convention: a school that two conventions cover has a row "
        "for each."
    ),
    (
        Field(
            "code_region",
            _l("Code of the school's région académique (or overseas collectivity)."),
            _REGION_SOURCE,
        ),
        Field(
            "region_academique_ou_com",
            _l("Name of the school's région académique (or overseas collectivity)."),
            _REGION_NAME_SOURCE,
        ),
        Field("code_academie", _l("Code of the school's académie."), _ACADEMIE_CODE_SOURCE),
        Field("academie", _l("Name of the school's académie."), _ACADEMIE_SOURCE),
        Field(
            "code_departement_uai",
            _l("Code of the school's département, on three characters (094, 02A)."),
            _l("%(annuaire)s, Code_departement.", annuaire=ANNUAIRE),
        ),
        Field(
            "departement_uai",
            _l("Name of the school's département."),
            _l("%(annuaire)s, Libelle_departement.", annuaire=ANNUAIRE),
        ),
        Field(
            "code_commune_uai",
            _l("INSEE code of the school's commune."),
            _l("%(annuaire)s, Code_commune.", annuaire=ANNUAIRE),
        ),
        Field(
            "nom_de_la_commune_uai",
            _l("Name of the school's commune."),
            _l("%(annuaire)s, Nom_commune.", annuaire=ANNUAIRE),
        ),
        Field(
            "uai",
            _l("UAI of the school."),
            _l("%(annuaire)s, Identifiant_de_l_etablissement.", annuaire=ANNUAIRE),
        ),
        Field(
            "nom_de_l_ecole",
            _l("Name of the school."),
            _l("%(annuaire)s, Nom_etablissement.", annuaire=ANNUAIRE),
        ),
        Field(
            "secteur_public_prive",
            _l('Public or private school: "Public" or "Privé".'),
            _l("%(annuaire)s, Statut_public_prive.", annuaire=ANNUAIRE),
        ),
        Field(
            "nombre_d_eleves",
            _l("Pupils the convention counts at the school (its per-pupil caps)."),
            _l(
                "Dossier: the school's pupils, by default the %(annuaire)s's Nombre_d_eleves "
                "when the school was added to it.",
                annuaire=ANNUAIRE,
            ),
        ),
        Field(
            "nombre_de_classes_referentiel",
            _l(
                "Classes the convention counts at the school: its target classrooms "
                "(cycles 2 and 3)."
            ),
            _l(
                "Dossier: the school's classes, by default its target classrooms in Socle "
                "when the school was added to it."
            ),
        ),
        *_SIGNATORY_FIELDS,
        Field(
            "position_ecole",
            _l('Geographic point of the school: "latitude, longitude" (48.75, 2.32).'),
            _l(
                "%(annuaire)s, latitude and longitude (as its position column gives them); "
                "empty when it has none.",
                annuaire=ANNUAIRE,
            ),
        ),
    ),
    (
        _REFERENCE,
        Field(
            "socle_nombre_de_classes_cibles",
            _l("The school's target classrooms (cycles 2 and 3)."),
            _l("Socle's classrooms and their levels (effectifs import, or estimate)."),
        ),
        Field(
            "socle_nombre_de_classes_au_socle",
            _l("Target classrooms that meet the socle numérique de base."),
            _l("Equipment in service against the référentiel, as the dashboard counts it."),
        ),
        Field(
            "socle_depenses_realisees",
            _l("The convention's spending at the school, in euros."),
            _l("Dossier: the invoices' shares of the school."),
        ),
        Field(
            "socle_depenses_eligibles",
            _l("The spending the scheme counts at the school, in euros."),
            _l("Aid engine: the scheme's rules as frozen on the dossier."),
        ),
        Field(
            "socle_aide_calculee",
            _l("The convention's aid computed for the school, in euros."),
            _l("Aid engine: the scheme's rules as frozen on the dossier."),
        ),
        Field(
            "socle_aide_versee",
            _l(
                "Aid received for the school, in euros: the convention's payments shared "
                "among its schools in proportion to their computed aid."
            ),
            _l("Dossier: its payments received."),
        ),
    ),
)

DATASETS = (COLLECTIVITES_DATASET, ECOLES_DATASET)
COLLECTIVITES_COLUMNS = COLLECTIVITES_DATASET.columns
ECOLES_COLUMNS = ECOLES_DATASET.columns
COLLECTIVITES_EXTENDED_COLUMNS = COLLECTIVITES_DATASET.extended_columns
ECOLES_EXTENDED_COLUMNS = ECOLES_DATASET.extended_columns


@dataclass(frozen=True)
class OpenData:
    name: str
    columns: Sequence[str]
    rows: list[tuple[Cell, ...]]


# -- where things are --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Place:
    """A school, or a collectivité's seat, and where it is."""

    region_code: str | None
    region_name: str | None
    academie_code: str
    academie: str
    departement_code: str
    departement: str
    commune_id: int | None
    insee: str | None
    commune: str | None


@dataclass(frozen=True, slots=True)
class SchoolPlace:
    uai: str
    name: str
    is_private: bool
    latitude: float | None
    longitude: float | None
    place: Place


@dataclass(frozen=True, slots=True)
class Signatory:
    reference: str
    name: str
    siren: str | None
    place: Place  # its département's, and its seat commune


def _chunks(ids: Sequence[int], size: int = 900) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _signatories(session: Session, dossier_ids: Sequence[int]) -> dict[int, Signatory]:
    """Per dossier: its reference, the collectivité that signed it and where it is."""
    out: dict[int, Signatory] = {}
    for chunk in _chunks(dossier_ids):
        stmt = (
            select(
                Dossier.id,
                Dossier.reference,
                Collectivite.name,
                Collectivite.siren,
                Academie.region_code,
                Academie.region_name,
                Academie.code,
                Academie.name,
                Departement.code,
                Departement.name,
                Commune.id,
                Commune.insee,
                Commune.name,
            )
            .join(Collectivite, Collectivite.id == Dossier.collectivite_id)
            .join(Departement, Departement.id == Collectivite.departement_id)
            .join(Academie, Academie.id == Departement.academie_id)
            .outerjoin(Commune, Commune.id == Collectivite.commune_id)
            .where(Dossier.id.in_(chunk))
        )
        for d, ref, name, siren, *where in session.execute(stmt):
            out[d] = Signatory(ref or f"#{d}", name, siren, Place(*where))
    return out


def _schools(session: Session, ecole_ids: Sequence[int]) -> dict[int, SchoolPlace]:
    out: dict[int, SchoolPlace] = {}
    for chunk in _chunks(ecole_ids):
        stmt = (
            select(
                Ecole.id,
                Ecole.uai,
                Ecole.name,
                Ecole.is_private,
                Ecole.latitude,
                Ecole.longitude,
                Academie.region_code,
                Academie.region_name,
                Academie.code,
                Academie.name,
                Departement.code,
                Departement.name,
                Commune.id,
                Commune.insee,
                Commune.name,
            )
            .join(Commune, Commune.id == Ecole.commune_id)
            .join(Departement, Departement.id == Ecole.departement_id)
            .join(Academie, Academie.id == Departement.academie_id)
            .where(Ecole.id.in_(chunk))
        )
        for e, uai, name, private, lat, lon, *where in session.execute(stmt):
            out[e] = SchoolPlace(uai, name, bool(private), lat, lon, Place(*where))
    return out


def _coordinate(value: float) -> str:
    """A coordinate in plain decimals, never in exponent form (a longitude near the
    Greenwich meridian would read 1.2e-05)."""
    return format(Decimal(repr(value)), "f")


def geo_point(points: Sequence[tuple[float, float]]) -> str | None:
    """'lat, lon' as the Annuaire's position column writes it: one point as it is, several
    by their mean (to 6 decimals, about 10 cm)."""
    if not points:
        return None
    if len(points) == 1:
        lat, lon = points[0]
    else:
        lat = round(sum(p[0] for p in points) / len(points), 6)
        lon = round(sum(p[1] for p in points) / len(points), 6)
    return f"{_coordinate(lat)}, {_coordinate(lon)}"


def _located(schools: Sequence[SchoolPlace]) -> list[tuple[float, float]]:
    return [
        (s.latitude, s.longitude)
        for s in schools
        if s.latitude is not None and s.longitude is not None
    ]


def seat_position(seat_commune_id: int | None, schools: Sequence[SchoolPlace]) -> str | None:
    """The point of a convention's seat commune, from its schools' coordinates: those in
    the seat commune, or all of them when none is there (or the seat is not known)."""
    at_seat = [s for s in schools if seat_commune_id and s.place.commune_id == seat_commune_id]
    return geo_point(_located(at_seat)) or geo_point(_located(schools))


def _region(p: Place) -> tuple[Cell, ...]:
    return (p.region_code, p.region_name, p.academie_code, p.academie)


def _signatory(s: Signatory) -> tuple[Cell, ...]:
    return (s.name, s.siren, s.place.insee, s.place.commune)


# -- the files -------------------------------------------------------------------------------
def _money(
    session: Session, user: policy.Subject, level: Level, obj: Any
) -> tuple[Any, Any, dict[int, dict[int, Facts]]]:
    """The reader's awarded dossiers → their schools the reader may see → money there."""
    without_jit(session)
    ctx = context(session, user)
    schools = school_set(session, user, level, obj)
    ecole_ids = set(session.scalars(schools)) if isinstance(schools, Select) else set(schools)
    money = money_by_dossier(session, ctx, schools, ecole_ids)
    return ctx, schools, {d: per_school for d, per_school in money.items() if per_school}


def collectivites(
    session: Session,
    user: policy.Subject,
    level: Level = Level.SCOPE,
    obj: Any = None,
    *,
    extended: bool = False,
) -> OpenData:
    """One row per convention, its figures over the schools the reader may see."""
    _ctx, _schools_set, money = _money(session, user, level, obj)
    dossier_ids = sorted(money)
    heads = _signatories(session, dossier_ids)
    places = _schools(session, sorted({e for per_school in money.values() for e in per_school}))
    keyed = []
    for d in dossier_ids:
        per_school = money[d]
        total = Facts.total(per_school.values())
        head = heads[d]
        schools = [places[e] for e in per_school if e in places]
        row: tuple[Cell, ...] = (
            *_region(head.place),
            head.place.departement_code,
            head.place.departement,
            *_signatory(head),
            len({s.place.commune_id for s in schools}),
            len(per_school),
            euros(total["spending_cents"]),
            euros(total["paid_cents"]),
            seat_position(head.place.commune_id, schools),
        )
        if extended:
            row += (
                head.reference,
                euros(total["eligible_cents"]),
                euros(total["aid_cents"]),
                euros(total["approved_cents"]),
                euros(total["left_to_claim_cents"]),
            )
        key = (head.place.academie_code, head.place.departement_code, head.name.casefold(), d)
        keyed.append((key, row))
    keyed.sort(key=lambda kr: kr[0])
    name, columns = (
        (COLLECTIVITES_EXTENDED, COLLECTIVITES_EXTENDED_COLUMNS)
        if extended
        else (COLLECTIVITES, COLLECTIVITES_COLUMNS)
    )
    return OpenData(name, columns, [r for _k, r in keyed])


def _covered_counts(
    session: Session, dossier_ids: Sequence[int]
) -> dict[tuple[int, int], tuple[int, int]]:
    """(dossier, school) → the classes and pupils the dossier counts at the school."""
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for chunk in _chunks(dossier_ids):
        stmt = select(
            DossierSchool.dossier_id,
            DossierSchool.ecole_id,
            DossierSchool.classes,
            DossierSchool.pupils,
        ).where(DossierSchool.dossier_id.in_(chunk))
        for d, e, classes, pupils in session.execute(stmt):
            out[(d, e)] = (classes or 0, pupils or 0)
    return out


def _socle(session: Session, ctx: Any, ecole_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per school: its target classrooms and those meeting the socle, as the dashboard
    counts them."""
    conds = ind.classroom_conditions(ctx)
    out: dict[int, tuple[int, int]] = {}
    for chunk in _chunks(ecole_ids):
        stmt = (
            select(ClassroomSocle.ecole_id, count_if(conds["targets"]), count_if(conds["meeting"]))
            .where(ClassroomSocle.ecole_id.in_(chunk), ind.classroom_population(ctx))
            .group_by(ClassroomSocle.ecole_id)
        )
        for e, targets, meeting in session.execute(stmt):
            out[e] = (int(targets), int(meeting))
    return out


def ecoles(
    session: Session,
    user: policy.Subject,
    level: Level = Level.SCOPE,
    obj: Any = None,
    *,
    extended: bool = False,
) -> OpenData:
    """One row per school of a convention, for the schools the reader may see."""
    ctx, _schools_set, money = _money(session, user, level, obj)
    dossier_ids = sorted(money)
    covered = sorted({e for per_school in money.values() for e in per_school})
    heads = _signatories(session, dossier_ids)
    places = _schools(session, covered)
    counts = _covered_counts(session, dossier_ids)
    socle = _socle(session, ctx, covered) if extended else {}
    keyed = []
    for d in dossier_ids:
        head = heads[d]
        for e, f in money[d].items():
            school = places[e]
            classes, pupils = counts.get((d, e), (0, 0))
            located = _located([school])
            row: tuple[Cell, ...] = (
                *_region(school.place),
                school.place.departement_code,
                school.place.departement,
                school.place.insee,
                school.place.commune,
                school.uai,
                school.name,
                "Privé" if school.is_private else "Public",
                pupils,
                classes,
                *_signatory(head),
                geo_point(located),
            )
            if extended:
                targets, meeting = socle.get(e, (0, 0))
                row += (
                    head.reference,
                    targets,
                    meeting,
                    euros(f["spending_cents"]),
                    euros(f["eligible_cents"]),
                    euros(f["aid_cents"]),
                    euros(f["paid_cents"]),
                )
            keyed.append(((school.place.departement_code, school.uai, d), row))
    keyed.sort(key=lambda kr: kr[0])
    name, columns = (
        (ECOLES_EXTENDED, ECOLES_EXTENDED_COLUMNS) if extended else (ECOLES, ECOLES_COLUMNS)
    )
    return OpenData(name, columns, [r for _k, r in keyed])


BUILDERS = {
    COLLECTIVITES: (collectivites, False),
    COLLECTIVITES_EXTENDED: (collectivites, True),
    ECOLES: (ecoles, False),
    ECOLES_EXTENDED: (ecoles, True),
}


def build(
    name: str, session: Session, user: policy.Subject, level: Level = Level.SCOPE, obj: Any = None
) -> OpenData:
    """The file ``name`` (one of :data:`BUILDERS`) of the level, for the reader."""
    try:
        builder, extended = BUILDERS[name]
    except KeyError:
        raise LookupError(name) from None
    return builder(session, user, level, obj, extended=extended)
