"""The equipment's large imports, run as jobs."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.assets import importers
from inventory.auth.models import User
from inventory.core import import_jobs, jobs
from inventory.core.jobs import Job, JobError, Progress

IMPORT_JOB = "assets.import"


def queue_import(
    session: Session, data: bytes, filename: str, *, collectivite: int | None, scope_of: int | None
) -> Job:
    """Save the upload and queue its import for the acting user; ``scope_of`` is the
    collectivité whose staff may follow the job."""
    stored = import_jobs.save_upload(data, filename)
    params = {"file": stored, "filename": filename, "collectivite": collectivite}
    return jobs.submit(session, IMPORT_JOB, params, collectivite_id=scope_of)


@jobs.handler(IMPORT_JOB)
def run_import(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    user = session.get(User, job.user_id) if job.user_id else None
    if user is None or not user.active:
        raise JobError(_l("The author of this import no longer has an active account."))
    params = job.params
    data = import_jobs.read_upload(params["file"])
    report = importers.import_assets(
        session, user, data, params["filename"], collectivite=params.get("collectivite")
    )
    import_jobs.forget_upload(params["file"])
    return {"report": import_jobs.report_to_json(report)}
