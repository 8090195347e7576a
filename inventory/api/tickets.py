"""/api/v1 tickets: the staff's queue (its filters, cursor pages), one ticket with its
messages, a ticket opened by the staff, a message on it, a new status, through the
helpdesk's own services."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import Schema, fields, validate

from inventory.api import common
from inventory.api.docs import SUMMARIES
from inventory.api.records import blp, problems
from inventory.api.schemas import N_, CursorQuery, Int, KeyedPage, Text
from inventory.core import policy
from inventory.core.errors import ConflictError, DomainError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.helpdesk import queue, staff, tickets
from inventory.helpdesk.models import Ticket, TicketStatus
from inventory.helpdesk.rules import TicketConflict
from inventory.web import allow

STATUSES = [s.value for s in TicketStatus]


class TicketQuery(CursorQuery):
    status = Text(
        load_default="open",
        validate=validate.OneOf(["open", "all", *STATUSES]),
        metadata={"description": N_("open (the default), all, or one status")},
    )
    ecole = Int()
    problem_type = Int()
    older_than = Int(
        validate=validate.Range(min=1, max=3650),
        metadata={"description": N_("Reported at least this many days ago")},
    )
    assignee = Text(
        validate=validate.Regexp(r"^(me|none|\d{1,9})?$"),
        metadata={"description": N_("me, none, or a user id")},
    )
    asset = Int()
    classroom = Int()


class TicketMessageSchema(Schema):
    id = Int()
    at = fields.DateTime()
    author = Text(attribute="author_label")
    internal = fields.Boolean()
    body = Text()
    status_to = Text(allow_none=True)


class TicketSchema(Schema):
    id = Int()
    version = Int()
    status = Text()
    problem_type_id = Int()
    problem_type = Text(attribute="problem_type.code")
    description = Text()
    blocking = fields.Boolean()
    reports = Int()
    asset_id = Int(allow_none=True)
    classroom_id = Int(allow_none=True)
    ecole_id = Int()
    collectivite_id = Int()
    assignee_id = Int(allow_none=True)
    resolution = Text(allow_none=True)
    created_at = fields.DateTime()
    first_response_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class TicketDetailSchema(TicketSchema):
    reporter_name = Text(allow_none=True)
    messages = fields.List(fields.Nested(TicketMessageSchema))
    next_statuses = fields.Method(
        "_next", metadata={"description": N_("The statuses it may move to")}
    )

    def _next(self, ticket: Ticket) -> list[str]:
        return [s.value for s in tickets.next_statuses(ticket)]


class TicketPage(KeyedPage):
    items = fields.List(fields.Nested(TicketSchema))


class NewTicket(Schema):
    """An item (asset_id) or a room (classroom_id), a problem offered for it, a text."""

    asset_id = Int(allow_none=True)
    classroom_id = Int(allow_none=True)
    problem_type_id = Int(allow_none=True)
    description = Text(allow_none=True)


class NewMessage(common.Versioned):
    body = Text(allow_none=True)
    internal = fields.Boolean(
        load_default=True,
        metadata={
            "description": N_("An internal note (the default), or a reply the reporter reads")
        },
    )


class NewStatus(common.Versioned):
    status = Text(allow_none=True, validate=validate.OneOf(STATUSES))
    note = Text(allow_none=True, metadata={"description": N_("A word to the reporter")})
    resolution = Text(
        allow_none=True, metadata={"description": N_("What was done: required to resolve")}
    )


SUMMARIES.update(
    {
        "get/tickets": _l(
            "The tickets you may see, newest first, with the queue's filters; cursor pages."
        ),
        "post/tickets": _l("Open a ticket on an item or a room, as the staff."),
        "get/tickets/{ticket_id}": _l("One ticket with its messages; its ETag is its version."),
        "post/tickets/{ticket_id}/messages": _l(
            "Add a message to a ticket: an internal note, or a reply the reporter receives."
        ),
        "post/tickets/{ticket_id}/status": _l(
            "Move a ticket to another status; resolving needs a resolution."
        ),
    }
)


def _detail(ticket_id: int) -> tuple[Ticket, int, dict[str, str]]:
    found = tickets.ticket_detail(db.session, current_user, ticket_id)
    return found, 200, common.etag(found.version)


@blp.route("/tickets", methods=["GET"])
@blp.arguments(TicketQuery, location="query")
@blp.response(200, TicketPage)
@problems(422)
@allow(Action.READ)
def ticket_list(args: dict[str, Any]) -> Any:
    """The tickets you may see, newest first, with the queue's filters; cursor pages."""
    filters = queue.TicketFilters(
        status=args["status"],
        ecole=args.get("ecole"),
        problem_type=args.get("problem_type"),
        older_than=args.get("older_than"),
        assignee=args.get("assignee") or "",
        asset=args.get("asset"),
        classroom=args.get("classroom"),
    )
    page = queue.tickets_by_key(
        db.session, current_user, filters, args["limit"], after=common.cursor_of(args)
    )
    return common.page_body(page)


