"""Suppliers, their contracts, the subscriptions' terms, maintenance and the alerts sent.

A subscription is not a second kind of service: it is the terms (supplier, seats, cost,
renewal, the invoice that paid for it) of an ``assets.DigitalService``, which keeps the
schools covered and the dates, so that the socle counts the same service."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset, DigitalService
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.versioning import Versioned
from inventory.orgs.models import Classroom, Collectivite


class Supplier(Audited, Versioned, Base):
    """A supplier of a collectivité: a contact with its address, phone, email and SIRET
    (checked with Luhn), unique per collectivité by SIRET and by name."""

    __tablename__ = "suppliers"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "siret"),
        UniqueConstraint("collectivite_id", "name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    siret: Mapped[str | None] = mapped_column(String(14))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    collectivite: Mapped[Collectivite] = relationship()
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="supplier", order_by="Contract.ends_on"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.name


class ContractKind(enum.StrEnum):
    MAINTENANCE = "maintenance"
    WARRANTY = "warranty"  # a warranty extension
    LEASING = "leasing"


class Contract(Audited, Versioned, Base):
    """A contract signed with a supplier, from its start to its end, covering items."""

    __tablename__ = "supplier_contracts"
    __table_args__ = (UniqueConstraint("supplier_id", "reference"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    # The supplier's, copied so that the scope and the alerts need no join.
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    kind: Mapped[ContractKind] = mapped_column(str_enum(ContractKind, "contract_kind"))
    reference: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    cost_per_year_cents: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supplier: Mapped[Supplier] = relationship(back_populates="contracts")
    items: Mapped[list[ContractItem]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractItem.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.reference


class ContractItem(Audited, Base):
    """An item a contract covers."""

    __tablename__ = "supplier_contract_items"
    __table_args__ = (UniqueConstraint("contract_id", "asset_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_contracts.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    contract: Mapped[Contract] = relationship(back_populates="items")
    asset: Mapped[Asset] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        asset = self.__dict__.get("asset")
        return (asset.ecole_id if asset is not None else None), None

    @property
    def audit_label(self) -> str:
        asset = self.__dict__.get("asset")
        return asset.tag if asset is not None else f"#{self.asset_id}"


class ServiceSubscription(Audited, Versioned, Base):
    """The terms of a digital service bought as a subscription: who provides it, the seats
    bought and used, what it costs a year, whether it renews itself, and the invoice (and
    so the dossier) that paid for it. The service keeps its schools and its dates."""

    __tablename__ = "service_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("digital_services.id", ondelete="CASCADE"), unique=True
    )
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    seats_bought: Mapped[int | None] = mapped_column(Integer)
    seats_used: Mapped[int | None] = mapped_column(Integer)
    cost_per_year_cents: Mapped[int | None] = mapped_column(Integer)
    renews: Mapped[bool] = mapped_column(Boolean, default=False)
    expense_id: Mapped[int | None] = mapped_column(
        ForeignKey("expenses.id", ondelete="SET NULL"), index=True
    )
    service: Mapped[DigitalService] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    classrooms: Mapped[list[SubscriptionClassroom]] = relationship(
        back_populates="subscription",
        cascade="all, delete-orphan",
        order_by="SubscriptionClassroom.id",
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        service = self.__dict__.get("service")
        return None, (service.collectivite_id if service is not None else None)

    @property
    def audit_label(self) -> str:
        service = self.__dict__.get("service")
        return service.name[:200] if service is not None else f"#{self.service_id}"


class SubscriptionClassroom(Audited, Base):
    """A classroom a subscription is limited to (none: the covered schools as a whole)."""

    __tablename__ = "subscription_classrooms"
    __table_args__ = (UniqueConstraint("subscription_id", "classroom_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("service_subscriptions.id", ondelete="CASCADE"), index=True
    )
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id"), index=True)
    subscription: Mapped[ServiceSubscription] = relationship(back_populates="classrooms")
    classroom: Mapped[Classroom] = relationship()


class MaintenanceKind(enum.StrEnum):
    REPAIR = "repair"  # a repair, often from a ticket
    VISIT = "visit"  # a planned visit
    CLAIM = "claim"  # a warranty claim sent to the supplier


class ClaimStatus(enum.StrEnum):
    """Where a warranty claim stands: sent and awaiting the supplier, or answered."""

    SENT = "sent"
    REPAIRED = "repaired"  # the supplier repaired the item under warranty
    REPLACED = "replaced"  # the supplier replaced it
    REFUSED = "refused"  # the supplier refused the claim

    @property
    def is_open(self) -> bool:
        return self is ClaimStatus.SENT


class MaintenancePlan(Audited, Versioned, Base):
    """Planned maintenance of an item: a visit every so many months, the next one due."""

    __tablename__ = "maintenance_plans"
    __table_args__ = (Index("ix_maintenance_plans_active_next_due", "active", "next_due"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    every_months: Mapped[int] = mapped_column(Integer)
    next_due: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    asset: Mapped[Asset] = relationship()
    supplier: Mapped[Supplier | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        asset = self.__dict__.get("asset")
        return (asset.ecole_id, asset.collectivite_id) if asset is not None else (None, None)

    @property
    def audit_label(self) -> str:
        return self.title


class MaintenanceRecord(Audited, Versioned, Base):
    """Maintenance done on an item (or a claim sent for it): when, by which supplier, at
    what cost and for how long, under warranty or not; from a ticket or a planned visit.

    A warranty claim (kind ``claim``) also says what was claimed (``problem``) and where
    it stands: sent, then the supplier's answer (repaired, replaced or refused), on
    which day, under which reference of theirs, with what they said."""

    __tablename__ = "maintenance_records"
    __table_args__ = (Index("ix_maintenance_records_asset_id_done_on", "asset_id", "done_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    kind: Mapped[MaintenanceKind] = mapped_column(str_enum(MaintenanceKind, "maintenance_kind"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    # The helpdesk comes above suppliers: the ticket is named by its id only.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_plans.id", ondelete="SET NULL"), index=True
    )
    done_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    cost_cents: Mapped[int] = mapped_column(Integer, default=0)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    under_warranty: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    problem: Mapped[str | None] = mapped_column(Text)
    claim_status: Mapped[ClaimStatus | None] = mapped_column(str_enum(ClaimStatus, "claim_status"))
    claim_reference: Mapped[str | None] = mapped_column(String(60))
    answered_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)
    asset: Mapped[Asset] = relationship()
    supplier: Mapped[Supplier | None] = relationship()
    plan: Mapped[MaintenancePlan | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        asset = self.__dict__.get("asset")
        return (asset.ecole_id, asset.collectivite_id) if asset is not None else (None, None)

    @property
    def audit_label(self) -> str:
        return self.description[:200]


class AlertSubject(enum.StrEnum):
    SUBSCRIPTION = "subscription"
    CONTRACT = "contract"
    WARRANTY = "warranty"


class ExpiryAlert(Base):
    """An alert sent before something ends: once per thing, end date and threshold (a
    renewal moves the end date, and the alerts come again)."""

    __tablename__ = "expiry_alerts"
    __table_args__ = (UniqueConstraint("subject", "object_id", "ends_on", "days_before"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[AlertSubject] = mapped_column(str_enum(AlertSubject, "alert_subject"))
    object_id: Mapped[int] = mapped_column(Integer)
    ends_on: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int] = mapped_column(Integer)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
