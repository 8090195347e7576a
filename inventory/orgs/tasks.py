"""The registry's large imports (Annuaire, effectifs), run as jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from inventory.core import import_jobs, jobs
from inventory.core.jobs import Job, Progress
from inventory.orgs.effectifs import import_effectifs
from inventory.orgs.importers import import_annuaire

IMPORT_JOB = "orgs.import"


def queue_import(
    session: Session, data: bytes, filename: str, *, kind: str, year: str | None
) -> Job:
    """Save the upload and queue its import (an administrator's: no collectivité)."""
    stored = import_jobs.save_upload(data, filename)
    params = {"file": stored, "filename": filename, "kind": kind, "year": year}
    return jobs.submit(session, IMPORT_JOB, params)


@jobs.handler(IMPORT_JOB)
def run_import(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    params = job.params
    data = import_jobs.read_upload(params["file"])
    if params["kind"] == "annuaire":
        report = import_annuaire(session, data, params["filename"])
    else:
        report = import_effectifs(session, data, params["filename"], year=params.get("year"))
    import_jobs.forget_upload(params["file"])
    return {"report": import_jobs.report_to_json(report)}
