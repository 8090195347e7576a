"""Training: the accompaniment coverage report of one département.

Imports, through the real importer, a synthetic Annuaire holding 1,000 schools of one
département and 4,000 of other départements (so that the reader's scope has something to
filter out), equips most schools (assets with their lifecycle steps), and records 5,000
training sessions in the département and as many per school elsewhere (bulk, not
measured). Then times ``GET /accompagnement/couverture`` for a trainer (role formateur)
whose scope is the département: the default view (overdue schools, longest wait first)
and the full list by name; under them, ``training.coverage.coverage_report`` and the filter
form's ``orgs.services.filter_choices`` alone.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_training [--postgres URL] [--scale 0.1]``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask

from tests.benchmarks.bench_registry import (
    Synthetic,
    add_classrooms,
    import_registry,
    synthetic_annuaire,
)
from tests.benchmarks.builders import (
    Assets,
    School,
    add_catalogue,
    equip_school,
    first_free_id,
    insert_rows,
    moment,
    public_schools,
    signed_in,
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
    stopwatch,
    time_calls,
    time_requests,
)

NAME = "training"
SCHOOLS = 1_000  # in the département
SESSIONS = 5_000  # in the département
OTHER_SCHOOLS = 4  # schools of other départements, per school of the département
CLASSROOMS_PER_SCHOOL = 6
SEED = 20_260_904
RUNS, WARMUP = 50, 3
BUDGET = 10.0

REPORT = Target("<", 300, "ms")

# Share of schools: equipped and in service, delivered only, nothing yet.
EQUIPPED, DELIVERED_ONLY = 0.75, 0.10
NEVER_ACCOMPANIED = 0.25  # share of schools no session ever covers
SCHOOLS_PER_SESSION = ((1, 55), (2, 25), (3, 12), (4, 5), (6, 3))
FORMATS = (("workshop", 60), ("demonstration", 25), ("conference", 5), ("remote_follow_up", 10))


# -- the registry: one département of the wanted size, and others -----------------------------
def annuaire(n_dept: int, n_other: int) -> tuple[Synthetic, str]:
    """A synthetic Annuaire cut down to ``n_dept`` schools of its largest département and
    ``n_other`` of the others (whole rows, so every identifier stays consistent)."""
    n = n_dept * 30
    while True:
        data = synthetic_annuaire(n, seed=SEED)
        text = data.csv.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        header, body = rows[0], rows[1:]
        dept_col = header.index("Code_departement")
        counts = Counter(r[dept_col] for r in body)
        dept, count = counts.most_common(1)[0]
        if count >= n_dept and len(body) - count >= n_other:
            break
        n = round(n * 1.3)
    mine = [r for r in body if r[dept_col] == dept][:n_dept]
    others = [r for r in body if r[dept_col] != dept]
    # Every k-th row, so that the other départements are many, as in the country.
    others = others[:: max(1, len(others) // n_other)][:n_other]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(mine + others)
    kept = dataclasses.replace(
        data,
        csv=b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"),
        rows=len(mine) + len(others),
        biggest_departement=dept,
    )
    return kept, dept


@dataclass
class Built:
    departement_id: int
    departement: str
    schools: int  # every school of the département, private ones included
    other_schools: int
    sessions: int
    other_sessions: int
    assets: int


def _weighted(rng: random.Random, pairs: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _sessions(
    rng: random.Random,
    schools: list[School],
    n_sessions: int,
    first_id: int,
    topics: list[tuple[int, str]],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Sessions over ``schools``, each gathering schools of one circonscription."""
    by_circo: dict[int | None, list[School]] = defaultdict(list)
    for s in schools:
        if rng.random() >= NEVER_ACCOMPANIED:
            by_circo[s.circonscription_id].append(s)
    circos = list(by_circo)
    weights = [len(by_circo[c]) for c in circos]
    sessions, links, topic_rows, trainers = [], [], [], []
    start, end = date(2021, 1, 4), (now + timedelta(days=90)).date()
    for i in range(n_sessions):
        session_id = first_id + i
        pool = by_circo[rng.choices(circos, weights=weights)[0]]
        chosen = rng.sample(pool, min(len(pool), _weighted(rng, SCHOOLS_PER_SESSION)))
        starts = moment(rng, start, end)
        if starts > now:
            status = "planned"
        else:
            status = _weighted(rng, (("held", 88), ("cancelled", 7), ("planned", 5)))
        held = status == "held"
        topic_ids = rng.sample(topics, rng.choice((1, 1, 2)))
        sessions.append(
            {
                "id": session_id,
                "title": topic_ids[0][1],
                "starts_at": starts,
                "duration_minutes": rng.choice((90, 90, 180, 360)),
                "mode": "on_site" if rng.random() < 0.85 else "remote",
                "format": _weighted(rng, FORMATS),
                "status": status,
                "place": chosen[0].name,
                "teachers": rng.randint(2, 12) if held else 0,
                "directors": rng.randint(0, 2) if held else 0,
                "municipal_staff": rng.randint(0, 1) if held else 0,
                "satisfaction": rng.randint(3, 5) if held else None,
                "created_at": starts - timedelta(days=rng.randint(10, 60)),
                "version": 1,
            }
        )
        links += [{"session_id": session_id, "ecole_id": s.id} for s in chosen]
        topic_rows += [{"session_id": session_id, "topic_id": t} for t, _ in topic_ids]
        trainers.append(
            {
                "session_id": session_id,
                "name": f"ERUN {rng.randint(1, 40):02d}",
                "organisation": "DSDEN",
            }
        )
    return sessions, links, topic_rows, trainers


