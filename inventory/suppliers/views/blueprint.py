"""The ``suppliers`` blueprint, and what its pages share."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inventory.core import policy
from inventory.core.forms import options, sent_version
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.models import Collectivite
from inventory.suppliers import directory
from inventory.suppliers.rules import (
    ALERT_SUBJECT_LABELS,
    CLAIM_STATUS_LABELS,
    CONTRACT_KIND_LABELS,
    MAINTENANCE_KIND_LABELS,
)
from inventory.web import int_arg, share_labels

bp = Blueprint("suppliers", __name__)

share_labels(
    bp,
    contract_kind_labels=CONTRACT_KIND_LABELS,
    maintenance_kind_labels=MAINTENANCE_KIND_LABELS,
    alert_subject_labels=ALERT_SUBJECT_LABELS,
    claim_status_labels=CLAIM_STATUS_LABELS,
)


def version_of(form: Any) -> int:
    """The version a form was loaded with (-1, a version no record has, when garbled)."""
    return sent_version(form) or -1


def chosen_collectivite(action: Action) -> Collectivite | None:
    """The collectivité of ``?collectivite=`` (404 outside the scope or without
    ``action``), or the user's only one, or None (the page then offers a choice)."""
    if coll_id := int_arg("collectivite"):
        return policy.load_or_404(current_user, Collectivite, coll_id, db.session, action)
    ids = list(
        db.session.scalars(
            policy.visible(current_user, select(Collectivite.id), Collectivite).limit(2)
        )
    )
    if len(ids) == 1:
        return policy.load_or_404(current_user, Collectivite, ids[0], db.session, action)
    return None


def choose_collectivite(endpoint: str, title: str) -> str:
    """A page to choose the collectivité first."""
    q = (request.args.get("q") or "")[:100]
    stmt = select(Collectivite).order_by(Collectivite.name, Collectivite.id)
    if q:
        stmt = stmt.where(Collectivite.name.ilike(f"%{q}%"))
    colls = list(db.session.scalars(policy.visible(current_user, stmt, Collectivite).limit(301)))
    return render_template(
        "suppliers/choose_collectivite.html",
        endpoint=endpoint,
        title=title,
        q=q,
        collectivites=colls[:300],
        more=len(colls) > 300,
    )


def supplier_options(collectivite_id: int, none_label: str | None = None) -> list[Any]:
    suppliers = directory.suppliers_of(db.session, current_user, collectivite_id)
    return options([(0, none_label or _("None")), *((s.id, s.name) for s in suppliers)])
