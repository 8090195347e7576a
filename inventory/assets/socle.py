"""The 'socle numérique de base': which classrooms and schools have what they need in service.

The requirements are data: the active rows of the *current* socle référentiel
(:class:`Referentiel`; exactly one is current, an administrator chooses it and edits its
requirements in the app, and every figure follows in the same transaction). A funding
scheme points to its référentiel; the SNEE 2021 one ships as the preset.

Each requirement has a level and a kind (``SocleRequirement``):

- *classroom* requirements are checked in each classroom: items in service there (a
  display, a teacher laptop), finished works covering the room (the connection), and
  capabilities brought by its items in service (image capture, microphone, speakers: a
  visualiseur, a webcam, speakers, or a model declared with them built in);
- *school* requirements (pupils' mobile devices per target classrooms, their charging cart
  or MDM, Wi-Fi access points, a way to share work) and the *director's* kit (a computer, a
  connection, a networked multifunction printer) are checked over the whole school: its
  items in service wherever they are, its finished works, and the digital services
  (:class:`DigitalService`) running today that cover it.

Decision: a classroom "meets the socle" — the ``classroom_socle`` summary's ``meets``, the
dashboards' headline "% of target classrooms at the socle", the missing-classrooms list
and the equipment filter — when every *classroom* requirement is met in it. The school and
director requirements are reported per school only (school, collectivité and circonscription
pages), beside that figure: folded into each classroom's flag, one missing copier would
make every classroom of a school fail together and hide which rooms lack their own
equipment, and every room's row would hang on the school's services and pupil counts.

Everything here is aggregate SQL over indexed columns, so that a collectivité, a
circonscription or an académie is checked in one pass; the summary's refresh is set-based
(no query per classroom).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    ScalarSelect,
    Select,
    and_,
    case,
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

from inventory.assets import room_works
from inventory.assets.models import (
    Asset,
    AssetStatus,
    Capability,
    ClassroomSocle,
    DigitalService,
    DigitalServiceSchool,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    NetworkWork,
    Referentiel,
    RequirementKind,
    RequirementLevel,
    SocleRequirement,
    WorkStatus,
    capability_list,
)
from inventory.orgs.models import Classroom, Ecole, SchoolNature

TARGET_LEVELS = ("CP", "CE1", "CE2", "CM1", "CM2", "ULIS")
DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)
# The levels checked over the whole school.
SCHOOL_LEVELS = (RequirementLevel.SCHOOL, RequirementLevel.DIRECTION)
PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    """Today in France, where a service's first and last days are counted."""
    return datetime.now(PARIS).date()


def current_referentiel(session: Session) -> Referentiel | None:
    return session.scalar(select(Referentiel).where(Referentiel.is_current.is_(True)))


def _current_id() -> ScalarSelect[int]:
    return select(Referentiel.id).where(Referentiel.is_current.is_(True)).scalar_subquery()


def requirements(
    session: Session,
    level: RequirementLevel | Iterable[RequirementLevel] | None = None,
    *,
    referentiel_id: int | None = None,
) -> list[SocleRequirement]:
    """The active requirements of the current référentiel (or of ``referentiel_id``), at
    ``level`` (one level or several; all: None), in their order."""
    of = referentiel_id if referentiel_id is not None else _current_id()
    stmt = select(SocleRequirement).where(
        SocleRequirement.active.is_(True), SocleRequirement.referentiel_id == of
    )
    if isinstance(level, RequirementLevel):
        stmt = stmt.where(SocleRequirement.level == level)
    elif level is not None:
        stmt = stmt.where(SocleRequirement.level.in_(list(level)))
    return list(session.scalars(stmt.order_by(SocleRequirement.position, SocleRequirement.id)))


def _category_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())


def model_capabilities() -> ColumnElement[str]:
    """A model's capabilities as stored (its own, else its category's), in a query that
    joins the model to its category."""
    return func.coalesce(EquipmentModel.capabilities, EquipmentCategory.capabilities)


def capable_models(capability: Capability) -> Select[Any]:
    """The ids of the models that bring ``capability`` (a set, for an IN)."""
    padded = literal(",") + model_capabilities() + literal(",")
    return (
        select(EquipmentModel.id)
        .join(EquipmentCategory, EquipmentCategory.id == EquipmentModel.category_id)
        .where(padded.like(f"%,{capability.value},%"))
    )


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


