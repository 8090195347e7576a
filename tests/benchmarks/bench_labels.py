"""Labels: 1,000 QR labels of one collectivité's equipment on Avery L7160 sheets.

Imports a synthetic Annuaire of 2,000 schools, equips every school (bulk, not measured),
and gives the collectivité owning the most schools exactly 1,000 items, most of them paid
for by a SNEE dossier (so that their labels carry the funding mention). Then, through the
print page's routes with the test client:

- first print: ``POST /etiquettes?collectivite=<id>`` with no scan token issued yet (every
  token deleted before each run), so that the print issues 1,000 tokens and computes their
  QR matrices, renders the PDF and logs the print;
- reprint: ``POST /etiquettes/historique/<job>``, the print log's reprint, every matrix
  cached in its token;
- the PDF's size per label.

Under them, the services the routes call, timed alone: ``labels.services.asset_labels``
with the matrices cleared then cached, and ``labels.render.render_pdf``.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_labels [--postgres URL] [--scale 0.1]``.
"""

from __future__ import annotations

import gc
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.benchmarks.bench_registry import add_classrooms, import_registry, synthetic_annuaire
from tests.benchmarks.builders import (
    Assets,
    AssetSpec,
    School,
    add_catalogue,
    equip_school,
    first_free_id,
    insert_rows,
    moment,
    public_schools,
    sync_sequences,
)
from tests.benchmarks.common import (
    Admin,
    Backend,
    Result,
    Stats,
    Target,
    analyze,
    bench_app,
    log,
    signed_in_admin,
    stopwatch,
)

NAME = "labels"
LABELS = 1_000
SCHOOLS = 2_000
CLASSROOMS_PER_SCHOOL = 6
FORMAT = "avery-l7160"
BASE_URL = "https://socle.ac-exemple.fr"
FUNDED_SHARE = 0.8
SEED = 20_260_903
FIRST_RUNS, REPRINT_RUNS, SERVICE_RUNS = 5, 10, 5
BUDGET = 60.0  # seconds per timed series at most

FIRST_PRINT = Target("<", 5, "s")
REPRINT = Target("<", 1.5, "s")
PDF_SIZE = Target("<", 2_000, "B/label")


@dataclass
class Built:
    collectivite_id: int
    collectivite: str
    schools: int
    labels: int
    funded: int
    assets: int


