"""/api/v1 bookings of a kit (the list, and booking it) and the loans list, through the
loans domain's own services. Times are the schools' (Europe/Paris). A loan to a family is
listed without the family's data: the API never gives it."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.core import policy
from inventory.core.pagination import paginate_by_key
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.loans import bookings
from inventory.loans.kits import kit_detail
from inventory.loans.models import Booking, BookingStatus, Kit, Loan, LoanStatus
from inventory.training.times import local
from inventory.web import allow

CAP = 10_000


class BookingSchema(Schema):
    id = Int()
    kit_id = Int()
    status = Text()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    local_start = fields.Method(
        "_local", metadata={"description": N_("The start in the school's time")}
    )
    group_label = Text()
    booked_by = Text()
    series = Text(allow_none=True)

    def _local(self, b: Booking) -> str:
        return local(b.starts_at).isoformat()


class BookingPage(KeyedPage):
    items = fields.List(fields.Nested(BookingSchema))


class BookingQuery(CursorQuery):
    status = Text(validate=validate.OneOf([s.value for s in BookingStatus]))


class BookingInput(Schema):
    day = fields.Date(required=True, metadata={"description": N_("The day, in the school's time")})
    start = fields.Time(required=True)
    end = fields.Time(required=True)
    group_label = Text(required=True, metadata={"description": N_("The class: CM1 B")})
    booked_by = Text(required=True)
    until = fields.Date(
        allow_none=True, metadata={"description": N_("Weekly until this day (a series)")}
    )


class BookingsMade(Schema):
    items = fields.List(fields.Nested(BookingSchema))


class LoanSchema(Schema):
    id = Int()
    version = Int()
    asset_id = Int()
    kit_id = Int(allow_none=True)
    ecole_id = Int()
    borrower_kind = Text()
    classroom_id = Int(allow_none=True)
    status = Text()
    starts_on = fields.Date()
    due_on = fields.Date()
    returned_on = fields.Date(allow_none=True)
    condition_out = Text()
    condition_in = Text(allow_none=True)


class LoanPage(KeyedPage):
    items = fields.List(fields.Nested(LoanSchema))


class LoanQuery(CursorQuery):
    status = Text(validate=validate.OneOf([s.value for s in LoanStatus]))
    ecole = Int()


SUMMARIES.update(
    {
        "get/kits/{kit_id}/bookings": _l("A kit's bookings, newest first; cursor pages."),
        "post/kits/{kit_id}/bookings": _l(
            "Book a kit, once or weekly until a day; a clash is refused (422)."
        ),
        "get/loans": _l("The loans you may see, newest first, without family data; cursor pages."),
    }
)


@blp.route("/kits/<int:kit_id>/bookings", methods=["GET"])
@blp.arguments(BookingQuery, location="query")
@blp.response(200, BookingPage)
@problems(422)
@allow(Action.READ, on=(Kit, "kit_id"))
def kit_bookings(args: dict[str, Any], kit_id: int) -> Any:
    """A kit's bookings, newest first; cursor pages."""
    kit = kit_detail(db.session, current_user, kit_id)
    keys = select(Booking.id).where(Booking.kit_id == kit.id)
    if args.get("status"):
        keys = keys.where(Booking.status == BookingStatus(args["status"]))
    page = paginate_by_key(
        db.session,
        select(Booking),
        keys,
        Booking.id,
        per_page=args["limit"],
        cap=CAP,
        after=common.cursor_of(args),
    )
    return common.page_body(page)


@blp.route("/kits/<int:kit_id>/bookings", methods=["POST"], endpoint="book_kit")
@allow(Action.EDIT, on=(Kit, "kit_id"))
@common.scoped(Kit, "kit_id")  # out of scope: 404 whatever the body
@common.creates
@blp.arguments(BookingInput)
@blp.response(201, BookingsMade)
@problems(403, 422)
def book_kit(data: dict[str, Any], kit_id: int) -> Any:
    """Book a kit, once or weekly until a day; a clash is refused (422)."""
    kit = kit_detail(db.session, current_user, kit_id, Action.EDIT)
    made = bookings.book(
        db.session,
        current_user,
        kit,
        bookings.BookingRequest(
            day=data["day"],
            start=data["start"],
            end=data["end"],
            group_label=data["group_label"],
            booked_by=data["booked_by"],
            until=data.get("until"),
        ),
    )
    return {"items": made}, 201


@blp.route("/loans", methods=["GET"])
@blp.arguments(LoanQuery, location="query")
@blp.response(200, LoanPage)
@problems(422)
@allow(Action.READ)
def loan_list(args: dict[str, Any]) -> Any:
    """The loans you may see, newest first, without family data; cursor pages."""
    keys = select(Loan.id)
    if args.get("status"):
        keys = keys.where(Loan.status == LoanStatus(args["status"]))
    if args.get("ecole"):
        keys = keys.where(Loan.ecole_id == args["ecole"])
    page = paginate_by_key(
        db.session,
        select(Loan),
        policy.visible(current_user, keys, Loan),
        Loan.id,
        per_page=args["limit"],
        cap=CAP,
        after=common.cursor_of(args),
    )
    return common.page_body(page)
