"""Network works through the API: read (key-paged, the list's filters), plan new works,
change them (their status with them), as the works pages do (assets.works)."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from inventory.api import common, docs
from inventory.api.equipment import RowsRefused
from inventory.api.equipment_schemas import (
    WorkBulkCreate,
    WorkCreate,
    WorkPage,
    WorkPatch,
    WorkQuery,
    WorkSchema,
    WorksCreated,
)
from inventory.api.v1 import blp, problems
from inventory.assets import works
from inventory.assets.lifecycle import ItemsRefused
from inventory.assets.models import NetworkWork, WorkKind, WorkStatus
from inventory.core import policy
from inventory.core.errors import ConflictError
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.orgs.models import Ecole
from inventory.web import allow

WORK_FIELDS = tuple(f.name for f in dataclass_fields(works.WorkFields))


def _fields(data: dict[str, Any], work: NetworkWork | None) -> works.WorkFields:
    """The works' fields: those sent, the others as they are (or the defaults)."""
    if work is None:
        values = {name: data[name] for name in WORK_FIELDS if name in data}
    else:
        values = {name: data.get(name, getattr(work, name)) for name in WORK_FIELDS}
    values["kind"] = WorkKind(values["kind"])
    if "status" in values:
        values["status"] = WorkStatus(values["status"])
    return works.WorkFields(**values)


def _detail(work_id: int) -> Any:
    found = works.work_detail(db.session, current_user, work_id)
    return found, 200, common.etag(found.version)


@blp.route("/works", methods=["GET"])
@blp.arguments(WorkQuery, location="query")
@blp.response(200, WorkPage)
@problems(422)
@allow(Action.READ)
def list_works(args: dict[str, Any]) -> Any:
    """The network works you may see, newest first, with the works list's filters; cursor
    pages: pass each page's next_cursor as cursor until it is null."""
    names = common.sparse_fields(args.get("sparse"), WorkSchema)
    filters = works.WorkFilters(
        ecole=args.get("ecole"),
        collectivite=args.get("collectivite"),
        kind=WorkKind(args["kind"]) if args.get("kind") else None,
        status=WorkStatus(args["status"]) if args.get("status") else None,
    )
    page = works.works_by_key(
        db.session, current_user, filters, args["limit"], after=common.cursor_of(args)
    )
    return common.sparse(common.page_body(page), WorkPage, names, nested="items")


@blp.route("/works/<int:work_id>", methods=["GET"])
@blp.response(200, WorkSchema)
@problems()
@allow(Action.READ, on=(NetworkWork, "work_id"))
def work(work_id: int) -> Any:
    """One network works; its ETag is its version."""
    return _detail(work_id)


@blp.route("/works", methods=["POST"], endpoint="create_work")
@allow(Action.EDIT)
@blp.arguments(WorkCreate)
@blp.response(201, WorkSchema)
@problems(403, 422)
def create_work(data: dict[str, Any]) -> Any:
    """Plan works at a school (the classrooms they cover must be the school's)."""
    ecole = policy.load_or_404(current_user, Ecole, data["ecole_id"], db.session, Action.EDIT)
    saved = works.save_work(
        db.session,
        current_user,
        None,
        ecole=ecole,
        fields=_fields(data, None),
        classroom_ids=data.get("classroom_ids") or [],
    )
    found, _status, headers = _detail(saved.id)
    return found, 201, {**headers, "Location": url_for("api.work", work_id=saved.id)}


@blp.route("/works/bulk", methods=["POST"], endpoint="create_works")
@allow(Action.EDIT)
@blp.arguments(WorkBulkCreate)
@blp.response(201, WorksCreated)
@problems(403, 413, 422)
def create_works(data: dict[str, Any]) -> Any:
    """Plan many works in one transaction, all or none: when any is refused, nothing is
    written and the 422 lists every refusal by position (``items.<n>.<field>``)."""
    rows = data["items"]
    schools = works.editable_schools(db.session, current_user, [r["ecole_id"] for r in rows])
    missing = [
        {
            "field": f"items.{n}.ecole_id",
            "message": _("No school of this id where you may plan works."),
        }
        for n, row in enumerate(rows)
        if row["ecole_id"] not in schools
    ]
    if missing:
        raise RowsRefused(missing)
    new = [
        works.NewWork(schools[r["ecole_id"]], _fields(r, None), r.get("classroom_ids") or [])
        for r in rows
    ]
    try:
        made = works.create_works(db.session, current_user, new)
    except ItemsRefused as exc:
        raise RowsRefused.by_position(exc.refused) from None
    return {"items": [{"id": w.id, "version": w.version, "title": w.title} for w in made]}, 201


@blp.route("/works/<int:work_id>", methods=["PATCH"], endpoint="update_work")
@allow(Action.EDIT, on=(NetworkWork, "work_id"))
@common.scoped(NetworkWork, "work_id")
@blp.arguments(WorkPatch)
@blp.response(200, WorkSchema)
@problems(403, 409, 412, 422, 428)
def update_work(data: dict[str, Any], work_id: int) -> Any:
    """Change works' fields, their status among them, as their edit page does; send the
    version read, in the body (version: 409 when stale) or as If-Match (412 when stale)."""
    item = works.work_detail(db.session, current_user, work_id)
    version = common.version_sent(
        data, item.version, _("Someone else saved these works since you read them.")
    )
    rooms = data.get("classroom_ids")
    try:
        works.save_work(
            db.session,
            current_user,
            item,
            ecole=item.ecole,
            fields=_fields(data, item),
            classroom_ids=[r.id for r in item.classrooms] if rooms is None else rooms,
            version=version,
        )
    except ConflictError:
        raise ConflictError(
            _("Someone else saved these works since you read them: read them again, then resend.")
        ) from None
    return _detail(work_id)


docs.summaries(
    {
        "get/works": _l(
            "The network works you may see, newest first, with the works list's "
            "filters; cursor pages: pass each page's next_cursor as cursor until "
            "it is null."
        ),
        "get/works/{work_id}": _l("One network works; its ETag is its version."),
        "post/works/bulk": _l(
            "Plan many works in one transaction, all or none: when any is refused, "
            "nothing is written and the 422 lists every refusal by position."
        ),
        "post/works": _l(
            "Plan works at a school (the classrooms they cover must be the school's)."
        ),
        "patch/works/{work_id}": _l(
            "Change works' fields, their status among them, as their edit page "
            "does; send the version read, in the body (version: 409 when stale) "
            "or as If-Match (412 when stale)."
        ),
    }
)