def build(app: Flask, n_labels: int) -> Built:
    """The registry, equipment everywhere, the chosen collectivité's ``n_labels`` items
    and the dossier that paid for most of them."""
    from sqlalchemy import select

    from inventory.core import audit
    from inventory.extensions import db
    from inventory.grants.models import (
        Dossier,
        DossierSchool,
        Expense,
        ExpenseAllocation,
        FundingLink,
        FundingScheme,
    )
    from inventory.grants.schemes import install_presets

    with stopwatch() as elapsed:
        import_registry(app, synthetic_annuaire(SCHOOLS, seed=SEED))
        add_classrooms(app, SCHOOLS * CLASSROOMS_PER_SCHOOL, seed=SEED)
    log(f"  registry of {SCHOOLS:,} schools imported in {elapsed():.1f}s")
    rng = random.Random(SEED)
    with stopwatch() as elapsed, app.app_context(), audit.acting_as(audit.Actor(None, "bench")):
        session = db.session
        install_presets(session)
        snee = session.scalar(select(FundingScheme).where(FundingScheme.code == "snee-2021"))
        models = add_catalogue(session)
        schools = public_schools(session)
        by_coll: dict[int, list[School]] = defaultdict(list)
        for s in schools:
            by_coll[s.collectivite_id].append(s)
        target = max(by_coll, key=lambda c: (len(by_coll[c]), -c))
        own = by_coll[target]
        assets = Assets(session)
        delivered = moment(rng, date(2022, 3, 1), date(2022, 9, 1))
        in_service = delivered + timedelta(days=20)
        # The collectivité's items: its schools' socle equipment, then class sets of
        # tablets and laptops until exactly ``n_labels``.
        mine: list[AssetSpec] = []
        for s in own:
            mine += equip_school(rng, models, s, delivered, in_service)
        k = 0
        while len(mine) < n_labels:
            s = own[k % len(own)]
            code = "tablette" if k % 2 == 0 else "pc_eleve"
            mine.append(
                AssetSpec(
                    rng.choice(models[code]),
                    s.collectivite_id,
                    s.collectivite_name,
                    s.id,
                    None,
                    delivered,
                    in_service,
                )
            )
            k += 1
        mine = mine[:n_labels]
        mine_ids = assets.add(mine)
        others = 0
        for coll, coll_schools in by_coll.items():
            if coll == target:
                continue
            for s in coll_schools:
                day = moment(rng, date(2021, 6, 1), date(2024, 6, 1))
                specs = equip_school(rng, models, s, day, day + timedelta(days=15))
                assets.add(specs)
                others += len(specs)
        assets.finish()

        # A SNEE dossier of the collectivité paid for most of its items: one invoice line
        # per school and model.
        dossier_id = first_free_id(session, Dossier)
        insert_rows(
            session,
            Dossier,
            [
                {
                    "id": dossier_id,
                    "collectivite_id": target,
                    "scheme_id": snee.id,
                    "scheme_version": snee.version,
                    "rules": snee.rules,
                    "reference": f"SNEE-2021-{dossier_id:05d}",
                    "title": f"{snee.name} – {own[0].collectivite_name}",
                    "status": "signed",
                    "convention_max_cents": 50_000_000,
                    "decision_on": date(2021, 9, 1),
                    "convention_signed_on": date(2021, 10, 1),
                    "spending_deadline": date(2023, 12, 31),
                    "planned_cents": {},
                    "created_at": datetime(2021, 5, 3, 9, tzinfo=UTC),
                    "version": 1,
                }
            ],
        )
        insert_rows(
            session,
            DossierSchool,
            [
                {
                    "dossier_id": dossier_id,
                    "ecole_id": s.id,
                    "classes": max(1, len(s.classrooms)),
                    "pupils": 24 * max(1, len(s.classrooms)),
                }
                for s in own
            ],
        )
        funded = [(i, spec) for i, spec in zip(mine_ids, mine, strict=True)]
        funded = funded[: round(len(funded) * FUNDED_SHARE)]
        lines: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for asset_id, spec in funded:
            lines[(spec.ecole_id or 0, spec.model.id)].append((asset_id, spec.model.price_cents))
        expense_id = first_free_id(session, Expense)
        expenses, allocations, links = [], [], []
        for (ecole_id, _model), items in lines.items():
            ttc = sum(price for _, price in items)
            ht = round(ttc / 1.2)
            expenses.append(
                {
                    "id": expense_id,
                    "dossier_id": dossier_id,
                    "volet": "equipement",
                    "supplier": "UGAP",
                    "invoice_number": f"F2022-{expense_id:07d}",
                    "invoice_date": delivered.date(),
                    "amount_ht_cents": ht,
                    "amount_ttc_cents": ttc,
                    "version": 1,
                }
            )
            allocations.append(
                {
                    "expense_id": expense_id,
                    "ecole_id": ecole_id,
                    "amount_ht_cents": ht,
                    "amount_ttc_cents": ttc,
                }
            )
            links += [
                {"expense_id": expense_id, "asset_id": a, "amount_cents": price}
                for a, price in items
            ]
            expense_id += 1
        insert_rows(session, Expense, expenses)
        insert_rows(session, ExpenseAllocation, allocations)
        insert_rows(session, FundingLink, links)
        sync_sequences(session, Dossier, DossierSchool, Expense, ExpenseAllocation, FundingLink)
        session.commit()
        name = own[0].collectivite_name
        session.remove()
    log(
        f"  {name}: {len(own)} schools, {len(mine_ids):,} items ({len(funded):,} funded); "
        f"{others:,} items elsewhere; written in {elapsed():.1f}s"
    )
    analyze(app)
    return Built(target, name, len(own), len(mine_ids), len(funded), len(mine_ids) + others)


# -- timings ---------------------------------------------------------------------------------
def _series(
    prepare: Callable[[], None], fn: Callable[[], Any], runs: int, warmup: int = 1
) -> Stats:
    """``prepare`` (not timed) then ``fn`` (timed), ``runs`` times after ``warmup``; stops
    early once ``BUDGET`` seconds are spent (3 runs at least)."""
    samples: list[float] = []
    started = time.perf_counter()
    for i in range(warmup + runs):
        prepare()
        gc.collect()
        with stopwatch() as elapsed:
            fn()
        if i < warmup:
            started = time.perf_counter()
            continue
        samples.append(elapsed())
        if len(samples) >= 3 and time.perf_counter() - started > BUDGET:
            break
    return Stats(tuple(samples))


def _post_pdf(client: FlaskClient, url: str, **kwargs: Any) -> bytes:
    response = client.post(url, **kwargs)
    if response.status_code != 200 or response.mimetype != "application/pdf":
        raise AssertionError(f"POST {url} answered {response.status_code} {response.mimetype}")
    data = response.data
    response.close()
    return data


@dataclass
class Timings:
    first: Stats
    reprint: Stats
    pdf_bytes: int
    pages: int
    job_id: int
    cold_labels: Stats
    warm_labels: Stats
    render: Stats


