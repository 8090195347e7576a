"""The 'socle numérique de base': which classrooms and schools have what they need in service.

Requirements are data (``SocleRequirement``). Everything here is aggregate SQL over indexed
columns, so that a collectivité, a circonscription or an académie is checked in one pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    case,
    cast,
    event,
    exists,
    false,
    func,
    inspect,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from inventory.assets.models import (
    Asset,
    AssetStatus,
    ClassroomSocle,
    EquipmentCategory,
    NetworkWork,
    RequirementLevel,
    SocleRequirement,
    WorkStatus,
    work_classrooms,
)
from inventory.orgs.models import Classroom, Ecole, SchoolNature

TARGET_LEVELS = ("CP", "CE1", "CE2", "CM1", "CM2", "ULIS")
DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)


def requirements(session: Session, level: RequirementLevel | None = None) -> list[SocleRequirement]:
    stmt = select(SocleRequirement).where(SocleRequirement.active.is_(True))
    if level is not None:
        stmt = stmt.where(SocleRequirement.level == level)
    return list(session.scalars(stmt.order_by(SocleRequirement.position)))


def _category_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())


def target_clause(school_nature: ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """Classrooms the programme aims at: cycles 2 and 3, or unlabelled rooms of a school
    that is not a maternelle (``school_nature``: the school's nature as the query reads
    it, e.g. a lookup per classroom; by default, the schools are read as a set)."""
    padded = literal(",") + Classroom.levels + literal(",")
    by_level = or_(*(padded.like(f"%,{lv},%") for lv in TARGET_LEVELS))
    not_maternelle = (
        Classroom.ecole_id.in_(select(Ecole.id).where(Ecole.nature != SchoolNature.MATERNELLE))
        if school_nature is None
        else school_nature != SchoolNature.MATERNELLE
    )
    return or_(by_level, and_(Classroom.levels == "", not_maternelle))


def classroom_meets_clause(session: Session) -> ColumnElement[bool]:
    """True for a classroom whose every classroom-level requirement is met."""
    cat_ids = _category_ids(session)
    parts: list[ColumnElement[bool]] = []
    for req in requirements(session, RequirementLevel.CLASSROOM):
        options: list[ColumnElement[bool]] = []
        ids = [cat_ids[c] for c in req.categories if c in cat_ids]
        if ids:
            count = (
                select(func.count())
                .select_from(Asset)
                .where(
                    Asset.classroom_id == Classroom.id,
                    Asset.status == AssetStatus.IN_SERVICE,
                    # "+ 0": probed once per classroom, this count must start from the
                    # classroom's index; SQLite, which keeps no statistics, would
                    # otherwise scan the (category, status) index for every classroom.
                    (Asset.category_id + 0).in_(ids),
                )
                .scalar_subquery()
            )
            options.append(count >= req.minimum)
        if req.kinds:
            options.append(
                exists().where(
                    work_classrooms.c.classroom_id == Classroom.id,
                    work_classrooms.c.work_id == NetworkWork.id,
                    NetworkWork.kind.in_(req.kinds),
                    NetworkWork.status.in_(DONE),
                )
            )
        parts.append(or_(*options) if options else false())
    return and_(*parts) if parts else true()


def missing_clause(classroom_id: Any = Classroom.id) -> ColumnElement[bool]:
    """True for a classroom aimed at that misses the socle (``classroom_id``: the column
    naming it, a classroom's or an item's), as its summary says, which is kept current in
    the transaction of every change (:func:`refresh`)."""
    return exists().where(ClassroomSocle.classroom_id == classroom_id, ClassroomSocle.missing())


@dataclass
class RequirementCheck:
    requirement: SocleRequirement
    count: int
    met: bool


@dataclass
class PlaceStatus:
    checks: list[RequirementCheck] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(c.met for c in self.checks)


def classroom_status(session: Session, classroom_ids: list[int]) -> dict[int, PlaceStatus]:
    """Each classroom's requirements, counted from items in service and finished works."""
    reqs = requirements(session, RequirementLevel.CLASSROOM)
    cat_codes = {v: k for k, v in _category_ids(session).items()}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    works: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(classroom_ids):
        rows = session.execute(
            select(Asset.classroom_id, Asset.category_id, func.count())
            .where(Asset.classroom_id.in_(chunk), Asset.status == AssetStatus.IN_SERVICE)
            .group_by(Asset.classroom_id, Asset.category_id)
        )
        for room_id, cat_id, n in rows:
            counts[room_id][cat_codes[cat_id]] += n
        rows = session.execute(
            select(work_classrooms.c.classroom_id, NetworkWork.kind)
            .join(NetworkWork, NetworkWork.id == work_classrooms.c.work_id)
            .where(work_classrooms.c.classroom_id.in_(chunk), NetworkWork.status.in_(DONE))
        )
        for room_id, kind in rows:
            works[room_id].add(kind.value)
    return {room_id: _status(reqs, counts[room_id], works[room_id]) for room_id in classroom_ids}


