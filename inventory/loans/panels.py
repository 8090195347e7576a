"""What the loans domain shows on other domains' pages, registered at start-up: a school's
kits and loans, and the figures on the collectivités' and académies' dashboards."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.loans.custody import open_loan_of
from inventory.loans.figures import loan_figures
from inventory.loans.kits import kits_of
from inventory.orgs.models import Ecole


def school_panel(session: Session, user: Subject, ecole: Ecole) -> Panel:
    return Panel(
        "loans/_panel_school.html",
        {"kits": kits_of(session, user, ecole.id), "figures": loan_figures(session, user, ecole)},
    )


def dashboard_panel(session: Session, user: Subject, obj: Any) -> Panel | None:
    figures = loan_figures(session, user, obj)
    if not figures.kits and not figures.on_loan:
        return None
    return Panel("loans/_panel_figures.html", {"figures": figures})


def asset_panel(session: Session, user: Subject, asset: Asset) -> Panel:
    """The item's open loan, or the way to lend it."""
    return Panel("loans/_panel_asset.html", {"loan": open_loan_of(session, asset.id)})


def init_app(_app: Flask) -> None:
    register_panel("orgs.school", school_panel, order=25)
    register_panel("assets.detail", asset_panel, order=30)
    register_panel("reports.dashboard", dashboard_panel, order=10)
