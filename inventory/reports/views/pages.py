"""The dashboard page of each level, and the exports of its tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting, policy
from inventory.core.panels import panels
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.reports import charts
from inventory.reports import indicators as ind
from inventory.reports.dashboard import ChildTable, Dashboard, MapPoint, Row, SocleState, dashboard
from inventory.reports.indicators import Facts, Grain, Indicator, Theme
from inventory.reports.levels import ARGS, MODELS, Level, ancestors, load_level
from inventory.reports.values import euros, indicator_cell
from inventory.reports.views.common import (
    EXPORT_FACTS,
    LEVEL_LABELS,
    LEVELS,
    NONE_LABELS,
    STATE_LABELS,
    TABLE_PAGE_SIZE,
    bp,
    current_locale,
    detail,
    export_format,
    fact_label,
    helpers,
    level_title,
    month_label,
    stem,
    theme_of,
    today,
)
from inventory.web import allow


# -- sorting and paging child tables -------------------------------------------------------
def sort_rows(rows: Sequence[Row], key: str) -> list[Row]:
    """Rows by an indicator (unknown values last), or by name: the table's own order
    (names, or classrooms by position), reversed with a leading '-'."""
    desc = key.startswith("-")
    name = key.lstrip("-")
    indicator = ind.BY_CODE.get(name)
    if indicator is None:
        return list(reversed(rows)) if desc else list(rows)

    def value(r: Row) -> Any:
        return indicator.value(r.facts)

    known = [r for r in rows if value(r) is not None]
    unknown = [r for r in rows if value(r) is None]
    known.sort(key=value, reverse=desc)
    return known + unknown


@dataclass
class TableView:
    table: ChildTable
    rows: list[Row]
    sort: str
    page: int
    pages: int
    theme: Theme
    columns: list[Indicator]
    param: str

    @property
    def slug(self) -> str:
        return self.table.level.value


def table_view(table: ChildTable, theme: Theme, args: Mapping[str, str]) -> TableView:
    param = table.level.value
    sort = args.get(f"sort_{param}", "name")
    if sort.lstrip("-") not in ind.BY_CODE and sort.lstrip("-") != "name":
        sort = "name"
    ordered = sort_rows(table.rows, sort)
    pages = max(1, -(-len(ordered) // TABLE_PAGE_SIZE))
    raw = args.get(f"page_{param}", "1")
    page = min(max(1, int(raw) if raw.isdigit() and len(raw) < 7 else 1), pages)
    shown = ordered[(page - 1) * TABLE_PAGE_SIZE : page * TABLE_PAGE_SIZE]
    columns = [i for i in ind.INDICATORS if i.theme is theme]
    return TableView(table, shown, sort, page, pages, theme, columns, param)


# -- exports of the tables -------------------------------------------------------------------
def export_cell(indicator: Indicator, facts: Facts, grain: Grain) -> exporting.Cell:
    if not indicator.applies(grain):
        return None
    return indicator_cell(indicator, facts)


def export_header(indicator: Indicator) -> str:
    """An indicator's column name; a percentage says so, beside the count it is made of."""
    if indicator.unit is ind.Unit.PERCENT:
        return _("%(label)s (%%)", label=indicator.label)
    return str(indicator.label)


def child_export(table: ChildTable) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    # One column per name: the row's own (the level, singular), the indicators, then the
    # counts behind them that no indicator column already gives.
    headers = [LEVEL_LABELS[table.level](), _("Code")]
    headers += [export_header(i) for i in ind.INDICATORS]
    facts = [f for f in EXPORT_FACTS if fact_label(f) not in headers]
    headers += [fact_label(f) for f in facts]
    rows = []
    for r in sort_rows(table.rows, "name"):
        grain = table.grain if r.key is not None else Grain.SCHOOL
        name = r.name if r.key is not None else NONE_LABELS.get(table.level, lambda: "—")()
        rows.append(
            (
                name,
                r.code,
                *(export_cell(i, r.facts, grain) for i in ind.INDICATORS),
                *(r.facts[f] for f in facts),
            )
        )
    return headers, rows


def indicators_export(board: Dashboard) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    headers = [_("Theme"), _("Indicator"), _("Value"), _("Detail"), _("Definition")]
    rows: list[tuple[exporting.Cell, ...]] = [
        (
            str(ind.THEME_LABELS[i.theme]),
            str(i.label),
            export_cell(i, board.totals, board.grain),
            detail(i, board.totals) if i.applies(board.grain) else None,
            str(i.definition),
        )
        for i in ind.INDICATORS
    ]
    return headers, rows


def months_export(board: Dashboard) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    return (
        [_("Month"), _("Items put in service"), _("Aid received (€)")],
        [(m.month, m.installations, euros(m.paid_cents)) for m in board.months],
    )


def models_export(board: Dashboard) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    locale = current_locale()
    return (
        [
            _("Manufacturer"),
            _("Model"),
            _("Category"),
            _("Items"),
            _("Tickets"),
            _("Open tickets"),
            _("Tickets per 100 items"),
        ],
        [
            (
                m.manufacturer,
                m.name,
                m.category(locale),
                m.items,
                m.tickets,
                m.open_tickets,
                None if m.rate is None else round(m.rate, 1),
            )
            for m in board.models
        ],
    )


