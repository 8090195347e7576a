"""The accompaniment panel of a school's page, registered at start-up (the registry comes
before training in the domain order)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.orgs.models import Ecole
from inventory.training.lists import school_sessions


def school_panel(session: Session, user: Subject, ecole: Ecole) -> Panel:
    """The school's latest accompaniment sessions."""
    return Panel(
        "training/_panel_school.html", {"sessions": school_sessions(session, user, ecole.id)}
    )


def init_app(_app: Flask) -> None:
    register_panel("orgs.school", school_panel, order=20)
