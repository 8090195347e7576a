"""School networks at national scale: the next free address and the school's network tab.

Builds the national registry (tests/benchmarks/national.py, without equipment), then a /24
per school with 2,000,000 addresses spread over the schools (40 each at scale 1), and, at
the collectivité owning most schools, one school with a /16 holding 60,000 addresses from
its first one on (the worst case of the free-address search: one run of 60,000 taken
addresses before the first free one; not scaled). Then:

- times ``allocation.next_free_offset`` on the /16 (the search alone, as an allocation runs
  it before its insert) — target < 20 ms p95;
- times ``GET /ecoles/<id>/reseau`` (the network tab) as an administrator, on schools
  drawn at random, through Flask's whole request cycle — target < 100 ms p95.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_network [--postgres URL] [--scale 0.05]``.
"""

from __future__ import annotations

import random
import sys

from flask import Flask
from netaddr import IPNetwork
from sqlalchemy import select

from tests.benchmarks import national
from tests.benchmarks.common import (
    Backend,
    Result,
    Target,
    analyze,
    bench_app,
    log,
    signed_in_admin,
    time_calls,
)

NAME = "network"
SEED = 20_261_207
ADDRESSES = 2_000_000
BIG_USED = 60_000
RUNS, WARMUP, BUDGET = 300, 10, 30.0
NEXT_FREE_P95 = Target("<", 20, "ms")
TAB_P95 = Target("<", 100, "ms")


def build(app: Flask, scale: float) -> tuple[int, int, list[int], int]:
    """(the /16's prefix id, its school, schools with a /24, addresses recorded)."""
    from inventory.core.db import insert_rows, utcnow
    from inventory.extensions import db
    from inventory.network.allocation import key
    from inventory.network.models import IpAddress, Prefix, PrefixRole
    from inventory.orgs.models import Ecole

    built = national.build(app, scale=scale, assets=False, tokens=False, history=False, works=False)
    with app.app_context():
        s = db.session
        schools = s.execute(
            select(Ecole.id, Ecole.collectivite_id)
            .where(Ecole.collectivite_id.is_not(None))
            .order_by(Ecole.id)
        ).all()
        big_school = next(e for e, c in schools if c == built.collectivite_id)
        prefixes = [
            {
                "collectivite_id": c,
                "ecole_id": e,
                "cidr": f"10.{i // 256 % 256}.{i % 256}.0/24",
                "role": PrefixRole.PEDAGOGIQUE.value,
                "gateway": f"10.{i // 256 % 256}.{i % 256}.1",
                "dns": "",
                "created_at": utcnow(),
            }
            for i, (e, c) in enumerate(schools[:65_536])
        ]
        big = Prefix(
            collectivite_id=built.collectivite_id,
            ecole_id=big_school,
            cidr="172.16.0.0/16",
            role=PrefixRole.EQUIPEMENTS,
        )
        s.add(big)
        s.flush()
        insert_rows(s, Prefix.__table__, prefixes)
        rows = s.execute(
            select(Prefix.ecole_id, Prefix.id, Prefix.cidr).where(Prefix.id != big.id)
        ).all()
        ids = {e: (p, c.rsplit(".", 1)[0]) for e, p, c in rows}
        per_school = max(1, round(ADDRESSES * scale) // max(1, len(ids)))
        per_school = min(per_school, 250)
        rng = random.Random(SEED)
        batch: list[dict[str, object]] = []
        total = 0
        for prefix_id, stem in ids.values():
            for offset in rng.sample(range(2, 255), per_school):
                batch.append(
                    {
                        "prefix_id": prefix_id,
                        "address": f"{stem}.{offset}",
                        "host": key(offset),
                        "status": "active",
                        "created_at": utcnow(),
                    }
                )
            if len(batch) >= 20_000:
                insert_rows(s, IpAddress.__table__, batch)
                total += len(batch)
                batch = []
        net = IPNetwork(big.cidr)
        for offset in range(1, BIG_USED + 1):
            batch.append(
                {
                    "prefix_id": big.id,
                    "address": str(net[offset]),
                    "host": key(offset),
                    "status": "active",
                    "created_at": utcnow(),
                }
            )
            if len(batch) >= 20_000:
                insert_rows(s, IpAddress.__table__, batch)
                total += len(batch)
                batch = []
        insert_rows(s, IpAddress.__table__, batch)
        total += len(batch)
        s.commit()
        big_id = big.id
        s.remove()
    analyze(app)
    return big_id, big_school, list(ids), total


def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    from inventory.extensions import db
    from inventory.network.allocation import next_free_offset
    from inventory.network.models import Prefix

    log(f"{backend.name}: network, scale {scale:g}")
    with bench_app(backend) as app:
        big_id, big_school, schools, total = build(app, scale)
        log(f"  {len(schools):,} schools with a /24, {total:,} addresses")
        with app.app_context():

            def search() -> None:
                prefix = db.session.get(Prefix, big_id)
                assert next_free_offset(db.session, prefix) == BIG_USED + 1
                db.session.remove()

            free = time_calls(search, runs=RUNS, warmup=WARMUP, budget=BUDGET)
        client = signed_in_admin(app)
        rng = random.Random(SEED)
        picks = [big_school, *rng.sample(schools, min(200, len(schools)))]
        turn = iter(range(10**9))

        def tab() -> None:
            ecole = picks[next(turn) % len(picks)]
            response = client.get(f"/ecoles/{ecole}/reseau")
            if response.status_code != 200:
                raise AssertionError(f"/ecoles/{ecole}/reseau answered {response.status_code}")
            response.close()

        page = time_calls(tab, runs=RUNS, warmup=WARMUP, budget=BUDGET)
    data = f"{len(schools):,} schools with a /24, {total:,} addresses in all"
    log(f"  next free: p95 {free.p95:.1f} ms; tab: p95 {page.p95:.1f} ms")
    return [
        Result(
            "next free address in a /16 with 60,000 used: p95",
            free.p95,
            "ms",
            NEXT_FREE_P95,
            f"allocation.next_free_offset, {len(free.samples)} runs; {data}",
        ),
        Result(
            "school's network tab: p95",
            page.p95,
            "ms",
            TAB_P95,
            f"GET /ecoles/<id>/reseau as an administrator over {len(picks)} schools, "
            f"{len(page.samples)} runs; {data}",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
