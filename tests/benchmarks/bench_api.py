"""The API at national scale: the equipment list's cursor pages and bulk creation.

Builds the national data (tests/benchmarks/national.py: 50,000 schools, 300,000
classrooms, 2,000,000 assets), makes a national administrator's read-write API token
through its service, then times, through the app's whole request cycle (bearer check,
rate limit, policy, marshmallow, JSON; no network):

- ``GET /api/v1/assets`` pages of 50: the first page, and pages after a cursor at 50 %
  and at 99 % of the ids (the deepest pages), without a filter, for a collectivité, for
  a category and status, and with a sparse field set;
- ``POST /api/v1/assets/bulk``: requests of 2,000 new items each (serials, prices,
  dates, spread over the classrooms of a collectivité owning 50 schools), recorded all
  or none through the same service as the pages (checks, tag numbering, change log,
  lifecycle step, socle summary), the rate in items/s over every request.

Run with every benchmark by ``scripts/bench``, alone with ``scripts/bench --only api``
(or ``BENCH_ONLY=api scripts/bench``); ``BENCH_API_ONLY=list`` or ``=bulk`` times one
part only.
"""

from __future__ import annotations

import gc
import os
import random
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.benchmarks import national
from tests.benchmarks.common import (
    ADMIN_EMAIL,
    Admin,
    Backend,
    Result,
    Stats,
    Target,
    bench_app,
    log,
    stopwatch,
    time_calls,
)

NAME = "api"
RUNS, WARMUP = 50, 3
BUDGET = 10.0  # seconds per timed series at most (10 runs at least)
PAGE = 50
BULK_BATCH = 2_000
BULK_REQUESTS = 5
SEED = 20_261_207

PAGE_P95 = Target("<", 100, "ms")
BULK_RATE = {"PostgreSQL": Target(">=", 2_000, "items/s")}


@dataclass
class PageTiming:
    label: str
    url: str
    stats: Stats
    items: int
    size: int


def _token(app: Flask) -> str:
    """A read-write token of the benchmark's administrator, made by its service."""
    from inventory.api import tokens
    from inventory.api.models import TokenScope
    from inventory.auth.services import create_user
    from inventory.core.policy import Role
    from inventory.extensions import db

    with app.app_context():
        user = create_user(
            db.session, Admin(), email=ADMIN_EMAIL, name="Bench", role=Role.ADMIN, password=None
        )
        secret = tokens.create_token(
            db.session, user, name="bench", scope=TokenScope.WRITE, expires_at=None, networks=""
        ).secret
        db.session.remove()
    return secret


def _ids(app: Flask, nat: national.National) -> dict[str, Any]:
    from inventory.assets.models import Asset, AssetStatus, EquipmentCategory
    from inventory.extensions import db

    with app.app_context():
        low, high = db.session.execute(select(func.min(Asset.id), func.max(Asset.id))).one()
        tablet = db.session.scalar(select(EquipmentCategory.id).filter_by(code="tablette"))
        out = {
            "low": low,
            "high": high,
            "tablette": tablet,
            "in_service": AssetStatus.IN_SERVICE.value,
            "collectivite": nat.collectivite_id,
        }
        db.session.remove()
    return out


def _get(client: FlaskClient, url: str, secret: str) -> Any:
    response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
    if response.status_code != 200:
        raise AssertionError(f"GET {url}: {response.status_code} {response.data[:300]!r}")
    return response


