"""Importers of the ministry's open files into the registry, on the shared framework."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.bulk import BulkInsert, Staged
from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    Table,
)
from inventory.core.text import fold
from inventory.orgs import identifiers as ids
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    CollectiviteKind,
    Commune,
    Departement,
    Ecole,
    Ownership,
    SchoolNature,
    SchoolStatus,
    collectivite_members,
)
from inventory.orgs.services import levels_for_classes, school_search_text


def _c(name: str, *aliases: str, required: bool = False) -> Column:
    return Column(name, aliases, required)


STATUS_BY_ETAT = {
    "ouvert": SchoolStatus.OPEN,
    "a fermer": SchoolStatus.CLOSING,
    "a ouvrir": SchoolStatus.OPEN,
    "ferme": SchoolStatus.CLOSED,
}


class AnnuaireImporter(Importer):
    """The ministry's 'Annuaire de l'éducation': schools, and circonscriptions when present."""

    columns = (
        _c("uai", "Identifiant_de_l_etablissement", "numero_uai", required=True),
        _c("name", "Nom_etablissement", "appellation_officielle", required=True),
        _c("type", "Type_etablissement"),
        _c("statut", "Statut_public_prive"),
        _c("adresse_1"),
        _c("adresse_2"),
        _c("adresse_3"),
        _c("code_postal"),
        _c("code_commune", required=True),
        _c("nom_commune"),
        _c("code_departement"),
        _c("libelle_departement"),
        _c("code_academie"),
        _c("libelle_academie"),
        _c("code_region"),
        _c("libelle_region"),
        _c("ecole_maternelle"),
        _c("ecole_elementaire"),
        _c("siren_siret"),
        _c("nombre_d_eleves", "nombre_eleves"),
        _c("nom_circonscription"),
        _c("code_circonscription"),
        _c("latitude"),
        _c("longitude"),
        _c("etat"),
        _c("code_nature"),
        _c("libelle_nature"),
        _c("appartenance_education_prioritaire"),
        _c("mail"),
        _c("telephone"),
    )

    def __init__(self, session: Session, *, all_types: bool = False) -> None:
        self.session = session
        self.all_types = all_types
        # New rows are written in bulk: lookups below hold ORM objects for the rows that
        # existed before the import and Staged rows for the ones it creates.
        self.bulk = BulkInsert(session)

    # -- lookups, loaded once ------------------------------------------------------------
    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        s = self.session
        self.academies = {a.code: a for a in s.scalars(select(Academie))}
        self.departements = {d.code: d for d in s.scalars(select(Departement))}
        self.communes = {c.insee: c for c in s.scalars(select(Commune))}
        circos = list(s.scalars(select(Circonscription)))
        self.circos_by_uai = {c.uai: c for c in circos if c.uai}
        dept_codes = {d.id: d.code for d in self.departements.values()}
        self.circos_by_name = {(dept_codes[c.departement_id], fold(c.name)): c for c in circos}
        collectivites = list(s.scalars(select(Collectivite)))
        self.coll_by_siren = {c.siren: c for c in collectivites if c.siren}
        insee_of = {c.id: c.insee for c in self.communes.values()}
        self.coll_by_insee = {insee_of[c.commune_id]: c for c in collectivites if c.commune_id}
        self.ecoles = {e.uai: e for e in s.scalars(select(Ecole))}
        return table.rows

    def key_of(self, row: Row) -> str:
        return row.get("uai", "")

    # -- one row -------------------------------------------------------------------------
    def import_row(self, row: Row) -> Outcome:
        uai = ids.normalize_uai(row.get("uai", ""))
        if not uai:
            raise RowRejected(_l("The UAI is missing."))
        if not ids.is_valid_uai(uai):
            raise RowRejected(_l("Invalid UAI «%(uai)s».", uai=uai))
        name = row.get("name", "").strip()
        if not name:
            raise RowRejected(_l("The school name is missing."))
        if "circonscription" in fold(row.get("libelle_nature", "")):
            return self._import_circonscription(uai, name, row)
        kind = fold(row.get("type", ""))
        if not self.all_types and kind and kind != "ecole":
            return Outcome.SKIPPED
        return self._import_school(uai, name, row)

    def _editable(self, ref: Any, model: type[Any]) -> Any:
        """An object to change: staged values while unwritten, else the ORM object."""
        if isinstance(ref, Staged) and ref.id is not None:
            return self.session.get_one(model, ref.id)
        return ref

    def _id(self, ref: Any) -> int | None:
        """The id of an existing or staged row, writing the staged rows if need be."""
        if ref is None:
            return None
        if ref.id is None:
            self.bulk.flush()
        return ref.id

    def _place(self, row: Row, uai: str) -> tuple[Departement | Staged, Commune | Staged]:
        dept_raw = row.get("code_departement", "") or uai[:3]
        dept_code = ids.normalize_departement(dept_raw)
        if dept_code is None:
            raise RowRejected(_l("Invalid département code «%(code)s».", code=dept_raw))
        insee = row.get("code_commune", "").upper()
        if not ids.is_valid_insee(insee):
            raise RowRejected(_l("Invalid INSEE commune code «%(code)s».", code=insee))
        acad_code = row.get("code_academie", "").strip()
        if not acad_code and dept_code not in self.departements:
            raise RowRejected(_l("The académie code is missing."))
        # Nothing has been written so far: the row is valid from here on.
        dept = self.departements.get(dept_code)
        if dept is None:
            acad = self._academie(acad_code.zfill(2), row.get("libelle_academie", ""), row)
            dept = self.bulk.add(
                Departement,
                code=dept_code,
                name=row.get("libelle_departement") or dept_code,
                academie_id=acad,
            )
            self.departements[dept_code] = dept
        elif acad_code.zfill(2) in self.academies:
            self._academie(acad_code.zfill(2), "", row)  # fills an empty region
        commune = self.communes.get(insee)
        if commune is None:
            commune = self.bulk.add(
                Commune, insee=insee, name=row.get("nom_commune") or insee, departement_id=dept
            )
            self.communes[insee] = commune
        return dept, commune

    def _academie(self, code: str, label: str, row: Row) -> Academie | Staged:
        region = row.get("code_region", "").strip() or None
        region_name = row.get("libelle_region", "").strip() or None
        acad = self.academies.get(code)
        if acad is None:
            acad = self.bulk.add(
                Academie, code=code, name=label or code, region_code=region, region_name=region_name
            )
            self.academies[code] = acad
        elif region and not acad.region_code:
            acad = self.academies[code] = self._editable(acad, Academie)
            acad.region_code, acad.region_name = region, region_name
        return acad

    def _import_circonscription(self, uai: str, name: str, row: Row) -> Outcome:
        dept, _ = self._place(row, uai)
        circo = self.circos_by_uai.get(uai) or self.circos_by_name.get((dept.code, fold(name)))
        if circo is None:
            self._new_circonscription(uai, name, dept)
            return Outcome.CREATED
        if (circo.uai, circo.name) == (uai, name):
            return Outcome.UNCHANGED
        circo = self._editable(circo, Circonscription)
        circo.uai, circo.name = uai, name
        self.circos_by_uai[uai] = circo
        return Outcome.UPDATED

    def _new_circonscription(
        self, uai: str | None, name: str, dept: Departement | Staged
    ) -> Circonscription | Staged:
        circo = self.bulk.add(Circonscription, uai=uai, name=name, departement_id=dept)
        if uai:
            self.circos_by_uai[uai] = circo
        self.circos_by_name[(dept.code, fold(name))] = circo
        return circo

    def _circonscription_of(
        self, row: Row, dept: Departement | Staged
    ) -> Circonscription | Staged | None:
        code = ids.normalize_uai(row.get("code_circonscription", ""))
        name = row.get("nom_circonscription", "").strip()
        if code and ids.is_valid_uai(code):
            return self.circos_by_uai.get(code) or self._new_circonscription(
                code, name or code, dept
            )
        if name:
            return self.circos_by_name.get((dept.code, fold(name))) or self._new_circonscription(
                None, name, dept
            )
        return None

    def _values(self, uai: str, name: str, row: Row) -> dict[str, Any]:
        """Every checked field of a school row; raises before anything is written."""
        pupils_raw = row.get("nombre_d_eleves", "")
        pupils = None
        if pupils_raw:
            try:
                pupils = int(float(pupils_raw.replace(",", ".")))
            except ValueError:
                raise RowRejected(
                    _l("Pupil count «%(value)s» is not a number.", value=pupils_raw)
                ) from None
            if pupils < 0:
                raise RowRejected(_l("Pupil count «%(value)s» is negative.", value=pupils_raw))
        lat = _coordinate(row.get("latitude", ""), 90)
        lon = _coordinate(row.get("longitude", ""), 180)
        postal = row.get("code_postal", "")
        if postal and not (len(postal) == 5 and postal.isdigit()):
            raise RowRejected(_l("Invalid postal code «%(code)s».", code=postal))
        address = ", ".join(
            p for p in (row.get("adresse_1", ""), row.get("adresse_2", "")) if p
        ) or row.get("adresse_3", "")
        priority = row.get("appartenance_education_prioritaire", "").strip().upper() or None
        return {
            "name": name[:200],
            "nature": _nature(row),
            "status": STATUS_BY_ETAT.get(fold(row.get("etat", "")), SchoolStatus.OPEN),
            "is_private": fold(row.get("statut", "")).startswith("prive"),
            "address": address[:300] or None,
            "postal_code": postal or None,
            "latitude": lat,
            "longitude": lon,
            "pupils": pupils,
            "priority_education": priority,
            "email": row.get("mail", "")[:200] or None,
            "phone": row.get("telephone", "")[:30] or None,
        }

    def _import_school(self, uai: str, name: str, row: Row) -> Outcome:
        values = self._values(uai, name, row)
        dept, commune = self._place(row, uai)
        circo = self._circonscription_of(row, dept)
        values["search_text"] = school_search_text(uai, name, commune.name, values["postal_code"])
        ecole = self.ecoles.get(uai)
        if ecole is None:
            owner = None if values["is_private"] else self._owner(row, commune, dept)
            ecole = self.bulk.add(
                Ecole,
                uai=uai,
                commune_id=commune,
                departement_id=dept,
                circonscription_id=circo,
                collectivite_id=owner,
                **values,
            )
            if owner is not None:
                self.bulk.add(Ownership, ecole_id=ecole, collectivite_id=owner, since=None)
            self.ecoles[uai] = ecole
            return Outcome.CREATED
        if isinstance(ecole, Staged):
            # The same UAI twice in one file: the later row updates the earlier one.
            if ecole.id is None:
                self.bulk.flush()
            ecole = self.ecoles[uai] = self.session.get_one(Ecole, ecole.id)
        changed = False
        for key, value in values.items():
            if getattr(ecole, key) != value:
                setattr(ecole, key, value)
                changed = True
        for attr, ref in (
            ("commune_id", commune),
            ("departement_id", dept),
            ("circonscription_id", circo),
        ):
            ref_id = self._id(ref)
            if getattr(ecole, attr) != ref_id:
                setattr(ecole, attr, ref_id)
                changed = True
        return Outcome.UPDATED if changed else Outcome.UNCHANGED

    def _owner(
        self, row: Row, commune: Commune | Staged, dept: Departement | Staged
    ) -> Collectivite | Staged:
        """The commune collectivité, found by the SIREN of the school's SIRET when present.

        The owner is only set when a school is created: later moves (a commune joining
        an RPI) are decisions recorded in Socle, which a re-import must not undo.
        """
        siren = ids.siren_from_siret(row.get("siren_siret", ""))
        if siren and siren in self.coll_by_siren:
            return self.coll_by_siren[siren]
        if siren and not siren.startswith("21"):
            coll = self.bulk.add(
                Collectivite,
                kind=CollectiviteKind.EPCI,
                name=f"SIREN {siren}",
                siren=siren,
                commune_id=None,
                departement_id=dept,
            )
            self.bulk.add(collectivite_members, collectivite_id=coll, commune_id=commune)
            self.coll_by_siren[siren] = coll
            return coll
        owning = commune
        if siren:
            # A commune's SIREN is 21 + département + 0 + commune number + key.
            owning = self.communes.get(siren[2:4] + siren[5:8], commune)
        coll = self.coll_by_insee.get(owning.insee)
        if coll is None:
            coll = self.bulk.add(
                Collectivite,
                kind=CollectiviteKind.COMMUNE,
                name=owning.name,
                siren=siren,
                commune_id=owning,
                departement_id=dept,
            )
            self.coll_by_insee[owning.insee] = coll
        elif siren and coll.siren is None:
            coll = self._editable(coll, Collectivite)
            coll.siren = siren
        if siren:
            self.coll_by_siren[siren] = coll
        return coll

    def finish_batch(self) -> None:
        self.bulk.flush()
        self.session.flush()


def _coordinate(raw: str, limit: int) -> float | None:
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise RowRejected(_l("Coordinate «%(value)s» is not a number.", value=raw)) from None
    if not math.isfinite(value) or abs(value) > limit:
        raise RowRejected(_l("Coordinate «%(value)s» is out of range.", value=raw))
    return value


def _nature(row: Row) -> SchoolNature:
    mat = row.get("ecole_maternelle", "") == "1"
    elem = row.get("ecole_elementaire", "") == "1"
    if mat and elem:
        return SchoolNature.PRIMAIRE
    if mat:
        return SchoolNature.MATERNELLE
    if elem:
        return SchoolNature.ELEMENTAIRE
    code = row.get("code_nature", "")
    if code.startswith("10"):
        return SchoolNature.MATERNELLE
    if code.startswith(("15", "16")):
        return SchoolNature.ELEMENTAIRE
    label = fold(row.get("libelle_nature", ""))
    if "maternelle" in label:
        return SchoolNature.MATERNELLE
    if "elementaire" in label:
        return SchoolNature.ELEMENTAIRE
    return SchoolNature.PRIMAIRE


LEVEL_COLUMNS = {
    "PS": ("nombre_d_eleves_en_ps_hors_ulis", "nombre_eleves_ps_hors_ulis"),
    "MS": ("nombre_d_eleves_en_ms_hors_ulis", "nombre_eleves_ms_hors_ulis"),
    "GS": ("nombre_d_eleves_en_gs_hors_ulis", "nombre_eleves_gs_hors_ulis"),
    "CP": ("nombre_d_eleves_en_cp_hors_ulis", "nombre_eleves_cp_hors_ulis"),
    "CE1": ("nombre_d_eleves_en_ce1_hors_ulis", "nombre_eleves_ce1_hors_ulis"),
    "CE2": ("nombre_d_eleves_en_ce2_hors_ulis", "nombre_eleves_ce2_hors_ulis"),
    "CM1": ("nombre_d_eleves_en_cm1_hors_ulis", "nombre_eleves_cm1_hors_ulis"),
    "CM2": ("nombre_d_eleves_en_cm2_hors_ulis", "nombre_eleves_cm2_hors_ulis"),
    "ULIS": ("nombre_d_eleves_en_ulis", "nombre_eleves_ulis"),
}


class EffectifsImporter(Importer):
    """The 'effectifs d'élèves par école' file: creates the missing classrooms of one year."""

    columns = (
        _c("year", "Rentrée scolaire", "rentree_scolaire", required=True),
        _c("uai", "Numéro de l'école", "numero_ecole", "numero_de_l_ecole", required=True),
        _c("classes", "Nombre total de classes", "nombre_total_classes", required=True),
        _c("pupils", "Nombre total d'élèves", "nombre_total_eleves"),
        _c(
            "preelementaire",
            "nombre_d_eleves_en_pre_elementaire_hors_ulis",
            "nombre_eleves_preelementaire_hors_ulis",
        ),
        *(_c(f"level_{lv}", *names) for lv, names in LEVEL_COLUMNS.items()),
    )

    def __init__(self, session: Session, *, year: str | None = None) -> None:
        self.session = session
        self.year = year
        self.unknown: list[str] = []

    def prepare(self, table: Table, report: ImportReport) -> Iterable[tuple[int, Row]]:
        years = {row["year"] for _, row in table.rows if row.get("year")}
        if self.year is None and years:
            self.year = max(years)
        report.notes.append(str(_l("School year imported: %(year)s.", year=self.year)))
        self.ecoles = {e.uai: e for e in self.session.scalars(select(Ecole))}
        self.names: dict[int, set[str]] = {}
        self.counts: dict[int, int] = {}
        for ecole_id, cname in self.session.execute(select(Classroom.ecole_id, Classroom.name)):
            self.names.setdefault(ecole_id, set()).add(cname)
            self.counts[ecole_id] = self.counts.get(ecole_id, 0) + 1
        return [(line, row) for line, row in table.rows if row.get("year") == self.year]

    def key_of(self, row: Row) -> str:
        return row.get("uai", "")

    def import_row(self, row: Row) -> Outcome:
        uai = ids.normalize_uai(row.get("uai", ""))
        if not ids.is_valid_uai(uai):
            raise RowRejected(_l("Invalid UAI «%(uai)s».", uai=uai))
        ecole = self.ecoles.get(uai)
        if ecole is None:
            self.unknown.append(uai)
            raise RowRejected(_l("Unknown school %(uai)s: import the Annuaire first.", uai=uai))
        n_classes = _count(row.get("classes", ""), _l("class count"))
        per_level = {lv: _count(row.get(f"level_{lv}", ""), lv) for lv in LEVEL_COLUMNS}
        existing = self.counts.get(ecole.id, 0)
        if n_classes <= existing:
            return Outcome.UNCHANGED
        plan = levels_for_classes(n_classes, per_level)
        taken = self.names.setdefault(ecole.id, set())
        number = 0
        for levels, pupils in plan[existing:]:
            number += 1
            while f"Classe {number}" in taken:
                number += 1
            name = f"Classe {number}"
            taken.add(name)
            self.session.add(
                Classroom(
                    ecole=ecole, name=name, position=number, levels=",".join(levels), pupils=pupils
                )
            )
        self.counts[ecole.id] = n_classes
        return Outcome.UPDATED if existing else Outcome.CREATED

    def finish_batch(self) -> None:
        self.session.flush()


def _count(raw: str, what: Any) -> int:
    if not raw:
        return 0
    try:
        value = int(float(raw.replace(",", ".")))
    except ValueError:
        raise RowRejected(
            _l("%(what)s «%(value)s» is not a number.", what=what, value=raw)
        ) from None
    if value < 0:
        raise RowRejected(_l("%(what)s «%(value)s» is negative.", what=what, value=raw))
    return value
