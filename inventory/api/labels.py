"""Labels through the API: an item's label code (issued on first use, renewed when a
label is damaged or copied), prints asked for as jobs, and any job's status (the API's
side of the /taches/<id> page)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from inventory.api import docs
from inventory.api.equipment_schemas import JobSchema, LabelToken, PrintRequest
from inventory.api.v1 import blp, problems
from inventory.assets.models import Asset
from inventory.core import addresses, jobs, policy
from inventory.core.jobs import Job, JobState
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.labels import services, tokens
from inventory.labels.models import PrintJob, ScanToken
from inventory.orgs.models import Ecole
from inventory.web import allow


def _token_body(token: ScanToken) -> dict[str, Any]:
    base = addresses.base_url()
    return {
        "asset_id": token.asset_id,
        "token": token.token,
        "url": tokens.scan_url(base, token.token) if base else None,
        "created_at": token.created_at,
    }


@blp.route("/assets/<int:asset_id>/label-token", methods=["POST"], endpoint="issue_label")
@allow(Action.EDIT, on=(Asset, "asset_id"))
@blp.response(200, LabelToken)
@problems(403)
def issue_label(asset_id: int) -> Any:
    """The item's current label code, issued when it has none yet (printing a label does
    the same)."""
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    token = tokens.active_token(db.session, asset_id=asset.id)
    db.session.commit()
    return _token_body(token)


@blp.route("/assets/<int:asset_id>/label-token/renew", methods=["POST"], endpoint="renew_label")
@allow(Action.EDIT, on=(Asset, "asset_id"))
@blp.response(200, LabelToken)
@problems(403)
def renew_label(asset_id: int) -> Any:
    """Replace the item's label code (a damaged or copied label): the old label's
    address then says it was replaced. Print the new one."""
    asset = policy.load_or_404(current_user, Asset, asset_id, db.session, Action.EDIT)
    token = tokens.active_token(db.session, asset_id=asset.id)
    return _token_body(services.reissue_token(db.session, current_user, token))


@blp.route("/labels/prints", methods=["POST"], endpoint="print_labels")
@allow(Action.EDIT)
@blp.arguments(PrintRequest)
@blp.response(202, JobSchema)
@problems(403, 422)
def print_labels(data: dict[str, Any]) -> Any:
    """Ask for the labels of items (or of a school's classrooms) on a format: a job
    renders them; follow it at its Location (/api/v1/jobs/<id>) until it is done, then
    download its file."""
    fmt = services.format_by_code(db.session, data["format"])
    base = addresses.base_url()
    if base is None:
        raise services.LabelError(addresses.MISSING, field="format")
    classroom_ids: list[int] = []
    asset_ids: list[int] = []
    if data.get("school_rooms"):
        ecole = policy.load_or_404(current_user, Ecole, data["school_rooms"], db.session)
        classroom_ids = [room.id for room in ecole.classrooms]
    else:
        wanted = list(dict.fromkeys(data.get("asset_ids") or []))
        asset_ids = _visible_assets(wanted)
    job = services.queue_print(
        db.session,
        current_user,
        asset_ids,
        classroom_ids,
        fmt,
        data["start"] - 1,
        base,
    )
    return _job_body(job), 202, {"Location": url_for("api.job", job_id=job.id)}


def _visible_assets(wanted: list[int]) -> list[int]:
    """Those of ``wanted`` the user may label, in the order given."""
    found: set[int] = set()
    for n in range(0, len(wanted), 500):
        stmt = select(Asset.id).where(Asset.id.in_(wanted[n : n + 500]))
        found.update(db.session.scalars(policy.visible(current_user, stmt, Asset)))
    return [i for i in wanted if i in found]


def _job_body(job: Job) -> dict[str, Any]:
    body = {
        column: getattr(job, column)
        for column in ("id", "kind", "state", "done", "total", "error", "created_at")
    }
    body["finished_at"] = job.finished_at
    body["result"] = job.result
    body["page"] = url_for("jobs.progress", job_id=job.id)
    body["file"] = _file_of(job)
    return body


def _file_of(job: Job) -> str | None:
    """Where the job's file is downloaded once it is done (a print's PDF, a pack)."""
    if job.state != JobState.DONE:
        return None
    if job.kind == services.PRINT_JOB:
        record = db.session.scalar(select(PrintJob).where(PrintJob.job_id == job.id))
        if record is not None and record.file_name:
            return url_for("labels.job_file", job_id=record.id)
        return None
    return url_for("jobs.download", job_id=job.id) if jobs.job_file(job) else None


@blp.route("/jobs/<int:job_id>", methods=["GET"])
@blp.response(200, JobSchema)
@problems()
@allow(Action.READ, on=(Job, "job_id"))
def job(job_id: int) -> Any:
    """A background job's state and progress (a print, an import, an evidence pack)."""
    return _job_body(policy.load_or_404(current_user, Job, job_id, db.session))


docs.summaries(
    {
        "post/assets/{asset_id}/label-token": _l(
            "The item's current label code, issued when it has none yet (printing "
            "a label does the same)."
        ),
        "post/assets/{asset_id}/label-token/renew": _l(
            "Replace the item's label code (a damaged or copied label): the old "
            "label's address then says it was replaced. Print the new one."
        ),
        "post/labels/prints": _l(
            "Ask for the labels of items (or of a school's classrooms) on a "
            "format: a job renders them; follow it at its Location "
            "(/api/v1/jobs/<id>) until it is done, then download its file."
        ),
        "get/jobs/{job_id}": _l(
            "A background job's state and progress (a print, an import, an evidence pack)."
        ),
    }
)
