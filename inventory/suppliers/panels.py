"""What the suppliers' domain shows on lower domains' pages, registered at start-up: on an
item's page its supplier, contracts, maintenance and cost of ownership; on a digital
service's page its subscription's terms; on the dashboards the afterlife's figures."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from inventory.assets.disposal import ROUTE_LABELS
from inventory.assets.models import Asset, DigitalService
from inventory.assets.socle import paris_today
from inventory.core import policy
from inventory.core.panels import Panel, register_panel
from inventory.core.policy import Action, Subject
from inventory.orgs.models import Collectivite
from inventory.suppliers import contracts, directory, maintenance, subscriptions
from inventory.suppliers.alerts import DEFAULT_EXPIRY_DAYS, thresholds
from inventory.suppliers.figures import afterlife_figures
from inventory.suppliers.models import Supplier


def asset_panel(session: Session, user: Subject, asset: Asset) -> Panel:
    supplier = session.get(Supplier, asset.supplier_id) if asset.supplier_id else None
    may_edit = policy.can(user, Action.EDIT, asset, session)
    today = paris_today()
    return Panel(
        "suppliers/_panel_asset.html",
        {
            "asset": asset,
            "supplier": supplier
            if supplier is not None and policy.can(user, Action.READ, supplier, session)
            else None,
            "contracts": contracts.contracts_of_item(session, user, asset.id),
            "records": maintenance.records_of(session, user, asset.id),
            "plans": maintenance.plans_of(session, user, asset.id),
            "ownership": maintenance.cost_of_ownership(session, user, asset),
            "may_edit": may_edit,
            "choices": directory.suppliers_of(session, user, asset.collectivite_id)
            if may_edit
            else [],
            "under_warranty": asset.warranty_end is not None and asset.warranty_end >= today,
            "today": today,
        },
    )


def service_panel(session: Session, user: Subject, service: DigitalService) -> Panel:
    sub = subscriptions.subscription_of(session, user, service)
    return Panel(
        "suppliers/_panel_service.html",
        {
            "service": service,
            "subscription": sub,
            "expense": subscriptions.expense_label(session, user, sub.expense_id) if sub else None,
            "may_finance": policy.can(user, Action.FINANCE, service, session),
        },
    )


def dashboard_panel(session: Session, user: Subject, obj: Any) -> Panel | None:
    """What ends soon, what is overdue and what left this year, within the alert window
    of /echeances; nothing when there is nothing to tell."""
    days = max(thresholds(current_app.config, "EXPIRY_ALERT_DAYS", DEFAULT_EXPIRY_DAYS) or (90,))
    figures = afterlife_figures(session, user, obj, today=paris_today(), days=days)
    if figures is None or figures.empty:
        return None
    # The register filters by collectivité: a collectivité's figures open its own rows.
    owner = obj.id if isinstance(obj, Collectivite) else None
    return Panel(
        "suppliers/_panel_dashboard.html",
        {"figures": figures, "routes": ROUTE_LABELS, "collectivite": owner},
    )


def init_app(_app: Flask) -> None:
    register_panel("assets.detail", asset_panel, order=30)
    register_panel("assets.service", service_panel, order=10)
    register_panel("reports.dashboard", dashboard_panel, order=20)