def missing_clause(classroom_id: Any = Classroom.id) -> ColumnElement[bool]:
    """True for a classroom aimed at that misses the socle (``classroom_id``: the column
    naming it, a classroom's or an item's), as its summary says, which is kept current in
    the transaction of every change (:func:`refresh`)."""
    return exists().where(ClassroomSocle.classroom_id == classroom_id, ClassroomSocle.missing())


@dataclass
class RequirementCheck:
    """One requirement in one place: what is there, and whether it is enough.

    ``count``: items in service of its categories; ``needed``: how many it asks there (a
    ratio: per the school's target classrooms, ``targets``); ``works``: the kinds of its
    finished works found; ``services``: its running services found (kind, name);
    ``providers``: for each capability it asks, the models in service bringing it."""

    requirement: SocleRequirement
    count: int
    met: bool
    needed: int = 0
    targets: int = 0
    works: list[str] = field(default_factory=list)
    services: list[tuple[str, str]] = field(default_factory=list)
    providers: dict[Capability, list[str]] = field(default_factory=dict)

    @property
    def missing_capabilities(self) -> list[Capability]:
        return [c for c, found in self.providers.items() if not found]


@dataclass
class PlaceStatus:
    checks: list[RequirementCheck] = field(default_factory=list)
    targets: int = 0  # a school's target classrooms

    @property
    def complete(self) -> bool:
        return all(c.met for c in self.checks)

    @property
    def unmet(self) -> list[RequirementCheck]:
        return [c for c in self.checks if not c.met]