def school_status(session: Session, ecole_ids: list[int]) -> dict[int, PlaceStatus]:
    """Each school's own requirements (shared equipment), counted over the whole school."""
    reqs = requirements(session, RequirementLevel.SCHOOL)
    cat_codes = {v: k for k, v in _category_ids(session).items()}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    works: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(ecole_ids):
        rows = session.execute(
            select(Asset.ecole_id, Asset.category_id, func.count())
            .where(Asset.ecole_id.in_(chunk), Asset.status == AssetStatus.IN_SERVICE)
            .group_by(Asset.ecole_id, Asset.category_id)
        )
        for ecole_id, cat_id, n in rows:
            counts[ecole_id][cat_codes[cat_id]] += n
        rows = session.execute(
            select(NetworkWork.ecole_id, NetworkWork.kind).where(
                NetworkWork.ecole_id.in_(chunk), NetworkWork.status.in_(DONE)
            )
        )
        for ecole_id, kind in rows:
            works[ecole_id].add(kind.value)
    return {ecole_id: _status(reqs, counts[ecole_id], works[ecole_id]) for ecole_id in ecole_ids}


def _status(reqs: list[SocleRequirement], counts: dict[str, int], works: set[str]) -> PlaceStatus:
    checks = []
    for req in reqs:
        n = sum(counts.get(c, 0) for c in req.categories)
        met = n >= req.minimum if req.categories else False
        if req.kinds and works & set(req.kinds):
            met = True
        checks.append(RequirementCheck(req, n, met))
    return PlaceStatus(checks)


def _chunks(ids: list[int], size: int = 900) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)] or [[]]


@dataclass
class Coverage:
    """Target classrooms meeting the socle, out of all target classrooms."""

    meeting: int
    targets: int

    @property
    def percent(self) -> float:
        return 100 * self.meeting / self.targets if self.targets else 0.0


def coverage_by_school(session: Session, ecole_ids: list[int]) -> dict[int, Coverage]:
    """Per school: target classrooms, and those meeting the socle — one grouped query."""
    meets = classroom_meets_clause(session)
    out: dict[int, Coverage] = {e: Coverage(0, 0) for e in ecole_ids}
    for chunk in _chunks(ecole_ids):
        rows = session.execute(
            select(Classroom.ecole_id, func.count(), func.sum(cast(meets, Integer)))
            .where(Classroom.ecole_id.in_(chunk), target_clause())
            .group_by(Classroom.ecole_id)
        )
        for ecole_id, targets, meeting in rows:
            out[ecole_id] = Coverage(int(meeting or 0), targets)
    return out


def total(coverages: dict[int, Coverage]) -> Coverage:
    return Coverage(
        sum(c.meeting for c in coverages.values()), sum(c.targets for c in coverages.values())
    )


