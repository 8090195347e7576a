"""Coverage: which equipped schools got their accompaniment, how soon, and which still wait.

A school is equipped from its first item in service, accompanied from its first held
session; one waiting longer than the delay (``TRAINING_DELAY_DAYS``, 60 days by default)
is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, AssetStatus, StatusChange
from inventory.core import policy
from inventory.core.db import utcnow
from inventory.core.pagination import Page
from inventory.core.policy import Action, Subject
from inventory.orgs.models import Circonscription, Collectivite, Commune, Ecole, SchoolStatus
from inventory.training.models import SessionStatus, TrainingSession, session_schools
from inventory.training.times import local_day

DEFAULT_DELAY_DAYS = 60
MAX_DELAY_DAYS = 3650


@dataclass
class SchoolCoverage:
    ecole_id: int
    name: str
    uai: str
    commune: str
    circonscription_id: int | None
    circonscription: str | None
    collectivite_id: int | None
    collectivite: str | None
    installed_on: date | None
    accompanied_on: date | None
    today: date
    threshold: int

    @property
    def equipped(self) -> bool:
        return self.installed_on is not None

    @property
    def accompanied(self) -> bool:
        return self.accompanied_on is not None

    @property
    def delay_days(self) -> int | None:
        """Days from the first item in service to the first held session; negative or zero
        when the accompaniment came first."""
        if self.installed_on is None or self.accompanied_on is None:
            return None
        return (self.accompanied_on - self.installed_on).days

    @property
    def waiting_days(self) -> int | None:
        """Days an equipped school has been waiting for its first accompaniment."""
        if self.installed_on is None or self.accompanied_on is not None:
            return None
        return (self.today - self.installed_on).days

    @property
    def overdue(self) -> bool:
        waiting = self.waiting_days
        return waiting is not None and waiting > self.threshold


@dataclass
class GroupCoverage:
    key: int | None
    name: str
    schools: int = 0
    equipped: int = 0
    accompanied: int = 0
    equipped_accompanied: int = 0
    waiting: int = 0
    overdue: int = 0
    delays: list[int] = field(default_factory=list)

    def add(self, row: SchoolCoverage) -> None:
        self.schools += 1
        self.equipped += row.equipped
        self.accompanied += row.accompanied
        if row.delay_days is not None:
            self.equipped_accompanied += 1
            self.delays.append(row.delay_days)
        self.waiting += row.waiting_days is not None
        self.overdue += row.overdue

    @property
    def median_delay(self) -> float | None:
        return median(self.delays) if self.delays else None

    @property
    def percent(self) -> float:
        """Equipped schools that got their accompaniment."""
        return 100 * self.equipped_accompanied / self.equipped if self.equipped else 0.0


# What the list of schools shows; each total of the page links to its own. The default,
# every school waiting, never hides one that is waiting but not beyond the delay yet.
COVERAGE_SHOW = ("waiting", "overdue", "equipped", "accompanied", "all")
DEFAULT_SHOW = "waiting"
COVERAGE_SORTS = ("waiting", "-waiting", "name", "delay")


@dataclass(frozen=True)
class CoverageFilters:
    days: int = DEFAULT_DELAY_DAYS
    circonscription: int | None = None
    collectivite: int | None = None
    show: str = DEFAULT_SHOW
    sort: str = "waiting"


@dataclass
class CoverageReport:
    filters: CoverageFilters
    today: date
    total: GroupCoverage
    by_circonscription: list[GroupCoverage]
    by_collectivite: list[GroupCoverage]
    schools: Page[SchoolCoverage]


def coverage_rows(
    session: Session, user: Subject, filters: CoverageFilters, now: datetime | None = None
) -> list[SchoolCoverage]:
    """One row per open school in scope: first item in service, first held session.

    Two grouped queries (over the items' lifecycle steps and over the sessions' schools)
    joined to the schools: no loop over items or sessions."""
    today = local_day(now or utcnow())
    in_scope = [policy.condition(user, Ecole), Ecole.status != SchoolStatus.CLOSED]
    if filters.circonscription:
        in_scope.append(Ecole.circonscription_id == filters.circonscription)
    if filters.collectivite:
        in_scope.append(Ecole.collectivite_id == filters.collectivite)
    # Both aggregates start from the schools in scope (a join, not an IN list, so that
    # SQLite walks the schools' index instead of probing every pair).
    installed = (
        select(Asset.ecole_id.label("ecole_id"), func.min(StatusChange.at).label("first"))
        .join(Ecole, Ecole.id == Asset.ecole_id)
        .join(StatusChange, StatusChange.asset_id == Asset.id)
        .where(StatusChange.to_status == AssetStatus.IN_SERVICE, *in_scope)
        .group_by(Asset.ecole_id)
        .subquery("installed")
    )
    held = (
        select(
            session_schools.c.ecole_id.label("ecole_id"),
            func.min(TrainingSession.starts_at).label("first"),
        )
        .join(Ecole, Ecole.id == session_schools.c.ecole_id)
        .join(TrainingSession, TrainingSession.id == session_schools.c.session_id)
        .where(TrainingSession.status == SessionStatus.HELD, *in_scope)
        .group_by(session_schools.c.ecole_id)
        .subquery("held")
    )
    stmt = (
        select(
            Ecole.id,
            Ecole.name,
            Ecole.uai,
            Commune.name,
            Ecole.circonscription_id,
            Circonscription.name,
            Ecole.collectivite_id,
            Collectivite.name,
            installed.c.first,
            held.c.first,
        )
        .join(Commune, Commune.id == Ecole.commune_id)
        .outerjoin(Circonscription, Circonscription.id == Ecole.circonscription_id)
        .outerjoin(Collectivite, Collectivite.id == Ecole.collectivite_id)
        .outerjoin(installed, installed.c.ecole_id == Ecole.id)
        .outerjoin(held, held.c.ecole_id == Ecole.id)
        .where(*in_scope)
    )
    return [
        SchoolCoverage(
            ecole_id=ecole_id,
            name=name,
            uai=uai,
            commune=commune,
            circonscription_id=circo_id,
            circonscription=circo,
            collectivite_id=coll_id,
            collectivite=coll,
            installed_on=local_day(first_in) if first_in else None,
            accompanied_on=local_day(first_held) if first_held else None,
            today=today,
            threshold=filters.days,
        )
        for (
            ecole_id,
            name,
            uai,
            commune,
            circo_id,
            circo,
            coll_id,
            coll,
            first_in,
            first_held,
        ) in session.execute(stmt)
    ]


def _sorted(rows: list[SchoolCoverage], sort: str) -> list[SchoolCoverage]:
    far = 10**6
    by_name = sorted(rows, key=lambda r: (r.name.casefold(), r.uai))
    if sort == "name":
        return by_name
    if sort == "delay":
        return sorted(by_name, key=lambda r: far if r.delay_days is None else -r.delay_days)
    sign = 1 if sort == "-waiting" else -1
    return sorted(by_name, key=lambda r: far if r.waiting_days is None else sign * r.waiting_days)


def coverage_report(
    session: Session,
    user: Subject,
    filters: CoverageFilters,
    page: int = 1,
    per_page: int = 50,
    now: datetime | None = None,
) -> CoverageReport:
    if not policy.allowed(user, Action.READ):
        raise policy.Denied()
    rows = coverage_rows(session, user, filters, now)
    today = local_day(now or utcnow())
    total = GroupCoverage(None, "")
    circos: dict[int | None, GroupCoverage] = {}
    colls: dict[int | None, GroupCoverage] = {}
    for row in rows:
        total.add(row)
        circos.setdefault(
            row.circonscription_id, GroupCoverage(row.circonscription_id, row.circonscription or "")
        ).add(row)
        colls.setdefault(
            row.collectivite_id, GroupCoverage(row.collectivite_id, row.collectivite or "")
        ).add(row)
    if filters.show == "overdue":
        listed = [r for r in rows if r.overdue]
    elif filters.show == "waiting":
        listed = [r for r in rows if r.waiting_days is not None]
    elif filters.show == "equipped":
        listed = [r for r in rows if r.equipped]
    elif filters.show == "accompanied":
        listed = [r for r in rows if r.equipped and r.accompanied]
    else:
        listed = rows
    listed = _sorted(listed, filters.sort)
    pages = max(1, -(-len(listed) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return CoverageReport(
        filters=filters,
        today=today,
        total=total,
        by_circonscription=sorted(circos.values(), key=lambda g: (-g.overdue, g.name.casefold())),
        by_collectivite=sorted(
            (g for g in colls.values() if g.equipped),
            key=lambda g: (-g.overdue, g.name.casefold()),
        ),
        schools=Page(
            items=listed[start : start + per_page], total=len(listed), page=page, per_page=per_page
        ),
    )
