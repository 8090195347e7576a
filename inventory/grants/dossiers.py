"""Dossiers: the schools they cover, their lifecycle in the programme's words (draft,
submitted, selected, convention signed, partially paid, paid in full, closed, not
selected), the rules they freeze, and how they are read (detail, list, history)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from inventory.assets.models import Asset, EquipmentModel, NetworkWork
from inventory.assets.socle import target_clause
from inventory.changelog.services import records_page
from inventory.core import events, policy
from inventory.core.audit import AuditRecord
from inventory.core.describe import Entry, readable
from inventory.core.pagination import KeyedPage, Page, paginate, paginate_by_key
from inventory.core.policy import Action, Subject
from inventory.core.sorting import Sort, SortSpec, in_order_of
from inventory.core.versioning import check_version, guarded
from inventory.grants.common import GrantError, commit, lost_race, require, stale_form
from inventory.grants.models import (
    DOSSIER_TRANSITIONS,
    Dossier,
    DossierSchool,
    DossierStatus,
    Expense,
    ExpenseAllocation,
    FundingLink,
    FundingScheme,
)
from inventory.grants.schemes import volets_of
from inventory.orgs.models import Classroom, Collectivite, Ecole

# The programme's words for a dossier's steps (French: brouillon, déposé, retenu, non retenu,
# convention signée, partiellement versé, soldé, clôturé).
STATUS_LABELS = {
    DossierStatus.DRAFT: lazy_pgettext("dossier status", "draft"),
    DossierStatus.SUBMITTED: lazy_pgettext("dossier status", "submitted"),
    DossierStatus.APPROVED: lazy_pgettext("dossier status", "selected"),
    DossierStatus.SIGNED: lazy_pgettext("dossier status", "convention signed"),
    DossierStatus.PARTIALLY_PAID: lazy_pgettext("dossier status", "partially paid"),
    DossierStatus.PAID: lazy_pgettext("dossier status", "paid in full"),
    DossierStatus.CLOSED: lazy_pgettext("dossier status", "closed"),
    DossierStatus.REJECTED: lazy_pgettext("dossier status", "not selected"),
}


# Statuses in which spending is still recorded, and those in which money is received.
OPEN_STATUSES = frozenset(DossierStatus) - {DossierStatus.CLOSED, DossierStatus.REJECTED}
PAYABLE_STATUSES = frozenset(
    {DossierStatus.SIGNED, DossierStatus.PARTIALLY_PAID, DossierStatus.PAID}
)


@dataclass
class DossierFields:
    title: str
    reference: str | None = None
    convention_max_cents: int | None = None
    decision_on: date | None = None
    convention_signed_on: date | None = None
    spending_deadline: date | None = None
    planned_cents: dict[str, int] = field(default_factory=dict)

    def check(self, rules: Mapping[str, Any]) -> DossierFields:
        self.title = " ".join((self.title or "").split())
        self.reference = (self.reference or "").strip() or None
        if not self.title:
            raise GrantError(_l("Give the dossier a title."), field="title")
        if len(self.title) > 200:
            raise GrantError(_l("At most 200 characters."), field="title")
        if self.reference and len(self.reference) > 60:
            raise GrantError(_l("At most 60 characters."), field="reference")
        if self.convention_max_cents is not None and self.convention_max_cents < 0:
            raise GrantError(_l("The amount cannot be negative."), field="convention_max")
        if (
            self.decision_on
            and self.convention_signed_on
            and self.convention_signed_on < self.decision_on
        ):
            raise GrantError(
                _l("The convention is signed after the award decision."),
                field="convention_signed_on",
            )
        start = self.convention_signed_on or self.decision_on
        if start and self.spending_deadline and self.spending_deadline < start:
            raise GrantError(
                _l("The spending deadline comes before the decision or the convention."),
                field="spending_deadline",
            )
        codes = {code for code, _label in volets_of(rules)}
        self.planned_cents = {
            code: int(cents)
            for code, cents in self.planned_cents.items()
            if code in codes and cents is not None
        }
        return self


@dataclass(frozen=True)
class SchoolCover:
    """A school the dossier covers; counts left to None take the school's figures."""

    ecole_id: int
    classes: int | None = None
    pupils: int | None = None


