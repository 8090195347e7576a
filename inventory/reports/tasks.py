"""The dashboards' background work: the evidence packs, made by a job and kept in the file
store for their owner (``EVIDENCE_FILES_RETENTION_DAYS``, 7 by default)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.auth.models import User
from inventory.core import jobs, policy
from inventory.core.jobs import Job, JobError, Progress
from inventory.core.policy import Action
from inventory.grants.models import Dossier
from inventory.orgs.models import Collectivite
from inventory.reports import evidence

# Deleted by the hourly clean-up of generated files (core.jobs) once this old.
EVIDENCE_FILES = jobs.keep_files("generated/evidence", "EVIDENCE_FILES_RETENTION_DAYS")


@jobs.handler(evidence.EVIDENCE_JOB, files=EVIDENCE_FILES, action=Action.EXPORT)
def make_pack(session: Session, job: Job, progress: Progress) -> dict[str, Any]:
    """Build the pack as its owner may see it now (their scope may have changed since they
    asked: what left it is not in the pack, a subject that left it fails the job)."""
    user = session.get(User, job.user_id) if job.user_id else None
    if user is None or not user.active:
        raise JobError(_l("The author of this evidence pack no longer has an active account."))
    params = job.params
    try:
        if params.get("dossier"):
            dossier = policy.load_or_404(user, Dossier, params["dossier"], session, Action.EXPORT)
            subject = evidence.Subject(dossier.collectivite, dossier)
        else:
            coll = policy.load_or_404(
                user, Collectivite, params["collectivite"], session, Action.EXPORT
            )
            subject = evidence.Subject(coll)
    except policy.Denied:
        raise JobError(_l("This collectivité or dossier is no longer in your scope.")) from None
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    locale = params.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]
    progress(0, evidence.STEPS)
    with force_locale(locale):
        data = evidence.evidence_pack(
            session, user, subject, tz, progress=lambda done: progress(done, None)
        )
    key = f"{secrets.token_hex(16)}.zip"
    EVIDENCE_FILES.store().save(key, data)
    return {
        "file": key,
        "name": f"preuves-{subject.slug}-{datetime.now(tz).date().isoformat()}.zip",
        "mimetype": "application/zip",
        "size": len(data),
    }
