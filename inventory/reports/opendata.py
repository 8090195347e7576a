"""Exports in the shape of the ministry's open datasets of the programme.

- ``fr-en-aap-snee-collectivites``: one row per convention (an awarded dossier), with the
  ministry's exact columns.
- ``fr-en-aap-snee-ecoles``: one row per school covered by an awarded dossier. The ministry
  names ``uai``, ``nom_de_l_ecole`` and ``nombre_de_classes_referentiel``; Socle adds, in this
  order (see :data:`ECOLES_COLUMNS`):

  ``code_commune``, ``commune``: the school's commune (INSEE code, name);
  ``code_departement``, ``code_academie``, ``academie``: where it is;
  ``siren_collectivite``, ``collectivite``: who owns it;
  ``nombre_de_classes_referentiel``: the classes the conventions count for the school (the
  largest figure when several conventions cover it);
  ``nombre_d_eleves``: its pupils (Annuaire de l'éducation);
  ``nombre_de_classes_cibles``, ``nombre_de_classes_au_socle``: its target classrooms, and
  those meeting the socle numérique de base;
  ``depenses_realisees``, ``depenses_eligibles``, ``montant_de_la_subvention``,
  ``montant_verse``: spending, eligible spending, aid computed and aid paid at the school
  (euros, dot decimal), as the dashboard counts them;
  ``conventions``: the references of the conventions covering it.

Both go through the policy: a reader sees the conventions and schools of their scope, and a
convention's figures count only the schools they may see (an IEN's file holds their
circonscription's part of each convention). Amounts are euros with a dot decimal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.assets.models import ClassroomSocle
from inventory.core import policy
from inventory.core.exporting import Cell
from inventory.grants.models import Dossier
from inventory.orgs.models import Academie, Collectivite, Commune, Departement, Ecole
from inventory.reports import indicators as ind
from inventory.reports.indicators import Facts
from inventory.reports.services import (
    Level,
    awarded_dossier_ids,
    context,
    count_if,
    dossier_figures,
    euros,
    money_by_dossier,
    school_set,
    schools_of,
    without_jit,
)

COLLECTIVITES = "fr-en-aap-snee-collectivites"
ECOLES = "fr-en-aap-snee-ecoles"
DATASETS = (COLLECTIVITES, ECOLES)

COLLECTIVITES_COLUMNS = (
    "code_academie",
    "academie",
    "code_departement",
    "raison_sociale_du_signataire_de_la_convention",
    "siren_signataire_de_la_convention",
    "code_commune_siege",
    "nombre_de_communes",
    "nombre_d_ecoles",
    "depenses_realisees_par_la_collectivite",
    "montant_de_la_subvention",
)
ECOLES_COLUMNS = (
    "uai",
    "nom_de_l_ecole",
    "code_commune",
    "commune",
    "code_departement",
    "code_academie",
    "academie",
    "siren_collectivite",
    "collectivite",
    "nombre_de_classes_referentiel",
    "nombre_d_eleves",
    "nombre_de_classes_cibles",
    "nombre_de_classes_au_socle",
    "depenses_realisees",
    "depenses_eligibles",
    "montant_de_la_subvention",
    "montant_verse",
    "conventions",
)


@dataclass(frozen=True)
class OpenData:
    name: str
    columns: Sequence[str]
    rows: list[tuple[Cell, ...]]


def _collectivite_heads(session: Session, dossier_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Per dossier: its signatory and where it is."""
    out: dict[int, tuple[Any, ...]] = {}
    for i in range(0, len(dossier_ids), 900):
        chunk = dossier_ids[i : i + 900]
        stmt = (
            select(
                Dossier.id,
                Academie.code,
                Academie.name,
                Departement.code,
                Collectivite.name,
                Collectivite.siren,
                Commune.insee,
                Dossier.reference,
            )
            .join(Collectivite, Collectivite.id == Dossier.collectivite_id)
            .join(Departement, Departement.id == Collectivite.departement_id)
            .join(Academie, Academie.id == Departement.academie_id)
            .outerjoin(Commune, Commune.id == Collectivite.commune_id)
            .where(Dossier.id.in_(chunk))
        )
        for row in session.execute(stmt):
            out[row[0]] = tuple(row[1:])
    return out


