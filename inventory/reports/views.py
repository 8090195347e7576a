"""Dashboard pages: the reader's whole scope, each level down to a classroom, the lists
behind the figures, the exports (tables, the ministry's open-data shapes, evidence packs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from inventory.core import exporting, policy
from inventory.core.policy import Action
from inventory.extensions import db
from inventory.grants.dossiers import STATUS_LABELS as DOSSIER_STATUS_LABELS
from inventory.grants.models import Dossier
from inventory.reports import charts, evidence, opendata, services
from inventory.reports import indicators as ind
from inventory.reports.indicators import Facts, Grain, Indicator, ListKind, Theme, Unit
from inventory.reports.services import (
    ARGS,
    MODELS,
    ChildTable,
    Dashboard,
    Level,
    Row,
    SocleState,
)
from inventory.web import allow

bp = Blueprint("reports", __name__, url_prefix="/tableau-de-bord")

TABLE_PAGE_SIZE = 50
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
    return url_for(f"reports.{level.value}", **{ARGS[level]: object_id}, **args)


def list_url(level: Level, object_id: int | None, listing: str, **args: Any) -> str:
    if level is Level.SCOPE or object_id is None:
        return url_for("reports.scope_list", indicator=listing, **args)
    return url_for(
        f"reports.{level.value}_list", **{ARGS[level]: object_id}, indicator=listing, **args
    )


def _this_url(**changes: Any) -> str:
    args = {k: v for k, v in request.args.items() if k not in ("format", "table")}
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
        return format_decimal(services.euros(int(value)), format="#,##0.00") + "\u00a0€"
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
    return services.indicator_cell(indicator, facts)


def child_export(table: ChildTable) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    label = PLURAL_LABELS[table.level]()
    headers = [label, _("Code")]
    headers += [str(i.label) for i in ind.INDICATORS]
    headers += [fact_label(f) for f in EXPORT_FACTS]
    rows = []
    for r in sort_rows(table.rows, "name"):
        grain = table.grain if r.key is not None else Grain.SCHOOL
        name = r.name if r.key is not None else NONE_LABELS.get(table.level, lambda: "—")()
        rows.append(
            (
                name,
                r.code,
                *(export_cell(i, r.facts, grain) for i in ind.INDICATORS),
                *(r.facts[f] for f in EXPORT_FACTS),
            )
        )
    return headers, rows


def indicators_export(board: Dashboard) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    headers = [_("Theme"), _("Indicator"), _("Value"), _("Detail"), _("Definition")]
    rows = [
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
        [(m.month, m.installations, services.euros(m.paid_cents)) for m in board.months],
    )


def models_export(board: Dashboard) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    locale = _locale()
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


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


def _today() -> str:
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(tz).date().isoformat()


def _format() -> str | None:
    fmt = request.args.get("format")
    if fmt is None:
        return None
    if fmt not in exporting.FORMATS:
        abort(404)
    policy.require(current_user, Action.EXPORT)
    return fmt


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
        fmt, f"{stem}-{name}-{_today()}.{fmt}", headers, rows, sheet_title=name[:31]
    )


# -- the pages -------------------------------------------------------------------------------
def _level_title(level: Level, obj: Any) -> str:
    if level is Level.SCOPE:
        return _("Dashboard")
    if level is Level.CLASSROOM:
        return f"{obj.name} — {obj.ecole.name}"
    return services.level_name(level, obj)


def _stem(level: Level, obj: Any) -> str:
    return "tableau-de-bord" if obj is None else f"tableau-de-bord-{level.value}-{obj.id}"


def _theme() -> Theme:
    value = request.args.get("theme", Theme.SOCLE.value)
    return Theme(value) if value in Theme._value2member_map_ else Theme.SOCLE


def _month_label(month: str) -> str:
    y, m = map(int, month.split("-"))
    return format_date(date(y, m, 1), "MMM yyyy")


def _charts(board: Dashboard) -> dict[str, Any]:
    if not board.months:
        return {}
    labels = charts.month_labels([m.month for m in board.months], _month_label)
    installs = [
        charts.Bar(
            label,
            m.installations,
            ngettext(
                "%(month)s: %(num)s item",
                "%(month)s: %(num)s items",
                m.installations,
                month=_month_label(m.month),
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
                month=_month_label(m.month),
                amount=format_decimal(services.euros(m.paid_cents), format="#,##0.00") + " €",
            ),
        )
        for label, m in zip(labels, board.months, strict=True)
    ]
    first, last = _month_label(board.months[0].month), _month_label(board.months[-1].month)
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
                amount=format_decimal(services.euros(total_paid), format="#,##0.00") + " €",
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

    def tooltip(p: services.MapPoint) -> str:
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
    fmt = _format()
    board = services.dashboard(db.session, current_user, level, obj)
    object_id = getattr(obj, "id", None)
    if fmt is not None:
        return _export_table(board, request.args.get("table", ""), fmt, _stem(level, obj))
    theme = _theme()
    crumbs = services.ancestors(db.session, current_user, level, obj) if obj is not None else []
    tables = [table_view(t, theme, request.args) for t in board.tables]
    return render_template(
        "reports/dashboard.html",
        board=board,
        level=level,
        obj=obj,
        object_id=object_id,
        title=_level_title(level, obj),
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
        **_helpers(),
    )


def _helpers() -> dict[str, Callable[..., Any]]:
    return {
        "show": show,
        "detail": detail,
        "count_of": count_of,
        "level_url": level_url,
        "list_url": list_url,
        "this_url": _this_url,
        "level_label": lambda lvl: LEVEL_LABELS[lvl](),
        "plural_label": lambda lvl: PLURAL_LABELS[lvl](),
        "none_label": lambda lvl: NONE_LABELS.get(lvl, lambda: "—")(),
        "listings": ind.LISTING_BY_CODE,
        "month_label": _month_label,
        "Grain": Grain,
        "Level": Level,
        "ListKind": ListKind,
    }


# -- lists -----------------------------------------------------------------------------------
def _list_rows(
    listing: ind.Listing, items: Sequence[Any], tz: ZoneInfo
) -> tuple[list[str], list[tuple[exporting.Cell, ...]]]:
    locale = _locale()
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
                *(services.euros(line.facts[k]) for k in ind.MONEY_FACTS),
            )
            for line in items
        ],
    )


def _list_page(level: Level, obj: Any, indicator: str) -> str | Response:
    listing = ind.LISTING_BY_CODE.get(indicator)
    if listing is None:
        abort(404)
    fmt = _format()
    raw_model = request.args.get("model", "")
    model_id = int(raw_model) if raw_model.isdigit() and len(raw_model) < 10 else None
    if model_id is not None and listing.kind is not ListKind.TICKET:
        model_id = None
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if fmt is not None:
        items = services.all_rows(db.session, current_user, level, obj, listing, model_id=model_id)
        headers, rows = _list_rows(listing, items, tz)
        return exporting.download(
            fmt,
            f"{_stem(level, obj)}-{listing.code}-{_today()}.{fmt}",
            headers,
            rows,
            sheet_title=listing.code[:31],
        )
    raw_page = request.args.get("page", "1")
    page = services.listing_page(
        db.session,
        current_user,
        level,
        obj,
        listing,
        int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1,
        current_app.config["PAGE_SIZE"],
        model_id=model_id,
    )
    crumbs = services.ancestors(db.session, current_user, level, obj) if obj is not None else []
    args = {"model": model_id} if model_id else {}
    return render_template(
        "reports/list.html",
        level=level,
        obj=obj,
        object_id=getattr(obj, "id", None),
        title=_level_title(level, obj),
        listing=listing,
        page=page,
        args=args,
        crumbs=crumbs,
        tz=tz,
        may_export=policy.allowed(current_user, Action.EXPORT),
        pager_endpoint=request.endpoint,
        pager_args={**(request.view_args or {}), **args},
        **_helpers(),
    )


# -- routes ----------------------------------------------------------------------------------
@bp.get("")
@allow(Action.READ)
def index() -> str | Response:
    return _page(Level.SCOPE, None)


@bp.get("/liste/<indicator>")
@allow(Action.READ)
def scope_list(indicator: str) -> str | Response:
    return _list_page(Level.SCOPE, None, indicator)


def _register(level: Level) -> None:
    model, arg = MODELS[level], ARGS[level]

    @allow(Action.READ, on=(model, arg))
    def page(**kwargs: int) -> str | Response:
        obj = services.load_level(db.session, current_user, level, kwargs[arg])
        return _page(level, obj)

    @allow(Action.READ, on=(model, arg))
    def listing(indicator: str, **kwargs: int) -> str | Response:
        obj = services.load_level(db.session, current_user, level, kwargs[arg])
        return _list_page(level, obj, indicator)

    page.__name__ = f"{level.value}_page"
    listing.__name__ = f"{level.value}_listing"
    bp.add_url_rule(f"/{level.value}/<int:{arg}>", level.value, page, methods=["GET"])
    bp.add_url_rule(
        f"/{level.value}/<int:{arg}>/liste/<indicator>",
        f"{level.value}_list",
        listing,
        methods=["GET"],
    )


for _level in (
    Level.ACADEMIE,
    Level.DEPARTEMENT,
    Level.CIRCONSCRIPTION,
    Level.COLLECTIVITE,
    Level.ECOLE,
    Level.CLASSROOM,
):
    _register(_level)


def _opendata(name: str) -> Response:
    fmt = request.args.get("format", exporting.CSV)
    if fmt not in exporting.FORMATS:
        abort(404)
    level, obj = Level.SCOPE, None
    raw_level, raw_id = request.args.get("niveau", ""), request.args.get("id", "")
    if raw_level:
        if raw_level not in Level._value2member_map_ or raw_level == Level.SCOPE.value:
            abort(404)
        if not raw_id.isdigit() or len(raw_id) > 9:
            abort(404)
        level = Level(raw_level)
        obj = services.load_level(db.session, current_user, level, int(raw_id))
    data = opendata.build(name, db.session, current_user, level, obj)
    suffix = "" if obj is None else f"-{level.value}-{obj.id}"
    return exporting.download(
        fmt,
        f"{name}{suffix}-{_today()}.{fmt}",
        data.columns,
        data.rows,
        sheet_title=name[:31],
    )


@bp.get("/donnees-ouvertes")
@allow(Action.EXPORT)
def opendata_fields() -> str:
    """What each field of the open-data files holds, and where Socle takes it from."""
    endpoints = {
        opendata.COLLECTIVITES: "reports.opendata_collectivites",
        opendata.ECOLES: "reports.opendata_ecoles",
    }
    files = [(ds, endpoints[ds.name], endpoints[ds.name] + "_extended") for ds in opendata.DATASETS]
    return render_template("reports/opendata_fields.html", files=files)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-collectivites")
@allow(Action.EXPORT)
def opendata_collectivites() -> Response:
    return _opendata(opendata.COLLECTIVITES)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-ecoles")
@allow(Action.EXPORT)
def opendata_ecoles() -> Response:
    return _opendata(opendata.ECOLES)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-collectivites-etendu")
@allow(Action.EXPORT)
def opendata_collectivites_extended() -> Response:
    return _opendata(opendata.COLLECTIVITES_EXTENDED)


@bp.get("/donnees-ouvertes/fr-en-aap-snee-ecoles-etendu")
@allow(Action.EXPORT)
def opendata_ecoles_extended() -> Response:
    return _opendata(opendata.ECOLES_EXTENDED)


def _zip(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/collectivite/<int:collectivite_id>/preuves.zip")
@allow(Action.EXPORT, on=(MODELS[Level.COLLECTIVITE], "collectivite_id"))
def evidence_collectivite(collectivite_id: int) -> Response:
    coll = policy.load_or_404(
        current_user, MODELS[Level.COLLECTIVITE], collectivite_id, db.session, Action.EXPORT
    )
    subject = evidence.Subject(coll)
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    data = evidence.evidence_pack(db.session, current_user, subject, tz)
    return _zip(data, f"preuves-{subject.slug}-{_today()}.zip")


@bp.get("/dossier/<int:dossier_id>/preuves.zip")
@allow(Action.EXPORT, on=(Dossier, "dossier_id"))
def evidence_dossier(dossier_id: int) -> Response:
    dossier = policy.load_or_404(current_user, Dossier, dossier_id, db.session, Action.EXPORT)
    subject = evidence.Subject(dossier.collectivite, dossier)
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    data = evidence.evidence_pack(db.session, current_user, subject, tz)
    return _zip(data, f"preuves-{subject.slug}-{_today()}.zip")
