"""Kits that can be booked (a classe mobile: the cart and its devices), their bookings, and
the loans of items to a classroom, a staff member or a family."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset
from inventory.core.audit import Audited, Linked
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.versioning import Versioned
from inventory.orgs.models import Classroom, Collectivite, Ecole

# An item belongs to one kit at most (the primary key is the item).
kit_items = Table(
    "loan_kit_items",
    Base.metadata,
    Column("asset_id", ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column("kit_id", ForeignKey("loan_kits.id", ondelete="CASCADE"), nullable=False, index=True),
)


class Kit(Audited, Versioned, Base):
    """What a school books as one: a classe mobile (the cart and its devices), or one item.

    ``booking_token`` is the opaque part of the school's public booking link: random,
    unique, re-issued to invalidate a link that went too far."""

    __tablename__ = "loan_kits"
    __table_args__ = (UniqueConstraint("ecole_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    booking_token: Mapped[str] = mapped_column(String(32), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ecole: Mapped[Ecole] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    items: Mapped[list[Asset]] = relationship(secondary=kit_items, order_by=Asset.tag)

    __audit_links__ = {"items": Linked("tag")}
    __audit_exclude__ = Audited.__audit_exclude__ | {"booking_token"}

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id


class BookingStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Booking(Audited, Base):
    """A kit booked for a class from ``starts_at`` to ``ends_at`` (quarter hours). A weekly
    series shares its ``series`` code. The slots it holds (:class:`BookingSlot`) are what
    refuses a clash, in the database."""

    __tablename__ = "loan_bookings"
    __table_args__ = (Index("ix_loan_bookings_kit_starts", "kit_id", "starts_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kit_id: Mapped[int] = mapped_column(ForeignKey("loan_kits.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booking_status"))
    group_label: Mapped[str] = mapped_column(String(60))  # the class: «CM1 B»
    booked_by: Mapped[str] = mapped_column(String(120))  # the teacher's name
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    series: Mapped[str | None] = mapped_column(String(16), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kit: Mapped[Kit] = relationship()
    classroom: Mapped[Classroom | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.kit.ecole_id, self.kit.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"{self.kit.name} — {self.group_label}"


class BookingSlot(Base):
    """A quarter hour of a kit held by a confirmed booking: the primary key (kit, start)
    makes two bookings of one kit at the same time impossible, whatever the engine and
    however simultaneous the requests."""

    __tablename__ = "loan_booking_slots"
    kit_id: Mapped[int] = mapped_column(
        ForeignKey("loan_kits.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("loan_bookings.id", ondelete="CASCADE"), index=True
    )


class BorrowerKind(enum.StrEnum):
    CLASSROOM = "classroom"
    STAFF = "staff"
    FAMILY = "family"


class Condition(enum.StrEnum):
    NEW = "new"
    GOOD = "good"
    WORN = "worn"
    DAMAGED = "damaged"
    MISSING = "missing"


class LoanStatus(enum.StrEnum):
    OUT = "out"
    RETURNED = "returned"


# The family's personal data: never in the change log, erased after the retention time.
FAMILY_FIELDS = frozenset({"pupil_first_name", "pupil_class", "guardian_name", "guardian_contact"})


class Loan(Audited, Versioned, Base):
    """One item in someone's custody, from its check-out to its check-in.

    For a family, only the pupil's first name and class and one guardian's name and
    contact are kept, and erased (``purged_at``) a configurable time after the return."""

    __tablename__ = "loans"
    __table_args__ = (
        # One open loan per item, whatever the engine and the timing.
        Index(
            "uq_loans_open_asset",
            "asset_id",
            unique=True,
            sqlite_where=text("status = 'out'"),
            postgresql_where=text("status = 'out'"),
        ),
        Index("ix_loans_status_due_on", "status", "due_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    kit_id: Mapped[int | None] = mapped_column(ForeignKey("loan_kits.id", ondelete="SET NULL"))
    borrower_kind: Mapped[BorrowerKind] = mapped_column(str_enum(BorrowerKind, "borrower_kind"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    staff_name: Mapped[str | None] = mapped_column(String(120))
    pupil_first_name: Mapped[str | None] = mapped_column(String(60))
    pupil_class: Mapped[str | None] = mapped_column(String(30))
    guardian_name: Mapped[str | None] = mapped_column(String(120))
    guardian_contact: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[LoanStatus] = mapped_column(str_enum(LoanStatus, "loan_status"))
    starts_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    condition_out: Mapped[Condition] = mapped_column(str_enum(Condition, "loan_condition"))
    condition_in: Mapped[Condition | None] = mapped_column(str_enum(Condition, "loan_condition"))
    return_notes: Mapped[str | None] = mapped_column(Text)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    asset: Mapped[Asset] = relationship()
    ecole: Mapped[Ecole] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    kit: Mapped[Kit | None] = relationship()

    __audit_exclude__ = Audited.__audit_exclude__ | FAMILY_FIELDS

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"{self.asset.tag} — {self.borrower_kind.value}"


class LoanTerms(Audited, Versioned, Base):
    """The conditions a collectivité prints on its loan agreements (its own words)."""

    __tablename__ = "loan_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    collectivite: Mapped[Collectivite] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id
