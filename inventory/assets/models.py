"""Equipment catalogue, assets with their lifecycle, network works, socle requirements."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    event,
    text,
)
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from inventory.core.audit import Audited, Linked
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.text import fold
from inventory.orgs.models import Classroom, Collectivite, Ecole


class AssetStatus(enum.StrEnum):
    ORDERED = "ordered"
    DELIVERED = "delivered"
    INSTALLED = "installed"
    IN_SERVICE = "in_service"
    UNDER_REPAIR = "under_repair"
    RETIRED = "retired"
    LOST = "lost"


# The transitions that make sense; anything else is refused.
TRANSITIONS: dict[AssetStatus, frozenset[AssetStatus]] = {
    AssetStatus.ORDERED: frozenset({AssetStatus.DELIVERED, AssetStatus.RETIRED, AssetStatus.LOST}),
    AssetStatus.DELIVERED: frozenset(
        {AssetStatus.INSTALLED, AssetStatus.IN_SERVICE, AssetStatus.RETIRED, AssetStatus.LOST}
    ),
    AssetStatus.INSTALLED: frozenset(
        {AssetStatus.IN_SERVICE, AssetStatus.UNDER_REPAIR, AssetStatus.RETIRED, AssetStatus.LOST}
    ),
    AssetStatus.IN_SERVICE: frozenset(
        {AssetStatus.UNDER_REPAIR, AssetStatus.RETIRED, AssetStatus.LOST}
    ),
    AssetStatus.UNDER_REPAIR: frozenset(
        {AssetStatus.IN_SERVICE, AssetStatus.RETIRED, AssetStatus.LOST}
    ),
    AssetStatus.LOST: frozenset({AssetStatus.IN_SERVICE, AssetStatus.RETIRED}),
    AssetStatus.RETIRED: frozenset(),
}


class Placement(enum.StrEnum):
    CLASSROOM = "classroom"
    SCHOOL = "school"
    STORAGE = "storage"


class EquipmentCategory(Base):
    """A kind of equipment (TNI, ENI, poste enseignant…); the list is data."""

    __tablename__ = "equipment_categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_fr: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    networked: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr


class Manufacturer(Audited, Base):
    __tablename__ = "manufacturers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class EquipmentModel(Audited, Base):
    """A manufacturer's model; it carries its category."""

    __tablename__ = "equipment_models"
    __table_args__ = (UniqueConstraint("manufacturer_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("equipment_categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    manufacturer: Mapped[Manufacturer] = relationship()
    category: Mapped[EquipmentCategory] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.manufacturer.name} {self.name}"


class Asset(Audited, Base):
    """One piece of equipment, from order to retirement."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("model_id", "serial"),
        Index("ix_assets_collectivite_id_id", "collectivite_id", "id"),
        Index("ix_assets_ecole_id_id", "ecole_id", "id"),
        Index("ix_assets_classroom_id_status", "classroom_id", "status"),
        # The id last: a category (and status) list pages newest first along the index,
        # on PostgreSQL as on SQLite (whose indexes end with the rowid anyway).
        Index("ix_assets_category_status_id", "category_id", "status", "id"),
        # Addresses are looked up by equality only, and many items have none: the
        # indexes leave the empty ones out (an import writes fewer entries).
        *(
            Index(
                f"ix_assets_{name}",
                name,
                sqlite_where=text(f"{name} IS NOT NULL"),
                postgresql_where=text(f"{name} IS NOT NULL"),
            )
            for name in ("mac", "mac_wifi", "ip")
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), unique=True)
    # Found by model through the unique (model, serial) index.
    model_id: Mapped[int] = mapped_column(ForeignKey("equipment_models.id"))
    # Copied from the model so that lists and the socle check filter without a join.
    category_id: Mapped[int] = mapped_column(ForeignKey("equipment_categories.id"))
    serial: Mapped[str | None] = mapped_column(String(100))
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"))
    ecole_id: Mapped[int | None] = mapped_column(ForeignKey("ecoles.id"))
    classroom_id: Mapped[int | None] = mapped_column(ForeignKey("classrooms.id"))
    placement: Mapped[Placement] = mapped_column(str_enum(Placement, "asset_placement"))
    status: Mapped[AssetStatus] = mapped_column(str_enum(AssetStatus, "asset_status"))
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supplier: Mapped[str | None] = mapped_column(String(150))
    order_number: Mapped[str | None] = mapped_column(String(60))
    invoice_number: Mapped[str | None] = mapped_column(String(60))
    purchase_date: Mapped[date | None] = mapped_column(Date)
    price_ht_cents: Mapped[int | None] = mapped_column(Integer)
    price_ttc_cents: Mapped[int | None] = mapped_column(Integer)
    warranty_end: Mapped[date | None] = mapped_column(Date, index=True)
    mac: Mapped[str | None] = mapped_column(String(17))
    mac_wifi: Mapped[str | None] = mapped_column(String(17))
    ip: Mapped[str | None] = mapped_column(String(45))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # What the list's text search reads (inventory.core.search): tag, serial, maker and
    # model, folded; kept current on every write by the mapper hook below.
    search_text: Mapped[str] = mapped_column(String(300), default="", server_default="")

    model: Mapped[EquipmentModel] = relationship()
    category: Mapped[EquipmentCategory] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    ecole: Mapped[Ecole | None] = relationship()
    classroom: Mapped[Classroom | None] = relationship()
    transitions: Mapped[list[StatusChange]] = relationship(
        back_populates="asset", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    photos: Mapped[list[AssetPhoto]] = relationship(
        back_populates="asset", order_by="AssetPhoto.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.tag


def asset_search_text(tag: str | None, serial: str | None, maker: str, model: str) -> str:
    """The folded words an item is found by in the equipment list's text search."""
    return fold(" ".join(p for p in (tag, serial, maker, model) if p))[:300]


_SEARCHED = ("tag", "serial", "model_id", "model")


@event.listens_for(Asset, "before_insert")
@event.listens_for(Asset, "before_update")
def _refresh_search_text(mapper: Mapper[Asset], connection: object, target: Asset) -> None:
    # A mapper hook rather than calls in each service, so that every write path (forms,
    # quick add, the spreadsheet import) keeps the text current; an update that leaves
    # the searched fields alone costs nothing.
    state = inspect_state(target)
    if state.persistent and not any(state.attrs[a].history.has_changes() for a in _SEARCHED):
        return
    model = target.model
    text = asset_search_text(
        target.tag,
        target.serial,
        model.manufacturer.name if model is not None else "",
        model.name if model is not None else "",
    )
    if target.search_text != text:
        target.search_text = text


class StatusChange(Base):
    """One step of an asset's life, with its date and who made it."""

    __tablename__ = "asset_status_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[AssetStatus | None] = mapped_column(str_enum(AssetStatus, "asset_status"))
    to_status: Mapped[AssetStatus] = mapped_column(str_enum(AssetStatus, "asset_status"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    asset: Mapped[Asset] = relationship(back_populates="transitions")


class AssetPhoto(Audited, Base):
    """A photo of an asset, stored outside static/ and served through an authorised route."""

    __tablename__ = "asset_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    asset: Mapped[Asset] = relationship(back_populates="photos")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.asset.ecole_id, self.asset.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.stored_name


class TagCounter(Base):
    """The last asset-tag number used per collectivité and year."""

    __tablename__ = "asset_tag_counters"
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class WorkKind(enum.StrEnum):
    CABLING = "cabling"
    WIFI = "wifi"
    INTERNET = "internet"
    CABINET = "cabinet"


class WorkStatus(enum.StrEnum):
    PLANNED = "planned"
    ORDERED = "ordered"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


work_classrooms = Table(
    "network_work_classrooms",
    Base.metadata,
    Column("work_id", ForeignKey("network_works.id", ondelete="CASCADE"), primary_key=True),
    Column("classroom_id", ForeignKey("classrooms.id"), primary_key=True, index=True),
)


class NetworkWork(Audited, Base):
    """Cabling, wifi coverage, internet upgrade or network cabinet works at a school."""

    __tablename__ = "network_works"
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    kind: Mapped[WorkKind] = mapped_column(str_enum(WorkKind, "work_kind"))
    title: Mapped[str] = mapped_column(String(200))
    contractor: Mapped[str | None] = mapped_column(String(150))
    quote_cents: Mapped[int | None] = mapped_column(Integer)
    invoice_cents: Mapped[int | None] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[WorkStatus] = mapped_column(str_enum(WorkStatus, "work_status"))
    accepted_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    ecole: Mapped[Ecole] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    classrooms: Mapped[list[Classroom]] = relationship(secondary=work_classrooms)

    __mapper_args__ = {"version_id_col": version}
    # The rooms the works cover are part of the works' record.
    __audit_links__ = {"classrooms": Linked("name")}

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.title


class RequirementLevel(enum.StrEnum):
    CLASSROOM = "classroom"
    SCHOOL = "school"


class SocleRequirement(Audited, Base):
    """One line of the 'socle numérique de base': what must be in service, where.

    Met when at least ``minimum`` items of the listed categories are in service at that
    level, or (``work_kinds``) when finished network works of those kinds cover the room.
    """

    __tablename__ = "socle_requirements"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[RequirementLevel] = mapped_column(str_enum(RequirementLevel, "requirement_level"))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    category_codes: Mapped[str] = mapped_column(String(300), default="")
    work_kinds: Mapped[str] = mapped_column(String(100), default="")
    minimum: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def categories(self) -> list[str]:
        return [c for c in self.category_codes.split(",") if c]

    @property
    def kinds(self) -> list[str]:
        return [k for k in self.work_kinds.split(",") if k]

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr


class ClassroomSocle(Base):
    """Summary of each classroom's socle status, refreshed in the same transaction as any
    change that can alter it, so that dashboards aggregate it with a plain GROUP BY."""

    __tablename__ = "classroom_socle"
    __table_args__ = (Index("ix_classroom_socle_ecole", "ecole_id", "is_target", "meets"),)
    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE"), primary_key=True
    )
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id", ondelete="CASCADE"))
    is_target: Mapped[bool] = mapped_column(Boolean)
    meets: Mapped[bool] = mapped_column(Boolean)

    @classmethod
    def missing(cls) -> ColumnElement[bool]:
        """The summary's rows of the classrooms aimed at that miss the socle."""
        return and_(cls.is_target.is_(True), cls.meets.is_(False))
