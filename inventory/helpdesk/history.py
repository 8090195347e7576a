"""How tickets, their messages and the inventory campaigns read in the history and the
journal, declared at start-up."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from inventory.core.describe import PRIVATE, Field, describe
from inventory.helpdesk.models import (
    InventoryCampaign,
    ProblemType,
    Ticket,
    TicketFollower,
    TicketMessage,
    TicketPhoto,
)
from inventory.helpdesk.rules import TICKET_STATUS_LABELS


def _problem_name(problem: Any) -> str:
    return problem.label_fr if str(get_locale()).startswith("fr") else problem.label_en


def init_app(_app: Flask) -> None:
    describe(
        ProblemType,
        _l("Problem type"),
        {
            "code": _l("Code"),
            "label_fr": _l("Label (French)"),
            "label_en": _l("Label (English)"),
            "for_rooms": _l("For rooms"),
            "blocking": _l("Blocking"),
            "position": _l("Position"),
            "active": _l("Active"),
        },
        show=_problem_name,
    )
    describe(
        Ticket,
        _l("Ticket"),
        {
            "asset_id": _l("Equipment item"),
            "classroom_id": _l("Classroom"),
            "ecole_id": _l("School"),
            "collectivite_id": _l("Collectivité"),
            "problem_type_id": _l("Problem type"),
            "description": _l("Description"),
            "reporter_name": Field(_l("Reported by"), PRIVATE),
            "reporter_email": Field(_l("Reporter's email"), PRIVATE),
            "status": Field(_l("Status"), labels=TICKET_STATUS_LABELS),
            "blocking": _l("Blocking"),
            "assignee_id": _l("Assigned to"),
            "reports": _l("Reports"),
            "resolution": _l("Resolution"),
            "created_at": _l("Created on"),
            "first_response_at": _l("First response"),
            "resolved_at": _l("Resolved on"),
            "closed_at": _l("Closed on"),
        },
    )
    describe(
        TicketMessage,
        _l("Ticket message"),
        {
            "ticket_id": _l("Ticket"),
            "at": _l("Date"),
            "author_id": _l("Author"),
            "author_label": Field(_l("Author"), PRIVATE),
            "internal": _l("Internal note"),
            "body": _l("Message"),
            "status_to": Field(_l("New status"), labels=TICKET_STATUS_LABELS),
        },
    )
    describe(
        TicketFollower,
        _l("Ticket follower"),
        {"ticket_id": _l("Ticket"), "email": _l("Email"), "since": _l("Since")},
    )
    describe(
        TicketPhoto,
        _l("Ticket photo"),
        {
            "ticket_id": _l("Ticket"),
            "stored_name": _l("File"),
            "content_type": _l("File type"),
            "size": _l("Size (bytes)"),
            "uploaded_at": _l("Uploaded on"),
        },
    )
    describe(
        InventoryCampaign,
        _l("Inventory campaign"),
        {
            "ecole_id": _l("School"),
            "collectivite_id": _l("Collectivité"),
            "started_by_id": _l("Started by"),
            "started_at": _l("Started on"),
            "closed_at": _l("Closed on"),
            "status": Field(_l("Status"), labels={"open": _l("open"), "closed": _l("closed")}),
        },
    )
