"""The change-log page and its export."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from inventory.changelog.services import LogFilters, export_log, object_types, search_log
from inventory.core import exporting
from inventory.core.describe import Entry
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.web import allow, int_arg

bp = Blueprint("changelog", __name__)


def _date(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> LogFilters:
    school = request.args.get("school", "")
    return LogFilters(
        actor=request.args.get("actor", "")[:100],
        object_type=request.args.get("type", ""),
        school=int(school) if school.isdigit() and len(school) < 10 else None,
        since=_date("since"),
        until=_date("until"),
        q=request.args.get("q", "")[:100],
    )


def action_label(action: str) -> str:
    return {"create": _("created"), "update": _("changed"), "delete": _("deleted")}.get(
        action, action
    )


@bp.get("/journal")
@allow(Action.READ)
def journal() -> str:
    filters = _filters()
    page = request.args.get("page", "1")
    records = search_log(
        db.session,
        current_user,
        filters,
        int(page) if page.isdigit() and len(page) < 7 else 1,
        current_app.config["PAGE_SIZE"],
        after=int_arg("after"),
        before=int_arg("before"),
    )
    args = {k: v for k, v in request.args.items() if k not in ("page", "after", "before") and v}
    return render_template(
        "changelog/journal.html",
        page=records,
        filters=filters,
        object_types=object_types(),
        args=args,
    )


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _row(entry: Entry) -> tuple[exporting.Cell, ...]:
    return (
        entry.at.astimezone(_zone()).replace(tzinfo=None, microsecond=0),
        entry.actor,
        action_label(entry.action),
        entry.type_label,
        entry.object_label,
        entry.summary(),
    )


@bp.get("/journal.csv")
@allow(Action.READ)
def journal_csv() -> ResponseReturnValue:
    headers = [_("When"), _("By"), _("Action"), _("Type"), _("Object"), _("Changes")]
    rows = (_row(e) for e in export_log(db.session, current_user, _filters()))
    return exporting.download(exporting.CSV, "journal.csv", headers, rows)