def time_prints(app: Flask, built: Built) -> Timings:
    from sqlalchemy import delete, func, select, update

    from inventory.extensions import db
    from inventory.labels import services
    from inventory.labels.models import PrintJob, ScanToken
    from inventory.labels.render import Sheet, render_pdf

    client = signed_in_admin(app)
    url = f"/etiquettes?collectivite={built.collectivite_id}"
    form = {"format": FORMAT, "start": "1"}
    pdf = b""

    def forget_tokens() -> None:
        with app.app_context():
            db.session.execute(delete(ScanToken))
            db.session.commit()
            db.session.remove()

    def first() -> None:
        nonlocal pdf
        pdf = _post_pdf(client, url, data=form)

    first_stats = _series(forget_tokens, first, FIRST_RUNS)
    log(
        f"  first print of {built.labels:,} labels: median {first_stats.median:.2f}s, "
        f"worst {first_stats.worst:.2f}s over {len(first_stats.samples)}"
    )
    with app.app_context():
        job_id = db.session.scalar(select(func.max(PrintJob.id)))
        tokens = db.session.scalar(
            select(func.count()).select_from(ScanToken).where(ScanToken.matrix.is_not(None))
        )
        db.session.remove()
    if tokens != built.labels:
        raise AssertionError(f"{tokens} cached matrices after the first print")
    pages = len(re.findall(rb"/Type /Page\b(?!s)", pdf))
    reprint_stats = _series(
        lambda: None,
        lambda: _post_pdf(client, f"/etiquettes/historique/{job_id}"),
        REPRINT_RUNS,
    )
    log(
        f"  reprint: median {reprint_stats.median:.2f}s, worst {reprint_stats.worst:.2f}s "
        f"over {len(reprint_stats.samples)}"
    )

    # The services alone, on the same ids (order of the print: by id).
    admin = Admin()
    with app.app_context():
        ids = db.session.scalar(select(PrintJob.asset_ids).where(PrintJob.id == job_id))
        db.session.remove()

    def clear_matrices() -> None:
        with app.app_context():
            db.session.execute(update(ScanToken).values(matrix=None, matrix_url=None))
            db.session.commit()
            db.session.remove()

    def labels() -> None:
        with app.app_context():
            batch = services.asset_labels(db.session, admin, BASE_URL, ids)
            if len(batch.labels) != built.labels:
                raise AssertionError(f"{len(batch.labels)} labels")
            db.session.rollback()  # the matrices stay uncached for the next cold run
            db.session.remove()

    cold = _series(clear_matrices, labels, SERVICE_RUNS)
    with app.app_context():  # cache them again, as the print does
        services.asset_labels(db.session, admin, BASE_URL, ids)
        db.session.commit()
        batch = services.asset_labels(db.session, admin, BASE_URL, ids)
        sheet = Sheet.of(services.format_by_code(db.session, FORMAT))
        db.session.remove()
    warm = _series(lambda: None, labels, SERVICE_RUNS)
    render = _series(lambda: None, lambda: render_pdf(sheet, batch.labels), SERVICE_RUNS)
    log(
        f"  asset_labels: matrices cleared {cold.median:.2f}s, cached {warm.median:.2f}s; "
        f"render_pdf {render.median:.2f}s"
    )
    return Timings(first_stats, reprint_stats, len(pdf), pages, job_id, cold, warm, render)


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    """The labels benchmark on one engine; ``scale`` shrinks the number of labels."""
    n_labels = max(50, round(LABELS * scale))
    log(f"{backend.name}: labels, {n_labels:,} labels on {FORMAT}")
    config = {"BASE_URL": BASE_URL, "LABEL_SYNC_LIMIT": max(1000, n_labels)}
    with bench_app(backend, **config) as app:
        built = build(app, n_labels)
        t = time_prints(app, built)
    n = built.labels
    where = (
        f"{n:,} items of {built.collectivite} ({built.schools} schools, {built.funded:,} "
        f"with a funding mention; {built.assets:,} items in the database), {FORMAT}, "
        f"{t.pages} pages"
    )
    return [
        Result(
            f"first print, {n:,} labels",
            t.first.median,
            "s",
            FIRST_PRINT,
            f"POST /etiquettes?collectivite=…: tokens issued, QR matrices computed, PDF, "
            f"print logged; every token deleted before each run; median of "
            f"{len(t.first.samples)} (worst {t.first.worst:.2f}s); {where}",
        ),
        Result(
            f"reprint, {n:,} labels",
            t.reprint.median,
            "s",
            REPRINT,
            f"POST /etiquettes/historique/{t.job_id} (matrices cached in the tokens), median "
            f"of {len(t.reprint.samples)} (worst {t.reprint.worst:.2f}s)",
        ),
        Result(
            "PDF size per label",
            t.pdf_bytes / n,
            "B/label",
            PDF_SIZE,
            f"{t.pdf_bytes:,} bytes for {n:,} labels (first print's response)",
        ),
        Result(
            "  asset_labels(), matrices cleared",
            t.cold_labels.median * 1000,
            "ms",
            None,
            f"labels.services.asset_labels: items, tokens, mentions, {n:,} QR matrices "
            f"computed (tokens kept, matrices set to NULL before each run), median of "
            f"{len(t.cold_labels.samples)}",
        ),
        Result(
            "  asset_labels(), matrices cached",
            t.warm_labels.median * 1000,
            "ms",
            None,
            f"the same, the matrices unpacked from the tokens, median of "
            f"{len(t.warm_labels.samples)}",
        ),
        Result(
            "  render_pdf()",
            t.render.median * 1000,
            "ms",
            None,
            f"labels.render.render_pdf of the {n:,} labels alone, median of "
            f"{len(t.render.samples)}",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
