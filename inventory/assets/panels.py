"""The equipment panels of the registry's pages (school, classroom, collectivité,
circonscription) and the school list's "missing the socle" criterion, registered at
start-up: the registry comes first in the domain order and cannot import equipment."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from inventory.assets import lists as asset_lists
from inventory.assets import socle
from inventory.assets.models import ClassroomSocle
from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.orgs.models import Classroom, Ecole
from inventory.orgs.services import SchoolGroup, register_school_criterion


def school_panel(session: Session, user: Subject, ecole: Ecole) -> Panel:
    """The school's socle, classroom by classroom, and its shared equipment."""
    return Panel(
        "assets/_panel_school.html", {"socle": asset_lists.school_socle(session, user, ecole)}
    )


def classroom_panel(session: Session, user: Subject, room: Classroom) -> Panel:
    """The classroom's socle checks, equipment and network works."""
    return Panel(
        "assets/_panel_classroom.html", {"socle": asset_lists.classroom_socle(session, user, room)}
    )


def schools_panel(session: Session, _user: Subject, group: SchoolGroup) -> Panel:
    """The schools of a collectivité or circonscription with their socle coverage."""
    ids = [e.id for e in group.ecoles]
    coverage = socle.coverage_by_school(session, ids)
    return Panel(
        "assets/_panel_schools.html",
        {
            "group": group,
            "coverage": coverage,
            "total": socle.total(coverage),
            "overview": socle.overview(session, ids),
        },
    )


def schools_missing_the_socle() -> Select[Any]:
    # The per-classroom summary this domain keeps current.
    return select(ClassroomSocle.ecole_id).where(ClassroomSocle.missing())


def init_app(_app: Flask) -> None:
    register_panel("orgs.school", school_panel, order=10)
    register_panel("orgs.classroom", classroom_panel, order=10)
    register_panel("orgs.collectivite", schools_panel, order=10)
    register_panel("orgs.circonscription", schools_panel, order=10)
    register_school_criterion("missing_socle", schools_missing_the_socle)
