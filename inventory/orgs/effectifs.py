"""Classrooms from the ministry's 'effectifs d'élèves par école' file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    Table,
)
from inventory.orgs import identifiers as ids
from inventory.orgs.models import Classroom, Ecole
from inventory.orgs.services import levels_for_classes


def _c(name: str, *aliases: str, required: bool = False) -> Column:
    return Column(name, aliases, required)


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