def time_pages(
    app: Flask, nat: national.National, secret: str, runs: int = RUNS
) -> list[PageTiming]:
    ids = _ids(app, nat)
    client = app.test_client()
    span = ids["high"] - ids["low"]
    deep = {"50%": ids["low"] + span // 2, "99%": ids["low"] + span // 100}
    filters = {
        "no filter": {},
        "collectivité": {"collectivite": ids["collectivite"]},
        "category+status": {"category": ids["tablette"], "status": ids["in_service"]},
        "no filter, fields=id,tag,status": {"fields": "id,tag,status"},
    }
    out = []
    for label, args in filters.items():
        first = f"/api/v1/assets?{urlencode({**args, 'limit': PAGE})}"
        body = _get(client, first, secret).get_json()
        cursors = {"page 1": None}
        if label == "collectivité":
            # Its own depth: walk to its middle once, then time the page after it.
            cursor, pages = body["next_cursor"], 1
            while cursor and pages < 20:
                nxt = _get(client, f"{first}&cursor={cursor}", secret).get_json()
                cursor, pages = nxt["next_cursor"] or cursor, pages + 1
            cursors[f"page {pages} (cursor)"] = cursor
        else:
            cursors.update({f"cursor at {k} of the ids": v for k, v in deep.items()})
        for where, cursor in cursors.items():
            url = first + (f"&cursor={cursor}" if cursor else "")
            response = _get(client, url, secret)
            items, size = len(response.get_json()["items"]), len(response.data)
            stats = time_calls(
                lambda url=url: _get(client, url, secret).close(),
                runs=runs,
                warmup=WARMUP,
                budget=BUDGET,
            )
            out.append(PageTiming(f"{label}, {where}", url, stats, items, size))
            log(f"    GET {url}: p95 {stats.p95:.1f} ms ({items} items)")
    return out


def _bulk_bodies(app: Flask, nat: national.National) -> list[dict[str, Any]]:
    """BULK_REQUESTS bodies of BULK_BATCH new items in the classrooms of the collectivité
    owning 50 schools, serials new (a prefix no generated item has)."""
    from inventory.extensions import db
    from inventory.orgs.models import Classroom, Ecole

    with app.app_context():
        rooms = list(
            db.session.scalars(
                select(Classroom.id)
                .join(Ecole, Ecole.id == Classroom.ecole_id)
                .where(Ecole.collectivite_id == nat.collectivite_id)
                .order_by(Classroom.id)
            )
        )
        db.session.remove()
    rng = random.Random(SEED)
    models = [("tablette", "Apple", "iPad 10"), ("pc_eleve", "Dell", "Latitude 3440")]
    bodies = []
    for r in range(BULK_REQUESTS):
        items = []
        for n in range(BULK_BATCH):
            category, maker, model = models[n % len(models)]
            items.append(
                {
                    "category": category,
                    "manufacturer": maker,
                    "model": model,
                    "classroom_id": rng.choice(rooms),
                    "status": "in_service" if n % 3 else "delivered",
                    "serial": f"APIB{r:02d}{n:05d}{rng.randrange(10**6):06d}",
                    "supplier": "UGAP",
                    "order_number": f"CMD-API-{r}",
                    "purchase_date": "2026-09-01",
                    "price_ht_cents": 35_000,
                    "price_ttc_cents": 42_000,
                    "warranty_end": "2029-09-01",
                }
            )
        bodies.append({"items": items})
    return bodies


@dataclass
class BulkTiming:
    items: int
    seconds: float
    per_request: list[float]

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def time_bulk(app: Flask, nat: national.National, secret: str) -> BulkTiming:
    bodies = _bulk_bodies(app, nat)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    # What lives before the requests stays out of the cyclic collector's passes, as in a
    # worker (wsgi.py freezes what start-up built): else each request's passes walk the
    # whole app and the bodies, and a 2,000-item request pays for them.
    gc.freeze()
    times = []
    for body in bodies:
        with stopwatch() as elapsed:
            response = client.post("/api/v1/assets/bulk", json=body, headers=headers)
        if response.status_code != 201:
            raise AssertionError(f"bulk: {response.status_code} {response.data[:500]!r}")
        times.append(elapsed())
        log(f"    POST /api/v1/assets/bulk ({BULK_BATCH} items): {elapsed():.2f}s")
    return BulkTiming(BULK_BATCH * len(bodies), sum(times), times)


def run(backend: Backend, *, scale: float = 1.0, runs: int = RUNS) -> list[Result]:
    """The API benchmark on one engine; ``scale`` shrinks the national data."""
    log(f"{backend.name}: API at national scale (scale {scale:g})")
    part = os.environ.get("BENCH_API_ONLY", "")
    # The rate limit counts every call, as in production, with room for the benchmark's.
    with bench_app(backend, API_RATE_LIMIT="1000000 per minute") as app:
        nat = national.build(app, scale=scale, tokens=False, history=False, works=False)
        secret = _token(app)
        pages = time_pages(app, nat, secret, runs) if part in {"", "list"} else []
        bulk = time_bulk(app, nat, secret) if part in {"", "bulk"} else None
    size = f"{nat.assets / 1e6:g}M" if nat.assets >= 1e6 else f"{nat.assets // 1000}k"
    results = [Result("national data build (API)", nat.total_seconds, "s", detail=nat.summary())]
    for t in pages:
        results.append(
            Result(
                f"GET /api/v1/assets {t.label} @{size}: p95",
                t.stats.p95,
                "ms",
                PAGE_P95,
                f"GET {t.url}: {t.items} items, {len(t.stats.samples)} runs, "
                f"{t.size / 1024:.0f} KiB",
            )
        )
    if bulk is not None:
        results.append(
            Result(
                f"POST /api/v1/assets/bulk, {bulk.items:,} items ({backend.name})",
                bulk.rate,
                "items/s",
                BULK_RATE.get(backend.name),
                f"{len(bulk.per_request)} requests of {BULK_BATCH:,} items: "
                + ", ".join(f"{s:.2f}s" for s in bulk.per_request)
                + f"; onto {nat.assets:,} assets",
            )
        )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
