"""Digital services of the schools: ENT, cloud, MDM, resources — who provides them, which
schools they cover, when they run. A school's socle counts the services running today
(a way to share work, the MDM of its tablets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import DigitalService, DigitalServiceSchool, ServiceKind
from inventory.assets.socle import paris_today, running_clause
from inventory.core import policy, versioning
from inventory.core.errors import ConflictError, DomainError
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.orgs.models import Collectivite, Ecole


class ServiceError(DomainError):
    pass


SERVICE_KIND_LABELS = {
    ServiceKind.ENT: _l("ENT (digital workspace)"),
    ServiceKind.CLOUD: _l("cloud (sharing and keeping work)"),
    ServiceKind.MDM: _l("MDM (management of mobile devices)"),
    ServiceKind.RESOURCE: _l("digital resource"),
    ServiceKind.SOFTWARE: _l("software licence"),
}
# In a sentence, e.g. "no running service: ENT, cloud".
SERVICE_KIND_SHORT = {
    ServiceKind.ENT: _l("ENT"),
    ServiceKind.CLOUD: _l("cloud"),
    ServiceKind.MDM: _l("MDM"),
    ServiceKind.RESOURCE: _l("resource"),
    ServiceKind.SOFTWARE: _l("software"),
}


@dataclass
class ServiceFields:
    """What a person types about a service; ``check`` normalises and validates it."""

    kind: ServiceKind
    name: str
    provider: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    notes: str | None = None

    def check(self) -> ServiceFields:
        self.name = " ".join((self.name or "").split())
        self.provider = " ".join((self.provider or "").split()) or None
        self.notes = (self.notes or "").strip() or None
        if not self.name:
            raise ServiceError(_l("Give the service a name."), field="name")
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ServiceError(_l("The end comes before the start."), field="ends_on")
        return self


def _conflict() -> ConflictError:
    return ConflictError(
        _l(
            "Someone else saved this service while you were editing it. "
            "Check your changes and save again."
        )
    )


@guarded(_conflict)
def save_service(
    session: Session,
    user: Subject,
    service: DigitalService | None,
    *,
    fields: ServiceFields,
    ecole_ids: Iterable[int],
    collectivite: Collectivite | None = None,
    version: int | None = None,
    action: Action = Action.EDIT,
    commit: bool = True,
) -> DigitalService:
    """Record a service of ``collectivite`` (new), or change one; it covers the schools of
    ``ecole_ids``, each of which the user must be allowed to equip. ``action`` is what the
    user's role must allow (a subscription's terms are the finance staff's:
    ``suppliers.subscriptions`` saves both, and commits once, so ``commit`` False)."""
    if service is None:
        if collectivite is None or not policy.can(user, action, collectivite, session):
            raise policy.Denied()
    elif not policy.can(user, action, service, session):
        raise policy.Denied()
    fields = fields.check()
    wanted = sorted(set(ecole_ids))
    if not wanted:
        raise ServiceError(_l("Choose the schools the service covers."), field="schools")
    allowed = set(
        session.scalars(policy.visible(user, select(Ecole.id).where(Ecole.id.in_(wanted)), Ecole))
    )
    if set(wanted) - allowed:
        raise ServiceError(_l("Choose schools you look after."), field="schools")
    if service is None:
        service = DigitalService(collectivite_id=collectivite.id, **fields.__dict__)  # type: ignore[union-attr]
        session.add(service)
    else:
        check_version(service, version, _conflict())
        for key, value in fields.__dict__.items():
            if getattr(service, key) != value:
                setattr(service, key, value)
    covered = {c.ecole_id: c for c in service.coverage}
    # The schools covered that the user cannot see stay covered: they were not offered.
    seen = set(
        session.scalars(
            policy.visible(user, select(Ecole.id).where(Ecole.id.in_(list(covered))), Ecole)
        )
    )
    for ecole_id, row in covered.items():
        if ecole_id in seen and ecole_id not in allowed:
            service.coverage.remove(row)
    for ecole_id in wanted:
        if ecole_id not in covered:
            service.coverage.append(DigitalServiceSchool(ecole_id=ecole_id))
    if commit:
        versioning.commit(session, _conflict())
    return service


def delete_service(session: Session, user: Subject, service: DigitalService) -> None:
    if not policy.can(user, Action.EDIT, service, session):
        raise policy.Denied()
    session.delete(service)
    session.commit()


def _loaded() -> Any:
    return (
        selectinload(DigitalService.coverage)
        .selectinload(DigitalServiceSchool.ecole)
        .selectinload(Ecole.commune),
        selectinload(DigitalService.collectivite),
    )


def service_detail(session: Session, user: Subject, service_id: int) -> DigitalService:
    service = policy.load_or_404(user, DigitalService, service_id, session)
    session.scalars(
        select(DigitalService).where(DigitalService.id == service.id).options(*_loaded())
    ).all()
    return service


def services_of_school(session: Session, user: Subject, ecole_id: int) -> list[DigitalService]:
    """The services covering a school, running or not, by kind and name."""
    stmt = (
        select(DigitalService)
        .join(DigitalServiceSchool, DigitalServiceSchool.service_id == DigitalService.id)
        .where(DigitalServiceSchool.ecole_id == ecole_id)
        .order_by(DigitalService.kind, DigitalService.name, DigitalService.id)
    )
    return list(session.scalars(policy.visible(user, stmt, DigitalService)))


@dataclass(frozen=True)
class ServiceFilters:
    collectivite: int | None = None
    ecole: int | None = None
    kind: ServiceKind | None = None
    running: bool = False

    def apply(self, stmt: Select[Any], today: date) -> Select[Any]:
        if self.collectivite:
            stmt = stmt.where(DigitalService.collectivite_id == self.collectivite)
        if self.ecole:
            stmt = stmt.where(
                DigitalService.id.in_(
                    select(DigitalServiceSchool.service_id).where(
                        DigitalServiceSchool.ecole_id == self.ecole
                    )
                )
            )
        if self.kind:
            stmt = stmt.where(DigitalService.kind == self.kind)
        if self.running:
            stmt = stmt.where(running_clause(today))
        return stmt


def list_services(
    session: Session,
    user: Subject,
    filters: ServiceFilters,
    page: int,
    per_page: int,
    *,
    today: date | None = None,
) -> Page[DigitalService]:
    day = today or paris_today()
    keys = policy.visible(
        user, filters.apply(select(DigitalService.id), day), DigitalService
    ).order_by(DigitalService.name, DigitalService.id)
    rows = policy.visible(user, select(DigitalService), DigitalService).options(*_loaded())
    return paginate(session, rows, page, per_page, key_stmt=keys)


def school_choices(
    session: Session, user: Subject, collectivite_id: int, include: Iterable[int] = ()
) -> list[Ecole]:
    """The schools a service of this collectivité may cover: the collectivité's own, and
    those it already covers, among those the user may see."""
    included = list(include)
    stmt = (
        select(Ecole)
        .where((Ecole.collectivite_id == collectivite_id) | Ecole.id.in_(included))
        .options(selectinload(Ecole.commune))
        .order_by(Ecole.name, Ecole.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Ecole)))
