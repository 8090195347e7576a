"""Grants at national scale: the aid of every dossier at once, and one dossier's page.

Imports a synthetic Annuaire of 12,000 schools through the real importer, installs the
shipped funding schemes, then writes (bulk, not measured) 7,000 dossiers of the
collectivités owning those schools, 100,000 expense lines split over the covered schools,
the assets the equipment lines paid for with their funding links, payments and the
change-log records of the dossiers. Times:

- the aid of all the dossiers, computed by ``reports.money.dossier_figures`` (the bulk
  computation behind the summaries and the open-data exports; nothing is kept per
  process), a few runs;
- ``GET /subventions/<id>``, the dossier page, for a typical dossier and for the largest.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_grants [--postgres URL] [--scale 0.1]``.
"""

from __future__ import annotations

import copy
import gc
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from tests.benchmarks.bench_registry import (
    _spread,
    add_classrooms,
    import_registry,
    synthetic_annuaire,
)
from tests.benchmarks.builders import (
    PER_CLASSROOM,
    Assets,
    AssetSpec,
    School,
    add_catalogue,
    creation_records,
    first_free_id,
    insert_rows,
    moment,
    public_schools,
    sync_sequences,
)
from tests.benchmarks.common import (
    Backend,
    Result,
    Stats,
    Target,
    analyze,
    bench_app,
    log,
    signed_in_admin,
    stopwatch,
    time_requests,
)

NAME = "grants"
SCHOOLS = 12_000
CLASSROOMS_PER_SCHOOL = 6
DOSSIERS = 7_000
EXPENSES = 100_000
SEED = 20_260_902
AID_RUNS = 3  # each a full cold computation
WARM_RUNS = 5
PAGE_RUNS, WARMUP = 50, 3
BUDGET = 10.0

AID_ALL = Target("<", 5, "s")
PAGE = Target("<", 100, "ms")

SNEE, LABEL_2020 = "snee-2021", "label-ecoles-numeriques-2020"
# (status, weight): most dossiers of a 2021 programme are awarded by now.
STATUSES = (
    ("draft", 4),
    ("submitted", 5),
    ("approved", 14),
    ("signed", 30),
    ("partially_paid", 22),
    ("paid", 15),
    ("closed", 8),
    ("rejected", 2),
)
AWARDED = {"approved", "signed", "partially_paid", "paid", "closed"}
# Items an equipment invoice line pays for (weights): mostly a handful, a few class sets.
ITEMS_PER_LINE = ((1, 45), (2, 25), (3, 12), (4, 8), (6, 6), (10, 3), (16, 1))
LINE_CATEGORIES = (
    ("eni", 22),
    ("vpi", 10),
    ("vp", 6),
    ("visualiseur", 10),
    ("poste_enseignant", 20),
    ("tablette", 12),
    ("pc_eleve", 6),
    ("classe_mobile", 2),
    ("borne_wifi", 7),
    ("commutateur", 3),
    ("copieur", 2),
)
SUPPLIERS = (
    "UGAP",
    "Manutan Collectivités",
    "Bureau Vallée Pro",
    "Inmac Wstore",
    "Econocom",
    "Sodiscol",
    "Camif Collectivités",
    "Infoclic Services",
)


@dataclass
class Built:
    dossiers: int
    expenses: int
    linked_expenses: int
    assets: int
    links: int
    allocations: int
    typical: tuple[int, int]  # dossier id, its expense lines
    largest: tuple[int, int]


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _dossier_heads(
    rng: random.Random,
    schools: list[School],
    n_dossiers: int,
    schemes: dict[str, Any],
    first_id: int,
) -> tuple[list[dict[str, Any]], dict[int, list[School]]]:
    """One SNEE dossier per collectivité owning schools, then the largest collectivités
    get more (the 2020 label, then later calls), until ``n_dossiers``."""
    by_coll: dict[int, list[School]] = defaultdict(list)
    for s in schools:
        by_coll[s.collectivite_id].append(s)
    first_round = sorted(by_coll)
    rng.shuffle(first_round)
    biggest = sorted(by_coll, key=lambda c: (-len(by_coll[c]), c))
    dossiers: list[dict[str, Any]] = []
    covered: dict[int, list[School]] = {}
    next_id = first_id
    for i in range(n_dossiers):
        rnd, k = divmod(i, len(first_round))
        coll = first_round[k] if rnd == 0 else biggest[k]
        code = SNEE if rnd % 2 == 0 else LABEL_2020
        scheme = schemes[code]
        own = by_coll[coll]
        cover = own if code == SNEE else rng.sample(own, min(len(own), rng.randint(1, 3)))
        status = _weighted(rng, STATUSES)
        created = moment(rng, date(2021, 1, 15), date(2022, 12, 20))
        classes = sum(max(1, len(s.classrooms)) for s in cover)
        rate = 0.7 if code == SNEE else 0.5
        maximum = round(classes * 350_000 * rate * rng.uniform(0.75, 1.1))
        awarded = status in AWARDED
        decision = (created + timedelta(days=rng.randint(30, 120))).date()
        dossier_id = next_id
        next_id += 1
        dossiers.append(
            {
                "id": dossier_id,
                "collectivite_id": coll,
                "scheme_id": scheme.id,
                "scheme_version": scheme.version,
                "rules": copy.deepcopy(scheme.rules),
                "reference": f"{'SNEE' if code == SNEE else 'LEN'}-{created.year}-{dossier_id:05d}",
                "title": f"{scheme.name} – {own[0].collectivite_name}",
                "status": status,
                "convention_max_cents": maximum if awarded else None,
                "decision_on": decision if awarded else None,
                "convention_signed_on": decision + timedelta(days=21)
                if awarded and status != "approved"
                else None,
                "spending_deadline": date(2023, 12, 31) if code == SNEE else date(2022, 6, 30),
                "planned_cents": {"equipement": maximum} if code == SNEE else {},
                "created_at": created,
                "version": 1,
            }
        )
        covered[dossier_id] = cover
    return dossiers, covered