@blp.route("/tickets", methods=["POST"], endpoint="open_ticket")
@blp.arguments(NewTicket)
@blp.response(201, TicketDetailSchema)
@problems(403, 409, 422)
@common.creates
@allow(Action.EDIT)
def open_ticket(data: dict[str, Any]) -> Any:
    """Open a ticket on an item or a room, as the staff."""
    ticket = staff.open_ticket(
        db.session,
        current_app.config,
        current_user,
        staff.StaffReport(
            problem_type_id=data.get("problem_type_id"),
            description=data.get("description") or "",
            asset_id=data.get("asset_id"),
            classroom_id=data.get("classroom_id"),
        ),
    )
    found, _code, headers = _detail(ticket.id)
    return found, 201, headers


@blp.route("/tickets/<int:ticket_id>", methods=["GET"])
@blp.response(200, TicketDetailSchema)
@problems()
@allow(Action.READ, on=(Ticket, "ticket_id"))
def ticket(ticket_id: int) -> Any:
    """One ticket with its messages; its ETag is its version."""
    return _detail(ticket_id)


def _to_work(ticket_id: int, data: dict[str, Any]) -> tuple[Ticket, int]:
    """The ticket the user may work on (else 404), and the version they read."""
    found = policy.load_or_404(current_user, Ticket, ticket_id, db.session, Action.EDIT)
    return found, common.version_sent(data, found.version)


@blp.route("/tickets/<int:ticket_id>/messages", methods=["POST"], endpoint="ticket_message")
@blp.arguments(NewMessage)
@blp.response(201, TicketDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def ticket_message(data: dict[str, Any], ticket_id: int) -> Any:
    """Add a message to a ticket: an internal note, or a reply the reporter receives."""
    found, version = _to_work(ticket_id, data)
    try:
        tickets.add_message(
            db.session,
            current_app.config,
            current_user,
            found,
            data.get("body") or "",
            internal=data.get("internal", True),
            version=version,
        )
    except TicketConflict:
        raise common.reworded_conflict() from None
    found, _code, headers = _detail(ticket_id)
    return found, 201, headers


@blp.route("/tickets/<int:ticket_id>/status", methods=["POST"], endpoint="ticket_status")
@blp.arguments(NewStatus)
@blp.response(200, TicketDetailSchema)
@problems(403, 409, 412, 422, 428)
@allow(Action.EDIT, on=(Ticket, "ticket_id"))
def ticket_status(data: dict[str, Any], ticket_id: int) -> Any:
    """Move a ticket to another status; resolving needs a resolution."""
    found, version = _to_work(ticket_id, data)
    wanted = data.get("status") or ""
    if wanted not in TicketStatus._value2member_map_:
        raise DomainError(_("Choose a status."), field="status")
    try:
        tickets.change_status(
            db.session,
            current_app.config,
            current_user,
            found,
            TicketStatus(wanted),
            version=version,
            note=data.get("note"),
            resolution=data.get("resolution"),
        )
    except ConflictError:
        raise common.reworded_conflict() from None
    return _detail(ticket_id)
