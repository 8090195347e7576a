"""Problem types, tickets with their messages and photos, subscriptions, inventory campaigns."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.versioning import Versioned
from inventory.orgs.models import Classroom, Collectivite, Ecole


class TicketStatus(enum.StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # supplier or warranty
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.ACKNOWLEDGED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING,
    TicketStatus.REOPENED,
)

TICKET_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.NEW: frozenset(
        {
            TicketStatus.ACKNOWLEDGED,
            TicketStatus.IN_PROGRESS,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        }
    ),
    TicketStatus.ACKNOWLEDGED: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING, TicketStatus.RESOLVED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.WAITING: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.REOPENED}),
    TicketStatus.CLOSED: frozenset({TicketStatus.REOPENED}),
    TicketStatus.REOPENED: frozenset(
        {
            TicketStatus.ACKNOWLEDGED,
            TicketStatus.IN_PROGRESS,
            TicketStatus.WAITING,
            TicketStatus.RESOLVED,
        }
    ),
}


class ProblemType(Audited, Base):
    """A problem a teacher can pick, offered for some equipment categories or for rooms."""

    __tablename__ = "problem_types"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_fr: Mapped[str] = mapped_column(String(150))
    label_en: Mapped[str] = mapped_column(String(150))
    # Empty: every equipment category.
    category_codes: Mapped[str] = mapped_column(String(300), default="")
    for_rooms: Mapped[bool] = mapped_column(Boolean, default=False)
    # A blocking problem puts the item "under repair" while the ticket is open.
    blocking: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


class Ticket(Audited, Versioned, Base):
    """A problem reported on an item or a room, worked by the collectivité's staff."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_collectivite_status", "collectivite_id", "status", "id"),
        Index("ix_tickets_asset_status", "asset_id", "status"),
        Index("ix_tickets_ecole_status", "ecole_id", "status"),
    )
    __audit_exclude__ = frozenset({"follow_token"})
    # The reporter's contact: the log tells that it was given or purged, not what it was.
    __audit_private__ = frozenset({"reporter_name", "reporter_email"})
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"), index=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"))
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"))
    problem_type_id: Mapped[int] = mapped_column(ForeignKey("problem_types.id"))
    description: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(120))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    follow_token: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reports: Mapped[int] = mapped_column(Integer, default=1)
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    asset: Mapped[Asset | None] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    ecole: Mapped[Ecole] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    problem_type: Mapped[ProblemType] = relationship()
    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[TicketPhoto]] = relationship(
        back_populates="ticket", order_by="TicketPhoto.id", cascade="all, delete-orphan"
    )
    followers: Mapped[list[TicketFollower]] = relationship(
        back_populates="ticket", order_by="TicketFollower.id", cascade="all, delete-orphan"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"#{self.id}"


class TicketMessage(Audited, Base):
    """A comment on a ticket: internal (staff only) or a message the reporter sees."""

    __tablename__ = "ticket_messages"
    # A reporter's name when a reporter wrote it (no author_id): personal data.
    __audit_private__ = frozenset({"author_label"})
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(String(200))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    status_to: Mapped[TicketStatus | None] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    ticket: Mapped[Ticket] = relationship(back_populates="messages")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ticket.ecole_id, self.ticket.collectivite_id


class TicketFollower(Audited, Base):
    """An address told of a ticket's progress: its reporter's, and each one of those who
    reported the same problem again and joined the ticket."""

    __tablename__ = "ticket_followers"
    __table_args__ = (UniqueConstraint("ticket_id", "email"),)
    # An address is personal data: the change log records that someone follows, not who.
    __audit_exclude__ = frozenset({"email"})
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket: Mapped[Ticket] = relationship(back_populates="followers")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ticket.ecole_id, self.ticket.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"#{self.ticket_id}"


class TicketPhoto(Audited, Base):
    """A reporter's photo, re-encoded without its metadata, served through an authorised route."""

    __tablename__ = "ticket_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ticket: Mapped[Ticket] = relationship(back_populates="photos")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ticket.ecole_id, self.ticket.collectivite_id


class Subscription(Base):
    """A staff member's choice of ticket notifications: each new ticket, or a daily digest."""

    __tablename__ = "helpdesk_subscriptions"
    __table_args__ = (UniqueConstraint("user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10), default="each")  # each | digest | none
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class InventoryCampaign(Audited, Base):
    """A room-by-room check of a school's equipment with the labels."""

    __tablename__ = "inventory_campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus, "campaign_status"))
    ecole: Mapped[Ecole] = relationship()
    scans: Mapped[list[CampaignScan]] = relationship(
        back_populates="campaign", order_by="CampaignScan.id", cascade="all, delete-orphan"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"inventaire #{self.id}"


class CampaignScan(Base):
    """One label read (or tag typed) in a room during a campaign."""

    __tablename__ = "campaign_scans"
    __table_args__ = (UniqueConstraint("campaign_id", "asset_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_campaigns.id", ondelete="CASCADE"), index=True
    )
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    raw: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    campaign: Mapped[InventoryCampaign] = relationship(back_populates="scans")
    asset: Mapped[Asset | None] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
