"""How funding schemes, dossiers, invoices and payments read in the history, the journal
and the evidence pack, declared at start-up."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.grants.dossiers import STATUS_LABELS
from inventory.grants.models import (
    Dossier,
    DossierDocument,
    DossierSchool,
    Expense,
    ExpenseAllocation,
    FundingLink,
    FundingScheme,
    Payment,
)
from inventory.grants.payments import PAYMENT_KIND_LABELS


def init_app(_app: Flask) -> None:
    describe(
        FundingScheme,
        _l("Funding scheme"),
        {
            "code": _l("Code"),
            "name": _l("Name"),
            "note": _l("Notes"),
            "funding_mention": _l("Funding mention"),
            "label_emblem": _l("EU emblem on the labels"),
            "label_france_relance": _l("«France Relance» on the labels"),
            "rules": _l("Rules"),
            "version": _l("Version"),
            "active": _l("Active"),
            "referentiel_id": _l("Referential"),
        },
    )
    describe(
        Dossier,
        _l("Grant dossier"),
        {
            "collectivite_id": _l("Collectivité"),
            "scheme_id": _l("Funding scheme"),
            "scheme_version": _l("Scheme version"),
            "rules": _l("Rules"),
            "reference": _l("Reference"),
            "title": _l("Title"),
            "status": Field(_l("Status"), labels=STATUS_LABELS),
            "convention_max_cents": _l("Maximum aid in the convention"),
            "decision_on": _l("Decision on"),
            "convention_signed_on": _l("Convention signed on"),
            "spending_deadline": _l("Spending deadline"),
            "planned_cents": _l("Planned amounts"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        DossierSchool,
        _l("School of a dossier"),
        {
            "dossier_id": _l("Dossier"),
            "ecole_id": _l("School"),
            "classes": _l("Classes"),
            "pupils": _l("Pupils"),
        },
    )
    describe(
        Expense,
        _l("Invoice"),
        {
            "dossier_id": _l("Dossier"),
            "volet": _l("Part"),
            "supplier": _l("Supplier"),
            "invoice_number": _l("Invoice number"),
            "invoice_date": _l("Invoice date"),
            "description": _l("Description"),
            "amount_ht_cents": _l("Amount excl. VAT"),
            "amount_ttc_cents": _l("Amount incl. VAT"),
            "stored_name": _l("File"),
            "filename": _l("File name"),
        },
    )
    describe(
        ExpenseAllocation,
        _l("Invoice share of a school"),
        {
            "expense_id": _l("Invoice"),
            "ecole_id": _l("School"),
            "amount_ht_cents": _l("Amount excl. VAT"),
            "amount_ttc_cents": _l("Amount incl. VAT"),
        },
    )
    describe(
        FundingLink,
        _l("Invoice line for an item"),
        {
            "expense_id": _l("Invoice"),
            "asset_id": _l("Equipment item"),
            "work_id": _l("Network work"),
            "amount_cents": _l("Amount"),
        },
    )
    describe(
        Payment,
        _l("Payment"),
        {
            "dossier_id": _l("Dossier"),
            "kind": Field(_l("Kind"), labels=PAYMENT_KIND_LABELS),
            "requested_on": _l("Requested on"),
            "requested_cents": _l("Amount requested"),
            "received_on": _l("Received on"),
            "received_cents": _l("Amount received"),
            "reference": _l("Reference"),
            "over_aid_confirmed": _l("Over the aid, confirmed"),
        },
    )
    describe(
        DossierDocument,
        _l("Dossier document"),
        {
            "dossier_id": _l("Dossier"),
            "kind": _l("Kind"),
            "filename": _l("File name"),
            "stored_name": _l("File"),
            "content_type": _l("File type"),
            "size": _l("Size (bytes)"),
            "uploaded_at": _l("Uploaded on"),
        },
    )
