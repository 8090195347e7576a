"""Equipment at national scale: the filtered list, a collectivité's socle status, the import.

Builds the national data (tests/benchmarks/national.py: 50,000 schools, 300,000
classrooms, 2,000,000 assets), then times, signed in as a national administrator:

- ``/equipements`` with the filters a technician combines (a collectivité, a category, a
  status, a search text), at page 1 and at a deep page (through the link the pager
  offers at that depth: a page number within the count cap, else the link next to the
  items above it, or the last-page link); and the list query alone
  (``asset_lists.list_assets``), to tell the database from the page around it;
- the socle status of a collectivité owning 50 schools: its page ``/collectivites/<id>``
  (coverage per school), its dashboard ``/tableau-de-bord/collectivite/<id>`` computed
  afresh (the dashboard cache emptied before each request) and from the cache, and its
  missing-classrooms list ``/socle/classes-manquantes?collectivite=<id>``;
- the import of a 50,000-row equipment CSV in the documented columns, through
  ``run_import`` with the importer and the actor of ``flask assets import``, in a new
  process as the command runs (validation, tag numbering, change log, socle refresh and
  commits included), then the same file again (every row unchanged).

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_assets [--postgres URL] [--scale 0.1]``; with
``BENCH_ASSETS_ONLY=import`` in the environment, only the import is timed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.benchmarks import national
from tests.benchmarks.common import (
    Admin,
    Backend,
    Result,
    Stats,
    Target,
    bench_app,
    log,
    signed_in_admin,
    stopwatch,
    time_calls,
    time_requests,
)

NAME = "assets"
RUNS, WARMUP = 50, 3
BUDGET = 10.0  # seconds per timed series at most (10 runs at least)
IMPORT_ROWS = 50_000
ROWS_PER_SCHOOL = 25  # consecutive rows of one school, as an inventory file has them
SEED = 20_261_201

LIST_P95 = Target("<", 100, "ms")
SOCLE_P95 = Target("<", 200, "ms")
IMPORT_RATE = {
    "SQLite": Target(">=", 5_000, "rows/s"),
    "PostgreSQL": Target(">=", 5_000, "rows/s"),
}


# -- the equipment list ----------------------------------------------------------------------
@dataclass(frozen=True)
class ListScenario:
    key: str
    label: str
    args: dict[str, Any]
    deep: str | None = None  # "last" or "90%"


@dataclass
class ListTiming:
    scenario: ListScenario
    url: str
    page: int
    pages: int
    total: int
    request: Stats
    query: Stats  # asset_lists.list_assets() alone
    html_bytes: int


def scenarios(ids: dict[str, Any]) -> list[ListScenario]:
    """The lists timed; ``ids`` names the collectivité, categories and search texts.

    ``/equipements`` has no département filter (AssetFilters: collectivité, school,
    classroom, category, status, warranty, missing serial, text): the collectivité is the
    geographic filter it offers above the school.
    """
    coll = {"collectivite": ids["collectivite"]}
    eni = {"category": ids["eni"], "status": "in_service"}
    tablets = {"category": ids["tablette"], "status": "in_service"}
    return [
        ListScenario("coll", "collectivité+category+status, page 1", {**coll, **eni}),
        ListScenario("coll_last", "collectivité, last page", coll, "last"),
        ListScenario("cat", "category+status, page 1", tablets),
        ListScenario("cat_deep", "category+status, page at 90%", tablets, "90%"),
        ListScenario("q_one", f"q={ids['serial']} (one item), page 1", {"q": ids["serial"]}),
        ListScenario("q_many", f"q={ids['tag']}, page 1", {"q": ids["tag"]}),
        ListScenario("q_many_deep", f"q={ids['tag']}, last page", {"q": ids["tag"]}, "last"),
        ListScenario(
            "all4",
            f"collectivité+category+status+q={ids['coll_tag']}, page 1",
            {**coll, "category": ids["tablette"], "status": "in_service", "q": ids["coll_tag"]},
        ),
        ListScenario("none", "no filter, page 1", {}),
        ListScenario("none_deep", "no filter, page at 90%", {}, "90%"),
    ]


def _filters(args: dict[str, Any]) -> Any:
    """The filters the view builds from these query arguments."""
    from inventory.assets.lists import AssetFilters
    from inventory.assets.models import AssetStatus

    return AssetFilters(
        q=args.get("q", ""),
        collectivite=args.get("collectivite"),
        category=args.get("category"),
        status=AssetStatus(args["status"]) if "status" in args else None,
    )


def list_ids(app: Flask, nat: national.National) -> dict[str, Any]:
    """The ids and texts the list scenarios filter on, read from the data."""
    from inventory.assets.models import Asset, EquipmentCategory
    from inventory.extensions import db

    rng = random.Random(SEED)
    with app.app_context():
        s = db.session
        cats = dict(s.execute(select(EquipmentCategory.code, EquipmentCategory.id)).tuples().all())
        top = s.scalar(select(func.max(Asset.id))) or 1
        serial = None
        while not serial:
            serial = s.scalar(select(Asset.serial).where(Asset.id == rng.randrange(1, top + 1)))
        coll_tag = s.scalar(
            select(Asset.tag).where(Asset.collectivite_id == nat.collectivite_id).limit(1)
        )
        s.remove()
    assert coll_tag is not None
    # What a technician types: the end of a serial number read on a sticker (one item);
    # a tag prefix and year, as printed on the labels of a whole purchase (many items).
    return {
        "collectivite": nat.collectivite_id,
        "eni": cats["eni"],
        "tablette": cats["tablette"],
        "serial": serial[-8:],
        "tag": coll_tag.rsplit("-", 1)[0],
        "coll_tag": coll_tag.rsplit("-", 1)[0] + "-0",
    }


def _depth_url(
    app: Flask, sc: ListScenario, per_page: int
) -> tuple[str, int, int, int, dict[str, int]]:
    """The URL of the scenario's page, its number, the number of pages and of items (an
    exact count, untimed) and the paging arguments of ``asset_lists.list_assets``.

    A list within the count cap is paged by number (``page=N``), as its pager links; so
    is a search whose items all fit in its window of ids (it counts them exactly). Past
    the cap the pager links the last page (``before=0``) and the next page of any page
    (``after=<last id shown>``): the deep page is the one at the same depth, reached
    through the link that leads to it (the item just above it, found here by offset)."""
    from inventory.assets import lists as asset_lists
    from inventory.assets.models import Asset
    from inventory.extensions import db

    filters = _filters(sc.args)
    admin = Admin()
    with app.app_context():
        keys = policy_visible(admin, filters.apply(select(Asset.id)))
        total = db.session.scalar(select(func.count()).select_from(keys.subquery())) or 0
        pages = max(1, -(-total // per_page))
        page = {"last": pages, "90%": max(1, round(pages * 0.9))}.get(sc.deep or "", 1)
        paging: dict[str, int] = {"page": 1}
        counted = asset_lists.LIST_SEARCH_WINDOW if sc.args.get("q") else asset_lists.LIST_COUNT_CAP
        if page > 1 and total > max(counted, asset_lists.LIST_COUNT_CAP):
            if sc.deep == "last":
                paging = {"before": 0}
            else:
                above = db.session.scalar(
                    keys.order_by(Asset.id.desc()).offset((page - 1) * per_page - 1).limit(1)
                )
                paging = {"after": above}
        elif page > 1:
            paging = {"page": page}
        db.session.remove()
    shown = {k: v for k, v in paging.items() if k != "page" or v > 1}
    return f"/equipements?{urlencode({**sc.args, **shown})}", page, pages, total, paging


def policy_visible(admin: Any, stmt: Any) -> Any:
    from inventory.assets.models import Asset
    from inventory.core import policy

    return policy.visible(admin, stmt, Asset)


def time_lists(
    app: Flask, client: FlaskClient, nat: national.National, runs: int = RUNS
) -> list[ListTiming]:
    from inventory.assets import lists as asset_lists
    from inventory.extensions import db

    admin = Admin()
    per_page = app.config["PAGE_SIZE"]
    out = []
    for sc in scenarios(list_ids(app, nat)):
        filters = _filters(sc.args)
        url, page, pages, total, paging = _depth_url(app, sc, per_page)
        request = time_requests(client, url, runs=runs, warmup=WARMUP, budget=BUDGET)
        html_bytes = len(client.get(url).data)

        def query(filters: Any = filters, paging: dict[str, int] = paging) -> None:
            asset_lists.list_assets(
                db.session,
                admin,
                filters,
                paging.get("page", 1),
                per_page,
                after=paging.get("after"),
                before=paging.get("before"),
            )
            db.session.remove()

        with app.app_context():
            query_stats = time_calls(query, runs=runs, warmup=WARMUP, budget=BUDGET)
        out.append(ListTiming(sc, url, page, pages, total, request, query_stats, html_bytes))
        log(
            f"  GET {url} (page {page} of {pages}, {total:,} items): median "
            f"{request.median:.1f} ms, p95 {request.p95:.1f} ms over {len(request.samples)}; "
            f"list query alone p95 {query_stats.p95:.1f} ms"
        )
    return out


# -- the socle status of a collectivité ------------------------------------------------------
@dataclass
class SocleTiming:
    key: str
    label: str
    url: str
    stats: Stats
    detail: str
    target: Target | None


def time_socle(
    app: Flask, client: FlaskClient, nat: national.National, runs: int = RUNS
) -> list[SocleTiming]:
    from inventory.assets.models import ClassroomSocle
    from inventory.extensions import db
    from inventory.orgs.models import Classroom, Ecole

    coll = nat.collectivite_id
    with app.app_context():
        s = db.session
        schools = s.scalar(select(func.count()).where(Ecole.collectivite_id == coll))
        rooms = s.scalar(
            select(func.count())
            .select_from(Classroom)
            .join(Ecole, Ecole.id == Classroom.ecole_id)
            .where(Ecole.collectivite_id == coll)
        )
        targets, meeting = s.execute(
            select(
                func.count().filter(ClassroomSocle.is_target.is_(True)),
                func.count().filter(ClassroomSocle.is_target.is_(True), ClassroomSocle.meets),
            )
            .select_from(ClassroomSocle)
            .join(Ecole, Ecole.id == ClassroomSocle.ecole_id)
            .where(Ecole.collectivite_id == coll)
        ).one()
        s.remove()
    what = (
        f"collectivité #{coll}: {schools} schools, {rooms} classrooms, {targets} target "
        f"classrooms of which {meeting} meet the socle"
    )
    out = []
    for key, label, url, cold in (
        ("page", "/collectivites/<id> (coverage per school)", f"/collectivites/{coll}", False),
        (
            "dashboard",
            "/tableau-de-bord/collectivite/<id>, computed",
            f"/tableau-de-bord/collectivite/{coll}",
            True,
        ),
        (
            "missing",
            "/socle/classes-manquantes?collectivite=<id>",
            f"/socle/classes-manquantes?collectivite={coll}",
            False,
        ),
    ):

        def get(url: str = url) -> None:
            # (No dashboard is kept between requests: every one is computed.)
            response = client.get(url)
            if response.status_code != 200:
                raise AssertionError(f"GET {url} answered {response.status_code}")
            response.close()

        stats = time_calls(get, runs=runs, warmup=WARMUP, budget=BUDGET)
        detail = f"GET {url}, {len(stats.samples)} runs; {what}"
        if cold:
            detail += "; computed at each request (nothing is kept per process)"
        out.append(SocleTiming(key, label, url, stats, detail, SOCLE_P95))
        log(
            f"  GET {url}{' (cold)' if cold else ''}: median {stats.median:.1f} ms, "
            f"p95 {stats.p95:.1f} ms"
        )
    return out


# -- the import ------------------------------------------------------------------------------
STATUS_SPELLINGS = ("in_service", "en service", "En service", "delivered", "livré", "installed")


def import_csv(app: Flask, rows: int, seed: int = SEED, *, tagged: bool = False) -> bytes:
    """An equipment file in the documented columns (French headers, ';', UTF-8 with BOM, as
    the spreadsheet template saved as CSV gives): new items for schools all over the
    country, in their classrooms or shared, of catalogued models and a few new ones.

    Untagged, Socle numbers the items (the usual first import); ``tagged``, each row
    carries the asset tag already stuck on the item (an inventory taken over from
    another tool)."""
    from inventory.assets.models import EquipmentCategory, EquipmentModel, Manufacturer
    from inventory.assets.spreadsheet import FIELD_BY_KEY
    from inventory.extensions import db
    from inventory.orgs.models import Classroom, Ecole

    rng = random.Random(seed)
    n_schools = max(1, rows // ROWS_PER_SCHOOL)
    with app.app_context():
        s = db.session
        models = s.execute(
            select(Manufacturer.name, EquipmentModel.name, EquipmentCategory.code)
            .join(Manufacturer, Manufacturer.id == EquipmentModel.manufacturer_id)
            .join(EquipmentCategory, EquipmentCategory.id == EquipmentModel.category_id)
            .order_by(EquipmentModel.id)
        ).all()
        ecole_ids = list(
            s.scalars(select(Ecole.id).where(Ecole.collectivite_id.is_not(None)).order_by(Ecole.id))
        )
        chosen = sorted(rng.sample(ecole_ids, min(n_schools, len(ecole_ids))))
        uais: dict[int, str] = {}
        rooms: dict[int, list[str]] = {}
        for i in range(0, len(chosen), 900):
            chunk = chosen[i : i + 900]
            uais.update(
                s.execute(select(Ecole.id, Ecole.uai).where(Ecole.id.in_(chunk))).tuples().all()
            )
            for ecole_id, name in s.execute(
                select(Classroom.ecole_id, Classroom.name)
                .where(Classroom.ecole_id.in_(chunk))
                .order_by(Classroom.id)
            ):
                rooms.setdefault(ecole_id, []).append(name)
        s.remove()
    keys = (
        *(("numero_inventaire",) if tagged else ()),
        "uai",
        "classe",
        "categorie",
        "fabricant",
        "modele",
        "numero_serie",
        "statut",
        "fournisseur",
        "numero_commande",
        "numero_facture",
        "date_achat",
        "prix_ht",
        "prix_ttc",
        "fin_garantie",
        "mac",
        "ip",
        "notes",
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([FIELD_BY_KEY[k].header for k in keys])
    n = 0
    while n < rows:
        ecole_id = chosen[(n // ROWS_PER_SCHOOL) % len(chosen)]
        maker, model, code = rng.choice(models)
        if rng.random() < 0.005:
            model = f"{model} rév. {rng.randrange(1, 40)}"  # a model the catalogue lacks
        room = rng.choice(rooms[ecole_id]) if rooms.get(ecole_id) and rng.random() < 0.7 else ""
        cents = rng.randrange(15_000, 300_000)
        ttc = cents * 6 // 5
        french = rng.random() < 0.5
        day = f"{rng.randrange(1, 29):02d}"
        month = f"{rng.randrange(1, 13):02d}"
        networked = code not in ("classe_mobile", "visualiseur", "captation")
        mac_bytes = [0x02, 0xBE, (n >> 16) & 255, (n >> 8) & 255, n & 255, 0x42]
        writer.writerow(
            (
                *((f"INV{seed % 1000:03d}-{n:07d}",) if tagged else ()),
                uais[ecole_id],
                room,
                code,
                maker,
                model,
                f"IMP{seed % 1000:03d}{n:08d}",
                rng.choice(STATUS_SPELLINGS),
                "UGAP",
                f"BC-2025-{n // 200:04d}",
                f"F-2025-{n // 200:05d}",
                f"{day}/{month}/2025" if french else f"2025-{month}-{day}",
                _french_amount(cents) if french else f"{cents / 100:.2f}",
                f"{ttc / 100:.2f}",
                f"2030-{month}-{day}",
                ("-" if french else ":").join(f"{b:02X}" for b in mac_bytes) if networked else "",
                f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n % 250 + 2}" if networked else "",
                "Livré avec son support mural" if rng.random() < 0.03 else "",
            )
        )
        n += 1
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _french_amount(cents: int) -> str:
    """2 490,00: a space between thousands, a decimal comma."""
    euros, rest = divmod(cents, 100)
    return f"{euros:,}".replace(",", " ") + f",{rest:02d}"


@dataclass
class ImportTiming:
    label: str
    rows: int
    seconds: float
    report: str

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def run_cli_import(app: Flask, data: bytes, filename: str) -> tuple[float, Any]:
    """What ``flask assets import FILE`` runs (its actor and subject, the one entry point
    import_assets without a storage collectivité), timed; returns (seconds, report)."""
    from inventory.assets.importers import import_assets
    from inventory.cli import CONSOLE
    from inventory.core import audit
    from inventory.extensions import db

    with app.app_context(), audit.acting_as(audit.Actor(None, "cli:bench")):
        with stopwatch() as elapsed:
            report = import_assets(db.session, CONSOLE, data, filename)
        db.session.remove()
    return elapsed(), report


@dataclass
class ImportOutcome:
    """What a child process's import reports back (see :func:`import_in_a_new_process`)."""

    counts: dict[str, int]
    rejected: list[tuple[int, str]]
    summary: str


