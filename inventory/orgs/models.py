"""The registry: where schools are, who owns them, and their classrooms."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow


class CollectiviteKind(enum.StrEnum):
    COMMUNE = "commune"
    RPI = "rpi"
    # A communauté (de communes, d'agglomération…), a métropole; also an intercommunal body
    # whose kind is not known yet (a syndicat is an EPCI too, without its own taxes).
    EPCI = "epci"
    # A syndicat intercommunal (SIVU, SIVOS, SIVOM), often the body carrying an RPI.
    SYNDICAT = "syndicat"


class SchoolNature(enum.StrEnum):
    MATERNELLE = "maternelle"
    ELEMENTAIRE = "elementaire"
    PRIMAIRE = "primaire"


class SchoolStatus(enum.StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


LEVELS = ("PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2", "ULIS")


class Academie(Audited, Base):
    """An académie, identified by the ministry's code (``24`` Créteil), and its région
    académique as the Annuaire gives it (``Code_region`` ``11``, ``Libelle_region``
    ``Ile-de-France``): empty until an Annuaire file that has them is imported."""

    __tablename__ = "academies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str | None] = mapped_column(String(3))
    region_name: Mapped[str | None] = mapped_column(String(120))
    departements: Mapped[list[Departement]] = relationship(back_populates="academie")


class Departement(Audited, Base):
    """A département, coded as in the Annuaire (``094``, ``02A``)."""

    __tablename__ = "departements"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    academie_id: Mapped[int] = mapped_column(ForeignKey("academies.id"), index=True)
    academie: Mapped[Academie] = relationship(back_populates="departements")
    circonscriptions: Mapped[list[Circonscription]] = relationship(back_populates="departement")


class Circonscription(Audited, Base):
    """An IEN's district; it has its own UAI in the Annuaire."""

    __tablename__ = "circonscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str | None] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    departement_id: Mapped[int] = mapped_column(ForeignKey("departements.id"), index=True)
    departement: Mapped[Departement] = relationship(back_populates="circonscriptions")


class Commune(Audited, Base):
    """A commune of the official geographic code (COG), keyed by its INSEE code."""

    __tablename__ = "communes"
    id: Mapped[int] = mapped_column(primary_key=True)
    insee: Mapped[str] = mapped_column(String(5), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    departement_id: Mapped[int] = mapped_column(ForeignKey("departements.id"), index=True)
    departement: Mapped[Departement] = relationship()


collectivite_members = Table(
    "collectivite_members",
    Base.metadata,
    Column("collectivite_id", ForeignKey("collectivites.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_id", ForeignKey("communes.id"), primary_key=True),
)


class Collectivite(Audited, Base):
    """A body that owns and equips schools: a commune, an RPI, an EPCI or a syndicat.

    ``provisional``: its name and kind are what the Annuaire import could tell (an
    intercommunal body known by its SIREN and its schools' communes alone); the import
    may rename it while it is, and never once an administrator has named it.
    """

    __tablename__ = "collectivites"
    # Lists and pickers offer the first collectivités by name.
    __table_args__ = (Index("ix_collectivites_name_id", "name", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CollectiviteKind] = mapped_column(str_enum(CollectiviteKind, "collectivite_kind"))
    name: Mapped[str] = mapped_column(String(200))
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id"), unique=True)
    departement_id: Mapped[int] = mapped_column(ForeignKey("departements.id"), index=True)
    asset_tag_prefix: Mapped[str | None] = mapped_column(String(12))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Printed on the labels of its items that no grant has paid for yet (not invoiced), and
    # a short prompt on every label of its items and rooms ("Un problème ? Scannez-moi").
    label_mention: Mapped[str | None] = mapped_column(String(200))
    label_prompt: Mapped[str | None] = mapped_column(String(60))
    commune: Mapped[Commune | None] = relationship(foreign_keys=[commune_id])
    departement: Mapped[Departement] = relationship()
    members: Mapped[list[Commune]] = relationship(secondary=collectivite_members)
    ecoles: Mapped[list[Ecole]] = relationship(back_populates="collectivite")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.id


class Ecole(Audited, Base):
    """A school, identified by its UAI."""

    __tablename__ = "ecoles"
    __table_args__ = (
        Index("ix_ecoles_name_id", "name", "id"),
        Index("ix_ecoles_departement_name", "departement_id", "name", "id"),
        Index("ix_ecoles_circonscription_name", "circonscription_id", "name", "id"),
        Index("ix_ecoles_collectivite_name", "collectivite_id", "name", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    nature: Mapped[SchoolNature] = mapped_column(str_enum(SchoolNature, "school_nature"))
    status: Mapped[SchoolStatus] = mapped_column(
        str_enum(SchoolStatus, "school_status"), default=SchoolStatus.OPEN
    )
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(5))
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    departement_id: Mapped[int] = mapped_column(ForeignKey("departements.id"))
    circonscription_id: Mapped[int | None] = mapped_column(ForeignKey("circonscriptions.id"))
    collectivite_id: Mapped[int | None] = mapped_column(ForeignKey("collectivites.id"))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    pupils: Mapped[int | None] = mapped_column(Integer)
    priority_education: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    search_text: Mapped[str] = mapped_column(String(600), default="")

    commune: Mapped[Commune] = relationship()
    departement: Mapped[Departement] = relationship()
    circonscription: Mapped[Circonscription | None] = relationship()
    collectivite: Mapped[Collectivite | None] = relationship(back_populates="ecoles")
    classrooms: Mapped[list[Classroom]] = relationship(
        back_populates="ecole", order_by="Classroom.position"
    )
    ownerships: Mapped[list[Ownership]] = relationship(
        back_populates="ecole", order_by="Ownership.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.id, self.collectivite_id


class Ownership(Audited, Base):
    """A period during which a collectivité owned a school; the open one has no end."""

    __tablename__ = "ownerships"
    id: Mapped[int] = mapped_column(primary_key=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    # None: owned since before Socle knew it (the Annuaire gives no date).
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    ecole: Mapped[Ecole] = relationship(back_populates="ownerships")
    collectivite: Mapped[Collectivite] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id


class Classroom(Audited, Base):
    """A classroom of a school; its name is unique within the school."""

    __tablename__ = "classrooms"
    __table_args__ = (UniqueConstraint("ecole_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    levels: Mapped[str] = mapped_column(String(60), default="")
    pupils: Mapped[int | None] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ecole: Mapped[Ecole] = relationship(back_populates="classrooms")

    @property
    def level_list(self) -> list[str]:
        return [lv for lv in self.levels.split(",") if lv]

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None
