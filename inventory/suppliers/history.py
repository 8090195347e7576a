"""How the suppliers' records read in the history and the journal, declared at start-up."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from inventory.core.describe import Field, describe
from inventory.suppliers.models import (
    Contract,
    ContractItem,
    MaintenancePlan,
    MaintenanceRecord,
    ServiceSubscription,
    SubscriptionClassroom,
    Supplier,
)
from inventory.suppliers.rules import (
    CLAIM_STATUS_LABELS,
    CONTRACT_KIND_LABELS,
    MAINTENANCE_KIND_LABELS,
)


def init_app(_app: Flask) -> None:
    describe(
        Supplier,
        _l("Supplier"),
        {
            "collectivite_id": _l("Collectivité"),
            "name": _l("Name"),
            "siret": _l("SIRET"),
            "address": _l("Address"),
            "phone": _l("Phone"),
            "email": _l("Email"),
            "notes": _l("Notes"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        Contract,
        _l("Contract"),
        {
            "supplier_id": _l("Supplier"),
            "collectivite_id": _l("Collectivité"),
            "kind": Field(_l("Kind"), labels=CONTRACT_KIND_LABELS),
            "reference": _l("Reference"),
            "title": _l("Title"),
            "starts_on": _l("Starts on"),
            "ends_on": _l("Ends on"),
            "cost_per_year_cents": _l("Cost per year"),
            "notes": _l("Notes"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        ContractItem,
        _l("Item under contract"),
        {"contract_id": _l("Contract"), "asset_id": _l("Equipment item")},
    )
    describe(
        ServiceSubscription,
        _l("Subscription"),
        {
            "service_id": _l("Digital service"),
            "supplier_id": _l("Supplier"),
            "seats_bought": _l("Seats bought"),
            "seats_used": _l("Seats used"),
            "cost_per_year_cents": _l("Cost per year"),
            "renews": _l("Renews itself"),
            "expense_id": _l("Invoice"),
        },
    )
    describe(
        SubscriptionClassroom,
        _l("Classroom of a subscription"),
        {"subscription_id": _l("Subscription"), "classroom_id": _l("Classroom")},
    )
    describe(
        MaintenancePlan,
        _l("Planned maintenance"),
        {
            "asset_id": _l("Equipment item"),
            "supplier_id": _l("Supplier"),
            "title": _l("Title"),
            "every_months": _l("Every (months)"),
            "next_due": _l("Next visit due"),
            "active": _l("Active"),
            "created_at": _l("Created on"),
        },
    )
    describe(
        MaintenanceRecord,
        _l("Maintenance"),
        {
            "asset_id": _l("Equipment item"),
            "kind": Field(_l("Kind"), labels=MAINTENANCE_KIND_LABELS),
            "supplier_id": _l("Supplier"),
            "ticket_id": Field(_l("Ticket"), "number"),
            "plan_id": _l("Planned maintenance"),
            "done_on": _l("Done on"),
            "description": _l("Description"),
            "cost_cents": _l("Cost"),
            "duration_minutes": _l("Duration (minutes)"),
            "under_warranty": _l("Under warranty"),
            "created_by_id": _l("Recorded by"),
            "created_at": _l("Created on"),
            "problem": _l("The problem"),
            "claim_status": Field(_l("Where the claim stands"), labels=CLAIM_STATUS_LABELS),
            "claim_reference": _l("The supplier's reference"),
            "answered_on": _l("Day of the answer"),
            "answer": _l("What the supplier said"),
        },
    )