@dataclass
class _Found:
    """What one place holds: items per category, models in service with their
    capabilities, finished works' kinds, running services (kind, name)."""

    categories: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    capabilities: dict[Capability, list[str]] = field(default_factory=lambda: defaultdict(list))
    works: set[str] = field(default_factory=set)
    services: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Rule:
    """A requirement's columns read once, for checking it in many places."""

    requirement: SocleRequirement
    kind: RequirementKind
    categories: tuple[str, ...]
    kinds: tuple[str, ...]
    services: frozenset[str]
    capabilities: tuple[Capability, ...]
    minimum: int
    ratio: tuple[int, int] | None

    @classmethod
    def of(cls, req: SocleRequirement) -> _Rule:
        ratio = (
            (req.ratio_items, req.ratio_classes)
            if req.kind is RequirementKind.RATIO and req.ratio_items and req.ratio_classes
            else None
        )
        return cls(
            req,
            req.kind,
            tuple(req.categories),
            tuple(req.kinds),
            frozenset(req.services),
            tuple(req.capability_list),
            req.minimum,
            ratio,
        )

    def needed(self, targets: int) -> int:
        """As ``SocleRequirement.needed``."""
        if self.ratio is None:
            return self.minimum
        return max(self.minimum, -(-self.ratio[0] * targets // self.ratio[1]))


def _check(rule: _Rule, found: _Found, targets: int, school: bool) -> RequirementCheck:
    """The one reading of a requirement against what a place holds (the summary's SQL,
    :func:`_summary_rows`, says the same of classrooms)."""
    if rule.kind is RequirementKind.CAPABILITIES:
        providers = {c: sorted(set(found.capabilities.get(c, ()))) for c in rule.capabilities}
        met = bool(rule.capabilities) and all(providers.values())
        return RequirementCheck(rule.requirement, 0, met, providers=providers)
    categories = found.categories
    count = sum(categories.get(c, 0) for c in rule.categories)
    needed = rule.needed(targets if school else 0)
    works = [k for k in rule.kinds if k in found.works]
    services = [s for s in found.services if s[0] in rule.services] if school else []
    met = (bool(rule.categories) and count >= needed) or bool(works) or bool(services)
    return RequirementCheck(
        rule.requirement,
        count,
        met,
        needed=needed,
        targets=targets if rule.kind is RequirementKind.RATIO else 0,
        works=works,
        services=services,
    )


def _model_names(session: Session, model_ids: set[int]) -> dict[int, tuple[str, list[Capability]]]:
    """Each model's full name and capabilities."""
    out: dict[int, tuple[str, list[Capability]]] = {}
    ids = sorted(model_ids)
    for chunk in _chunks(ids):
        rows = session.execute(
            select(EquipmentModel.id, Manufacturer.name, EquipmentModel.name, model_capabilities())
            .join(Manufacturer, Manufacturer.id == EquipmentModel.manufacturer_id)
            .join(EquipmentCategory, EquipmentCategory.id == EquipmentModel.category_id)
            .where(EquipmentModel.id.in_(chunk))
        )
        for model_id, maker, name, caps in rows:
            out[model_id] = (f"{maker} {name}", capability_list(caps))
    return out


def _fill_items(
    session: Session, rows: Iterable[Row[Any, int, int, int]], found: dict[int, _Found]
) -> None:
    """Counts and capabilities from (place, model, category, items) rows (the place's
    column may be null, but the callers select the rows of given places)."""
    rows = list(rows)
    codes = {v: k for k, v in _category_ids(session).items()}
    models = _model_names(session, {r[1] for r in rows})
    for place, model_id, category_id, n in rows:
        f = found[place]
        f.categories[codes[category_id]] += n
        name, caps = models.get(model_id, ("", []))
        for c in caps:
            f.capabilities[c].append(name)


def classroom_status(
    session: Session, classroom_ids: list[int], *, reqs: list[SocleRequirement] | None = None
) -> dict[int, PlaceStatus]:
    """Each classroom's requirements (``reqs``: those of the current référentiel), from its
    items in service and finished works."""
    if reqs is None:
        reqs = requirements(session, RequirementLevel.CLASSROOM)
    rules = [_Rule.of(r) for r in reqs]
    found: dict[int, _Found] = defaultdict(_Found)
    for chunk in _chunks(classroom_ids):
        rows = session.execute(
            select(Asset.classroom_id, Asset.model_id, Asset.category_id, func.count())
            .where(Asset.classroom_id.in_(chunk), Asset.status == AssetStatus.IN_SERVICE)
            .group_by(Asset.classroom_id, Asset.model_id, Asset.category_id)
        )
        _fill_items(session, rows, found)
        rw = room_works.rows_of(rooms=chunk)
        for room_id, kind in session.execute(select(rw.c.classroom_id, rw.c.kind)):
            found[room_id].works.add(str(kind))
    return {
        room_id: PlaceStatus([_check(r, found[room_id], 0, school=False) for r in rules])
        for room_id in classroom_ids
    }


def running_clause(day: date) -> ColumnElement[bool]:
    """The digital services running on ``day``."""
    return and_(
        or_(DigitalService.starts_on.is_(None), DigitalService.starts_on <= day),
        or_(DigitalService.ends_on.is_(None), DigitalService.ends_on >= day),
    )


def target_counts(session: Session, ecole_ids: list[int]) -> dict[int, int]:
    """Each school's target classrooms."""
    out: dict[int, int] = {}
    for chunk in _chunks(ecole_ids):
        rows = session.execute(
            select(Classroom.ecole_id, func.count())
            .where(Classroom.ecole_id.in_(chunk), target_clause())
            .group_by(Classroom.ecole_id)
        )
        out.update({e: int(n) for e, n in rows})
    return out


def school_status(
    session: Session,
    ecole_ids: list[int],
    *,
    today: date | None = None,
    reqs: list[SocleRequirement] | None = None,
) -> dict[int, PlaceStatus]:
    """Each school's own requirements (``reqs``: the school and director requirements of
    the current référentiel), counted over the whole school: its items in service, its
    finished works, the digital services running ``today`` (by default, today in France)
    that cover it, its target classrooms."""
    day = today or paris_today()
    if reqs is None:
        reqs = requirements(session, SCHOOL_LEVELS)
    rules = [_Rule.of(r) for r in reqs]
    found: dict[int, _Found] = defaultdict(_Found)
    for chunk in _chunks(ecole_ids):
        rows = session.execute(
            select(Asset.ecole_id, Asset.model_id, Asset.category_id, func.count())
            .where(Asset.ecole_id.in_(chunk), Asset.status == AssetStatus.IN_SERVICE)
            .group_by(Asset.ecole_id, Asset.model_id, Asset.category_id)
        )
        _fill_items(session, rows, found)
        works = session.execute(
            select(NetworkWork.ecole_id, NetworkWork.kind).where(
                NetworkWork.ecole_id.in_(chunk), NetworkWork.status.in_(DONE)
            )
        )
        for ecole_id, kind in works:
            found[ecole_id].works.add(kind.value)
        services = session.execute(
            select(DigitalServiceSchool.ecole_id, DigitalService.kind, DigitalService.name)
            .join(DigitalService, DigitalService.id == DigitalServiceSchool.service_id)
            .where(DigitalServiceSchool.ecole_id.in_(chunk), running_clause(day))
            .order_by(DigitalService.name, DigitalService.id)
        )
        for ecole_id, service_kind, name in services:
            found[ecole_id].services.append((service_kind.value, name))
    targets = target_counts(session, ecole_ids)
    out = {}
    for ecole_id in ecole_ids:
        n = targets.get(ecole_id, 0)
        checks = [_check(r, found[ecole_id], n, school=True) for r in rules]
        out[ecole_id] = PlaceStatus(checks, targets=n)
    return out


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
    """Per school: target classrooms, and those meeting the socle — one grouped query of
    the per-classroom summary (the dashboards' and the missing-classrooms list's)."""
    out: dict[int, Coverage] = {e: Coverage(0, 0) for e in ecole_ids}
    for chunk in _chunks(ecole_ids):
        rows = session.execute(
            select(
                ClassroomSocle.ecole_id,
                func.count(),
                func.count().filter(ClassroomSocle.meets.is_(True)),
            )
            .where(ClassroomSocle.ecole_id.in_(chunk), ClassroomSocle.is_target.is_(True))
            .group_by(ClassroomSocle.ecole_id)
        )
        for ecole_id, targets, meeting in rows:
            out[ecole_id] = Coverage(int(meeting or 0), int(targets))
    return out


def total(coverages: dict[int, Coverage]) -> Coverage:
    return Coverage(
        sum(c.meeting for c in coverages.values()), sum(c.targets for c in coverages.values())
    )


@dataclass
class RequirementTally:
    """One requirement over many places: where it is met, out of where it is asked."""

    requirement: SocleRequirement
    met: int
    places: int


@dataclass
class Overview:
    """The socle of a set of schools, requirement by requirement: classroom requirements
    over their target classrooms, school and director requirements over the schools that
    have target classrooms; ``schools``: each school's own checks."""

    classroom: list[RequirementTally]
    school: list[RequirementTally]
    schools: dict[int, PlaceStatus]
    referentiel: Referentiel | None


def overview(session: Session, ecole_ids: list[int]) -> Overview:
    """Requirement by requirement, for the pages of a collectivité or a circonscription:
    the classroom requirements summed in SQL over the target classrooms, the school and
    director requirements read per school."""
    every = requirements(session)
    classroom_reqs = [r for r in every if r.level is RequirementLevel.CLASSROOM]
    school_reqs = [r for r in every if r.level in SCHOOL_LEVELS]
    rooms, met = classroom_tallies(session, ecole_ids, classroom_reqs)
    schools = school_status(session, ecole_ids, reqs=school_reqs)
    aimed = [s for s in schools.values() if s.targets]
    return Overview(
        classroom=[RequirementTally(r, n, rooms) for r, n in zip(classroom_reqs, met, strict=True)],
        school=[
            RequirementTally(r, sum(1 for s in aimed if s.checks[i].met), len(aimed))
            for i, r in enumerate(school_reqs)
        ],
        schools=schools,
        referentiel=current_referentiel(session),
    )


# -- the summary table -------------------------------------------------------------------
# The columns of a statement joined to the facts: joining adds rows' sources, not columns.
Columns = TypeVarTuple("Columns")


@dataclass
class _RoomFacts:
    """The grouped items and works of some classrooms, and for each requirement the
    condition that it is met in a classroom (over a select from ``Classroom`` joined by
    :meth:`joined`)."""

    item_sq: Any
    work_sq: Any
    parts: list[ColumnElement[bool]]

    def joined(self, stmt: Select[*Columns]) -> Select[*Columns]:
        return stmt.outerjoin(self.item_sq, self.item_sq.c.classroom_id == Classroom.id).outerjoin(
            self.work_sq, self.work_sq.c.classroom_id == Classroom.id
        )


def _room_facts(
    reqs: list[SocleRequirement],
    cat_ids: dict[str, int],
    *,
    rooms: list[int] | None = None,
    schools: list[int] | None = None,
    sources: Iterable[str] | None = None,
) -> _RoomFacts:
    """The classroom requirements as SQL over the classrooms of ``rooms``, or of the
    schools ``schools`` (every classroom: neither).

    The counts come from one grouped pass over the items in service and one over the
    finished works, joined to the classrooms: a count per classroom in a correlated
    subquery would be planned once for every row, and badly when the planner's statistics
    lag behind a large import. A capability is a flag per classroom in the same pass: an
    item of a model that brings it (the models are a set, read once)."""
    item_cols: list[tuple[int, Any]] = []  # (requirement index, aggregate)
    work_flags: list[tuple[int, Any]] = []
    for i, req in enumerate(reqs):
        if req.kind is RequirementKind.CAPABILITIES:
            for cap in req.capability_list:
                hit = case((Asset.model_id.in_(capable_models(cap)), 1), else_=0)
                item_cols.append((i, func.max(hit).label(f"cap_{i}_{cap.value}")))
            continue
        ids = [cat_ids[c] for c in req.categories if c in cat_ids]
        if ids:
            hit = case((Asset.category_id.in_(ids), 1), else_=0)
            item_cols.append((i, func.sum(hit).label(f"items_{i}")))
    rw = room_works.rows_of(rooms=rooms, schools=schools, sources=sources)
    for i, req in enumerate(reqs):
        if req.kind is not RequirementKind.CAPABILITIES and req.kinds:
            hit = case((rw.c.kind.in_(req.kinds), 1), else_=0)
            work_flags.append((i, func.max(hit).label(f"works_{i}")))
    items = select(Asset.classroom_id, *(c for _, c in item_cols)).where(
        Asset.status == AssetStatus.IN_SERVICE, Asset.classroom_id.is_not(None)
    )
    works = select(rw.c.classroom_id, *(c for _, c in work_flags))
    if rooms is not None:
        items = items.where(Asset.classroom_id.in_(rooms))
    elif schools is not None:
        items = items.where(Asset.ecole_id.in_(schools))
    item_sq = items.group_by(Asset.classroom_id).subquery()
    work_sq = works.group_by(rw.c.classroom_id).subquery()
    options: dict[int, list[ColumnElement[bool]]] = defaultdict(list)
    capabilities: dict[int, list[ColumnElement[bool]]] = defaultdict(list)
    for i, col in item_cols:
        value = func.coalesce(item_sq.c[col.name], 0)
        if reqs[i].kind is RequirementKind.CAPABILITIES:
            capabilities[i].append(value == 1)
        else:
            options[i].append(value >= reqs[i].needed(0))
    for i, col in work_flags:
        options[i].append(func.coalesce(work_sq.c[col.name], 0) == 1)
    parts = []
    for i, req in enumerate(reqs):
        if req.kind is RequirementKind.CAPABILITIES:
            parts.append(and_(*capabilities[i]) if capabilities[i] else false())
        else:
            parts.append(or_(*options[i]) if options[i] else false())
    return _RoomFacts(item_sq, work_sq, parts)


def _school_nature() -> Any:
    # Each classroom looks its school up (a lookup per row, on both engines), rather
    # than every school being read for the target clause.
    return select(Ecole.nature).where(Ecole.id == Classroom.ecole_id).scalar_subquery()


def _summary_rows(
    reqs: list[SocleRequirement],
    cat_ids: dict[str, int],
    chunk: list[int] | None,
    sources: Iterable[str] | None = None,
) -> Select[int, int, bool, bool]:
    """(classroom, school, is target, meets) for the classrooms of ``chunk`` (all: None)."""
    facts = _room_facts(reqs, cat_ids, rooms=chunk, sources=sources)
    meets = and_(*facts.parts) if facts.parts else true()
    rows = select(Classroom.id, Classroom.ecole_id, target_clause(_school_nature()), meets)
    if chunk is not None:
        rows = rows.where(Classroom.id.in_(chunk))
    return facts.joined(rows)


def classroom_tallies(
    session: Session, ecole_ids: list[int], reqs: list[SocleRequirement]
) -> tuple[int, list[int]]:
    """Over the target classrooms of these schools: how many there are, and how many meet
    each of the classroom requirements ``reqs`` — the summary's own conditions, summed in
    one query per chunk of schools."""
    cat_ids = _category_ids(session)
    rooms, met = 0, [0] * len(reqs)
    for chunk in _chunks(ecole_ids):
        if not chunk:
            continue
        facts = _room_facts(reqs, cat_ids, schools=chunk)
        stmt = facts.joined(
            select(func.count(), *(func.sum(case((p, 1), else_=0)) for p in facts.parts))
            .select_from(Classroom)
            .where(Classroom.ecole_id.in_(chunk), target_clause(_school_nature()))
        )
        n, *counts = session.execute(stmt).one()
        rooms += int(n or 0)
        met = [a + int(b or 0) for a, b in zip(met, counts, strict=True)]
    return rooms, met


def refresh(connection: Connection, classroom_ids: Iterable[int] | None = None) -> None:
    """Recompute ``classroom_socle`` for these classrooms (all when None), in SQL."""
    session = Session(bind=connection)
    reqs = requirements(session, RequirementLevel.CLASSROOM)
    cat_ids = _category_ids(session)
    session.close()
    table = ClassroomSocle.__table__
    ids = None if classroom_ids is None else sorted(set(classroom_ids))
    sources = None
    if ids is None:
        # A whole refresh may be a migration's, older than a registered source's tables.
        schema = inspect(connection)
        sources = [
            name
            for name, (_rows, _touched, tables) in room_works.REGISTERED.items()
            if all(schema.has_table(t) for t in tables)
        ]
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
                _summary_rows(reqs, cat_ids, chunk, sources),
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
    for _rows, touched_by, _tables in room_works.REGISTERED.values():
        touched |= touched_by(session)
    # A school changing nature changes which of its rooms without levels are aimed at.
    renatured = [
        obj.id
        for obj in session.dirty
        if isinstance(obj, Ecole) and obj.id and inspect(obj).attrs["nature"].history.has_changes()
    ]
    for chunk in _chunks(renatured):
        touched.update(session.scalars(select(Classroom.id).where(Classroom.ecole_id.in_(chunk))))
    return touched


def _changed(obj: Any, *attrs: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in attrs)


def _everything_changes(session: Session) -> bool:
    """Whether a pending flush changes what every classroom is checked against: the
    current référentiel's classroom requirements, which référentiel is current, or a
    category's capabilities."""
    changed = (*session.new, *session.dirty, *session.deleted)
    for o in changed:
        if isinstance(o, Referentiel):
            hist = inspect(o).attrs["is_current"].history
            if True in (*hist.added, *hist.deleted) or (o in session.deleted and o.is_current):
                return True
    if any(isinstance(o, EquipmentCategory) and _changed(o, "capabilities") for o in session.dirty):
        return True
    reqs = [o for o in changed if isinstance(o, SocleRequirement)]
    if not reqs:
        return False
    current = session.scalar(select(Referentiel.id).where(Referentiel.is_current.is_(True)))
    for req in reqs:
        state = inspect(req)
        referentiels = {req.referentiel_id, *state.attrs["referentiel_id"].history.deleted}
        levels = {req.level, *state.attrs["level"].history.deleted}
        if current in referentiels and RequirementLevel.CLASSROOM in levels:
            return True
    return False


def _rooms_of_changed_models(session: Session) -> set[int]:
    """Classrooms holding items of a model whose capabilities (or category) change."""
    ids = [
        o.id
        for o in session.dirty
        if isinstance(o, EquipmentModel) and o.id and _changed(o, "capabilities", "category_id")
    ]
    rooms: set[int] = set()
    for chunk in _chunks(ids):
        if chunk:
            rooms.update(
                session.scalars(
                    select(Asset.classroom_id)
                    .where(Asset.model_id.in_(chunk), Asset.classroom_id.is_not(None))
                    .distinct()
                )
            )
    return rooms


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, flush_context: object) -> None:
    if session.info.get("socle_full_refresh"):
        return
    if session.info.pop("socle_refresh_pending", False) or _everything_changes(session):
        if session.scalar(select(Referentiel.id).where(Referentiel.is_current.is_(True))) is None:
            # Between two référentiels (the former one no longer current, the next one
            # not yet, see referentiels.make_current): computed once the next one is.
            session.info["socle_refresh_pending"] = True
            return
        session.info["socle_full_refresh"] = True
        refresh(session.connection())
        session.info.pop("socle_full_refresh", None)
        return
    touched = _touched_classrooms(session) | _rooms_of_changed_models(session)
    if touched:
        refresh(session.connection(), touched)


@event.listens_for(Session, "after_rollback")
def _forget_pending_refresh(session: Session) -> None:
    session.info.pop("socle_refresh_pending", None)
