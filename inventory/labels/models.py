"""Scan tokens carried by QR labels, label formats, and the print log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, utcnow
from inventory.core.jobs import Job, JobState
from inventory.orgs.models import Classroom


class ScanToken(Audited, Base):
    """The opaque code a label's QR carries, for an asset or a classroom.

    Never derived from an id or a tag. Revoking one (a damaged or copied label) issues a
    new one; the old URL then says the label has been replaced.
    """

    __tablename__ = "scan_tokens"
    __table_args__ = (
        Index("ix_scan_tokens_asset_active", "asset_id", "revoked_at"),
        Index("ix_scan_tokens_classroom_active", "classroom_id", "revoked_at"),
    )
    __audit_exclude__ = frozenset({"matrix"})
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    classroom_id: Mapped[int | None] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The QR matrix of this token's URL, packed once and reused by every reprint.
    matrix: Mapped[str | None] = mapped_column(Text)
    matrix_url: Mapped[str | None] = mapped_column(String(120))
    asset: Mapped[Asset | None] = relationship()
    classroom: Mapped[Classroom | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        if self.asset is not None:
            return self.asset.ecole_id, self.asset.collectivite_id
        if self.classroom is not None:
            return self.classroom.ecole_id, None
        return None, None

    @property
    def audit_label(self) -> str:
        item = self.asset.tag if self.asset else (self.classroom.name if self.classroom else "")
        return f"{item} QR"


class LabelFormat(Audited, Base):
    """A label sheet or tape, all sizes in millimetres; the renderer reads nothing else."""

    __tablename__ = "label_formats"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    page_width: Mapped[float] = mapped_column(Float)
    page_height: Mapped[float] = mapped_column(Float)
    columns: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    label_width: Mapped[float] = mapped_column(Float)
    label_height: Mapped[float] = mapped_column(Float)
    margin_left: Mapped[float] = mapped_column(Float, default=0)
    margin_top: Mapped[float] = mapped_column(Float, default=0)
    gap_x: Mapped[float] = mapped_column(Float, default=0)
    gap_y: Mapped[float] = mapped_column(Float, default=0)
    padding: Mapped[float] = mapped_column(Float, default=1.5)
    # Tape printers print one label per page, sized to the label.
    continuous: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[str] = mapped_column(String(20), default="side")

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


class PrintJob(Base):
    """Who printed which labels, when, on what: to reprint 'what I printed yesterday'."""

    __tablename__ = "print_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    format_code: Mapped[str] = mapped_column(String(40))
    skip: Mapped[int] = mapped_column(Integer, default=0)
    asset_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    classroom_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer)
    collectivite_id: Mapped[int | None] = mapped_column(ForeignKey("collectivites.id"), index=True)
    # A large print is rendered by a job (its state and progress), into this file.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    job: Mapped[Job | None] = relationship()
    # Emptied when the retention clean-up deletes the file.
    file_name: Mapped[str | None] = mapped_column(String(80))

    @property
    def pending(self) -> bool:
        """Still being prepared by its job (or failed): its progress page says which."""
        return self.job is not None and self.job.state != JobState.DONE

    def items(self) -> dict[str, Any]:
        return {"assets": self.asset_ids, "classrooms": self.classroom_ids}
