"""The labels' background work: large prints, and the clean-up of old prepared PDFs."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.core import addresses, jobs
from inventory.core.jobs import Job, JobError, Progress
from inventory.core.storage import Storage
from inventory.labels import services
from inventory.labels.models import PrintJob

# Prepared PDFs are kept LABEL_FILES_RETENTION_DAYS days (7 by default): the hourly
# clean-up of generated files (core.jobs) deletes them and empties their print's file name
# (the print log keeps the print: a reprint renders it again).
LABEL_FILES = jobs.keep_files(
    "generated/labels", "LABEL_FILES_RETENTION_DAYS", forget=services.delete_old_files
)


def files_folder() -> Storage:
    """Where prepared label PDFs are kept: the file store's generated files (so that every
    web worker, on any machine, serves what a job worker wrote, and backups hold them)."""
    return LABEL_FILES.store()


@jobs.handler(services.PRINT_JOB)
def print_labels(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    record = session.scalar(select(PrintJob).where(PrintJob.job_id == job.id))
    user = session.get(User, job.user_id) if job.user_id else None
    if record is None or user is None or not user.active:
        raise JobError(_l("The print or its author no longer exists."))
    # A pause after each page (seconds, none by default): it leaves the CPU to the web
    # workers on a small machine, and lets the tests kill a worker in the middle of a print.
    pause = float(current_app.config.get("LABEL_PAGE_PAUSE_SECONDS") or 0)

    def paced(done: int, total: int | None = None) -> None:
        progress(done, total)
        if pause and total is None:  # a page is done (the first call gives the total)
            time.sleep(pause)

    # The address decided when the print was asked for (a development app takes it from
    # that request), else the configuration's.
    base = (job.params or {}).get("base_url") or addresses.base_url()
    if not base:
        raise JobError(addresses.MISSING)
    services.render_job(session, user, base, record, files_folder(), paced)
    return {"print_id": record.id, "count": record.count}
