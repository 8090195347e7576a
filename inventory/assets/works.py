"""Network works of a school: cabling, Wi-Fi, internet access, cabinets; their
classrooms, lists and pages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.lifecycle import AssetError, ItemsRefused, commit_edit, lost_race, owner_of
from inventory.assets.models import (
    NetworkWork,
    WorkKind,
    WorkStatus,
    work_classrooms,
)
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.sorting import Sort, SortSpec, in_order_of
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Classroom, Ecole

WORK_KIND_LABELS = {
    WorkKind.CABLING: _l("cabling"),
    WorkKind.WIFI: _l("wifi coverage"),
    WorkKind.INTERNET: _l("internet access upgrade"),
    WorkKind.CABINET: _l("network cabinet"),
}
WORK_STATUS_LABELS = {
    WorkStatus.PLANNED: _l("planned"),
    WorkStatus.ORDERED: _l("ordered"),
    WorkStatus.IN_PROGRESS: _l("in progress"),
    WorkStatus.DONE: _l("done"),
    WorkStatus.ACCEPTED: _l("accepted"),
    WorkStatus.CANCELLED: _l("cancelled"),
}


# -- network works -----------------------------------------------------------------------
WORK_DONE = (WorkStatus.DONE, WorkStatus.ACCEPTED)


@dataclass
class WorkFields:
    kind: WorkKind
    title: str
    status: WorkStatus = WorkStatus.PLANNED
    contractor: str | None = None
    quote_cents: int | None = None
    invoice_cents: int | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    accepted_on: date | None = None
    notes: str | None = None

    def check(self) -> WorkFields:
        self.title = self.title.strip()
        if not self.title:
            raise AssetError(_l("Give the works a title."), field="title")
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            a, b = getattr(self, start), getattr(self, end)
            if a and b and b < a:
                raise AssetError(_l("The end comes before the start."), field=end)
        if self.status is WorkStatus.ACCEPTED and not self.accepted_on:
            raise AssetError(_l("Give the acceptance date of accepted works."), field="accepted_on")
        return self


@guarded(lost_race)
def save_work(
    session: Session,
    user: Subject,
    work: NetworkWork | None,
    *,
    ecole: Ecole,
    fields: WorkFields,
    classroom_ids: Iterable[int],
    version: int | None = None,
) -> NetworkWork:
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    fields = fields.check()
    rooms = list(
        session.scalars(
            select(Classroom).where(
                Classroom.id.in_(list(classroom_ids)), Classroom.ecole_id == ecole.id
            )
        )
    )
    if work is None:
        work = NetworkWork(ecole_id=ecole.id, collectivite_id=owner_of(ecole).id, **fields.__dict__)
        session.add(work)
    else:
        check_version(
            work,
            version,
            ConflictError(
                _l(
                    "Someone else saved these works while you were editing "
                    "them. Check your changes and save again."
                )
            ),
        )
        for key, value in fields.__dict__.items():
            setattr(work, key, value)
    work.classrooms = rooms
    commit_edit(session)
    return work


@dataclass(frozen=True)
class NewWork:
    """One of many works to plan: its school (loaded for editing), fields and classrooms
    (those not of the school are left out, as on the page)."""

    ecole: Ecole
    fields: WorkFields
    classroom_ids: Sequence[int] = ()


def editable_schools(session: Session, user: Subject, ids: Iterable[int]) -> dict[int, Ecole]:
    """The schools of these ids where ``user`` may plan works (the others are absent)."""
    wanted = sorted(set(ids))
    if not wanted or not policy.allowed(user, Action.EDIT):
        return {}
    stmt = policy.visible(user, select(Ecole).where(Ecole.id.in_(wanted)), Ecole)
    return {e.id: e for e in session.scalars(stmt.options(selectinload(Ecole.collectivite)))}


def create_works(session: Session, user: Subject, new: Sequence[NewWork]) -> list[NetworkWork]:
    """Plan many works in one transaction, all or none: when any is refused, nothing is
    written and :class:`ItemsRefused` says why, by position."""
    refused: dict[int, AssetError] = {}
    rooms: dict[int, list[Classroom]] = {}
    wanted = sorted({i for w in new for i in w.classroom_ids})
    for room in (
        session.scalars(select(Classroom).where(Classroom.id.in_(wanted))) if wanted else ()
    ):
        rooms.setdefault(room.ecole_id, []).append(room)
    made = []
    checked: set[int] = set()
    for n, w in enumerate(new):
        if w.ecole.id not in checked:  # once per school, not per works
            if not policy.can(user, Action.EDIT, w.ecole, session):
                raise policy.Denied()
            checked.add(w.ecole.id)
        try:
            fields = w.fields.check()
            owner = owner_of(w.ecole)
        except AssetError as exc:
            refused[n] = exc
            continue
        work = NetworkWork(ecole_id=w.ecole.id, collectivite_id=owner.id, **fields.__dict__)
        chosen = set(w.classroom_ids)
        work.classrooms = [r for r in rooms.get(w.ecole.id, []) if r.id in chosen]
        made.append(work)
    if refused:
        session.rollback()
        raise ItemsRefused(refused)
    session.add_all(made)
    commit_edit(session)
    return made


def works_of(session: Session, user: Subject, **where: Any) -> list[NetworkWork]:
    stmt = (
        select(NetworkWork)
        .filter_by(**where)
        .options(selectinload(NetworkWork.classrooms), selectinload(NetworkWork.ecole))
        .order_by(NetworkWork.planned_start.desc(), NetworkWork.id.desc())
    )
    return list(session.scalars(policy.visible(user, stmt, NetworkWork)))


@dataclass(frozen=True)
class WorkFilters:
    ecole: int | None = None
    collectivite: int | None = None
    kind: WorkKind | None = None
    status: WorkStatus | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        for column, value in (
            (NetworkWork.ecole_id, self.ecole),
            (NetworkWork.collectivite_id, self.collectivite),
            (NetworkWork.kind, self.kind),
            (NetworkWork.status, self.status),
        ):
            if value:
                stmt = stmt.where(column == value)
        return stmt


# The columns the works list sorts by (its own order: newest first).
WORK_SORT = SortSpec(
    columns={
        "title": NetworkWork.title,
        "school": select(Ecole.name).where(Ecole.id == NetworkWork.ecole_id).scalar_subquery(),
        "kind": in_order_of(NetworkWork.kind, WorkKind),
        "status": in_order_of(NetworkWork.status, WorkStatus),
        "planned": NetworkWork.planned_start,
        "quote": NetworkWork.quote_cents,
        "invoice": NetworkWork.invoice_cents,
    },
    id=NetworkWork.id,
)


def list_works(
    session: Session,
    user: Subject,
    filters: WorkFilters,
    page: int,
    per_page: int,
    sort: Sort | None = None,
) -> Page[NetworkWork]:
    """A page of the works matching ``filters``, newest first or in ``sort``'s order (a
    total order: the pages never share nor skip a row)."""
    order = sort.order_by() if sort else [NetworkWork.id.desc()]
    rows = policy.visible(user, select(NetworkWork), NetworkWork).options(
        selectinload(NetworkWork.classrooms), selectinload(NetworkWork.ecole)
    )
    keys = policy.visible(user, filters.apply(select(NetworkWork.id)), NetworkWork).order_by(*order)
    return paginate(session, rows, page, per_page, key_stmt=keys)


# Beyond this many works a key-paged list says "more than" instead of counting them.
WORK_COUNT_CAP = 10_000


def works_by_key(
    session: Session,
    user: Subject,
    filters: WorkFilters,
    per_page: int,
    after: int | None = None,
) -> KeyedPage[NetworkWork]:
    """The works matching ``filters``, newest first, a page after the works of id
    ``after`` (the API's cursor): key paging, the same cost at any depth."""
    rows = select(NetworkWork).options(
        selectinload(NetworkWork.classrooms), selectinload(NetworkWork.ecole)
    )
    keys = policy.visible(user, filters.apply(select(NetworkWork.id)), NetworkWork)
    return paginate_by_key(
        session, rows, keys, NetworkWork.id, per_page=per_page, cap=WORK_COUNT_CAP, after=after
    )


def work_detail(session: Session, user: Subject, work_id: int) -> NetworkWork:
    work = policy.load_or_404(user, NetworkWork, work_id, session)
    session.scalars(
        select(NetworkWork)
        .where(NetworkWork.id == work.id)
        .options(
            selectinload(NetworkWork.classrooms),
            selectinload(NetworkWork.ecole).selectinload(Ecole.classrooms),
            selectinload(NetworkWork.collectivite),
        )
    ).all()
    return work


def works_of_classroom(session: Session, user: Subject, classroom_id: int) -> list[NetworkWork]:
    """The network works that cover one classroom."""
    stmt = (
        select(NetworkWork)
        .join(work_classrooms, work_classrooms.c.work_id == NetworkWork.id)
        .where(work_classrooms.c.classroom_id == classroom_id)
        .order_by(NetworkWork.id.desc())
    )
    return list(session.scalars(policy.visible(user, stmt, NetworkWork)))
