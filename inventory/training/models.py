"""Training sessions, their schools, topics, equipment, trainers, attendance and follow-up."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset, EquipmentCategory
from inventory.core.audit import Audited, Linked
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.versioning import Versioned
from inventory.orgs.models import Classroom, Ecole


class SessionMode(enum.StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"


class SessionFormat(enum.StrEnum):
    WORKSHOP = "workshop"
    DEMONSTRATION = "demonstration"
    CONFERENCE = "conference"
    REMOTE_FOLLOW_UP = "remote_follow_up"


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class AttendeeRole(enum.StrEnum):
    TEACHER = "teacher"
    DIRECTOR = "director"
    MUNICIPAL = "municipal"


class TrainingTopic(Base):
    """A topic sessions can cover; the list is data."""

    __tablename__ = "training_topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_fr: Mapped[str] = mapped_column(String(150))
    label_en: Mapped[str] = mapped_column(String(150))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


session_schools = Table(
    "training_session_schools",
    Base.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("ecole_id", ForeignKey("ecoles.id"), primary_key=True, index=True),
)
session_topics = Table(
    "training_session_topics",
    Base.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("training_topics.id"), primary_key=True),
)
session_categories = Table(
    "training_session_categories",
    Base.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("equipment_categories.id"), primary_key=True),
)
session_assets = Table(
    "training_session_assets",
    Base.metadata,
    Column("session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("asset_id", ForeignKey("assets.id"), primary_key=True),
)


class TrainingSession(Audited, Versioned, Base):
    """An accompaniment or training session, planned then recorded."""

    __tablename__ = "training_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    mode: Mapped[SessionMode] = mapped_column(str_enum(SessionMode, "session_mode"))
    format: Mapped[SessionFormat] = mapped_column(str_enum(SessionFormat, "session_format"))
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), index=True
    )
    place: Mapped[str | None] = mapped_column(String(200))
    # Counts are required; names are optional (Attendee rows).
    teachers: Mapped[int] = mapped_column(Integer, default=0)
    directors: Mapped[int] = mapped_column(Integer, default=0)
    municipal_staff: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1 to 5
    feedback: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # Funded by the dossier's "accompagnement" volet, through one of its expense lines.
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    schools: Mapped[list[Ecole]] = relationship(secondary=session_schools)
    topics: Mapped[list[TrainingTopic]] = relationship(secondary=session_topics)
    categories: Mapped[list[EquipmentCategory]] = relationship(secondary=session_categories)
    assets: Mapped[list[Asset]] = relationship(secondary=session_assets)
    trainers: Mapped[list[Trainer]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Trainer.id"
    )
    attendees: Mapped[list[Attendee]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Attendee.id"
    )
    follow_ups: Mapped[list[FollowUpAction]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="FollowUpAction.id"
    )
    documents: Mapped[list[TrainingDocument]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="TrainingDocument.id"
    )

    # The linked rows, as the change log shows them (the named participants counted only).
    __audit_links__ = {
        "schools": Linked("uai"),
        "topics": Linked("code"),
        "categories": Linked("code"),
        "assets": Linked("tag"),
        "trainers": Linked("label", sep="; "),
        "attendees": Linked(count=True),
        "follow_ups": Linked("audit_text", sep="; "),
        "documents": Linked("filename", sep="; "),
    }

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        first = self.schools[0] if self.schools else None
        return (first.id, first.collectivite_id) if first else (None, None)

    @property
    def audit_label(self) -> str:
        return self.title


class Trainer(Base):
    """Who ran the session: a Socle user (ERUN, CPC) or someone from outside."""

    __tablename__ = "training_trainers"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    organisation: Mapped[str | None] = mapped_column(String(150))
    session: Mapped[TrainingSession] = relationship(back_populates="trainers")

    @property
    def label(self) -> str:
        """The name, and the organisation when there is one: «Élise Martin (ERUN)»."""
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


class Attendee(Base):
    """A named participant (optional: sessions also record counts)."""

    __tablename__ = "training_attendees"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(150))
    role: Mapped[AttendeeRole] = mapped_column(str_enum(AttendeeRole, "attendee_role"))
    ecole_id: Mapped[int | None] = mapped_column(ForeignKey("ecoles.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    session: Mapped[TrainingSession] = relationship(back_populates="attendees")
    ecole: Mapped[Ecole | None] = relationship()
    classroom: Mapped[Classroom | None] = relationship()


class FollowUpAction(Base):
    """Something to do after the session, with its due date."""

    __tablename__ = "training_follow_ups"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    session: Mapped[TrainingSession] = relationship(back_populates="follow_ups")

    @property
    def audit_text(self) -> str:
        """The action as the session's change log shows it: its text, due date and a ✓
        once done, so that marking it done is a change of the session."""
        due = f" ({self.due_on.isoformat()})" if self.due_on else ""
        return f"{self.text}{due}{' ✓' if self.done else ''}"


class TrainingDocument(Base):
    """Slides, attendance sheet scans… stored outside static/, served through the policy."""

    __tablename__ = "training_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session: Mapped[TrainingSession] = relationship(back_populates="documents")
