"""Builders of the suppliers' tests (plain functions): a valid SIRET, an item of a school, a
supplier and a subscription recorded through the services."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from inventory.assets import catalogue, digital, lifecycle
from inventory.assets.models import AssetStatus, ServiceKind
from inventory.grants.dossiers import DossierFields, SchoolCover, create_dossier
from inventory.grants.expenses import ExpenseFields, add_expense
from inventory.grants.models import FundingScheme
from inventory.grants.schemes import install_presets
from inventory.orgs.identifiers import luhn_ok
from inventory.orgs.models import Classroom, Collectivite, Ecole
from inventory.suppliers import directory, subscriptions
from tests.factories import ADMIN


def siret(first13: str) -> str:
    """``first13`` with the check digit that makes a valid SIRET."""
    return next(first13 + d for d in "0123456789" if luhn_ok(first13 + d))


def school_of(db_session, collectivite_id: int) -> Ecole:
    return db_session.scalar(
        select(Ecole).where(Ecole.collectivite_id == collectivite_id).order_by(Ecole.id).limit(1)
    )


def item(db_session, collectivite_id: int, **fields):
    """An interactive screen in service in the collectivité's first school's first room."""
    ecole = school_of(db_session, collectivite_id)
    room = db_session.scalar(
        select(Classroom).where(Classroom.ecole_id == ecole.id).order_by(Classroom.id).limit(1)
    )
    model = catalogue.get_or_create_model(
        db_session, "Speechi", "ENI 75", catalogue.category_by_code(db_session, "eni")
    )
    return lifecycle.create_asset(
        db_session,
        ADMIN,
        where=lifecycle.Where(ecole.collectivite, ecole, room),
        model=model,
        status=AssetStatus.IN_SERVICE,
        fields=lifecycle.AssetFields(**fields),
    )


def supplier(db_session, collectivite_id: int, name: str = "UGAP", **fields):
    return directory.save_supplier(
        db_session,
        ADMIN,
        None,
        directory.SupplierFields(name=name, **fields),
        collectivite=db_session.get(Collectivite, collectivite_id),
    )


def subscription(db_session, collectivite_id: int, *, ends_on: date, name: str = "ENT One"):
    ecole = school_of(db_session, collectivite_id)
    return subscriptions.save_subscription(
        db_session,
        ADMIN,
        None,
        fields=digital.ServiceFields(kind=ServiceKind.ENT, name=name, ends_on=ends_on),
        terms=subscriptions.Terms(seats_bought=100),
        ecole_ids=[ecole.id],
        collectivite=db_session.get(Collectivite, collectivite_id),
    )


def services_invoice(db_session, collectivite_id: int) -> int:
    """A draft dossier of the collectivité's first school with an invoice of the services
    volet; the invoice's id."""
    scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    if scheme is None:
        install_presets(db_session)
        scheme = db_session.scalar(select(FundingScheme).filter_by(code="snee-2021"))
    ecole = school_of(db_session, collectivite_id)
    dossier = create_dossier(
        db_session,
        ADMIN,
        collectivite=db_session.get(Collectivite, collectivite_id),
        scheme=scheme,
        fields=DossierFields(title="Socle numérique 2026", convention_max_cents=10**6),
        schools=[SchoolCover(ecole.id, classes=3, pupils=60)],
    )
    expense = add_expense(
        db_session,
        ADMIN,
        dossier,
        ExpenseFields("services", "Beneylu", "F-ENT-1", 100_000, 120_000, date(2026, 9, 1)),
    )
    return expense.id