def school_defaults(session: Session, ecole_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(classes, pupils) per school: its target classrooms (cycles 2 and 3), and the pupils
    the Annuaire gives, or else the sum of its classrooms' pupils."""
    ids = list(ecole_ids)
    if not ids:
        return {}
    classes = dict(
        session.execute(
            select(Classroom.ecole_id, func.count())
            .where(Classroom.ecole_id.in_(ids), target_clause())
            .group_by(Classroom.ecole_id)
        ).all()
    )
    room_pupils = dict(
        session.execute(
            select(Classroom.ecole_id, func.coalesce(func.sum(Classroom.pupils), 0))
            .where(Classroom.ecole_id.in_(ids))
            .group_by(Classroom.ecole_id)
        ).all()
    )
    school_pupils = dict(
        session.execute(select(Ecole.id, Ecole.pupils).where(Ecole.id.in_(ids))).all()
    )
    return {
        i: (int(classes.get(i, 0)), int(school_pupils.get(i) or room_pupils.get(i) or 0))
        for i in ids
    }


def schools_of_collectivite(session: Session, user: Subject, coll: Collectivite) -> list[Ecole]:
    stmt = select(Ecole).where(Ecole.collectivite_id == coll.id).order_by(Ecole.name, Ecole.id)
    return list(session.scalars(policy.visible(user, stmt, Ecole)))


def finance_collectivites(session: Session, user: Subject) -> list[Collectivite]:
    """The collectivités the user may open a dossier for."""
    if not policy.allowed(user, Action.FINANCE):
        return []
    stmt = select(Collectivite).where(
        Collectivite.id.in_(select(Ecole.collectivite_id).where(Ecole.collectivite_id.isnot(None)))
    )
    return list(
        session.scalars(policy.visible(user, stmt, Collectivite).order_by(Collectivite.name))
    )


def _apply_schools(
    session: Session, dossier: Dossier, coll: Collectivite, covers: Sequence[SchoolCover]
) -> None:
    if not covers:
        raise GrantError(_l("Choose at least one school."), field="schools")
    wanted = {c.ecole_id: c for c in covers}
    owned = set(
        session.scalars(
            select(Ecole.id).where(Ecole.id.in_(list(wanted)), Ecole.collectivite_id == coll.id)
        )
    )
    if set(wanted) - owned:
        raise GrantError(
            _l("A dossier covers only schools of %(name)s.", name=coll.name), field="schools"
        )
    for c in covers:
        for value in (c.classes, c.pupils):
            if value is not None and not 0 <= value <= 100_000:
                raise GrantError(_l("A count is between 0 and 100,000."), field="schools")
    defaults = school_defaults(session, wanted)
    current = {s.ecole_id: s for s in dossier.schools}
    removed = set(current) - set(wanted)
    if removed and dossier.id:
        used = session.scalars(
            select(Ecole.name)
            .join(ExpenseAllocation, ExpenseAllocation.ecole_id == Ecole.id)
            .join(Expense, Expense.id == ExpenseAllocation.expense_id)
            .where(Expense.dossier_id == dossier.id, Ecole.id.in_(removed))
            .distinct()
        ).all()
        if used:
            raise GrantError(
                _l(
                    "Expenses are allocated to %(names)s: change them before removing "
                    "the school from the dossier.",
                    names=", ".join(sorted(used)),
                ),
                field="schools",
            )
    for ecole_id in removed:
        dossier.schools.remove(current[ecole_id])
    for ecole_id, cover in wanted.items():
        classes, pupils = defaults[ecole_id]
        row = current.get(ecole_id)
        if row is None:
            row = DossierSchool(ecole_id=ecole_id)
            dossier.schools.append(row)
        row.classes = classes if cover.classes is None else cover.classes
        row.pupils = pupils if cover.pupils is None else cover.pupils


def _check_reference(session: Session, dossier: Dossier, reference: str | None) -> None:
    if not reference:
        return
    stmt = select(Dossier.id).where(
        Dossier.reference == reference, Dossier.scheme_id == dossier.scheme_id
    )
    if dossier.id:
        stmt = stmt.where(Dossier.id != dossier.id)
    if session.scalar(stmt):
        raise GrantError(
            _l("A dossier of this scheme already has the reference %(ref)s.", ref=reference),
            field="reference",
        )


def create_dossier(
    session: Session,
    user: Subject,
    *,
    collectivite: Collectivite,
    scheme: FundingScheme,
    fields: DossierFields,
    schools: Sequence[SchoolCover],
) -> Dossier:
    """A new draft dossier; it freezes the scheme's current rules."""
    require(user, Action.FINANCE, collectivite, session)
    if not scheme.active:
        raise GrantError(_l("This scheme is closed to new dossiers."), field="scheme")
    fields = fields.check(scheme.rules)
    dossier = Dossier(
        collectivite_id=collectivite.id,
        collectivite=collectivite,
        scheme_id=scheme.id,
        scheme=scheme,
        scheme_version=scheme.version,
        rules=copy.deepcopy(scheme.rules),
        status=DossierStatus.DRAFT,
        **fields.__dict__,
    )
    _check_reference(session, dossier, fields.reference)
    _apply_schools(session, dossier, collectivite, schools)
    session.add(dossier)
    session.commit()
    return dossier


@guarded(lost_race)
def update_dossier(
    session: Session,
    user: Subject,
    dossier: Dossier,
    *,
    version: int | None,
    fields: DossierFields,
    schools: Sequence[SchoolCover],
) -> Dossier:
    require(user, Action.FINANCE, dossier, session)
    check_version(dossier, version, stale_form())
    fields = fields.check(dossier.rules)
    _check_reference(session, dossier, fields.reference)
    _apply_schools(session, dossier, dossier.collectivite, schools)
    for key, value in fields.__dict__.items():
        setattr(dossier, key, value)
    # The covered schools are part of the dossier: any save gives it a new version.
    flag_modified(dossier, "planned_cents")
    commit(session)
    return dossier


@guarded(lost_race)
def change_dossier_status(
    session: Session,
    user: Subject,
    dossier: Dossier,
    to: DossierStatus,
    *,
    version: int | None = None,
) -> Dossier:
    require(user, Action.FINANCE, dossier, session)
    check_version(dossier, version, stale_form())
    if to == dossier.status:
        return dossier
    if to not in DOSSIER_TRANSITIONS[dossier.status]:
        raise GrantError(
            _l(
                "A dossier %(current)s cannot become %(wanted)s.",
                current=STATUS_LABELS[dossier.status],
                wanted=STATUS_LABELS[to],
            ),
            field="status",
        )
    before = dossier.status
    dossier.status = to
    events.emit(
        session,
        events.DOSSIER_STATUS_CHANGED,
        dossier.collectivite_id,
        dossier=dossier.id,
        title=dossier.title,
        from_status=str(before),
        to_status=str(to),
    )
    commit(session)
    return dossier


def next_statuses(dossier: Dossier) -> list[DossierStatus]:
    return [s for s in DossierStatus if s in DOSSIER_TRANSITIONS[dossier.status]]


@guarded(lost_race)
def apply_current_rules(
    session: Session, user: Subject, dossier: Dossier, *, version: int | None = None
) -> Dossier:
    """Replace the dossier's frozen rules by its scheme's current ones (logged as a change
    of ``rules`` and ``scheme_version``)."""
    require(user, Action.FINANCE, dossier, session)
    check_version(dossier, version, stale_form())
    scheme = dossier.scheme
    if dossier.scheme_version == scheme.version and dossier.rules == scheme.rules:
        return dossier
    dossier.rules = copy.deepcopy(scheme.rules)
    dossier.scheme_version = scheme.version
    commit(session)
    return dossier


def covered_ids(dossier: Dossier) -> set[int]:
    return {s.ecole_id for s in dossier.schools}


def _detail_options() -> list[Any]:
    asset = selectinload(Expense.links).selectinload(FundingLink.asset)
    work = selectinload(Dossier.expenses).selectinload(Expense.links).selectinload(FundingLink.work)
    return [
        selectinload(Dossier.collectivite),
        selectinload(Dossier.scheme),
        selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
        selectinload(Dossier.expenses)
        .selectinload(Expense.allocations)
        .selectinload(ExpenseAllocation.ecole),
        selectinload(Dossier.expenses).options(
            asset.selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
            asset.selectinload(Asset.category),
            asset.selectinload(Asset.classroom),
            asset.selectinload(Asset.ecole),
        ),
        work.selectinload(NetworkWork.ecole),
        work.selectinload(NetworkWork.classrooms),
        selectinload(Dossier.payments),
        selectinload(Dossier.documents),
    ]


def dossier_detail(
    session: Session, user: Subject, dossier_id: int, action: Action = Action.READ
) -> Dossier:
    """The dossier with everything its page, claim file and exports show, or 404."""
    if not policy.allowed(user, action):
        raise policy.Denied()
    stmt = policy.visible(
        user, select(Dossier).where(Dossier.id == dossier_id).options(*_detail_options()), Dossier
    )
    dossier = session.scalar(stmt)
    if dossier is None:
        raise policy.Denied()
    return dossier


@dataclass(frozen=True)
class DossierFilters:
    status: DossierStatus | None = None
    collectivite: int | None = None
    scheme: int | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.status:
            stmt = stmt.where(Dossier.status == self.status)
        if self.collectivite:
            stmt = stmt.where(Dossier.collectivite_id == self.collectivite)
        if self.scheme:
            stmt = stmt.where(Dossier.scheme_id == self.scheme)
        return stmt


# The columns the dossier list sorts by (its own order: newest first).
DOSSIER_SORT = SortSpec(
    columns={
        "dossier": Dossier.title,
        "collectivite": select(Collectivite.name)
        .where(Collectivite.id == Dossier.collectivite_id)
        .scalar_subquery(),
        "scheme": select(FundingScheme.name)
        .where(FundingScheme.id == Dossier.scheme_id)
        .scalar_subquery(),
        "status": in_order_of(Dossier.status, DossierStatus),
        "deadline": Dossier.spending_deadline,
    },
    id=Dossier.id,
)


def list_dossiers(
    session: Session,
    user: Subject,
    filters: DossierFilters,
    page: int,
    per_page: int,
    sort: Sort | None = None,
) -> Page[Dossier]:
    order = sort.order_by() if sort else [Dossier.created_at.desc(), Dossier.id.desc()]
    stmt = (
        policy.visible(user, filters.apply(select(Dossier)), Dossier)
        .options(
            selectinload(Dossier.collectivite),
            selectinload(Dossier.scheme),
            selectinload(Dossier.schools).selectinload(DossierSchool.ecole),
            selectinload(Dossier.expenses).selectinload(Expense.allocations),
            selectinload(Dossier.payments),
        )
        .order_by(*order)
    )
    return paginate(session, stmt, page, per_page)


# Past this many dossiers a keyed list stops counting.
KEYED_COUNT_CAP = 10_000


def dossiers_by_key(
    session: Session, user: Subject, filters: DossierFilters, per_page: int, *, after: int | None
) -> KeyedPage[Dossier]:
    """The dossiers newest first, read along their id (the API's cursor pages)."""
    rows = select(Dossier).options(
        selectinload(Dossier.schools),
        selectinload(Dossier.expenses),
        selectinload(Dossier.payments),
    )
    keys = policy.visible(user, filters.apply(select(Dossier.id)), Dossier)
    return paginate_by_key(
        session, rows, keys, Dossier.id, per_page=per_page, cap=KEYED_COUNT_CAP, after=after
    )


def dossier_collectivites(session: Session, user: Subject) -> list[Collectivite]:
    """The collectivités with a dossier the user may see, for the list's filter."""
    ids = policy.visible(user, select(Dossier.collectivite_id), Dossier).distinct()
    stmt = select(Collectivite).where(Collectivite.id.in_(ids)).order_by(Collectivite.name)
    return list(session.scalars(stmt))


def _children(dossier: Dossier) -> list[ColumnElement[bool]]:
    """The change-log records of the dossier's schools, expenses, payments, documents."""
    children = [
        ("dossier_schools", [s.id for s in dossier.schools]),
        ("expenses", [e.id for e in dossier.expenses]),
        ("payments", [p.id for p in dossier.payments]),
        ("dossier_documents", [d.id for d in dossier.documents]),
    ]
    return [
        and_(AuditRecord.object_type == kind, AuditRecord.object_id.in_(ids))
        for kind, ids in children
        if ids
    ]


def _own(dossier: Dossier) -> ColumnElement[bool]:
    return and_(
        AuditRecord.object_type == Dossier.__tablename__, AuditRecord.object_id == dossier.id
    )


def dossier_history_page(
    session: Session, user: Subject, dossier: Dossier, *, per_page: int, after: int | None
) -> KeyedPage[Entry]:
    """A page of the dossier's changes and its parts', newest first (the API's cursor)."""
    where = or_(_own(dossier), *_children(dossier))
    return records_page(session, user, where, per_page=per_page, after=after)


def dossier_history(session: Session, user: Subject, dossier: Dossier) -> list[Entry]:
    """The dossier's own changes and those of its schools, expenses, payments, documents,
    readable (their references named in one pass)."""
    own = select(AuditRecord).where(_own(dossier))
    records = {
        r.id: r
        for r in session.scalars(
            policy.visible(user, own, AuditRecord).order_by(AuditRecord.id.desc()).limit(50)
        )
    }
    parts = _children(dossier)
    if parts:
        stmt = policy.visible(user, select(AuditRecord).where(or_(*parts)), AuditRecord)
        for r in session.scalars(stmt.order_by(AuditRecord.id.desc()).limit(100)):
            records[r.id] = r
    latest = sorted(records.values(), key=lambda r: r.id, reverse=True)[:100]
    return readable(session, latest)
