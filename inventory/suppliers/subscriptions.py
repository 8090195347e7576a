"""Subscriptions and licences: a digital service (``assets.digital``: its kind, schools and
dates, which the socle counts) with its terms — the supplier, seats bought and used, the
classrooms it is limited to, the cost per year, its renewal and the invoice of a dossier
that paid for it. The finance staff record them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory.assets import digital
from inventory.assets.models import DigitalService, DigitalServiceSchool
from inventory.core import policy, versioning
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.grants.models import Dossier, Expense
from inventory.orgs.models import Classroom, Collectivite, Ecole
from inventory.suppliers.directory import supplier_of_collectivite
from inventory.suppliers.models import ServiceSubscription, SubscriptionClassroom
from inventory.suppliers.rules import SupplierError, check_amount, conflict


def _conflict() -> Any:
    return conflict(
        _l(
            "Someone else saved this subscription while you were editing it. "
            "Check your changes and save again."
        )
    )


@dataclass
class Terms:
    """What a subscription adds to its service."""

    supplier_id: int | None = None
    seats_bought: int | None = None
    seats_used: int | None = None
    cost_per_year_cents: int | None = None
    renews: bool = False
    expense_id: int | None = None

    def check(self) -> Terms:
        for name in ("seats_bought", "seats_used"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SupplierError(_l("A number of seats cannot be negative."), field=name)
        if (
            self.seats_bought is not None
            and self.seats_used is not None
            and self.seats_used > self.seats_bought
        ):
            raise SupplierError(_l("More seats used than bought."), field="seats_used")
        check_amount(self.cost_per_year_cents, "cost")
        return self


def _expense_of(
    session: Session, user: Subject, collectivite_id: int, expense_id: int | None
) -> Expense | None:
    if not expense_id:
        return None
    expense = session.scalar(
        policy.visible(user, select(Expense).where(Expense.id == expense_id), Expense)
    )
    if expense is None or expense.dossier.collectivite_id != collectivite_id:
        raise SupplierError(
            _l("Choose an invoice of the collectivité's dossiers."), field="expense"
        )
    return expense


def _classrooms(session: Session, service: DigitalService, ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    schools = {c.ecole_id for c in service.coverage}
    found = set(
        session.scalars(
            select(Classroom.id).where(Classroom.id.in_(wanted), Classroom.ecole_id.in_(schools))
        )
    )
    if set(wanted) - found:
        raise SupplierError(
            _l("Choose classrooms of the schools the subscription covers."), field="classrooms"
        )
    return wanted


@guarded(_conflict)
def save_subscription(
    session: Session,
    user: Subject,
    service: DigitalService | None,
    *,
    fields: digital.ServiceFields,
    terms: Terms,
    ecole_ids: Iterable[int],
    classroom_ids: Iterable[int] = (),
    collectivite: Collectivite | None = None,
    version: int | None = None,
) -> ServiceSubscription:
    """Record a subscription (a new service of ``collectivite`` with its terms), or change
    one; one commit for the service and its terms."""
    target = service if service is not None else collectivite
    if target is None or not policy.can(user, Action.FINANCE, target, session):
        raise policy.Denied()
    terms = terms.check()
    owner_id = collectivite.id if service is None else service.collectivite_id  # type: ignore[union-attr]
    supplier = supplier_of_collectivite(session, user, owner_id, terms.supplier_id)
    if supplier is not None:  # the service names its provider as the directory does
        fields.provider = supplier.name
    subscription = None
    if service is not None:
        subscription = session.scalar(
            select(ServiceSubscription).where(ServiceSubscription.service_id == service.id)
        )
        if subscription is not None:
            check_version(subscription, version, _conflict())
    service = digital.save_service(
        session,
        user,
        service,
        fields=fields,
        ecole_ids=ecole_ids,
        collectivite=collectivite,
        action=Action.FINANCE,
        commit=False,
    )
    session.flush()
    expense = _expense_of(session, user, owner_id, terms.expense_id)
    rooms = _classrooms(session, service, classroom_ids)
    values = {
        "supplier_id": supplier.id if supplier else None,
        "seats_bought": terms.seats_bought,
        "seats_used": terms.seats_used,
        "cost_per_year_cents": terms.cost_per_year_cents,
        "renews": terms.renews,
        "expense_id": expense.id if expense else None,
    }
    if subscription is None:
        subscription = ServiceSubscription(service=service, **values)
        session.add(subscription)
    else:
        for key, value in values.items():
            if getattr(subscription, key) != value:
                setattr(subscription, key, value)
    have = {row.classroom_id: row for row in subscription.classrooms}
    for room_id, row in have.items():
        if room_id not in rooms:
            subscription.classrooms.remove(row)
    for room_id in rooms:
        if room_id not in have:
            subscription.classrooms.append(SubscriptionClassroom(classroom_id=room_id))
    versioning.commit(session, _conflict())
    return subscription


def _loaded() -> Any:
    return (
        selectinload(ServiceSubscription.service)
        .selectinload(DigitalService.coverage)
        .selectinload(DigitalServiceSchool.ecole),
        selectinload(ServiceSubscription.supplier),
        selectinload(ServiceSubscription.classrooms).selectinload(SubscriptionClassroom.classroom),
    )


def subscription_of(
    session: Session, user: Subject, service: DigitalService
) -> ServiceSubscription | None:
    """The terms of a service, if it is a subscription."""
    stmt = (
        select(ServiceSubscription)
        .where(ServiceSubscription.service_id == service.id)
        .options(*_loaded())
    )
    return session.scalar(policy.visible(user, stmt, ServiceSubscription))


def expense_label(session: Session, user: Subject, expense_id: int | None) -> str | None:
    """The invoice and its dossier in words, if the user may read them."""
    if not expense_id:
        return None
    row = session.execute(
        policy.visible(
            user,
            select(Expense, Dossier)
            .join(Dossier, Dossier.id == Expense.dossier_id)
            .where(Expense.id == expense_id),
            Expense,
        )
    ).first()
    if row is None:
        return None
    expense, dossier = row
    return f"{dossier.reference or dossier.title} — {expense.supplier} {expense.invoice_number}"


def list_subscriptions(
    session: Session, user: Subject, *, page: int = 1, per_page: int = 50
) -> Page[ServiceSubscription]:
    keys = (
        policy.visible(user, select(ServiceSubscription.id), ServiceSubscription)
        .join(DigitalService, DigitalService.id == ServiceSubscription.service_id)
        .order_by(DigitalService.ends_on, ServiceSubscription.id)
    )
    rows = policy.visible(user, select(ServiceSubscription), ServiceSubscription).options(
        *_loaded()
    )
    return paginate(session, rows, page, per_page, key_stmt=keys)


def expense_choices(session: Session, user: Subject, collectivite_id: int) -> list[tuple[int, str]]:
    """The collectivité's invoices (its dossiers') the user may read, newest first."""
    stmt = (
        select(Expense, Dossier)
        .join(Dossier, Dossier.id == Expense.dossier_id)
        .where(Dossier.collectivite_id == collectivite_id)
        .order_by(Expense.id.desc())
        .limit(200)
    )
    return [
        (e.id, f"{d.reference or d.title} — {e.supplier} {e.invoice_number}")
        for e, d in session.execute(policy.visible(user, stmt, Expense))
    ]


def classroom_choices(
    session: Session, user: Subject, ecole_ids: Iterable[int]
) -> list[tuple[int, str]]:
    stmt = (
        select(Classroom, Ecole)
        .join(Ecole, Ecole.id == Classroom.ecole_id)
        .where(Classroom.ecole_id.in_(list(ecole_ids)))
        .order_by(Ecole.name, Classroom.name, Classroom.id)
    )
    return [
        (c.id, f"{e.name} — {c.name}")
        for c, e in session.execute(policy.visible(user, stmt, Classroom))
    ]


def ending_subscriptions(session: Session, user: Subject, until: date) -> list[ServiceSubscription]:
    """The subscriptions the user sees whose service ends by ``until``, soonest first."""
    stmt = (
        select(ServiceSubscription)
        .join(DigitalService, DigitalService.id == ServiceSubscription.service_id)
        .where(DigitalService.ends_on.is_not(None), DigitalService.ends_on <= until)
        .options(*_loaded())
        .order_by(DigitalService.ends_on, ServiceSubscription.id)
        .limit(200)
    )
    return list(session.scalars(policy.visible(user, stmt, ServiceSubscription)))
