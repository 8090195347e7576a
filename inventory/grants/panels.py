"""The funding panel of an item's page and of network works' page, registered at start-up:
equipment comes before grants in the domain order and cannot import them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, NetworkWork
from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.grants.item_funding import asset_funding, work_funding

TEMPLATE = "grants/_panel_funding.html"


def asset_panel(session: Session, user: Subject, asset: Asset) -> Panel:
    """Which dossier paid for the item, through which invoice, its share of the aid and
    what the collectivité paid."""
    return Panel(TEMPLATE, {"funding": asset_funding(session, user, asset), "kind": "asset"})


def work_panel(session: Session, user: Subject, work: NetworkWork) -> Panel:
    """The same for network works."""
    return Panel(TEMPLATE, {"funding": work_funding(session, user, work), "kind": "work"})


def init_app(_app: Flask) -> None:
    register_panel("assets.detail", asset_panel, order=20)
    register_panel("assets.work", work_panel, order=20)
