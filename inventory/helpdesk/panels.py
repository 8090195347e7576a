"""The open tickets of a classroom, on the registry's classroom page, registered at
start-up (the registry comes before the helpdesk in the domain order)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.helpdesk.queue import open_tickets_for
from inventory.orgs.models import Classroom


def classroom_panel(session: Session, user: Subject, room: Classroom) -> Panel:
    return Panel(
        "helpdesk/_panel_classroom.html",
        {"tickets": open_tickets_for(session, user, classroom_id=room.id)},
    )


def init_app(_app: Flask) -> None:
    register_panel("orgs.classroom", classroom_panel, order=30)
