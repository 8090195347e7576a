"""Loans: the booking calendar of a classe mobile holding two years of bookings.

Imports a synthetic Annuaire (200 schools) through the real importer, makes a kit of 15
tablets at one school through the services, then records two school years of bookings
of it (every school day, six to eight slots of 45 to 90 minutes, with the quarter-hour
slots that hold them: bulk, not measured) and, for contrast, as many for nine other
kits. Then times, for a technicien of the collectivité, ``GET /prets/kits/<id>`` (the
kit's page: a school week of the calendar, in the middle of the two years), the school's
public booking page of the same week, and the kit's iCalendar feed (a year back and a
year ahead, informational).

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_loans [--postgres URL] [--scale 0.1]`` (the scale
shrinks the other kits' bookings; the measured kit keeps its two years).
"""

from __future__ import annotations

import random
import sys
from datetime import date, time, timedelta
from typing import Any

from tests.benchmarks.bench_registry import import_registry, synthetic_annuaire
from tests.benchmarks.builders import first_free_id, insert_rows, signed_in, sync_sequences
from tests.benchmarks.common import (
    Admin,
    Backend,
    Result,
    Target,
    bench_app,
    log,
    time_requests,
)

NAME = "loans"
SCHOOLS = 200
OTHER_KITS = 9
TABLETS = 15
YEARS = 2
SEED = 20_261_207
RUNS, WARMUP = 50, 3
BUDGET = 10.0

CALENDAR = Target("<", 100, "ms")


def _bookings(
    kit_id: int, first: date, rng: random.Random, density: float
) -> list[tuple[Any, ...]]:
    """(kit, start, end, class) of every school day's bookings over two years."""
    from inventory.training.times import to_utc

    out = []
    day = first
    while day < first + timedelta(weeks=52 * YEARS):
        if day.weekday() < 5 and day.weekday() != 2 and rng.random() < density:
            at = 8 * 60 + 30
            for _ in range(rng.randint(6, 8)):
                length = rng.choice((45, 60, 90))
                if at + length > 17 * 60:
                    break
                start = to_utc(day, time(at // 60, at % 60))
                out.append(
                    (kit_id, start, start + timedelta(minutes=length), f"CM{rng.randint(1, 2)}")
                )
                at += length
        day += timedelta(days=1)
    return out


def build(app: Any, scale: float) -> tuple[int, int, int, str, date]:
    """The kits and their bookings; returns (kit id, collectivité id, bookings, token, a
    Monday in the middle)."""
    from sqlalchemy import select

    from inventory.assets import catalogue, lifecycle
    from inventory.extensions import db
    from inventory.loans.bookings import SLOT, slots_of
    from inventory.loans.kits import create_kit
    from inventory.loans.models import Booking, BookingSlot, BookingStatus
    from inventory.orgs.models import Ecole

    import_registry(app, synthetic_annuaire(SCHOOLS, seed=SEED))
    rng = random.Random(SEED)
    today = date.today()
    first = today - timedelta(weeks=52) - timedelta(days=today.weekday())
    with app.app_context():
        schools = list(
            db.session.scalars(
                select(Ecole)
                .where(Ecole.collectivite_id.is_not(None))
                .order_by(Ecole.id)
                .limit(OTHER_KITS + 1)
            )
        )
        model = catalogue.get_or_create_model(
            db.session, "Apple", "iPad 10", catalogue.category_by_code(db.session, "tablette")
        )
        kits = []
        for ecole in schools:
            where = lifecycle.Where(ecole.collectivite, ecole, None)
            items = [
                lifecycle.create_asset(db.session, Admin(), where=where, model=model).id
                for _ in range(TABLETS)
            ]
            kits.append(create_kit(db.session, Admin(), ecole, "Classe mobile 1", items))
        booking_rows, slot_rows = [], []
        next_id = first_free_id(db.session, Booking)
        for i, kit in enumerate(kits):
            for kit_id, start, end, group in _bookings(
                kit.id, first, rng, 0.9 if i == 0 else 0.9 * scale
            ):
                booking_rows.append(
                    {
                        "id": next_id,
                        "kit_id": kit_id,
                        "starts_at": start,
                        "ends_at": end,
                        "status": BookingStatus.CONFIRMED.value,
                        "group_label": group,
                        "booked_by": "Mme Martin",
                        "series": None,
                        "classroom_id": None,
                        "created_by_id": None,
                        "created_at": start - timedelta(days=7),
                    }
                )
                slot_rows += [
                    {"kit_id": kit_id, "starts_at": at, "booking_id": next_id}
                    for at in slots_of(start, end)
                ]
                next_id += 1
        insert_rows(db.session, Booking, booking_rows)
        insert_rows(db.session, BookingSlot, slot_rows)
        sync_sequences(db.session, Booking)
        db.session.commit()
        measured = kits[0]
        count = sum(1 for r in booking_rows if r["kit_id"] == measured.id)
        result = (
            measured.id,
            measured.collectivite_id,
            count,
            measured.booking_token,
            first + timedelta(weeks=52),
        )
        assert timedelta(minutes=15) == SLOT
        db.session.remove()
    return result


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    from inventory.core.policy import Role, ScopeKind

    log(f"{backend.name}: loans, a kit with {YEARS} years of bookings")
    with bench_app(backend) as app:
        kit_id, collectivite_id, count, token, monday = build(app, scale)
        client, _reader = signed_in(
            app,
            Role.TECHNICIEN,
            [(ScopeKind.COLLECTIVITE, collectivite_id)],
            "bench-loans@example.org",
        )
        week = monday.isoformat()
        views = [
            ("kit's week (signed in)", f"/prets/kits/{kit_id}?semaine={week}", CALENDAR),
            ("public booking page's week", f"/reserver/{token}?semaine={week}", CALENDAR),
            (
                "kit's iCalendar (a term back, a year ahead)",
                f"/prets/kits/{kit_id}/calendrier.ics",
                None,
            ),
        ]
        results = []
        for label, url, target in views:
            stats = time_requests(client, url, runs=RUNS, warmup=WARMUP, budget=BUDGET)
            log(f"  GET {url}: median {stats.median:.1f} ms, p95 {stats.p95:.1f} ms")
            detail = (
                f"GET {url}, {len(stats.samples)} runs; "
                f"the kit holds {count:,} bookings over {YEARS} years"
            )
            results.append(Result(f"{label}: median", stats.median, "ms", target, detail))
            results.append(Result(f"{label}: p95", stats.p95, "ms", target, detail))
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
