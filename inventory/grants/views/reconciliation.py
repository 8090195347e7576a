"""The reconciliation page: spent against aid against received, and the items behind."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from inventory.assets.lifecycle import STATUS_LABELS as ASSET_STATUS_LABELS
from inventory.assets.works import WORK_STATUS_LABELS
from inventory.core import policy
from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants import reconciliation as reconciling
from inventory.grants.forms import FilterByCollectiviteForm
from inventory.grants.views.blueprint import bp
from inventory.orgs.models import Collectivite
from inventory.web import allow, int_arg


# -- reconciliation ------------------------------------------------------------------------
@bp.get("/rapprochement")
@allow(Action.READ)
def reconciliation() -> str:
    form = FilterByCollectiviteForm(request.args)
    colls = list(
        db.session.scalars(
            policy.visible(current_user, select(Collectivite), Collectivite)
            .where(Collectivite.ecoles.any())
            .order_by(Collectivite.name)
            .limit(500)
        )
    )
    form.collectivite.choices = options([(0, _("All")), *((c.id, c.name) for c in colls)])
    report = reconciling.reconciliation(
        db.session, current_user, collectivite=int_arg("collectivite")
    )
    return render_template(
        "grants/reconciliation.html",
        form=form,
        report=report,
        asset_status_labels=ASSET_STATUS_LABELS,
        work_status_labels=WORK_STATUS_LABELS,
        deadline_days=reconciling.DEADLINE_DAYS,
    )
