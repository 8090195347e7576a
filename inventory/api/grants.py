"""/api/v1 grants: dossiers (cursor pages, one with its schools, expenses, funding links and
payments, a new status), expense lines (add, change, remove, each split over the schools
and linked to the items it paid for), through the grants' own services: read for every
role, written by the finance roles."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import dossiers, expenses
from inventory.grants.links import LinkInput
from inventory.grants.models import Dossier, DossierStatus, Expense
from inventory.web import allow, upload_dir

DOSSIER_STATUSES = [s.value for s in DossierStatus]


class DossierQuery(CursorQuery):
    status = Text(validate=validate.OneOf(DOSSIER_STATUSES))
    collectivite = Int()
    scheme = Int()


class AllocationSchema(Schema):
    ecole_id = Int(required=True)
    amount_ht_cents = Int(allow_none=True)
    amount_ttc_cents = Int(allow_none=True)


class LinkSchema(Schema):
    """An item the invoice paid for."""

    id = Int(dump_only=True)
    kind = Text(
        required=True,
        validate=validate.OneOf(["asset", "work"]),
        metadata={"description": N_("asset or work")},
    )
    item_id = Int(required=True)
    amount_cents = Int(
        allow_none=True,
        metadata={"description": N_("None: what the item's price leaves to fund")},
    )


class ExpenseSchema(Schema):
    id = Int()
    version = Int()
    dossier_id = Int()
    volet = Text()
    supplier = Text()
    invoice_number = Text()
    invoice_date = fields.Date(allow_none=True)
    description = Text(allow_none=True)
    amount_ht_cents = Int()
    amount_ttc_cents = Int()
    has_invoice_file = fields.Method("_has_file")
    allocations = fields.List(fields.Nested(AllocationSchema))
    links = fields.Method("_links")

    def _has_file(self, expense: Expense) -> bool:
        return expense.stored_name is not None

    def _links(self, expense: Expense) -> list[dict[str, Any]]:
        return [
            {
                "id": link.id,
                "kind": "asset" if link.asset_id is not None else "work",
                "item_id": link.asset_id if link.asset_id is not None else link.work_id,
                "amount_cents": link.amount_cents,
            }
            for link in expense.links
        ]


class DossierSchoolSchema(Schema):
    ecole_id = Int()
    classes = Int()
    pupils = Int()


class PaymentSchema(Schema):
    id = Int()
    version = Int()
    dossier_id = Int()
    kind = Text()
    requested_on = fields.Date(allow_none=True)
    requested_cents = Int(allow_none=True)
    received_on = fields.Date(allow_none=True)
    received_cents = Int(allow_none=True)
    reference = Text(allow_none=True)
    over_aid_confirmed = fields.Boolean()


class DossierSchema(Schema):
    id = Int()
    version = Int()
    reference = Text(allow_none=True)
    title = Text()
    status = Text()
    collectivite_id = Int()
    scheme_id = Int()
    scheme_version = Int()
    convention_max_cents = Int(allow_none=True)
    decision_on = fields.Date(allow_none=True)
    convention_signed_on = fields.Date(allow_none=True)
    spending_deadline = fields.Date(allow_none=True)
    planned_cents = fields.Dict(keys=Text(), values=Int())
    created_at = fields.DateTime()
    schools = fields.List(fields.Nested(DossierSchoolSchema))
    spent_ttc_cents = fields.Method("_spent")

    def _spent(self, dossier: Dossier) -> int:
        return sum(e.amount_ttc_cents for e in dossier.expenses)


class DossierDetailSchema(DossierSchema):
    expenses = fields.List(fields.Nested(ExpenseSchema))
    payments = fields.List(fields.Nested(PaymentSchema))
    next_statuses = fields.Method("_next")

    def _next(self, dossier: Dossier) -> list[str]:
        return [s.value for s in dossiers.next_statuses(dossier)]


class DossierPage(KeyedPage):
    items = fields.List(fields.Nested(DossierSchema))


class DossierStatusChange(common.Versioned):
    status = Text(allow_none=True, validate=validate.OneOf(DOSSIER_STATUSES))


class ExpenseInput(Schema):
    """An invoice; on a change, the fields not sent are kept (allocations and links too)."""

    volet = Text(allow_none=True)
    supplier = Text(allow_none=True)
    invoice_number = Text(allow_none=True)
    invoice_date = fields.Date(allow_none=True)
    description = Text(allow_none=True)
    amount_ht_cents = Int(allow_none=True)
    amount_ttc_cents = Int(allow_none=True)
    allocations = fields.List(
        fields.Nested(AllocationSchema),
        metadata={"description": N_("Its split over the covered schools (one school: optional)")},
    )
    links = fields.List(fields.Nested(LinkSchema), metadata={"description": N_("Items paid for")})


class ExpenseChange(ExpenseInput, common.Versioned):
    pass


class Removal(common.Versioned):
    pass


SUMMARIES.update(
    {
        "get/dossiers": _l("The dossiers you may see, newest first; cursor pages."),
        "get/dossiers/{dossier_id}": _l(
            "One dossier with its schools, expenses, funding links and payments."
        ),
        "post/dossiers/{dossier_id}/status": _l("Move a dossier to another step."),
        "post/dossiers/{dossier_id}/expenses": _l(
            "Record an invoice on a dossier, split over its schools and linked to its items."
        ),
        "get/expenses/{expense_id}": _l("One expense line with its split and funding links."),
        "patch/expenses/{expense_id}": _l("Change an expense line; the fields not sent are kept."),
        "delete/expenses/{expense_id}": _l("Remove an expense line of an open dossier."),
    }
)


def _fields(data: dict[str, Any], expense: Expense | None = None) -> expenses.ExpenseFields:
    names = list(expenses.ExpenseFields.__dataclass_fields__)
    values: dict[str, Any] = {"volet": "", "supplier": "", "invoice_number": ""}
    values.update({n: None for n in names if n not in values})
    if expense is not None:
        values.update({n: getattr(expense, n) for n in names})
    values.update({n: data[n] for n in names if n in data})
    return expenses.ExpenseFields(**values)


def _allocations(data: dict[str, Any], expense: Expense | None) -> list[expenses.AllocationInput]:
    if "allocations" in data:
        rows = data["allocations"]
        return [
            expenses.AllocationInput(
                a["ecole_id"], a.get("amount_ht_cents"), a.get("amount_ttc_cents")
            )
            for a in rows
        ]
    if expense is None:
        return []
    return [
        expenses.AllocationInput(a.ecole_id, a.amount_ht_cents, a.amount_ttc_cents)
        for a in expense.allocations
    ]


def _links(data: dict[str, Any], expense: Expense | None) -> list[LinkInput]:
    if "links" in data:
        return [LinkInput(g["kind"], g["item_id"], g.get("amount_cents")) for g in data["links"]]
    if expense is None:
        return []
    return [
        LinkInput(
            "asset" if link.asset_id is not None else "work",
            link.asset_id if link.asset_id is not None else link.work_id,  # type: ignore[arg-type]
            link.amount_cents,
        )
        for link in expense.links
    ]


def _dossier(dossier_id: int) -> Any:
    found = dossiers.dossier_detail(db.session, current_user, dossier_id)
    return found, 200, common.etag(found.version)


def expense_answer(expense_id: int, code: int = 200) -> Any:
    found = expenses.expense_detail(db.session, current_user, expense_id, Action.READ)
    return found, code, common.etag(found.version)


@blp.route("/dossiers", methods=["GET"])
@blp.arguments(DossierQuery, location="query")
@blp.response(200, DossierPage)
@problems(422)
@allow(Action.READ)
def dossier_list(args: dict[str, Any]) -> Any:
    """The dossiers you may see, newest first; cursor pages."""
    status = args.get("status")
    filters = dossiers.DossierFilters(
        status=DossierStatus(status) if status else None,
        collectivite=args.get("collectivite"),
        scheme=args.get("scheme"),
    )
    page = dossiers.dossiers_by_key(
        db.session, current_user, filters, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)


@blp.route("/dossiers/<int:dossier_id>", methods=["GET"])
@blp.response(200, DossierDetailSchema)
@problems()
@allow(Action.READ, on=(Dossier, "dossier_id"))
def dossier(dossier_id: int) -> Any:
    """One dossier with its schools, expenses, funding links and payments."""
    return _dossier(dossier_id)


@blp.route("/dossiers/<int:dossier_id>/status", methods=["POST"], endpoint="dossier_status")
@blp.arguments(DossierStatusChange)
@blp.response(200, DossierDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def dossier_status(data: dict[str, Any], dossier_id: int) -> Any:
    """Move a dossier to another step."""
    found = dossiers.dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    wanted = data.get("status") or ""
    if wanted not in DossierStatus._value2member_map_:
        raise DomainError(_("Choose a status."), field="status")
    try:
        dossiers.change_dossier_status(
            db.session, current_user, found, DossierStatus(wanted), version=version
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return _dossier(dossier_id)


@blp.route("/dossiers/<int:dossier_id>/expenses", methods=["POST"], endpoint="add_expense")
@blp.arguments(ExpenseInput)
@blp.response(201, ExpenseSchema)
@problems(403, 422)
@common.creates
@allow(Action.FINANCE, on=(Dossier, "dossier_id"))
def add_expense(data: dict[str, Any], dossier_id: int) -> Any:
    """Record an invoice on a dossier, split over its schools and linked to its items."""
    found = dossiers.dossier_detail(db.session, current_user, dossier_id, Action.FINANCE)
    expense = expenses.add_expense(
        db.session,
        current_user,
        found,
        _fields(data),
        allocations=_allocations(data, None),
        links=_links(data, None),
    )
    return expense_answer(expense.id, 201)


@blp.route("/expenses/<int:expense_id>", methods=["GET"])
@blp.response(200, ExpenseSchema)
@problems()
@allow(Action.READ, on=(Expense, "expense_id"))
def expense(expense_id: int) -> Any:
    """One expense line with its split and funding links."""
    return expense_answer(expense_id)


@blp.route("/expenses/<int:expense_id>", methods=["PATCH"], endpoint="update_expense")
@blp.arguments(ExpenseChange)
@blp.response(200, ExpenseSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.FINANCE, on=(Expense, "expense_id"))
def update_expense(data: dict[str, Any], expense_id: int) -> Any:
    """Change an expense line; the fields not sent are kept."""
    found = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    try:
        expenses.update_expense(
            db.session,
            current_user,
            found,
            version=version,
            fields=_fields(data, found),
            allocations=_allocations(data, found),
            links=_links(data, found),
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return expense_answer(expense_id)


@blp.route("/expenses/<int:expense_id>", methods=["DELETE"], endpoint="delete_expense")
@blp.arguments(Removal)
@blp.response(204)
@problems(403, 409, 412, 422, 428)
@allow(Action.FINANCE, on=(Expense, "expense_id"))
def delete_expense(data: dict[str, Any], expense_id: int) -> Any:
    """Remove an expense line of an open dossier."""
    found = expenses.expense_detail(db.session, current_user, expense_id, Action.FINANCE)
    version = common.version_sent(data, found.version)
    try:
        expenses.delete_expense(
            db.session, current_user, found, version=version, upload_dir=upload_dir("grants")
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return "", 204