def build(app: Flask, n_schools: int, n_other: int, n_sessions: int) -> Built:
    from sqlalchemy import select

    from inventory.extensions import db
    from inventory.orgs.models import Departement
    from inventory.training.models import (
        Trainer,
        TrainingSession,
        TrainingTopic,
        session_schools,
        session_topics,
    )

    with stopwatch() as elapsed:
        data, dept_code = annuaire(n_schools, n_other)
        import_registry(app, data)
        add_classrooms(app, data.rows * CLASSROOMS_PER_SCHOOL, seed=SEED)
    log(f"  registry of {data.rows:,} schools ({n_schools:,} in {dept_code}) in {elapsed():.1f}s")
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    with stopwatch() as elapsed, app.app_context():
        session = db.session
        dept_id = session.scalar(select(Departement.id).where(Departement.code == dept_code))
        models = add_catalogue(session)
        schools = public_schools(session)
        assets = Assets(session)
        n_assets = 0
        for s in schools:
            draw = rng.random()
            if draw >= EQUIPPED + DELIVERED_ONLY:
                continue
            delivered = moment(rng, date(2021, 3, 1), (now - timedelta(days=30)).date())
            in_service = delivered + timedelta(days=rng.randint(3, 25))
            n_assets += len(
                assets.add(
                    equip_school(rng, models, s, delivered, in_service if draw < EQUIPPED else None)
                )
            )
        assets.finish()
        topics = list(session.execute(select(TrainingTopic.id, TrainingTopic.label_fr)).tuples())
        mine = [s for s in schools if s.departement_id == dept_id]
        others = [s for s in schools if s.departement_id != dept_id]
        first_id = first_free_id(session, TrainingSession)
        n_other_sessions = round(n_sessions * len(others) / max(1, len(mine)))
        totals = [0, 0]
        for k, (group, count) in enumerate(((mine, n_sessions), (others, n_other_sessions))):
            rows, links, topic_rows, trainers = _sessions(rng, group, count, first_id, topics, now)
            insert_rows(session, TrainingSession, rows)
            insert_rows(session, session_schools, links)
            insert_rows(session, session_topics, topic_rows)
            insert_rows(session, Trainer, trainers)
            first_id += count
            totals[k] = count
        sync_sequences(session, TrainingSession, Trainer)
        session.commit()
        session.remove()
    log(
        f"  {n_assets:,} assets, {totals[0]:,} sessions in {dept_code} and {totals[1]:,} "
        f"elsewhere, written in {elapsed():.1f}s"
    )
    analyze(app)
    return Built(dept_id, dept_code, n_schools, n_other, totals[0], totals[1], n_assets)


