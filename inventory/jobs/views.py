"""A job's progress page, which survives restarts (it reads the job's row), and its retry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from inventory.core import import_jobs, jobs, policy
from inventory.core.errors import DomainError
from inventory.core.jobs import Job
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow

bp = Blueprint("jobs", __name__)

# The page's title for each kind of job; its result is shown by jobs/result/<kind>.html.
TITLES = {
    "labels.print": _l("Labels being prepared"),
    "orgs.import": _l("Registry import"),
    "assets.import": _l("Equipment import"),
}


@bp.get("/taches/<int:job_id>")
@allow(Action.READ, on=(Job, "job_id"))
def progress(job_id: int) -> str:
    job = policy.load_or_404(current_user, Job, job_id, db.session)
    result = job.result or {}
    # An import's result is its report, shown as the request would have shown it.
    report = import_jobs.report_from_json(result["report"]) if "report" in result else None
    return render_template(
        "jobs/progress.html",
        job=job,
        report=report,
        title=TITLES.get(job.kind, _l("Background job")),
        may_retry=jobs.may_retry(current_user, job),
        form=FlaskForm(),
        worker_lost=jobs.WORKER_LOST,
    )


@bp.post("/taches/<int:job_id>/relancer")
@allow(Action.EDIT, on=(Job, "job_id"))
def retry(job_id: int) -> Any:
    job = policy.load_or_404(current_user, Job, job_id, db.session, Action.EDIT)
    form = FlaskForm()
    if not form.validate_on_submit():
        flash(_("The form expired: please try again."), "error")
        return redirect(url_for("jobs.progress", job_id=job.id))
    try:
        jobs.retry(db.session, current_user, job)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    else:
        flash(_("The job is queued again."), "success")
    return redirect(url_for("jobs.progress", job_id=job.id))