def import_in_a_new_process(app: Flask, data: bytes, filename: str) -> tuple[float, ImportOutcome]:
    """:func:`run_cli_import` in a new Python process, as ``flask assets import`` runs:
    the benchmark's own process has just generated millions of rows, whose leftovers
    (a heap of hundreds of megabytes) slow any Python code that follows. Only the import
    is timed, as in this process."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / filename
        path.write_bytes(data)
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, url, str(path)],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parents[2],
        )
    if child.returncode != 0:
        raise RuntimeError(f"the import process failed:\n{child.stderr[-3000:]}")
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    outcome = ImportOutcome(
        answer["counts"], [tuple(r) for r in answer["rejected"]], answer["summary"]
    )
    return answer["seconds"], outcome


_CHILD = """
import json, sys
from pathlib import Path
from tests.benchmarks.bench_assets import run_cli_import
from tests.benchmarks.common import make_app

app = make_app(sys.argv[1], RATELIMIT_ENABLED=False)
path = Path(sys.argv[2])
seconds, report = run_cli_import(app, path.read_bytes(), path.name)
print(json.dumps({
    "seconds": seconds,
    "counts": report.counts,
    "rejected": [(r.line, r.reason) for r in report.rejected[:5]],
    "summary": report.summary(),
}))
"""


def time_import(app: Flask, rows: int) -> list[ImportTiming]:
    """The untagged file (Socle numbers the items), the same file again (every row
    unchanged), then a file whose rows carry their tags; each on the national data."""
    untagged = import_csv(app, rows)
    tagged = import_csv(app, rows, SEED + 1, tagged=True)
    log(f"  import files: {rows:,} rows, {len(untagged) / 1e6:.1f} MB")
    out = []
    for label, data, outcome in (
        ("untagged", untagged, "created"),
        ("untagged, again", untagged, "unchanged"),
        ("tagged", tagged, "created"),
    ):
        seconds, report = import_in_a_new_process(app, data, f"equipements-{label}.csv")
        if report.rejected or report.counts[outcome] != rows:
            sample = "; ".join(f"line {line}: {reason}" for line, reason in report.rejected)
            raise AssertionError(f"import not clean: {report.summary} {sample}")
        out.append(ImportTiming(label, rows, seconds, report.summary))
        log(f"  import, {label}: {report.summary} in {seconds:.1f}s ({rows / seconds:,.0f} rows/s)")
    return out


# -- the benchmark ---------------------------------------------------------------------------
def run(backend: Backend, *, scale: float = 1.0, runs: int = RUNS) -> list[Result]:
    """The equipment benchmark on one engine; ``scale`` shrinks the national data (and the
    import file, to 5,000 rows at least)."""
    log(f"{backend.name}: assets at national scale (scale {scale:g})")
    # Rate limits never apply to these pages (signed-in GETs), and are off for the bench.
    with bench_app(backend, RATELIMIT_ENABLED=False) as app:
        nat = national.build(app, scale=scale)
        lists: list[ListTiming] = []
        socle: list[SocleTiming] = []
        # BENCH_ASSETS_ONLY=import times the import alone, while working on it.
        if os.environ.get("BENCH_ASSETS_ONLY") != "import":
            client = signed_in_admin(app)
            lists = time_lists(app, client, nat, runs)
            socle = time_socle(app, client, nat, runs)
        imported = (
            time_import(app, max(5_000, round(IMPORT_ROWS * scale)))
            if os.environ.get("BENCH_ASSETS_IMPORT", "1") != "0"
            else []
        )
    size = f"{nat.assets / 1e6:g}M" if nat.assets >= 1e6 else f"{nat.assets // 1000}k"
    results = [
        Result(
            "national data build (assets)",
            nat.total_seconds,
            "s",
            detail=nat.summary(),
        )
    ]
    for t in lists:
        detail = (
            f"GET {t.url}: page {t.page} of {t.pages} ({t.total:,} items), "
            f"{len(t.request.samples)} runs, {t.html_bytes / 1024:.0f} KiB"
        )
        results.append(
            Result(
                f"/equipements {t.scenario.label} @{size}: p95",
                t.request.p95,
                "ms",
                LIST_P95,
                detail,
            )
        )
    for t in lists:
        results.append(
            Result(f"  list query alone, {t.scenario.label} @{size}: p95", t.query.p95, "ms")
        )
    for t in socle:
        results.append(
            Result(f"socle of 50 schools, {t.label}: p95", t.stats.p95, "ms", t.target, t.detail)
        )
    target = IMPORT_RATE.get(backend.name)
    for t in imported:
        results.append(
            Result(
                f"asset import, {t.rows:,} rows ({backend.name})"
                if t.label == "untagged"
                else f"  asset import, {t.label} ({backend.name})",
                t.rate,
                "rows/s",
                target if t.label == "untagged" else None,
                f"{t.report} in {t.seconds:.1f}s, onto {nat.assets:,} assets"
                + ("; Socle numbers the items" if t.label == "untagged" else ""),
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