# -- timings ---------------------------------------------------------------------------------
VIEWS = (
    ("default", "/accompagnement/couverture"),
    ("all by name", "/accompagnement/couverture?show=all&sort=name"),
)


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    """The training benchmark on one engine; ``scale`` shrinks the département."""
    from inventory.core.policy import Role, ScopeKind
    from inventory.extensions import db
    from inventory.orgs.services import filter_choices
    from inventory.training.coverage import CoverageFilters, coverage_report

    n_schools = max(100, round(SCHOOLS * scale))
    n_sessions = max(500, round(SESSIONS * scale))
    log(f"{backend.name}: training, {n_schools:,} schools and {n_sessions:,} sessions")
    pages: dict[str, tuple[str, Stats, int]] = {}
    with bench_app(backend) as app:
        built = build(app, n_schools, n_schools * OTHER_SCHOOLS, n_sessions)
        client, reader = signed_in(
            app,
            Role.FORMATEUR,
            [(ScopeKind.DEPARTEMENT, built.departement_id)],
            "bench-formateur@example.org",
        )
        for key, url in VIEWS:
            stats = time_requests(client, url, runs=RUNS, warmup=WARMUP, budget=BUDGET)
            size = len(client.get(url).data)
            pages[key] = (url, stats, size)
            log(
                f"  GET {url}: median {stats.median:.1f} ms, p95 {stats.p95:.1f} ms "
                f"over {len(stats.samples)}"
            )
        with app.app_context():
            report = coverage_report(db.session, reader, CoverageFilters())
            db.session.remove()
            if report.total.schools != built.schools:
                raise AssertionError(f"{report.total.schools} schools in the report")

            def coverage() -> None:
                coverage_report(db.session, reader, CoverageFilters())
                db.session.remove()

            def choices() -> None:
                filter_choices(db.session, reader)
                db.session.remove()

            service = time_calls(coverage, runs=RUNS, warmup=WARMUP, budget=BUDGET)
            form = time_calls(choices, runs=RUNS, warmup=WARMUP, budget=BUDGET)
    data = (
        f"{built.schools:,} schools and {built.sessions:,} sessions in département "
        f"{built.departement}, {built.other_schools:,} schools and {built.other_sessions:,} "
        f"sessions elsewhere, {built.assets:,} assets; {report.total.equipped:,} schools "
        f"equipped, {report.total.equipped_accompanied:,} of them accompanied, "
        f"{report.total.overdue:,} overdue"
    )
    results = []
    for key, (url, stats, size) in pages.items():
        detail = (
            f"GET {url} as a formateur scoped to the département, {len(stats.samples)} runs, "
            f"{size / 1024:,.0f} KiB of HTML; {data}"
        )
        results.append(
            Result(f"coverage report, {key}: median", stats.median, "ms", REPORT, detail)
        )
        results.append(Result(f"coverage report, {key}: p95", stats.p95, "ms", REPORT, detail))
    results.append(
        Result(
            "  coverage() alone: median",
            service.median,
            "ms",
            None,
            f"training.coverage.coverage_report(default filters) for the same reader, "
            f"{len(service.samples)} runs",
        )
    )
    results.append(
        Result(
            "  filter form choices alone: median",
            form.median,
            "ms",
            None,
            f"orgs.services.filter_choices for the same reader, {len(form.samples)} runs",
        )
    )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
