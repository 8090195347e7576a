"""A job's progress page, which survives restarts (it reads the job's row), and its retry."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from inventory.core import import_jobs, jobs, policy, storage
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
    "reports.evidence": _l("Evidence pack"),
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
        # A job's file: its owner's, while the store keeps it.
        may_download=jobs.may_download(current_user, job),
        stored=jobs.stored_file(job),
        retention_days=jobs.retention_days(job.kind, current_app.config),
        form=FlaskForm(),
        worker_lost=jobs.WORKER_LOST,
    )


@bp.get("/taches/<int:job_id>/fichier")
@allow(Action.READ, on=(Job, "job_id"), own=True)
def download(job_id: int) -> Response:
    """The file a job made (an evidence pack): its owner's or an administrator's, 404 for
    anyone else and once the clean-up has deleted it."""
    job = policy.load_or_404(current_user, Job, job_id, db.session)
    found = jobs.job_file(job)
    if found is None or not jobs.may_download(current_user, job):
        raise policy.Denied()
    result = job.result or {}
    response = storage.send_private(
        found[0],
        found[1],
        str(result.get("mimetype") or "application/octet-stream"),
        str(result.get("name") or found[1]),
        as_attachment=True,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/taches/<int:job_id>/relancer")
@allow(Action.READ, on=(Job, "job_id"))
def retry(job_id: int) -> Any:
    # Retrying takes what asking for the job took (jobs.retry checks it): editing for a
    # print or an import, exporting for an evidence pack.
    job = policy.load_or_404(current_user, Job, job_id, db.session)
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
