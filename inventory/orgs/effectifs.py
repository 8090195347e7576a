"""Classrooms from the ministry's 'effectifs d'élèves par école' file.

The file gives, per school and school year, its number of classes and its pupils: per
level from CP to CM2, but for pre-school one aggregate only ("Nombre d'élèves en
pré-élémentaire hors ULIS"), and one for ULIS units. :func:`plan_classes` turns these into
one planned room per class; the importer gives the plan to the school's estimated rooms,
creates the rooms missing, and never deletes a room or touches one a person edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.core.importing import (
    Column,
    Importer,
    ImportReport,
    Outcome,
    Row,
    RowRejected,
    run_import,
)
from inventory.core.importing import Table as ImportTable
from inventory.orgs import identifiers as ids
from inventory.orgs.models import Classroom, Ecole
from inventory.orgs.services import levels_for_classes

PRESCHOOL = ("PS", "MS", "GS")
ELEMENTARY = ("CP", "CE1", "CE2", "CM1", "CM2")
ULIS = "ULIS"


@dataclass(frozen=True)
class PlannedRoom:
    levels: tuple[str, ...]
    pupils: int | None

    @property
    def label(self) -> str:
        return ",".join(self.levels)


def _even(pupils: int, rooms: int, levels: tuple[str, ...]) -> list[PlannedRoom]:
    """``rooms`` rooms of the same levels, the pupils shared out (the first rooms get the
    remainder)."""
    return [
        PlannedRoom(levels, pupils // rooms + (1 if j < pupils % rooms else 0))
        for j in range(rooms)
    ]


def _spread(
    rooms: int, per_level: dict[str, int], total: int, all_levels: tuple[str, ...]
) -> list[PlannedRoom]:
    """``rooms`` rooms over levels: by the per-level pupils when the file gives them
    (:func:`levels_for_classes`), else each room with every level, the pupils shared."""
    if sum(per_level.values()) == total and total > 0:
        return [PlannedRoom(tuple(lv), p) for lv, p in levels_for_classes(rooms, per_level)]
    return _even(total, rooms, all_levels)


def plan_classes(
    classes: int,
    *,
    preschool: int,
    elementary: dict[str, int],
    ulis: int,
    preschool_levels: dict[str, int] | None = None,
    elementary_total: int = 0,
) -> list[PlannedRoom]:
    """One planned room per class of a school, in level order (pre-school, elementary,
    ULIS).

    - **ULIS**: with ULIS pupils and at least two classes, one of the counted classes is
      the ULIS unit (the ministry counts an ULIS école among a school's classes). With a
      single class, that class holds everyone, ULIS included.
    - **Pre-school and elementary**: the other classes are split in proportion to the
      pupils, ``elementary = round(classes × elementary pupils / (pre-school +
      elementary pupils))``, rounded to the nearest, a half going to elementary; then at
      least one elementary class where there are elementary pupils, and at least one
      pre-school class where there are pre-school pupils, if there are two classes or more.
      One class for both is a 'classe unique' holding every level.
    - **Elementary** classes are spread over CP to CM2 by their pupils
      (:func:`levels_for_classes`: a class per level, more where classes are most crowded,
      'cours doubles' when there are fewer classes than levels).
      With ``elementary_total`` alone (no per-level figure), each holds CP to CM2.
    - **Pre-school** rooms hold PS, MS and GS (the file has no per-level figure); when
      ``preschool_levels`` gives them, they are spread as elementary classes are.
    - Without any pupil figure, the rooms have no levels.

    Every pupil is in one planned room (their sum is the file's total).
    """
    if classes <= 0:
        return []
    elementary = {lv: n for lv, n in elementary.items() if n > 0}
    elem = sum(elementary.values()) or elementary_total
    elem_levels = tuple(elementary) or ELEMENTARY
    pre_levels = {lv: n for lv, n in (preschool_levels or {}).items() if n > 0}
    pre = preschool or sum(pre_levels.values())
    if pre + elem + ulis == 0:
        return [PlannedRoom((), None) for _ in range(classes)]
    if pre + elem == 0:  # only ULIS pupils
        return _even(ulis, classes, (ULIS,))
    if classes == 1:
        levels = (
            (PRESCHOOL if pre else ()) + (elem_levels if elem else ()) + ((ULIS,) if ulis else ())
        )
        return [PlannedRoom(levels, pre + elem + ulis)]
    unit = [PlannedRoom((ULIS,), ulis)] if ulis else []
    rooms = classes - len(unit)
    if pre and elem:
        if rooms == 1:
            return [PlannedRoom(PRESCHOOL + elem_levels, pre + elem), *unit]
        # Nearest, a half up: floor(rooms × elem / total + 1/2), in integers.
        n_elem = (2 * rooms * elem + pre + elem) // (2 * (pre + elem))
        n_elem = min(max(n_elem, 1), rooms - 1)
    else:
        n_elem = rooms if elem else 0
    n_pre = rooms - n_elem
    plan: list[PlannedRoom] = []
    if n_pre:
        plan += _spread(n_pre, pre_levels, pre, PRESCHOOL)
    if n_elem:
        plan += _spread(n_elem, elementary, elem, ELEMENTARY)
    return plan + unit


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


@dataclass
class _Room:
    """A classroom as the import reads it (no ORM object unless it changes)."""

    id: int
    name: str
    position: int
    levels: str
    pupils: int | None
    estimated: bool
    obj: Classroom | None = None  # the room, once the import has it as an object


def _closest(levels: set[str], plan: list[PlannedRoom]) -> int | None:
    """The planned class sharing most levels with a room (the first on a tie), if any."""
    best, shared = None, 0
    for i, planned in enumerate(plan):
        n = len(levels.intersection(planned.levels))
        if n > shared:
            best, shared = i, n
    return best


def _match(rooms: list[_Room], plan: list[PlannedRoom]) -> dict[int, PlannedRoom]:
    """The planned class each estimated room takes (by ``id`` of the room), taken out of
    ``plan``: a room keeps a class of its own levels if there is one, else takes the one
    sharing most levels with it; the rooms left take the classes left, in order. So a
    later year moves as few labels as it can (the ULIS unit stays the ULIS unit)."""
    given: dict[int, PlannedRoom] = {}
    for exact in (True, False):
        for room in rooms:
            if id(room) in given or not room.levels:
                continue
            if exact:
                pick = next((i for i, p in enumerate(plan) if p.label == room.levels), None)
            else:
                pick = _closest(set(room.levels.split(",")), plan)
            if pick is not None:
                given[id(room)] = plan.pop(pick)
    for room in rooms:
        if id(room) not in given and plan:
            given[id(room)] = plan.pop(0)
    return given


def _describe(levels: str, pupils: int | None) -> str:
    shown = levels.replace(",", ", ") or "—"
    return shown if pupils is None else f"{shown} ({pupils})"


class EffectifsImporter(Importer):
    """The 'effectifs d'élèves par école' file, one school year: each school's classes
    become rooms labelled with their levels and pupils (:func:`plan_classes`).

    - A school without rooms gets one per class, marked estimated (the levels are the
      plan's, not a person's).
    - A school with rooms: a room a person edited (not estimated) is never touched, and
      keeps the planned class it shares most levels with; the estimated rooms, in their
      order, take the other planned classes (levels, pupils); the classes left get new
      rooms. No room is ever deleted: estimated rooms beyond the year's classes are kept
      as they were, and the row's report says so.
    """

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
        _c(
            "elementaire",
            "nombre_d_eleves_en_elementaire_hors_ulis",
            "nombre_eleves_elementaire_hors_ulis",
        ),
        *(_c(f"level_{lv}", *names) for lv, names in LEVEL_COLUMNS.items()),
    )

    def __init__(self, session: Session, *, year: str | None = None) -> None:
        self.session = session
        self.year = year
        self.unknown: list[str] = []

    def prepare(self, table: ImportTable, report: ImportReport) -> Iterable[tuple[int, Row]]:
        years = {row["year"] for _, row in table.rows if row.get("year")}
        if self.year is None and years:
            self.year = max(years)
        report.notes.append(str(_l("School year imported: %(year)s.", year=self.year)))
        self.ecoles = {e.uai: e for e in self.session.scalars(select(Ecole))}
        self.rooms: dict[int, list[_Room]] = {}
        for ecole_id, room_id, name, position, levels, pupils, estimated in self.session.execute(
            select(
                Classroom.ecole_id,
                Classroom.id,
                Classroom.name,
                Classroom.position,
                Classroom.levels,
                Classroom.pupils,
                Classroom.estimated,
            ).order_by(Classroom.ecole_id, Classroom.position, Classroom.id)
        ):
            room = _Room(room_id, name, position, levels, pupils, estimated)
            self.rooms.setdefault(ecole_id, []).append(room)
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
        plan = plan_classes(
            n_classes,
            preschool=_count(row.get("preelementaire", ""), _l("pre-school pupils")),
            elementary={lv: per_level[lv] for lv in ELEMENTARY},
            ulis=per_level[ULIS],
            preschool_levels={lv: per_level[lv] for lv in PRESCHOOL},
            elementary_total=_count(row.get("elementaire", ""), _l("elementary pupils")),
        )
        outcome = self._apply(ecole, plan, n_classes)
        # The school's pupils of the year (what the per-pupil figures of the dashboards
        # divide by): the file's total, when it gives one.
        total = _count(row.get("pupils", ""), _l("pupil count"))
        if total and ecole.pupils != total:
            self.note(
                _l("Pupils of the school: %(old)s → %(new)d.", old=ecole.pupils or "—", new=total)
            )
            ecole.pupils = total
            if outcome is Outcome.UNCHANGED:
                outcome = Outcome.UPDATED
        return outcome

    def _apply(self, ecole: Ecole, plan: list[PlannedRoom], n_classes: int) -> Outcome:
        rooms = self.rooms.setdefault(ecole.id, [])
        had_rooms = bool(rooms)
        remaining = list(plan)
        for room in rooms:
            if room.estimated or not room.levels or not remaining:
                continue
            # A room a person labelled holds its class: the planned class closest to it.
            best = _closest(set(room.levels.split(",")), remaining)
            if best is not None:
                remaining.pop(best)
        estimated = [r for r in rooms if r.estimated]
        given = _match(estimated, remaining)
        relabelled = []
        for room in estimated:
            planned = given.get(id(room))
            if planned is None or (room.levels, room.pupils) == (planned.label, planned.pupils):
                continue
            relabelled.append(
                f"{room.name} {_describe(room.levels, room.pupils)} → "
                f"{_describe(planned.label, planned.pupils)}"
            )
            classroom = room.obj or self.session.get_one(Classroom, room.id)
            classroom.levels, classroom.pupils = planned.label, planned.pupils
            room.levels, room.pupils = planned.label, planned.pupils
        created = []
        taken = {r.name for r in rooms}
        position = max((r.position for r in rooms), default=0)
        # New rooms are numbered after the school's rooms (a name a person freed is not
        # given to another room).
        number = len(rooms)
        for planned in remaining:
            number += 1
            while f"Classe {number}" in taken:
                number += 1
            name = f"Classe {number}"
            taken.add(name)
            position += 1
            classroom = Classroom(
                ecole=ecole,
                name=name,
                position=position,
                levels=planned.label,
                pupils=planned.pupils,
                estimated=True,
            )
            self.session.add(classroom)
            rooms.append(_Room(0, name, position, planned.label, planned.pupils, True, classroom))
            created.append(f"{name} {_describe(planned.label, planned.pupils)}")
        beyond = [r for r in estimated if id(r) not in given]
        if had_rooms and created:
            self.note(
                _l("Classrooms created (levels, pupils): %(rooms)s.", rooms="; ".join(created))
            )
        if relabelled:
            self.note(
                _l(
                    "Estimated classrooms re-labelled (levels, pupils): %(rooms)s.",
                    rooms="; ".join(relabelled),
                )
            )
        if beyond:
            self.warn(
                ngettext(
                    "%(num)d estimated classroom beyond the %(classes)d classes of the file "
                    "kept as it was (%(rooms)s): delete or relabel it if the class has closed.",
                    "%(num)d estimated classrooms beyond the %(classes)d classes of the file "
                    "kept as they were (%(rooms)s): delete or relabel them if the classes "
                    "have closed.",
                    len(beyond),
                    classes=n_classes,
                    rooms=", ".join(r.name for r in beyond),
                )
            )
        if created and not had_rooms:
            return Outcome.CREATED
        return Outcome.UPDATED if relabelled or created else Outcome.UNCHANGED

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


def import_effectifs(
    session: Session, data: bytes, filename: str = "", *, year: str | None = None
) -> ImportReport:
    """Import a pupils-per-school file: each known school's classes and pupils."""
    return run_import(
        EffectifsImporter(session, year=year), data, session=session, filename=filename
    )
