"""The dashboards and the open-data export of the conventions at national scale.

Builds the whole national data (tests/benchmarks/national.py: 50,000 schools, 300,000
classrooms, 2,000,000 assets with their first lifecycle step, network works, 7,000 grant
dossiers with 100,000 expense lines, 100,000 tickets, 30,000 training sessions), signs
in an administrator (national scope) and times, through the test client (server time,
the body read to its end):

- ``GET /tableau-de-bord/academie/<id>``, the académie with the most schools;
- ``GET /tableau-de-bord``, the national dashboard of the administrator's scope;
- ``GET /tableau-de-bord/donnees-ouvertes/fr-en-aap-snee-collectivites``, the CSV of every
  convention (one row per awarded dossier), its rows counted against the database; and,
  for information, the per-school file ``fr-en-aap-snee-ecoles``.

The facts of the large tables are kept in the database per school and per département
(inventory/reports/summary.py). A business change marks the schools it makes stale in its
own transaction (inventory/reports/stale.py); the next dashboard read refreshes them
(inventory/reports/refresh.py). Nothing is kept per process: every request computes its
dashboard from the summaries. The national builder writes its rows in bulk without marks,
so the summaries are first computed from the sources (``refresh_all``), timed on its own.
Each page is then timed two ways, and the targets apply to both:

- *summaries up to date*: nothing marked stale, the dashboard computed from the summaries
  (what every request of every worker does when the data has not moved);
- *after a data change*: before each run, an item of the académie goes under repair (or
  back in service) through the equipment service, as a technician would do it: its school
  is marked stale, and the request refreshes its summary and its département's sum before
  computing the dashboard.

The database's own caches (SQLite's pages in the OS cache, PostgreSQL's shared buffers)
are warm in every case: one untimed request precedes the timed ones, its time given in
the details.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_dashboards [--postgres URL] [--scale 0.1]``.
"""

from __future__ import annotations

import csv
import gc
import io
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import exists, func, select

from tests.benchmarks import national
from tests.benchmarks.common import (
    Admin,
    Backend,
    Result,
    Stats,
    Target,
    bench_app,
    load_average,
    log,
    signed_in_admin,
)

NAME = "dashboards"
ACADEMIE_TARGET = Target("<", 300, "ms")
NATIONAL_TARGET = Target("<", 1000, "ms")
OPENDATA_TARGET = Target("<", 5000, "ms")  # 5 s, in ms for the precision of the table
# A first computation runs queries over millions of rows: few runs, each capped by a
# budget so that a slow engine does not hold the whole run for long.
COLD_RUNS = 5
COLD_BUDGET = 60.0
FRESH_RUNS = 20
FRESH_BUDGET = 20.0
OPENDATA = "/tableau-de-bord/donnees-ouvertes"
CONVENTIONS = "fr-en-aap-snee-collectivites"
SCHOOLS_FILE = "fr-en-aap-snee-ecoles"


# -- timing ----------------------------------------------------------------------------------
def fetch(client: FlaskClient, url: str) -> bytes:
    """GET ``url``, its body read to the end: the CSV exports stream their rows while the
    body is read, which is part of the time to serve them."""
    response = client.get(url)
    try:
        if response.status_code != 200:
            raise AssertionError(f"GET {url} answered {response.status_code}, not 200")
        return response.get_data()
    finally:
        response.close()


def timed(
    client: FlaskClient,
    url: str,
    *,
    before: Callable[[], None] | None = None,
    runs: int,
    budget: float,
) -> Stats:
    """``runs`` timed GETs (fewer once ``budget`` seconds are spent: a single one when it
    takes minutes), each preceded, untimed, by ``before`` (which forgets what the app has
    cached)."""
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs:
        if before is not None:
            before()
        gc.collect()  # the garbage of the previous run is not this one's
        start = time.perf_counter()
        fetch(client, url)
        samples.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() - started > budget:
            break
    return Stats(tuple(samples))


def rebuild_summaries(app: Flask) -> float:
    """Seconds to compute every summary from the sources (after the bulk load)."""
    from inventory.extensions import db
    from inventory.reports.refresh import refresh_all

    with app.app_context():
        start = time.perf_counter()
        refresh_all(db.session)
        seconds = time.perf_counter() - start
        db.session.remove()
    return seconds


