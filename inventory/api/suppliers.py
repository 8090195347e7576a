"""/api/v1 suppliers, their contracts and the subscriptions (reads, cursor pages), and the
maintenance of an item (recorded as its page does), through the suppliers' services."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import select

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.errors import DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.helpdesk.models import Ticket
from inventory.suppliers import listing, maintenance
from inventory.suppliers.models import MaintenanceRecord, Supplier
from inventory.web import allow


class SupplierSchema(Schema):
    id = Int()
    version = Int()
    collectivite_id = Int()
    name = Text()
    siret = Text(allow_none=True)
    address = Text(allow_none=True)
    phone = Text(allow_none=True)
    email = Text(allow_none=True)


class SupplierPage(KeyedPage):
    items = fields.List(fields.Nested(SupplierSchema))


class ContractSchema(Schema):
    id = Int()
    version = Int()
    supplier_id = Int()
    collectivite_id = Int()
    kind = Text()
    reference = Text()
    title = Text()
    starts_on = fields.Date()
    ends_on = fields.Date()
    cost_per_year_cents = Int(allow_none=True)
    asset_ids = fields.Method("_assets")

    def _assets(self, contract: Any) -> list[int]:
        return sorted(i.asset_id for i in contract.items)


class ContractQuery(CursorQuery):
    supplier = Int(metadata={"description": N_("A supplier's id")})


class ContractPage(KeyedPage):
    items = fields.List(fields.Nested(ContractSchema))


class SubscriptionSchema(Schema):
    id = Int()
    service_id = Int()
    name = Text(attribute="service.name")
    kind = Text(attribute="service.kind")
    collectivite_id = Int(attribute="service.collectivite_id")
    supplier_id = Int(allow_none=True)
    starts_on = fields.Date(attribute="service.starts_on", allow_none=True)
    ends_on = fields.Date(attribute="service.ends_on", allow_none=True)
    seats_bought = Int(allow_none=True)
    seats_used = Int(allow_none=True)
    cost_per_year_cents = Int(allow_none=True)
    renews = fields.Boolean()
    expense_id = Int(allow_none=True)
    school_ids = fields.Method("_schools")
    classroom_ids = fields.Method("_classrooms")

    def _schools(self, sub: Any) -> list[int]:
        return sorted(c.ecole_id for c in sub.service.coverage)

    def _classrooms(self, sub: Any) -> list[int]:
        return sorted(c.classroom_id for c in sub.classrooms)


class SubscriptionPage(KeyedPage):
    items = fields.List(fields.Nested(SubscriptionSchema))


class MaintenanceInput(Schema):
    done_on = fields.Date(required=True)
    description = Text(required=True)
    cost_cents = Int(load_default=0)
    duration_minutes = Int(allow_none=True)
    under_warranty = fields.Boolean(load_default=False)
    supplier_id = Int(allow_none=True)
    ticket_id = Int(
        allow_none=True, metadata={"description": N_("The ticket of the item it repaired")}
    )


class MaintenanceSchema(Schema):
    id = Int()
    asset_id = Int()
    kind = Text()
    supplier_id = Int(allow_none=True)
    ticket_id = Int(allow_none=True)
    done_on = fields.Date()
    description = Text()
    cost_cents = Int()
    duration_minutes = Int(allow_none=True)
    under_warranty = fields.Boolean()


SUMMARIES.update(
    {
        "get/suppliers": _l("The suppliers you may see; cursor pages."),
        "get/suppliers/{supplier_id}": _l("One supplier; its ETag is its version."),
        "get/contracts": _l("The contracts you may see, by supplier if asked; cursor pages."),
        "get/subscriptions": _l(
            "The subscriptions you may see, with their service's dates and schools; cursor pages."
        ),
        "post/assets/{asset_id}/maintenance": _l(
            "Record maintenance of an item, from one of its tickets if given."
        ),
    }
)


@blp.route("/suppliers", methods=["GET"])
@blp.arguments(CursorQuery, location="query")
@blp.response(200, SupplierPage)
@problems(422)
@allow(Action.READ)
def supplier_list(args: dict[str, Any]) -> Any:
    """The suppliers you may see; cursor pages."""
    page = listing.suppliers_by_key(
        db.session, current_user, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)


@blp.route("/suppliers/<int:supplier_id>", methods=["GET"])
@blp.response(200, SupplierSchema)
@problems()
@allow(Action.READ, on=(Supplier, "supplier_id"))
def supplier(supplier_id: int) -> Any:
    """One supplier; its ETag is its version."""
    found = policy.load_or_404(current_user, Supplier, supplier_id, db.session)
    return found, 200, common.etag(found.version)


@blp.route("/contracts", methods=["GET"])
@blp.arguments(ContractQuery, location="query")
@blp.response(200, ContractPage)
@problems(422)
@allow(Action.READ)
def contract_list(args: dict[str, Any]) -> Any:
    """The contracts you may see, by supplier if asked; cursor pages."""
    page = listing.contracts_by_key(
        db.session,
        current_user,
        args["limit"],
        after=common.cursor_of(args),
        supplier=args.get("supplier"),
    )
    return common.page_body(page)


@blp.route("/subscriptions", methods=["GET"])
@blp.arguments(CursorQuery, location="query")
@blp.response(200, SubscriptionPage)
@problems(422)
@allow(Action.READ)
def subscription_list(args: dict[str, Any]) -> Any:
    """The subscriptions you may see, with their service's dates and schools; cursor pages."""
    page = listing.subscriptions_by_key(
        db.session, current_user, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)


@blp.route("/assets/<int:asset_id>/maintenance", methods=["POST"], endpoint="record_maintenance")
@allow(Action.EDIT, on=(Asset, "asset_id"))
@common.scoped(Asset, "asset_id")
@blp.arguments(MaintenanceInput)
@blp.response(201, MaintenanceSchema)
@problems(403, 422)
@common.creates
def record_maintenance(data: dict[str, Any], asset_id: int) -> Any:
    """Record maintenance of an item, from one of its tickets if given."""
    item = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    ticket_id = data.get("ticket_id")
    if ticket_id is not None:
        ticket = db.session.scalar(
            policy.visible(current_user, select(Ticket).where(Ticket.id == ticket_id))
        )
        if ticket is None or ticket.asset_id != item.id:
            raise DomainError(_("This ticket is not one of the item's."), field="ticket_id")
    record: MaintenanceRecord = maintenance.record_maintenance(
        db.session,
        current_user,
        item,
        maintenance.WorkFields(
            done_on=data["done_on"],
            description=data["description"],
            cost_cents=data.get("cost_cents"),
            duration_minutes=data.get("duration_minutes"),
            under_warranty=data["under_warranty"],
            supplier_id=data.get("supplier_id"),
        ),
        ticket_id=ticket_id,
    )
    return record, 201
