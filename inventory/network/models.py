"""The network of a school: its prefixes (with role, VLAN, gateway and DNS), DHCP ranges
and addresses; its VLANs and Wi-Fi networks; which rooms each access point covers and the
rooms' network sockets. A collectivité's address plan (aggregates, a per-school template)
is the space its schools' prefixes must not overlap in.

An address is stored as text (its netaddr form) and as ``host``: its offset in its
prefix, minus 2**63 so that any IPv4 prefix and an IPv6 prefix down to a /64 fit a signed
BIGINT on both engines while keeping the order the free-address search walks in SQL over
the ``(prefix, host)`` index (:mod:`inventory.network.allocation`)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset, NetworkWork
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.orgs.models import Classroom, Collectivite, Ecole

# host = offset in the prefix - HOST_BIAS (see the module's docstring).
HOST_BIAS = 2**63


class PrefixRole(enum.StrEnum):
    PEDAGOGIQUE = "pedagogique"
    ADMINISTRATION = "administration"
    INVITES = "invites"
    EQUIPEMENTS = "equipements"


class AddressStatus(enum.StrEnum):
    ACTIVE = "active"
    RESERVED = "reserved"
    DHCP = "dhcp"  # a DHCP reservation: the MAC gets this address from the server


class WifiSecurity(enum.StrEnum):
    OPEN = "open"
    WPA2_PSK = "wpa2_psk"
    WPA2_ENTERPRISE = "wpa2_enterprise"
    WPA3_SAE = "wpa3_sae"
    WPA3_ENTERPRISE = "wpa3_enterprise"


class AddressPlan(Audited, Base):
    """A collectivité's address space: its aggregates, and optionally the template of a
    school's prefix (``10.{dept}.{school}.0/24``: the département's number and the
    school's number in the plan)."""

    __tablename__ = "network_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), unique=True)
    school_template: Mapped[str | None] = mapped_column(String(60))
    collectivite: Mapped[Collectivite] = relationship()
    aggregates: Mapped[list[Aggregate]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Aggregate.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"#{self.id}"


class Aggregate(Audited, Base):
    """A block of a collectivité's address space (10.35.0.0/16, a /48 of IPv6)."""

    __tablename__ = "network_aggregates"
    __table_args__ = (UniqueConstraint("plan_id", "cidr"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("network_plans.id", ondelete="CASCADE"))
    cidr: Mapped[str] = mapped_column(String(49))
    description: Mapped[str | None] = mapped_column(String(200))
    plan: Mapped[AddressPlan] = relationship(back_populates="aggregates")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        plan = self.__dict__.get("plan")
        return None, plan.collectivite_id if plan is not None else None

    @property
    def audit_label(self) -> str:
        return self.cidr


class Vlan(Audited, Base):
    """A VLAN of a school: its 802.1Q id (1–4094), name and group."""

    __tablename__ = "network_vlans"
    __table_args__ = (UniqueConstraint("ecole_id", "vid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"))
    vid: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    group_name: Mapped[str] = mapped_column(String(80), default="", server_default="")
    ecole: Mapped[Ecole] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None

    @property
    def audit_label(self) -> str:
        return f"{self.vid} {self.name}"[:200]


class Prefix(Audited, Base):
    """A school's prefix. Prefixes of one collectivité never overlap (its one space)."""

    __tablename__ = "network_prefixes"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "cidr"),
        Index("ix_network_prefixes_ecole_id", "ecole_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"))
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"))
    cidr: Mapped[str] = mapped_column(String(49))
    role: Mapped[PrefixRole] = mapped_column(str_enum(PrefixRole, "prefix_role"))
    vlan_id: Mapped[int | None] = mapped_column(ForeignKey("network_vlans.id", ondelete="SET NULL"))
    gateway: Mapped[str | None] = mapped_column(String(45))
    dns: Mapped[str] = mapped_column(String(200), default="", server_default="")
    description: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ecole: Mapped[Ecole] = relationship()
    vlan: Mapped[Vlan | None] = relationship()
    ranges: Mapped[list[DhcpRange]] = relationship(
        back_populates="prefix", cascade="all, delete-orphan", order_by="DhcpRange.first_host"
    )

    @property
    def dns_list(self) -> list[str]:
        return [d for d in self.dns.split(",") if d]

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.cidr


