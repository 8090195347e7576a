"""The network panels, registered at start-up (the registry and equipment come before the
network in the domain order): on a school's page, its prefixes and a link to its network
tab; on an item's page, its addresses and what is wrong with them."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from inventory.assets.models import Asset, NetworkWork
from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Subject
from inventory.network import socle
from inventory.network.addresses import item_network
from inventory.network.plan import school_summary
from inventory.network.wifi import work_sockets
from inventory.orgs.models import Ecole


def school_panel(session: Session, user: Subject, ecole: Ecole) -> Panel:
    return Panel("network/_panel_school.html", {"summary": school_summary(session, user, ecole)})


def asset_panel(session: Session, user: Subject, asset: Asset) -> Panel:
    return Panel("network/_panel_asset.html", {"network": item_network(session, user, asset)})


def work_panel(session: Session, user: Subject, work: NetworkWork) -> Panel | None:
    """Cabling works: the sockets they installed, and the button that records them."""
    if work.kind.value != "cabling":
        return None
    return Panel("network/_panel_work.html", {"work": work, "sockets": work_sockets(session, work)})


def init_app(_app: Flask) -> None:
    register_panel("orgs.school", school_panel, order=15)
    register_panel("assets.detail", asset_panel, order=15)
    register_panel("assets.work", work_panel, order=15)
    socle.init_app(_app)