# -- the summary table -------------------------------------------------------------------
def _summary_rows(
    reqs: list[SocleRequirement], cat_ids: dict[str, int], chunk: list[int] | None
) -> Select[Any]:
    """(classroom, school, is target, meets) for the classrooms of ``chunk`` (all: None).

    The counts come from one grouped pass over the items in service and one over the
    finished works, joined to the classrooms: a count per classroom in a correlated
    subquery would be planned once for every row, and badly when the planner's statistics
    lag behind a large import."""
    item_counts, work_flags = [], []
    for i, req in enumerate(reqs):
        ids = [cat_ids[c] for c in req.categories if c in cat_ids]
        if ids:
            hit = case((Asset.category_id.in_(ids), 1), else_=0)
            item_counts.append((i, func.sum(hit).label(f"items_{i}")))
        if req.kinds:
            hit = case((NetworkWork.kind.in_(req.kinds), 1), else_=0)
            work_flags.append((i, func.max(hit).label(f"works_{i}")))
    items = select(Asset.classroom_id, *(c for _, c in item_counts)).where(
        Asset.status == AssetStatus.IN_SERVICE, Asset.classroom_id.is_not(None)
    )
    works = (
        select(work_classrooms.c.classroom_id, *(c for _, c in work_flags))
        .join(NetworkWork, NetworkWork.id == work_classrooms.c.work_id)
        .where(NetworkWork.status.in_(DONE))
    )
    # Each classroom looks its school up (a lookup per row, on both engines), rather
    # than every school being read for the target clause.
    nature = select(Ecole.nature).where(Ecole.id == Classroom.ecole_id).scalar_subquery()
    rows = select(Classroom.id, Classroom.ecole_id, target_clause(nature))
    if chunk is not None:
        items = items.where(Asset.classroom_id.in_(chunk))
        works = works.where(work_classrooms.c.classroom_id.in_(chunk))
        rows = rows.where(Classroom.id.in_(chunk))
        # Only the chunk's works read, not the whole table hashed.
        works = works.where(
            NetworkWork.id.in_(
                select(work_classrooms.c.work_id).where(work_classrooms.c.classroom_id.in_(chunk))
            )
        )
    item_sq = items.group_by(Asset.classroom_id).subquery()
    work_sq = works.group_by(work_classrooms.c.classroom_id).subquery()
    options: dict[int, list[ColumnElement[bool]]] = defaultdict(list)
    for i, col in item_counts:
        options[i].append(func.coalesce(item_sq.c[col.name], 0) >= reqs[i].minimum)
    for i, col in work_flags:
        options[i].append(func.coalesce(work_sq.c[col.name], 0) == 1)
    parts = [or_(*options[i]) if options[i] else false() for i in range(len(reqs))]
    meets = and_(*parts) if parts else true()
    return (
        rows.add_columns(meets)
        .outerjoin(item_sq, item_sq.c.classroom_id == Classroom.id)
        .outerjoin(work_sq, work_sq.c.classroom_id == Classroom.id)
    )


def refresh(connection: Connection, classroom_ids: Iterable[int] | None = None) -> None:
    """Recompute ``classroom_socle`` for these classrooms (all when None), in SQL."""
    session = Session(bind=connection)
    reqs = requirements(session, RequirementLevel.CLASSROOM)
    cat_ids = _category_ids(session)
    session.close()
    table = ClassroomSocle.__table__
    ids = None if classroom_ids is None else sorted(set(classroom_ids))
    chunks = [None] if ids is None else _chunks(ids)
    for chunk in chunks:
        if chunk is not None and not chunk:
            continue
        delete = table.delete()
        if chunk is not None:
            delete = delete.where(table.c.classroom_id.in_(chunk))
        connection.execute(delete)
        connection.execute(
            table.insert().from_select(
                ["classroom_id", "ecole_id", "is_target", "meets"],
                _summary_rows(reqs, cat_ids, chunk),
            )
        )


def _touched_classrooms(session: Session) -> set[int]:
    """Classrooms whose socle status a pending flush may change."""
    touched: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Asset):
            # New items: their room is all there is to know (no history to read).
            if obj.classroom_id:
                touched.add(obj.classroom_id)
        elif isinstance(obj, Classroom) and obj.id:
            touched.add(obj.id)
        elif isinstance(obj, NetworkWork):
            touched.update(r.id for r in obj.classrooms if r.id)
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, Asset):
            if obj.classroom_id:
                touched.add(obj.classroom_id)
            touched.update(v for v in inspect(obj).attrs["classroom_id"].history.deleted if v)
        elif isinstance(obj, NetworkWork):
            touched.update(r.id for r in obj.classrooms if r.id)
            hist = inspect(obj).attrs["classrooms"].history
            touched.update(r.id for r in (*hist.deleted, *hist.added) if r.id)
        elif isinstance(obj, Classroom) and obj.id:
            touched.add(obj.id)
    # A school changing nature changes which of its rooms without levels are aimed at.
    renatured = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, Ecole) and obj.id and inspect(obj).attrs["nature"].history.has_changes()
    ]
    for chunk in _chunks(renatured):
        touched.update(session.scalars(select(Classroom.id).where(Classroom.ecole_id.in_(chunk))))
    return touched


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, flush_context: object) -> None:
    if session.info.get("socle_full_refresh"):
        return
    if any(
        isinstance(o, SocleRequirement) for o in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info["socle_full_refresh"] = True
        refresh(session.connection())
        session.info.pop("socle_full_refresh", None)
        return
    touched = _touched_classrooms(session)
    if touched:
        refresh(session.connection(), touched)