def item_toggler(app: Flask, academie_id: int) -> Callable[[], None]:
    """Each call puts an item in service at a school of the académie under repair, or back
    in service, through the equipment service (change log, socle refresh, commit)."""
    from inventory.assets import lifecycle as asset_lifecycle
    from inventory.assets.models import Asset, AssetStatus
    from inventory.extensions import db
    from inventory.orgs.models import Departement, Ecole

    with app.app_context():
        asset_id = db.session.scalar(
            select(Asset.id)
            .join(Ecole, Ecole.id == Asset.ecole_id)
            .join(Departement, Departement.id == Ecole.departement_id)
            .where(Departement.academie_id == academie_id, Asset.status == AssetStatus.IN_SERVICE)
            .order_by(Asset.id)
            .limit(1)
        )
        db.session.remove()

    def toggle() -> None:
        with app.app_context():
            asset = db.session.get(Asset, asset_id)
            to = (
                AssetStatus.UNDER_REPAIR
                if asset.status == AssetStatus.IN_SERVICE
                else AssetStatus.IN_SERVICE
            )
            asset_lifecycle.change_status(db.session, Admin(), asset, to)
            db.session.remove()

    return toggle


@dataclass
class PageTimes:
    url: str
    first_ever: float  # ms, the very first request: templates compiled, database caches cold
    fresh: Stats
    after_change: Stats


def time_page(client: FlaskClient, url: str, label: str, change: Callable[[], None]) -> PageTimes:
    gc.collect()
    start = time.perf_counter()
    fetch(client, url)
    first = (time.perf_counter() - start) * 1000
    log(f"  {label}: first request {first:,.0f} ms (load {load_average()})")
    fresh = timed(client, url, runs=FRESH_RUNS, budget=FRESH_BUDGET)
    log(f"  {label}: summaries up to date, median {fresh.median:,.0f} ms, p95 {fresh.p95:,.0f} ms")
    changed = timed(client, url, before=change, runs=COLD_RUNS, budget=COLD_BUDGET)
    log(f"  {label}: after an item's status change, median {changed.median:,.0f} ms")
    return PageTimes(url, first, fresh, changed)


# -- what the pages should show --------------------------------------------------------------
@dataclass(frozen=True)
class Academie:
    id: int
    name: str
    schools: int


def biggest_academie(app: Flask) -> Academie:
    from inventory.extensions import db
    from inventory.orgs.models import Academie as Model
    from inventory.orgs.models import Departement, Ecole

    with app.app_context():
        row = db.session.execute(
            select(Model.id, Model.name, func.count(Ecole.id))
            .join(Departement, Departement.academie_id == Model.id)
            .join(Ecole, Ecole.departement_id == Departement.id)
            .group_by(Model.id, Model.name)
            .order_by(func.count(Ecole.id).desc(), Model.id)
            .limit(1)
        ).one()
        db.session.remove()
    return Academie(row[0], row[1], row[2])


def expected_conventions(app: Flask) -> int:
    """The rows of the conventions' file for a national reader: the awarded dossiers that
    cover at least one school."""
    from inventory.extensions import db
    from inventory.grants.models import Dossier, DossierSchool
    from inventory.reports.indicators import AWARDED

    with app.app_context():
        n = db.session.scalar(
            select(func.count(Dossier.id)).where(
                Dossier.status.in_(AWARDED),
                exists().where(DossierSchool.dossier_id == Dossier.id),
            )
        )
        db.session.remove()
    return int(n or 0)


def national_paid_cents(app: Flask) -> int:
    """The aid received of the national dashboard, which the conventions' file
    (montant_de_la_subvention, the aid paid) must add up to."""
    from inventory.extensions import db
    from inventory.reports.dashboard import dashboard
    from inventory.reports.levels import Level

    with app.app_context():
        board = dashboard(db.session, Admin(), Level.SCOPE)
        paid = board.totals["paid_cents"]
        db.session.remove()
    return int(paid)


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def check_conventions(client: FlaskClient, url: str, expected: int, paid_cents: int) -> str:
    """The file is not empty, holds one row per convention, and its aid paid adds up to the
    dashboard's aid received; returns what was checked, for the details."""
    from inventory.reports.opendata import COLLECTIVITES_COLUMNS

    rows = read_csv(fetch(client, url))
    if not rows or tuple(rows[0]) != COLLECTIVITES_COLUMNS:
        raise AssertionError(f"GET {url}: not the conventions' columns: {rows[:1]}")
    if len(rows) - 1 != expected or expected == 0:
        raise AssertionError(f"GET {url}: {len(rows) - 1} conventions, {expected} expected")
    paid = COLLECTIVITES_COLUMNS.index("montant_de_la_subvention")
    total = sum(Decimal(r[paid]) for r in rows[1:])
    if total != Decimal(paid_cents) / 100:
        raise AssertionError(
            f"GET {url}: the conventions' aid paid adds up to {total} €, the dashboard's "
            f"aid received to {Decimal(paid_cents) / 100} €"
        )
    return (
        f"{expected:,} conventions (awarded dossiers), aid paid adding up to the dashboard's "
        "aid received"
    )


