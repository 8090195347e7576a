"""Coverage of the equipped schools by accompaniment."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from inventory.core.forms import options
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.services import filter_choices
from inventory.training.coverage import (
    COVERAGE_SHOW,
    COVERAGE_SORTS,
    DEFAULT_DELAY_DAYS,
    DEFAULT_SHOW,
    MAX_DELAY_DAYS,
    CoverageFilters,
    coverage_report,
)
from inventory.training.forms import CoverageForm
from inventory.training.views.blueprint import bp
from inventory.web import allow, int_arg


# -- coverage ----------------------------------------------------------------------------------
@bp.get("/accompagnement/couverture")
@allow(Action.READ)
def coverage() -> str:
    form = CoverageForm(request.args)
    default = int(current_app.config.get("TRAINING_DELAY_DAYS", DEFAULT_DELAY_DAYS))
    days = form.days.data
    if days is None or not 0 <= days <= MAX_DELAY_DAYS:
        days = default
    form.days.data = days
    choices = filter_choices(db.session, current_user)
    every = [(0, _("All"))]
    form.circonscription.choices = options(
        every + [(c.id, c.name) for c in choices.circonscriptions]
    )
    form.collectivite.choices = options(every + [(c.id, c.name) for c in choices.collectivites])
    show = request.args.get("show", DEFAULT_SHOW)
    sort = request.args.get("sort", "waiting")
    filters = CoverageFilters(
        days=days,
        circonscription=int_arg("circonscription"),
        collectivite=int_arg("collectivite"),
        show=show if show in COVERAGE_SHOW else DEFAULT_SHOW,
        sort=sort if sort in COVERAGE_SORTS else "waiting",
    )
    form.show.data = filters.show
    report = coverage_report(
        db.session,
        current_user,
        filters,
        int_arg("page") or 1,
        current_app.config["PAGE_SIZE"],
    )
    args = {k: v for k, v in request.args.items() if k not in {"page", "sort"} and v}
    args["days"] = str(days)
    return render_template(
        "training/coverage.html",
        form=form,
        report=report,
        args=args,
        today=report.today,
    )
