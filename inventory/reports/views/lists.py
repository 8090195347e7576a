"""The lists behind the figures, a page at a time or exported whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting, policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants.dossiers import STATUS_LABELS as DOSSIER_STATUS_LABELS
from inventory.reports import indicators as ind
from inventory.reports.indicators import ListKind
from inventory.reports.levels import ARGS, MODELS, Level, ancestors, load_level
from inventory.reports.listing import all_rows, listing_page
from inventory.reports.values import euros
from inventory.reports.views.common import (
    LEVELS,
    bp,
    current_locale,
    export_format,
    helpers,
    level_title,
    stem,
    today,
)
from inventory.web import allow


# -- lists -----------------------------------------------------------------------------------
def _list_rows(
    listing: ind.Listing, items: Sequence[Any], tz: ZoneInfo
) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    locale = current_locale()
    if listing.kind is ListKind.CLASSROOM:
        return (
            [_("UAI"), _("School"), _("Classroom"), _("Levels")],
            [(r.ecole.uai, r.ecole.name, r.name, r.levels) for r in items],
        )
    if listing.kind is ListKind.ASSET:
        return (
            [
                _("Tag"),
                _("Category"),
                _("Manufacturer"),
                _("Model"),
                _("Serial number"),
                _("Status"),
                _("UAI"),
                _("School"),
                _("Classroom"),
            ],
            [
                (
                    a.tag,
                    a.category.label(locale),
                    a.model.manufacturer.name,
                    a.model.name,
                    a.serial,
                    a.status.value,
                    a.ecole.uai if a.ecole else None,
                    a.ecole.name if a.ecole else None,
                    a.classroom.name if a.classroom else None,
                )
                for a in items
            ],
        )
    if listing.kind is ListKind.TICKET:
        return (
            [
                _("Ticket"),
                _("Reported on"),
                _("Status"),
                _("Problem"),
                _("UAI"),
                _("School"),
                _("Classroom"),
                _("Item"),
                _("Resolved on"),
            ],
            [
                (
                    t.id,
                    t.created_at.astimezone(tz).replace(tzinfo=None),
                    t.status.value,
                    t.problem_type.label(locale),
                    t.ecole.uai,
                    t.ecole.name,
                    t.classroom.name if t.classroom else None,
                    t.asset.tag if t.asset else None,
                    t.resolved_at.astimezone(tz).replace(tzinfo=None) if t.resolved_at else None,
                )
                for t in items
            ],
        )
    if listing.kind is ListKind.SCHOOL:
        return (
            [_("UAI"), _("School"), _("Commune")],
            [(e.uai, e.name, e.commune.name) for e in items],
        )
    return (
        [
            _("Dossier"),
            _("Title"),
            _("Collectivité"),
            _("Status"),
            _("Spending"),
            _("Eligible spending"),
            _("Aid computed"),
            _("Approved (convention maximum)"),
            _("Aid paid"),
            _("Left to claim"),
        ],
        [
            (
                line.dossier.reference or f"#{line.dossier.id}",
                line.dossier.title,
                line.dossier.collectivite.name,
                str(DOSSIER_STATUS_LABELS[line.dossier.status]),
                *(euros(line.facts[k]) for k in ind.MONEY_FACTS),
            )
            for line in items
        ],
    )


def _list_page(level: Level, obj: Any, indicator: str) -> str | Response:
    listing = ind.LISTING_BY_CODE.get(indicator)
    if listing is None:
        abort(404)
    fmt = export_format()
    raw_model = request.args.get("model", "")
    model_id = int(raw_model) if raw_model.isdigit() and len(raw_model) < 10 else None
    if model_id is not None and listing.kind is not ListKind.TICKET:
        model_id = None
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if fmt is not None:
        items = all_rows(db.session, current_user, level, obj, listing, model_id=model_id)
        headers, rows = _list_rows(listing, items, tz)
        return exporting.download(
            fmt,
            f"{stem(level, obj)}-{listing.code}-{today()}.{fmt}",
            headers,
            rows,
            sheet_title=listing.code[:31],
        )
    raw_page = request.args.get("page", "1")
    page = listing_page(
        db.session,
        current_user,
        level,
        obj,
        listing,
        int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1,
        current_app.config["PAGE_SIZE"],
        model_id=model_id,
    )
    crumbs = ancestors(db.session, current_user, level, obj) if obj is not None else []
    args = {"model": model_id} if model_id else {}
    return render_template(
        "reports/list.html",
        level=level,
        obj=obj,
        object_id=getattr(obj, "id", None),
        title=level_title(level, obj),
        listing=listing,
        page=page,
        args=args,
        crumbs=crumbs,
        tz=tz,
        may_export=policy.allowed(current_user, Action.EXPORT),
        pager_endpoint=request.endpoint,
        pager_args={**(request.view_args or {}), **args},
        **helpers(),
    )


# -- routes ----------------------------------------------------------------------------------
@bp.get("/liste/<indicator>")
@allow(Action.READ)
def scope_list(indicator: str) -> str | Response:
    return _list_page(Level.SCOPE, None, indicator)


def _register(level: Level) -> None:
    model, arg = MODELS[level], ARGS[level]

    @allow(Action.READ, on=(model, arg))
    def listing_view(indicator: str, **kwargs: int) -> str | Response:
        obj = load_level(db.session, current_user, level, kwargs[arg])
        return _list_page(level, obj, indicator)

    listing_view.__name__ = f"{level.value}_listing"
    bp.add_url_rule(
        f"/{level.value}/<int:{arg}>/liste/<indicator>",
        f"{level.value}_list",
        listing_view,
        methods=["GET"],
    )


for _level in LEVELS:
    _register(_level)