def _communes(session: Session, ecole_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for i in range(0, len(ecole_ids), 900):
        chunk = ecole_ids[i : i + 900]
        stmt = (
            select(Ecole.id, Commune.insee, Commune.name)
            .join(Commune, Commune.id == Ecole.commune_id)
            .where(Ecole.id.in_(chunk))
        )
        for e, insee, name in session.execute(stmt):
            out[e] = (insee, name)
    return out


def collectivites(
    session: Session, user: policy.Subject, level: Level = Level.SCOPE, obj: Any = None
) -> OpenData:
    """One row per convention, its figures over the schools the reader may see."""
    without_jit(session)
    ctx = context(session, user)
    schools = school_set(session, user, level, obj)
    ecole_ids = set(schools) if isinstance(schools, list) else set(session.scalars(schools))
    money = money_by_dossier(session, ctx, schools, ecole_ids)
    dossier_ids = sorted(d for d, per_school in money.items() if per_school)
    heads = _collectivite_heads(session, dossier_ids)
    communes = _communes(session, sorted({e for d in dossier_ids for e in money[d]}))
    rows = []
    for d in dossier_ids:
        per_school = money[d]
        total = Facts.total(per_school.values())
        acad_code, acad, dep, name, siren, insee, _ref = heads[d]
        rows.append(
            (
                acad_code,
                acad,
                dep,
                name,
                siren or "",
                insee or "",
                len({communes[e][0] for e in per_school if e in communes}),
                len(per_school),
                euros(total["spending_cents"]),
                euros(total["aid_cents"]),
            )
        )
    rows.sort(key=lambda r: (str(r[0]), str(r[2]), str(r[3]).casefold(), str(r[4])))
    return OpenData(COLLECTIVITES, COLLECTIVITES_COLUMNS, rows)


def ecoles(
    session: Session, user: policy.Subject, level: Level = Level.SCOPE, obj: Any = None
) -> OpenData:
    """One row per school covered by a convention."""
    without_jit(session)
    ctx = context(session, user)
    schools = school_set(session, user, level, obj)
    rows_by_id = schools_of(session, schools)
    money = money_by_dossier(session, ctx, schools, set(rows_by_id))
    figures = dossier_figures(session, awarded_dossier_ids(ctx, schools))
    per_school: dict[int, Facts] = defaultdict(Facts)
    classes: dict[int, int] = defaultdict(int)
    refs: dict[int, list[int]] = defaultdict(list)
    for d, by_school in money.items():
        for e, f in by_school.items():
            per_school[e].add(f)
            refs[e].append(d)
            classes[e] = max(classes[e], figures[d].classes.get(e, 0))
    covered = sorted(per_school)
    # The socle of the covered schools, with the dashboard's own conditions.
    conds = ind.classroom_conditions(ctx)
    socle: dict[int, tuple[int, int]] = {}
    for i in range(0, len(covered), 900):
        chunk = covered[i : i + 900]
        stmt = (
            select(ClassroomSocle.ecole_id, count_if(conds["targets"]), count_if(conds["meeting"]))
            .where(ClassroomSocle.ecole_id.in_(chunk), ind.classroom_population(ctx))
            .group_by(ClassroomSocle.ecole_id)
        )
        for e, targets, meeting in session.execute(stmt):
            socle[e] = (int(targets), int(meeting))
    places: dict[int, tuple[Any, ...]] = {}
    references = (
        dict(
            session.execute(
                select(Dossier.id, Dossier.reference).where(
                    Dossier.id.in_(sorted({d for ds in refs.values() for d in ds}))
                )
            ).all()
        )
        if refs
        else {}
    )
    for i in range(0, len(covered), 900):
        chunk = covered[i : i + 900]
        stmt = (
            select(
                Ecole.id,
                Commune.insee,
                Commune.name,
                Departement.code,
                Academie.code,
                Academie.name,
                Collectivite.siren,
                Collectivite.name,
            )
            .join(Commune, Commune.id == Ecole.commune_id)
            .join(Departement, Departement.id == Ecole.departement_id)
            .join(Academie, Academie.id == Departement.academie_id)
            .outerjoin(Collectivite, Collectivite.id == Ecole.collectivite_id)
            .where(Ecole.id.in_(chunk))
        )
        for row in session.execute(stmt):
            places[row[0]] = tuple(row[1:])
    out = []
    for e in covered:
        school = rows_by_id[e]
        insee, commune, dep, acad_code, acad, siren, coll = places[e]
        f = per_school[e]
        targets, meeting = socle.get(e, (0, 0))
        out.append(
            (
                school.uai,
                school.name,
                insee,
                commune,
                dep,
                acad_code,
                acad,
                siren or "",
                coll or "",
                classes[e],
                school.pupils,
                targets,
                meeting,
                euros(f["spending_cents"]),
                euros(f["eligible_cents"]),
                euros(f["aid_cents"]),
                euros(f["paid_cents"]),
                ", ".join(references.get(d) or f"#{d}" for d in sorted(refs[e])),
            )
        )
    out.sort(key=lambda r: (str(r[4]), str(r[0])))
    return OpenData(ECOLES, ECOLES_COLUMNS, out)


def build(
    name: str, session: Session, user: policy.Subject, level: Level = Level.SCOPE, obj: Any = None
) -> OpenData:
    if name == COLLECTIVITES:
        return collectivites(session, user, level, obj)
    if name == ECOLES:
        return ecoles(session, user, level, obj)
    raise LookupError(name)


def rows_iter(data: OpenData) -> Iterator[tuple[Cell, ...]]:
    yield from data.rows