def build(app: Flask, n_schools: int, n_dossiers: int, n_expenses: int) -> Built:
    """The registry through the importer, then the grants in bulk."""
    from sqlalchemy import select

    from inventory.core import audit
    from inventory.core.audit import AuditRecord
    from inventory.extensions import db
    from inventory.grants.models import (
        Dossier,
        DossierSchool,
        Expense,
        ExpenseAllocation,
        FundingLink,
        FundingScheme,
        Payment,
    )
    from inventory.grants.schemes import install_presets

    with stopwatch() as elapsed:
        data = synthetic_annuaire(n_schools, seed=SEED)
        import_registry(app, data)
        add_classrooms(app, n_schools * CLASSROOMS_PER_SCHOOL, seed=SEED)
    log(f"  registry of {n_schools:,} schools imported in {elapsed():.1f}s")
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    with stopwatch() as elapsed, app.app_context(), audit.acting_as(audit.Actor(None, "bench")):
        session = db.session
        install_presets(session)
        schemes = {s.code: s for s in session.query(FundingScheme)}
        models = add_catalogue(session)
        schools = public_schools(session)
        dossiers, covered = _dossier_heads(
            rng, schools, n_dossiers, schemes, first_free_id(session, Dossier)
        )
        insert_rows(session, Dossier, dossiers)

        school_rows = []
        for d in dossiers:
            for s in covered[d["id"]]:
                classes = max(1, len(s.classrooms))
                school_rows.append(
                    {
                        "dossier_id": d["id"],
                        "ecole_id": s.id,
                        "classes": classes,
                        "pupils": classes * rng.randint(20, 27),
                    }
                )
        insert_rows(session, DossierSchool, school_rows)

        # Invoice lines: more for the dossiers covering more schools.
        weights = [len(covered[d["id"]]) * rng.lognormvariate(0, 0.5) for d in dossiers]
        per_dossier = _spread(n_expenses, weights)
        assets = Assets(session)
        expense_id = first_free_id(session, Expense)
        expenses: list[dict[str, Any]] = []
        allocations: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        specs: list[AssetSpec] = []
        spec_expense: list[tuple[int, int]] = []  # (expense id, amount) per spec, in order
        line_counts: dict[int, int] = {}
        for d, n_lines in zip(dossiers, per_dossier, strict=True):
            cover = covered[d["id"]]
            snee = d["scheme_id"] == schemes[SNEE].id
            line_counts[d["id"]] = n_lines
            for n in range(n_lines):
                volet = "equipement"
                if snee:
                    volet = _weighted(
                        rng, (("equipement", 88), ("services", 8), ("accompagnement", 4))
                    )
                invoice_day = d["created_at"] + timedelta(days=rng.randint(20, 600))
                row = {
                    "id": expense_id,
                    "dossier_id": d["id"],
                    "volet": volet,
                    "supplier": rng.choice(SUPPLIERS),
                    "invoice_number": f"F{invoice_day.year}-{expense_id:07d}",
                    "invoice_date": invoice_day.date(),
                    "version": 1,
                }
                if volet == "equipement":
                    model = rng.choice(models[_weighted(rng, LINE_CATEGORIES)])
                    count = _weighted(rng, ITEMS_PER_LINE)
                    sites = (
                        rng.sample(cover, 2)
                        if len(cover) > 1 and count > 1 and rng.random() < 0.15
                        else [rng.choice(cover)]
                    )
                    per_site: dict[int, int] = defaultdict(int)
                    for k in range(count):
                        school = sites[k % len(sites)]
                        room = (
                            school.classrooms[(n + k) % len(school.classrooms)]
                            if school.classrooms and model.category in PER_CLASSROOM
                            else None
                        )
                        in_service = invoice_day + timedelta(days=rng.randint(5, 90))
                        specs.append(
                            AssetSpec(
                                model,
                                school.collectivite_id,
                                school.collectivite_name,
                                school.id,
                                room,
                                invoice_day,
                                in_service if in_service < now else None,
                            )
                        )
                        spec_expense.append((expense_id, model.price_cents))
                        per_site[school.id] += model.price_cents
                    ttc = count * model.price_cents
                    row["description"] = f"{count} × {model.name}"
                else:
                    ttc = rng.randint(300, 6_000) * 100
                    row["description"] = (
                        "Abonnement ENT et ressources"
                        if volet == "services"
                        else "Formation et accompagnement des enseignants"
                    )
                    sites = cover if volet == "services" and rng.random() < 0.5 else cover[:1]
                    per_site = dict(zip((s.id for s in sites), _even(ttc, len(sites)), strict=True))
                row["amount_ttc_cents"] = ttc
                row["amount_ht_cents"] = ht = round(ttc / 1.2)
                expenses.append(row)
                shares_ht = _proportional(ht, list(per_site.values()))
                for (ecole_id, site_ttc), site_ht in zip(per_site.items(), shares_ht, strict=True):
                    allocations.append(
                        {
                            "expense_id": expense_id,
                            "ecole_id": ecole_id,
                            "amount_ht_cents": site_ht,
                            "amount_ttc_cents": site_ttc,
                        }
                    )
                expense_id += 1
        insert_rows(session, Expense, expenses)
        insert_rows(session, ExpenseAllocation, allocations)
        asset_ids = assets.add(specs)
        for asset_id, (exp_id, amount) in zip(asset_ids, spec_expense, strict=True):
            links.append({"expense_id": exp_id, "asset_id": asset_id, "amount_cents": amount})
        insert_rows(session, FundingLink, links)
        assets.finish()

        payments = []
        for d in dossiers:
            maximum = d["convention_max_cents"] or 0
            signed = d["convention_signed_on"]
            if d["status"] in ("signed", "partially_paid", "paid", "closed") and signed:
                advance = round(maximum * 0.3)
                on = signed + timedelta(days=45)
                received = d["status"] != "signed"
                payments.append(
                    {
                        "dossier_id": d["id"],
                        "kind": "advance",
                        "requested_on": signed + timedelta(days=7),
                        "requested_cents": advance,
                        "received_on": on if received else None,
                        "received_cents": advance if received else None,
                        "reference": f"AV-{d['id']:05d}",
                    }
                )
            if d["status"] in ("paid", "closed") and signed:
                on = signed + timedelta(days=400)
                payments.append(
                    {
                        "dossier_id": d["id"],
                        "kind": "balance",
                        "requested_on": on - timedelta(days=40),
                        "requested_cents": maximum - round(maximum * 0.3),
                        "received_on": on,
                        "received_cents": maximum - round(maximum * 0.3),
                        "reference": f"SO-{d['id']:05d}",
                    }
                )
        insert_rows(session, Payment, payments)

        # What the change-log hook writes when these rows are created one by one: the
        # dossier page reads the records of the dossier and of its children.
        records = creation_records(
            "dossiers",
            (
                (d["id"], d["reference"], None, d["collectivite_id"], {"title": d["title"]})
                for d in dossiers
            ),
            now,
        )
        coll_of = {d["id"]: d["collectivite_id"] for d in dossiers}
        school_ids = session.execute(
            select(DossierSchool.id, DossierSchool.ecole_id, DossierSchool.classes)
        ).all()
        records += creation_records(
            "dossier_schools",
            ((i, f"#{i}", e, None, {"ecole_id": e, "classes": c}) for i, e, c in school_ids),
            now,
        )
        records += creation_records(
            "expenses",
            (
                (
                    e["id"],
                    f"{e['supplier']} {e['invoice_number']}",
                    None,
                    coll_of[e["dossier_id"]],
                    {"volet": e["volet"], "amount_ttc_cents": e["amount_ttc_cents"]},
                )
                for e in expenses
            ),
            now,
        )
        insert_rows(session, AuditRecord, records)
        sync_sequences(
            session,
            Dossier,
            DossierSchool,
            Expense,
            ExpenseAllocation,
            FundingLink,
            Payment,
            AuditRecord,
        )
        session.commit()
        session.remove()
    log(
        f"  {len(dossiers):,} dossiers, {len(school_rows):,} covered schools, "
        f"{len(expenses):,} expense lines, {len(allocations):,} allocations, "
        f"{len(asset_ids):,} assets, {len(links):,} funding links, {len(payments):,} payments "
        f"written in {elapsed():.1f}s"
    )
    analyze(app)
    awarded = [d["id"] for d in dossiers if d["status"] in AWARDED]
    by_size = sorted(awarded, key=lambda i: (line_counts[i], i))
    typical = by_size[len(by_size) // 2]
    largest = by_size[-1]
    return Built(
        dossiers=len(dossiers),
        expenses=len(expenses),
        linked_expenses=len({link["expense_id"] for link in links}),
        assets=len(asset_ids),
        links=len(links),
        allocations=len(allocations),
        typical=(typical, line_counts[typical]),
        largest=(largest, line_counts[largest]),
    )


def _even(total: int, parts: int) -> list[int]:
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def _proportional(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights``, the rounding put on the last part."""
    scale = sum(weights)
    parts = [total * w // scale for w in weights]
    parts[-1] += total - sum(parts)
    return parts


# -- timings ---------------------------------------------------------------------------------
def time_aid(app: Flask, expected: int) -> tuple[Stats, Stats]:
    """``dossier_figures`` over every dossier, computed at each run (nothing is kept per
    process), and the runs again: the database's caches warm."""
    from sqlalchemy import select

    from inventory.extensions import db
    from inventory.grants.models import Dossier
    from inventory.reports.levels import without_jit
    from inventory.reports.money import dossier_figures

    def compute() -> None:
        # As every caller does (dashboards, open data) before the aggregates.
        without_jit(db.session)
        figures = dossier_figures(db.session, select(Dossier.id))
        if len(figures) != expected:
            raise AssertionError(f"{len(figures)} dossiers computed, not {expected}")

    cold: list[float] = []
    warm: list[float] = []
    with app.app_context():
        for _ in range(AID_RUNS):
            db.session.remove()
            gc.collect()
            with stopwatch() as elapsed:
                compute()
            cold.append(elapsed())
            log(f"  aid of {expected:,} dossiers: {elapsed():.2f}s")
        for _ in range(WARM_RUNS):
            db.session.remove()
            with stopwatch() as elapsed:
                compute()
            warm.append(elapsed() * 1000)
        db.session.remove()
    return Stats(tuple(cold)), Stats(tuple(warm))


def _size(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}"


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    """The grants benchmark on one engine; ``scale`` shrinks every size (with minimums)."""
    n_schools = max(1_000, round(SCHOOLS * scale))
    n_dossiers = max(300, round(DOSSIERS * scale))
    n_expenses = max(3_000, round(EXPENSES * scale))
    log(
        f"{backend.name}: grants, {n_schools:,} schools, {n_dossiers:,} dossiers, "
        f"{n_expenses:,} expense lines"
    )
    with bench_app(backend) as app:
        built = build(app, n_schools, n_dossiers, n_expenses)
        cold, warm = time_aid(app, built.dossiers)
        client = signed_in_admin(app)
        pages = {}
        for key, (dossier_id, lines) in (("typical", built.typical), ("largest", built.largest)):
            url = f"/subventions/{dossier_id}"
            stats = time_requests(client, url, runs=PAGE_RUNS, warmup=WARMUP, budget=BUDGET)
            size = len(client.get(url).data)
            pages[key] = (url, lines, stats, size)
            log(
                f"  GET {url} ({lines} expense lines): median {stats.median:.1f} ms, "
                f"p95 {stats.p95:.1f} ms over {len(stats.samples)}"
            )
    label = _size(built.dossiers)
    data = (
        f"{built.dossiers:,} dossiers, {built.expenses:,} expense lines "
        f"({built.linked_expenses:,} equipment lines linked to {built.assets:,} assets), "
        f"{built.allocations:,} allocations, {n_schools:,} schools"
    )
    results = [
        Result(
            f"aid of all {label} dossiers",
            cold.median,
            "s",
            AID_ALL,
            f"reports.money.dossier_figures(select(Dossier.id)), "
            f"median of {len(cold.samples)} runs (worst {cold.worst:.2f}s); {data}",
        ),
        Result(
            f"  aid of all {label} dossiers, again",
            warm.median,
            "ms",
            None,
            f"the same call again (computed again: no aid is kept per process), "
            f"median of {len(warm.samples)} runs",
        ),
    ]
    for key, (url, lines, stats, size) in pages.items():
        what = f"{key} dossier"
        detail = (
            f"GET {url}, the {what} ({lines} expense lines; typical: the median of the "
            f"awarded dossiers), admin, {len(stats.samples)} runs, {size / 1024:,.0f} KiB of HTML"
        )
        # The target is on one dossier page, a typical one; the largest (a
        # collectivité's hundreds of lines) is shown for what it costs, without a target.
        target = PAGE if key == "typical" else None
        indent = "" if target else "  "
        results.append(
            Result(f"{indent}dossier page, {what}: median", stats.median, "ms", target, detail)
        )
        results.append(
            Result(f"{indent}dossier page, {what}: p95", stats.p95, "ms", target, detail)
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