class DhcpRange(Audited, Base):
    """Addresses a DHCP server hands out (or a block reserved, for a classe mobile)."""

    __tablename__ = "network_ranges"
    id: Mapped[int] = mapped_column(primary_key=True)
    prefix_id: Mapped[int] = mapped_column(
        ForeignKey("network_prefixes.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[str] = mapped_column(String(45))
    end: Mapped[str] = mapped_column(String(45))
    first_host: Mapped[int] = mapped_column(BigInteger)
    last_host: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[Prefix] = relationship(back_populates="ranges")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        prefix = self.__dict__.get("prefix")
        return (prefix.ecole_id, prefix.collectivite_id) if prefix is not None else (None, None)

    @property
    def audit_label(self) -> str:
        return f"{self.start}–{self.end}"


class IpAddress(Audited, Base):
    """An address of a prefix: in use, reserved or a DHCP reservation; held by an item or
    by someone named in free text. The one home of an item's address (``Asset.ip`` is
    kept equal to it by :mod:`inventory.network.addresses`)."""

    __tablename__ = "network_addresses"
    __table_args__ = (
        # Two allocations at the same instant: the second insert fails here and retries.
        UniqueConstraint("prefix_id", "host"),
        Index("ix_network_addresses_asset_id", "asset_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    prefix_id: Mapped[int] = mapped_column(ForeignKey("network_prefixes.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(45))
    host: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[AddressStatus] = mapped_column(str_enum(AddressStatus, "address_status"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    holder: Mapped[str | None] = mapped_column(String(150))
    mac: Mapped[str | None] = mapped_column(String(17))
    hostname: Mapped[str | None] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prefix: Mapped[Prefix] = relationship()
    asset: Mapped[Asset | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        prefix = self.__dict__.get("prefix")
        return (prefix.ecole_id, prefix.collectivite_id) if prefix is not None else (None, None)

    @property
    def audit_label(self) -> str:
        return self.address


class WifiNetwork(Audited, Base):
    """A school's Wi-Fi network: its SSID, security and VLAN."""

    __tablename__ = "network_wifi"
    __table_args__ = (UniqueConstraint("ecole_id", "ssid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"))
    ssid: Mapped[str] = mapped_column(String(32))
    security: Mapped[WifiSecurity] = mapped_column(str_enum(WifiSecurity, "wifi_security"))
    vlan_id: Mapped[int | None] = mapped_column(ForeignKey("network_vlans.id", ondelete="SET NULL"))
    vlan: Mapped[Vlan | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None

    @property
    def audit_label(self) -> str:
        return self.ssid


class AccessPointRoom(Audited, Base):
    """A classroom an access point (an item of category ``borne_wifi``) covers."""

    __tablename__ = "network_ap_rooms"
    __table_args__ = (UniqueConstraint("asset_id", "classroom_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    classroom_id: Mapped[int] = mapped_column(
        ForeignKey("classrooms.id", ondelete="CASCADE"), index=True
    )
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    asset: Mapped[Asset] = relationship()
    classroom: Mapped[Classroom] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None

    @property
    def audit_label(self) -> str:
        return f"#{self.asset_id} → #{self.classroom_id}"


class NetworkSocket(Audited, Base):
    """A network socket of a classroom, and the cabling works that installed it (none:
    it was there before)."""

    __tablename__ = "network_sockets"
    __table_args__ = (UniqueConstraint("classroom_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    classroom_id: Mapped[int] = mapped_column(ForeignKey("classrooms.id", ondelete="CASCADE"))
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    work_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_works.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)
    classroom: Mapped[Classroom] = relationship()
    work: Mapped[NetworkWork | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None

    @property
    def audit_label(self) -> str:
        return self.label
