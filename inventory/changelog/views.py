"""The change-log page."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from inventory.changelog.services import OBJECT_TYPES, LogFilters, search_log
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow

bp = Blueprint("changelog", __name__)


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/journal")
@allow(Action.READ)
def journal() -> str:
    school = request.args.get("school", "")
    filters = LogFilters(
        actor=request.args.get("actor", "")[:100],
        object_type=request.args.get("type", ""),
        school=int(school) if school.isdigit() else None,
        since=_date("since"),
        until=_date("until"),
    )
    page = request.args.get("page", "1")
    records = search_log(
        db.session,
        current_user,
        filters,
        int(page) if page.isdigit() else 1,
        current_app.config["PAGE_SIZE"],
    )
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "changelog/journal.html",
        page=records,
        filters=filters,
        object_types=OBJECT_TYPES,
        args=args,
    )