def _export_table(board: Dashboard, name: str, fmt: str, stem: str) -> Response:
    if name == "indicateurs":
        headers, rows = indicators_export(board)
    elif name == "mois":
        headers, rows = months_export(board)
    elif name == "modeles":
        headers, rows = models_export(board)
    else:
        table = next((t for t in board.tables if t.level.value == name), None)
        if table is None:
            abort(404)
        headers, rows = child_export(table)
    return exporting.download(
        fmt, f"{stem}-{name}-{today()}.{fmt}", headers, rows, sheet_title=name[:31]
    )


def _charts(board: Dashboard) -> dict[str, Any]:
    if not board.months:
        return {}
    labels = charts.month_labels([m.month for m in board.months], month_label)
    installs = [
        charts.Bar(
            label,
            m.installations,
            ngettext(
                "%(month)s: %(num)s item",
                "%(month)s: %(num)s items",
                m.installations,
                month=month_label(m.month),
            ),
        )
        for label, m in zip(labels, board.months, strict=True)
    ]
    paid = [
        charts.Bar(
            label,
            m.paid_cents / 100,
            _(
                "%(month)s: %(amount)s",
                month=month_label(m.month),
                amount=format_decimal(euros(m.paid_cents), format="#,##0.00") + " €",
            ),
        )
        for label, m in zip(labels, board.months, strict=True)
    ]
    first, last = month_label(board.months[0].month), month_label(board.months[-1].month)
    total_installs = sum(m.installations for m in board.months)
    total_paid = sum(m.paid_cents for m in board.months)
    return {
        "installs": charts.bar_chart(
            installs,
            chart_id="chart-installs",
            title=_("Items put in service per month"),
            desc=_(
                "From %(first)s to %(last)s: %(n)s items put in service. The table below "
                "gives the figure of each month.",
                first=first,
                last=last,
                n=format_decimal(total_installs),
            ),
            tick=lambda v: format_decimal(round(v, 1)),
        ),
        "paid": charts.bar_chart(
            paid,
            chart_id="chart-paid",
            title=_("Aid received per month"),
            desc=_(
                "From %(first)s to %(last)s: %(amount)s received. The table below gives the "
                "figure of each month.",
                first=first,
                last=last,
                amount=format_decimal(euros(total_paid), format="#,##0.00") + " €",
            ),
            tick=lambda v: format_decimal(round(v)) + " €",
            color="#18753c",
        ),
    }


def _map(board: Dashboard) -> dict[str, Any] | None:
    if board.level in (Level.ECOLE, Level.CLASSROOM):
        return None
    counts = {s: 0 for s in SocleState}
    for p in board.points:
        counts[p.state] += 1
    legend = [
        (charts.marker_svg(state), STATE_LABELS[state](), counts[state]) for state in SocleState
    ]

    def tooltip(p: MapPoint) -> str:
        if p.targets:
            state = ngettext(
                "%(num)s of %(targets)s target classrooms at the socle",
                "%(num)s of %(targets)s target classrooms at the socle",
                p.meeting,
                targets=p.targets,
            )
        else:
            state = _("no target classroom")
        return f"{p.name} ({p.commune}) — {state}"

    summary = _(
        "%(total)s schools drawn: %(complete)s with every target classroom at the socle, "
        "%(partial)s with some, %(none)s with none, %(no_target)s without target classroom.",
        total=format_decimal(len(board.points)),
        complete=format_decimal(counts[SocleState.COMPLETE]),
        partial=format_decimal(counts[SocleState.PARTIAL]),
        none=format_decimal(counts[SocleState.NONE]),
        no_target=format_decimal(counts[SocleState.NO_TARGET]),
    )
    svg = None
    if board.points:
        svg = charts.school_map(
            board.points,
            title=_("Map of the schools by socle status"),
            desc=summary,
            tooltip=tooltip,
        )
    return {
        "svg": svg,
        "legend": legend,
        "summary": summary,
        "unplaced": board.schools_without_position,
        "too_many": board.too_many_points,
    }


def _page(level: Level, obj: Any) -> str | Response:
    fmt = export_format()
    board = dashboard(db.session, current_user, level, obj)
    object_id = getattr(obj, "id", None)
    if fmt is not None:
        return _export_table(board, request.args.get("table", ""), fmt, stem(level, obj))
    theme = theme_of()
    crumbs = ancestors(db.session, current_user, level, obj) if obj is not None else []
    tables = [table_view(t, theme, request.args) for t in board.tables]
    return render_template(
        "reports/dashboard.html",
        board=board,
        level=level,
        obj=obj,
        object_id=object_id,
        title=level_title(level, obj),
        this_level_label=LEVEL_LABELS[level](),
        crumbs=crumbs,
        themes=ind.THEME_LABELS,
        theme=theme,
        figures=ind.by_theme(board.grain),
        coverage=ind.BY_CODE["socle_coverage"],
        tables=tables,
        charts=_charts(board),
        map=_map(board),
        may_export=policy.allowed(current_user, Action.EXPORT),
        # What the domains below show on a dashboard (the loans' figures…), for its object.
        panels=panels("reports.dashboard", db.session, current_user, obj),
        **helpers(),
    )


# -- routes ----------------------------------------------------------------------------------
@bp.get("")
@allow(Action.READ)
def index() -> str | Response:
    return _page(Level.SCOPE, None)


def _register(level: Level) -> None:
    model, arg = MODELS[level], ARGS[level]

    @allow(Action.READ, on=(model, arg))
    def page(**kwargs: int) -> str | Response:
        obj = load_level(db.session, current_user, level, kwargs[arg])
        return _page(level, obj)

    page.__name__ = f"{level.value}_page"
    bp.add_url_rule(f"/{level.value}/<int:{arg}>", level.value, page, methods=["GET"])


for _level in LEVELS:
    _register(_level)
