"""Equipment catalogue, assets with their lifecycle, network works, digital services, and
the socle référentiels with their requirements."""

from __future__ import annotations

import enum
from collections.abc import Iterable
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
from inventory.core.versioning import Versioned
from inventory.orgs.models import Classroom, Collectivite, Ecole


class AssetStatus(enum.StrEnum):
    ORDERED = "ordered"
    DELIVERED = "delivered"
    INSTALLED = "installed"
    IN_SERVICE = "in_service"
    UNDER_REPAIR = "under_repair"
    RETIRED = "retired"
    LOST = "lost"
    ON_LOAN = "on_loan"  # in someone's custody (inventory.loans)


# The transitions that make sense; anything else is refused.
TRANSITIONS: dict[AssetStatus, frozenset[AssetStatus]] = {
    AssetStatus.ORDERED: frozenset({AssetStatus.DELIVERED, AssetStatus.RETIRED, AssetStatus.LOST}),
    AssetStatus.DELIVERED: frozenset(
        {
            AssetStatus.INSTALLED,
            AssetStatus.IN_SERVICE,
            AssetStatus.ON_LOAN,
            AssetStatus.RETIRED,
            AssetStatus.LOST,
        }
    ),
    AssetStatus.INSTALLED: frozenset(
        {
            AssetStatus.IN_SERVICE,
            AssetStatus.ON_LOAN,
            AssetStatus.UNDER_REPAIR,
            AssetStatus.RETIRED,
            AssetStatus.LOST,
        }
    ),
    AssetStatus.IN_SERVICE: frozenset(
        {AssetStatus.ON_LOAN, AssetStatus.UNDER_REPAIR, AssetStatus.RETIRED, AssetStatus.LOST}
    ),
    # Lent (a loan's check-out), then back in service, to repair, or lost at its check-in.
    AssetStatus.ON_LOAN: frozenset(
        {AssetStatus.IN_SERVICE, AssetStatus.UNDER_REPAIR, AssetStatus.LOST}
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


class Capability(enum.StrEnum):
    """What an item brings to a classroom beyond its kind: the socle's image capture,
    microphone and speakers, wherever they are built in."""

    IMAGE = "image"
    MICROPHONE = "microphone"
    SPEAKERS = "speakers"


def split_codes(text: str | None) -> list[str]:
    """The codes of a comma-separated column, in order, without empty ones."""
    return [c for c in (text or "").split(",") if c]


def capability_list(codes: str | None) -> list[Capability]:
    """The capabilities named in a comma-separated column, in the enum's order."""
    named = set(split_codes(codes))
    return [c for c in Capability if c.value in named]


def join_capabilities(capabilities: Iterable[Capability | str]) -> str:
    """The column text of a set of capabilities, in the enum's order."""
    wanted = {Capability(c) for c in capabilities}
    return ",".join(c.value for c in Capability if c in wanted)


class EquipmentCategory(Base):
    """A kind of equipment (TNI, ENI, poste enseignant…); the list is data.

    ``capabilities`` are those of its models unless a model declares its own (a webcam
    captures images and sound; a display, as a rule, neither)."""

    __tablename__ = "equipment_categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name_fr: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    networked: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    capabilities: Mapped[str] = mapped_column(String(100), default="", server_default="")

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_fr

    @property
    def capability_list(self) -> list[Capability]:
        return capability_list(self.capabilities)


class Manufacturer(Audited, Base):
    __tablename__ = "manufacturers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class EquipmentModel(Audited, Base):
    """A manufacturer's model; it carries its category.

    ``capabilities``: what the model has built in (an ENI with a camera, a microphone and
    speakers), or None for its category's."""

    __tablename__ = "equipment_models"
    __table_args__ = (UniqueConstraint("manufacturer_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer_id: Mapped[int] = mapped_column(ForeignKey("manufacturers.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("equipment_categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    capabilities: Mapped[str | None] = mapped_column(String(100))
    # When items of this model are expected to reach their end of life (the maker's end
    # of support, say); an item may say otherwise (Asset.end_of_life).
    end_of_life: Mapped[date | None] = mapped_column(Date)
    manufacturer: Mapped[Manufacturer] = relationship()
    category: Mapped[EquipmentCategory] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.manufacturer.name} {self.name}"

    @property
    def capability_list(self) -> list[Capability]:
        """What the model brings: its own declaration, else its category's."""
        if self.capabilities is None:
            return self.category.capability_list
        return capability_list(self.capabilities)


class Asset(Audited, Versioned, Base):
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
    # The supplier of the directory (suppliers domain, above this one: named by its id);
    # ``supplier`` keeps its name as typed or imported.
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("suppliers.id", ondelete="SET NULL"), index=True
    )
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
    # The item's own expected end of life, over its model's.
    end_of_life: Mapped[date | None] = mapped_column(Date)
    # The batch it left by (retired with a disposal route), if any.
    disposal_id: Mapped[int | None] = mapped_column(ForeignKey("asset_disposals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
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
    disposal: Mapped[Disposal | None] = relationship(back_populates="assets")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.tag

    @property
    def expected_end_of_life(self) -> date | None:
        """The item's own expected end of life, else its model's."""
        if self.end_of_life is not None:
            return self.end_of_life
        return self.model.end_of_life if self.model is not None else None


class DisposalRoute(enum.StrEnum):
    """How retired equipment leaves the collectivité."""

    REUSE = "reuse"  # réemploi: given a second life (another service, a reconditioner)
    DONATION = "donation"  # given to an association, a school abroad…
    DEEE = "deee"  # collected as waste electrical equipment by an eco-organism


class Disposal(Audited, Base):
    """A batch of items retired together: where they went (the route), when, who took
    them (the eco-organism and its reference for a DEEE collection) and the certificate
    it gave, stored outside static/ and served through an authorised route."""

    __tablename__ = "asset_disposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    route: Mapped[DisposalRoute] = mapped_column(str_enum(DisposalRoute, "disposal_route"))
    disposed_on: Mapped[date] = mapped_column(Date)
    organism: Mapped[str | None] = mapped_column(String(150))
    organism_reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    certificate_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    certificate_type: Mapped[str | None] = mapped_column(String(40))
    certificate_size: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    collectivite: Mapped[Collectivite] = relationship()
    assets: Mapped[list[Asset]] = relationship(back_populates="disposal", order_by="Asset.tag")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"{self.route} {self.disposed_on}"[:200]


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
    """The last asset-tag number given in a tag pattern (prefix and year).

    Kept per pattern rather than per collectivité: collectivités whose prefix is the same
    (three letters of their names: hundreds of "SAI…" in a country) share the counter,
    so their numbers follow each other and two of them adding items at once wait on one
    row instead of both taking the same number."""

    __tablename__ = "asset_tag_counters"
    prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
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


class NetworkWork(Audited, Versioned, Base):
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
    ecole: Mapped[Ecole] = relationship()
    collectivite: Mapped[Collectivite] = relationship()
    classrooms: Mapped[list[Classroom]] = relationship(secondary=work_classrooms)

    # The rooms the works cover are part of the works' record.
    __audit_links__ = {"classrooms": Linked("name")}

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.title


class ServiceKind(enum.StrEnum):
    ENT = "ent"  # espace numérique de travail
    CLOUD = "cloud"  # a cloud to share and keep work
    MDM = "mdm"  # the management of the pupils' mobile devices
    RESOURCE = "resource"  # digital resources (a subscription, a library…)
    SOFTWARE = "software"  # software licences


class DigitalService(Audited, Versioned, Base):
    """A digital service a collectivité provides to some of its schools: an ENT, a cloud,
    the MDM of its tablets, a resource. A service, not a thing on a wall: it has no room,
    only the schools it covers and the dates it runs (open-ended when not given).

    Kept small on purpose: seats, costs and renewals of a subscription can hang off it
    later without changing what covers a school."""

    __tablename__ = "digital_services"
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind, "service_kind"))
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str | None] = mapped_column(String(150))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    collectivite: Mapped[Collectivite] = relationship()
    coverage: Mapped[list[DigitalServiceSchool]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="DigitalServiceSchool.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    def running_on(self, day: date) -> bool:
        """Whether the service runs on ``day`` (its dates included)."""
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )


class DigitalServiceSchool(Audited, Base):
    """A school a digital service covers (its own row, so that the school's history
    tells when a service came and went)."""

    __tablename__ = "digital_service_schools"
    __table_args__ = (UniqueConstraint("service_id", "ecole_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("digital_services.id", ondelete="CASCADE"), index=True
    )
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    service: Mapped[DigitalService] = relationship(back_populates="coverage")
    ecole: Mapped[Ecole] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None

    @property
    def audit_label(self) -> str:
        service = self.__dict__.get("service")
        return service.name[:200] if service is not None else f"#{self.service_id}"


class RequirementLevel(enum.StrEnum):
    CLASSROOM = "classroom"  # each classroom aimed at
    SCHOOL = "school"  # the school as a whole
    DIRECTION = "direction"  # the school director's kit, counted over the school


class RequirementKind(enum.StrEnum):
    # At least ``minimum`` items of the categories in service, or finished works of the
    # kinds, or a running service of the kinds.
    ITEMS = "items"
    # Every listed capability brought by an item in service.
    CAPABILITIES = "capabilities"
    # At least ``ratio_items`` items of the categories per ``ratio_classes`` target
    # classrooms of the school, rounded up (and at least ``minimum``).
    RATIO = "ratio"


class Referentiel(Audited, Base):
    """A socle référentiel: the requirements a programme sets for classrooms, schools and
    their director. A funding scheme points to its référentiel; exactly one is current,
    and the current one's requirements make every socle figure."""

    __tablename__ = "socle_referentiels"
    __table_args__ = (
        # At most one current référentiel (the services keep exactly one).
        Index(
            "ix_socle_referentiels_one_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requirements: Mapped[list[SocleRequirement]] = relationship(
        back_populates="referentiel",
        order_by="(SocleRequirement.position, SocleRequirement.id)",
        cascade="all, delete-orphan",
    )


class SocleRequirement(Audited, Base):
    """One line of a socle référentiel: what must be in service, where (``kind``):

    - ``items``: at least ``minimum`` items of ``category_codes`` in service at that level,
      or finished network works of ``work_kinds`` covering the room (the school, above the
      classroom), or a running digital service of ``service_kinds`` covering the school;
    - ``capabilities``: every one of ``capabilities`` brought by an item in service;
    - ``ratio``: ``ratio_items`` items of ``category_codes`` per ``ratio_classes`` target
      classrooms of the school, rounded up (at least ``minimum``).
    """

    __tablename__ = "socle_requirements"
    __table_args__ = (UniqueConstraint("referentiel_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    referentiel_id: Mapped[int] = mapped_column(ForeignKey("socle_referentiels.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    level: Mapped[RequirementLevel] = mapped_column(str_enum(RequirementLevel, "requirement_level"))
    kind: Mapped[RequirementKind] = mapped_column(
        str_enum(RequirementKind, "requirement_kind"),
        default=RequirementKind.ITEMS,
        server_default=RequirementKind.ITEMS.value,
    )
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    category_codes: Mapped[str] = mapped_column(String(300), default="")
    work_kinds: Mapped[str] = mapped_column(String(100), default="")
    service_kinds: Mapped[str] = mapped_column(String(100), default="", server_default="")
    capabilities: Mapped[str] = mapped_column(String(100), default="", server_default="")
    minimum: Mapped[int] = mapped_column(Integer, default=1)
    ratio_items: Mapped[int | None] = mapped_column(Integer)
    ratio_classes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    referentiel: Mapped[Referentiel] = relationship(back_populates="requirements")

    @property
    def categories(self) -> list[str]:
        return split_codes(self.category_codes)

    @property
    def kinds(self) -> list[str]:
        return split_codes(self.work_kinds)

    @property
    def services(self) -> list[str]:
        return split_codes(self.service_kinds)

    @property
    def capability_list(self) -> list[Capability]:
        return capability_list(self.capabilities)

    def needed(self, targets: int = 0) -> int:
        """How many items meet it, for a school of ``targets`` target classrooms."""
        if self.kind is RequirementKind.RATIO and self.ratio_items and self.ratio_classes:
            per_ratio = -(-self.ratio_items * targets // self.ratio_classes)  # rounded up
            return max(self.minimum, per_ratio)
        return self.minimum

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
