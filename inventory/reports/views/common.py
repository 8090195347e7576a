"""What the dashboard pages share: the blueprint, the labels of levels and facts, their urls,
figures as shown, and the helpers the templates are given."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from inventory.core import exporting, policy
from inventory.core.policy import Action
from inventory.reports import indicators as ind
from inventory.reports.dashboard import SocleState
from inventory.reports.indicators import Facts, Grain, Indicator, ListKind, Theme, Unit
from inventory.reports.levels import ARGS, Level, level_name
from inventory.reports.values import euros
from inventory.web import language

bp = Blueprint("reports", __name__, url_prefix="/tableau-de-bord")

TABLE_PAGE_SIZE = 50
# The levels that have a page and lists of their own (the scope's are the index's).
LEVELS = (
    Level.ACADEMIE,
    Level.DEPARTEMENT,
    Level.CIRCONSCRIPTION,
    Level.COLLECTIVITE,
    Level.ECOLE,
    Level.CLASSROOM,
)
LEVEL_LABELS = {
    Level.SCOPE: lambda: _("My scope"),
    Level.ACADEMIE: lambda: _("Académie"),
    Level.DEPARTEMENT: lambda: _("Département"),
    Level.CIRCONSCRIPTION: lambda: _("Circonscription"),
    Level.COLLECTIVITE: lambda: _("Collectivité"),
    Level.ECOLE: lambda: _("School"),
    Level.CLASSROOM: lambda: _("Classroom"),
}
PLURAL_LABELS = {
    Level.ACADEMIE: lambda: _("Académies"),
    Level.DEPARTEMENT: lambda: _("Départements"),
    Level.CIRCONSCRIPTION: lambda: _("Circonscriptions"),
    Level.COLLECTIVITE: lambda: _("Collectivités"),
    Level.ECOLE: lambda: _("Schools"),
    Level.CLASSROOM: lambda: _("Classrooms"),
}
NONE_LABELS = {
    Level.CIRCONSCRIPTION: lambda: _("No circonscription"),
    Level.COLLECTIVITE: lambda: _("No collectivité"),
    Level.CLASSROOM: lambda: _("School-wide (not in a classroom)"),
}
STATE_LABELS = {
    SocleState.COMPLETE: lambda: _("every target classroom at the socle"),
    SocleState.PARTIAL: lambda: _("some target classrooms at the socle"),
    SocleState.NONE: lambda: _("no target classroom at the socle"),
    SocleState.NO_TARGET: lambda: _("no target classroom"),
}
# Facts given next to the indicators in the exports of the tables.
EXPORT_FACTS = ("classrooms", "targets", "meeting", "items", "tickets", "schools", "pupils")


def fact_label(name: str) -> str:
    return {
        "classrooms": _("Classrooms"),
        "targets": _("Target classrooms"),
        "meeting": _("Target classrooms meeting the socle"),
        "items": _("Items at the schools"),
        "tickets": _("Tickets"),
        "schools": _("Schools"),
        "pupils": _("Pupils"),
    }[name]


# -- urls --------------------------------------------------------------------------------------
def level_url(level: Level, object_id: int | None, **args: Any) -> str:
    if level is Level.SCOPE or object_id is None:
        return url_for("reports.index", **args)
    values: dict[str, Any] = {ARGS[level]: object_id, **args}
    return url_for(f"reports.{level.value}", **values)


def list_url(level: Level, object_id: int | None, listing: str, **args: Any) -> str:
    if level is Level.SCOPE or object_id is None:
        return url_for("reports.scope_list", indicator=listing, **args)
    values: dict[str, Any] = {ARGS[level]: object_id, "indicator": listing, **args}
    return url_for(f"reports.{level.value}_list", **values)


def this_url(**changes: Any) -> str:
    own = ("format", "table", "csv")  # the export's own arguments
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in own}
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = v
    return url_for(request.endpoint or "reports.index", **(request.view_args or {}), **args)


# -- values as shown -----------------------------------------------------------------------
def show(indicator: Indicator, facts: Facts) -> str:
    value = indicator.value(facts)
    if value is None:
        return "—"
    if indicator.unit is Unit.MONEY:
        return format_decimal(euros(int(value)), format="#,##0.00") + "\u00a0€"
    if indicator.unit is Unit.COUNT:
        return format_decimal(int(value))
    text = format_decimal(round(float(value), 1), format="#,##0.0")
    if indicator.unit is Unit.PERCENT:
        return text + "\u00a0%"
    if indicator.unit is Unit.DAYS:
        return _("%(n)s d", n=text)
    return text


def detail(indicator: Indicator, facts: Facts) -> str | None:
    """The counts behind a ratio ('12 of 20'), for the reader and screen readers."""
    if indicator.kind is ind.Kind.RATIO:
        return _(
            "%(num)s of %(den)s",
            num=format_decimal(facts[indicator.fact or ""]),
            den=format_decimal(facts[indicator.denominator or ""]),
        )
    if indicator.kind is ind.Kind.MEDIAN:
        n = len(getattr(facts, indicator.values or ""))
        return _("over %(n)s", n=format_decimal(n))
    return None


def count_of(indicator: Indicator, facts: Facts) -> int | None:
    """The length of the list the figure links to."""
    listing = ind.LISTING_BY_CODE.get(indicator.listing or "")
    if listing is None:
        return None
    if listing.fact is None:
        return len(facts.dossiers)
    return facts[listing.fact]


def current_locale() -> str:
    return language()


def today() -> str:
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(tz).date().isoformat()


def export_format() -> str | None:
    fmt = request.args.get("format")
    if fmt is None:
        return None
    if fmt not in exporting.FORMATS:
        abort(404)
    policy.require(current_user, Action.EXPORT)
    return fmt


def level_title(level: Level, obj: Any) -> str:
    if level is Level.SCOPE:
        return _("Dashboard")
    if level is Level.CLASSROOM:
        return f"{obj.name} — {obj.ecole.name}"
    return level_name(level, obj)


def stem(level: Level, obj: Any) -> str:
    return "tableau-de-bord" if obj is None else f"tableau-de-bord-{level.value}-{obj.id}"


def theme_of() -> Theme:
    value = request.args.get("theme", Theme.SOCLE.value)
    return Theme(value) if value in Theme._value2member_map_ else Theme.SOCLE


def month_label(month: str) -> str:
    y, m = map(int, month.split("-"))
    return format_date(date(y, m, 1), "MMM yyyy")


def helpers() -> dict[str, Any]:  # functions, and the listings by code
    return {
        "show": show,
        "detail": detail,
        "count_of": count_of,
        "level_url": level_url,
        "list_url": list_url,
        "this_url": this_url,
        "level_label": lambda lvl: LEVEL_LABELS[lvl](),
        "plural_label": lambda lvl: PLURAL_LABELS[lvl](),
        "none_label": lambda lvl: NONE_LABELS.get(lvl, lambda: "—")(),
        "listings": ind.LISTING_BY_CODE,
        "month_label": month_label,
        "Grain": Grain,
        "Level": Level,
        "ListKind": ListKind,
    }
