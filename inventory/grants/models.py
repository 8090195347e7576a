"""Funding schemes, dossiers with their schools, expenses split and linked to items, payments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from inventory.assets.models import Asset, NetworkWork, Referentiel
from inventory.core.audit import Audited
from inventory.core.db import Base, UTCDateTime, str_enum, utcnow
from inventory.core.versioning import Versioned
from inventory.orgs.models import Collectivite, Ecole


class DossierStatus(enum.StrEnum):
    """The programme's steps (labels in grants.dossiers.STATUS_LABELS)."""

    DRAFT = "draft"  # brouillon
    SUBMITTED = "submitted"  # déposé (on Démarches simplifiées)
    APPROVED = "approved"  # retenu
    SIGNED = "signed"  # convention signée
    PARTIALLY_PAID = "partially_paid"  # partiellement versé (advance or instalments)
    PAID = "paid"  # soldé: the balance is paid
    CLOSED = "closed"  # clôturé
    REJECTED = "rejected"  # non retenu


DOSSIER_TRANSITIONS: dict[DossierStatus, frozenset[DossierStatus]] = {
    DossierStatus.DRAFT: frozenset({DossierStatus.SUBMITTED}),
    DossierStatus.SUBMITTED: frozenset(
        {DossierStatus.APPROVED, DossierStatus.REJECTED, DossierStatus.DRAFT}
    ),
    DossierStatus.APPROVED: frozenset({DossierStatus.SIGNED, DossierStatus.REJECTED}),
    DossierStatus.SIGNED: frozenset({DossierStatus.PARTIALLY_PAID, DossierStatus.PAID}),
    DossierStatus.PARTIALLY_PAID: frozenset({DossierStatus.PAID}),
    DossierStatus.PAID: frozenset({DossierStatus.CLOSED}),
    DossierStatus.CLOSED: frozenset(),
    DossierStatus.REJECTED: frozenset({DossierStatus.DRAFT}),
}


class PaymentKind(enum.StrEnum):
    ADVANCE = "advance"
    INSTALMENT = "instalment"
    BALANCE = "balance"


class FundingScheme(Audited, Base):
    """A programme's rules as data; ``version`` grows with every change of the rules.

    The scheme's dates (eligible spending from / to, claim deadline) are part of ``rules``,
    so that a dossier keeps the dates it was created under."""

    __tablename__ = "funding_schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    funding_mention: Mapped[str | None] = mapped_column(String(200))
    # What the labels of the items it funds carry beside the mention: the EU emblem (for
    # NextGenerationEU money) and the "France Relance" line, when the programme asks.
    label_emblem: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    label_france_relance: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The socle référentiel the programme sets (its requirements live in assets).
    referentiel_id: Mapped[int | None] = mapped_column(
        ForeignKey("socle_referentiels.id"), index=True
    )
    referentiel: Mapped[Referentiel | None] = relationship(lazy="joined")