# -- the benchmark ---------------------------------------------------------------------------
def runs(samples: tuple[float, ...]) -> str:
    return f"{len(samples)} run{'s' if len(samples) != 1 else ''}"


def page_results(label: str, t: PageTimes, target: Target, what: str) -> list[Result]:
    s = t.fresh.samples
    return [
        Result(
            f"{label}, summaries up to date: median",
            t.fresh.median,
            "ms",
            target,
            f"GET {t.url}, {what}; {runs(s)}, nothing marked stale, computed from the "
            f"summaries at each request (nothing kept per process): p95 {t.fresh.p95:,.0f} ms, "
            f"max {max(s):,.0f}; very first request (templates compiled, database caches "
            f"cold) {t.first_ever:,.0f} ms",
        ),
        Result(
            f"{label}, after a data change: median",
            t.after_change.median,
            "ms",
            target,
            f"{runs(t.after_change.samples)}, each after an item of the académie changed "
            "status through the equipment service: its school marked stale, its summary and "
            f"its département's sum refreshed by the request; max "
            f"{max(t.after_change.samples):,.0f} ms",
        ),
    ]


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    log(f"{backend.name}: dashboards and open data at national scale (scale {scale:g})")
    with bench_app(backend) as app:
        nat = national.build(app, scale=scale, grants=True, tickets=True, training=True)
        academie = biggest_academie(app)
        expected = expected_conventions(app)
        client = signed_in_admin(app)
        log(f"  académie {academie.name} ({academie.schools:,} schools); load {load_average()}")
        rebuild = rebuild_summaries(app)
        log(f"  summaries computed from the sources in {rebuild:,.1f} s")
        change = item_toggler(app, academie.id)
        acad = time_page(client, f"/tableau-de-bord/academie/{academie.id}", "académie", change)
        whole = time_page(client, "/tableau-de-bord", "national", change)
        conventions_url = f"{OPENDATA}/{CONVENTIONS}"
        checked = check_conventions(client, conventions_url, expected, national_paid_cents(app))
        log(f"  {conventions_url}: {checked}")
        conv = timed(client, conventions_url, runs=COLD_RUNS, budget=COLD_BUDGET)
        log(f"  conventions' CSV: median {conv.median:,.0f} ms")
        schools_url = f"{OPENDATA}/{SCHOOLS_FILE}"
        schools_rows = len(read_csv(fetch(client, schools_url))) - 1
        schools_times = timed(client, schools_url, runs=COLD_RUNS, budget=COLD_BUDGET)
        log(f"  schools' CSV: median {schools_times.median:,.0f} ms")
    return [
        Result("national data build (dashboards)", nat.total_seconds, "s", detail=nat.summary()),
        Result(
            "  dashboard summaries computed from the sources",
            rebuild,
            "s",
            detail="every school's and département's summary, once after the bulk load "
            "(which wrote no stale marks): refresh_all; later changes mark their schools, and "
            "only those are refreshed",
        ),
        *page_results(
            "académie dashboard",
            acad,
            ACADEMIE_TARGET,
            f"académie {academie.name}, the one with the most schools ({academie.schools:,}), "
            "admin of national scope",
        ),
        *page_results(
            "national dashboard",
            whole,
            NATIONAL_TARGET,
            f"{nat.schools:,} schools, admin of national scope",
        ),
        Result(
            "open data, conventions CSV: median",
            conv.median,
            "ms",
            OPENDATA_TARGET,
            f"GET {conventions_url}: {checked}; {runs(conv.samples)}, each computing every "
            f"dossier's aid (nothing kept per process), body read to the end: min "
            f"{min(conv.samples):,.0f} ms, max {max(conv.samples):,.0f} ms",
        ),
        Result(
            "  open data, schools CSV: median",
            schools_times.median,
            "ms",
            detail=f"GET {schools_url}: {schools_rows:,} schools covered by a convention, "
            f"{runs(schools_times.samples)}",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