class Dossier(Audited, Versioned, Base):
    """A collectivité's grant file under a scheme, from draft to closure.

    ``rules`` is the scheme's rules frozen when the dossier was created, so that a later
    change of the scheme never rewrites this dossier's figures silently.
    """

    __tablename__ = "dossiers"
    __table_args__ = (CheckConstraint("convention_max_cents >= 0", name="max_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivites.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("funding_schemes.id"), index=True)
    scheme_version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference: Mapped[str | None] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[DossierStatus] = mapped_column(str_enum(DossierStatus, "dossier_status"))
    convention_max_cents: Mapped[int | None] = mapped_column(Integer)
    decision_on: Mapped[date | None] = mapped_column(Date)
    convention_signed_on: Mapped[date | None] = mapped_column(Date)
    spending_deadline: Mapped[date | None] = mapped_column(Date, index=True)
    planned_cents: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    collectivite: Mapped[Collectivite] = relationship()
    scheme: Mapped[FundingScheme] = relationship()
    schools: Mapped[list[DossierSchool]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="DossierSchool.id"
    )
    expenses: Mapped[list[Expense]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Expense.id"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="Payment.id"
    )
    documents: Mapped[list[DossierDocument]] = relationship(
        back_populates="dossier", cascade="all, delete-orphan", order_by="DossierDocument.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.reference or self.title


class DossierSchool(Audited, Base):
    """A school covered by a dossier, with the counts its caps use."""

    __tablename__ = "dossier_schools"
    __table_args__ = (UniqueConstraint("dossier_id", "ecole_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    classes: Mapped[int] = mapped_column(Integer, default=0)
    pupils: Mapped[int] = mapped_column(Integer, default=0)
    dossier: Mapped[Dossier] = relationship(back_populates="schools")
    ecole: Mapped[Ecole] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None


class Expense(Audited, Versioned, Base):
    """An invoice line of a dossier, for one volet, split over schools and items."""

    __tablename__ = "expenses"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    volet: Mapped[str] = mapped_column(String(40))
    supplier: Mapped[str] = mapped_column(String(150))
    invoice_number: Mapped[str] = mapped_column(String(60))
    invoice_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(300))
    amount_ht_cents: Mapped[int] = mapped_column(Integer)
    amount_ttc_cents: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str | None] = mapped_column(String(80))
    filename: Mapped[str | None] = mapped_column(String(200))
    dossier: Mapped[Dossier] = relationship(back_populates="expenses")
    allocations: Mapped[list[ExpenseAllocation]] = relationship(
        back_populates="expense", cascade="all, delete-orphan", order_by="ExpenseAllocation.id"
    )
    links: Mapped[list[FundingLink]] = relationship(
        back_populates="expense", cascade="all, delete-orphan", order_by="FundingLink.id"
    )

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.dossier.collectivite_id

    @property
    def audit_label(self) -> str:
        return f"{self.supplier} {self.invoice_number}"


class ExpenseAllocation(Audited, Base):
    """The part of an expense that concerns one school."""

    __tablename__ = "expense_allocations"
    __table_args__ = (UniqueConstraint("expense_id", "ecole_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(
        ForeignKey("expenses.id", ondelete="CASCADE"), index=True
    )
    ecole_id: Mapped[int] = mapped_column(ForeignKey("ecoles.id"), index=True)
    amount_ht_cents: Mapped[int] = mapped_column(Integer)
    amount_ttc_cents: Mapped[int] = mapped_column(Integer)
    expense: Mapped[Expense] = relationship(back_populates="allocations")
    ecole: Mapped[Ecole] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return self.ecole_id, None


class FundingLink(Audited, Base):
    """What an expense paid for: an asset or network works, with the amount it covered.

    An item may carry links to several expenses (the state grant's dossier, another
    scheme); what no link covers is the collectivité's own budget.
    """

    __tablename__ = "funding_links"
    __table_args__ = (CheckConstraint("(asset_id IS NULL) <> (work_id IS NULL)", name="one_item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(
        ForeignKey("expenses.id", ondelete="CASCADE"), index=True
    )
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("network_works.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    expense: Mapped[Expense] = relationship(back_populates="links")
    asset: Mapped[Asset | None] = relationship()
    work: Mapped[NetworkWork | None] = relationship()

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        item = self.asset or self.work
        return (item.ecole_id if item else None), (item.collectivite_id if item else None)


class Payment(Audited, Versioned, Base):
    """A request for payment (advance, instalment, balance) and what was received."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[PaymentKind] = mapped_column(str_enum(PaymentKind, "payment_kind"))
    requested_on: Mapped[date | None] = mapped_column(Date)
    requested_cents: Mapped[int | None] = mapped_column(Integer)
    received_on: Mapped[date | None] = mapped_column(Date)
    received_cents: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(60))
    # The user confirmed that this payment takes the money received above the computed aid.
    over_aid_confirmed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    dossier: Mapped[Dossier] = relationship(back_populates="payments")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.dossier.collectivite_id


class DossierDocument(Audited, Base):
    """A file attached to a dossier: convention, decision, other."""

    __tablename__ = "dossier_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dossier: Mapped[Dossier] = relationship(back_populates="documents")

    @property
    def audit_scope(self) -> tuple[int | None, int | None]:
        return None, self.dossier.collectivite_id

    @property
    def audit_label(self) -> str:
        return self.filename
