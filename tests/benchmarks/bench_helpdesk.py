"""The public scan page at national scale: server time, and throughput under gunicorn.

Builds the national data with the helpdesk's tickets (tests/benchmarks/national.py:
2,000,000 assets with a QR token each, a token per classroom, 100,000 tickets), then:

- times ``GET /q/<token>`` through the test client, anonymous as a teacher scanning a
  label, each run on another token (nine in ten of items, one in ten of rooms), through
  Flask's whole request cycle and the page's one view; and the page's read alone
  (helpdesk.public.public_page);
- serves tests/benchmarks/wsgi_bench.py with gunicorn (2 sync workers, the worker class of
  the production setup in the README) on a free port, and loads it in turns with the
  scan page (over the same tokens) and ``/bench-hello``, a bare Flask app in the same
  workers, then ``/bench-hello-socle`` (the same answer from a route of Socle, through all
  its request hooks). The load's requests carry no cookie, as a phone's first scan of a
  label (which sets none). The figure is the ratio of the scan page's throughput to
  hello's, with the workers' CPU time per request beside it, which the load generator's
  own CPU use does not distort.

Rate limiting is off in both apps (RATELIMIT_ENABLED False): the page limits only the
reports sent (POST), but every request of the load comes from 127.0.0.1.

Run with every benchmark by ``scripts/bench``, or alone with
``python -m tests.benchmarks.bench_helpdesk [--postgres URL] [--scale 0.1]``.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.benchmarks import national
from tests.benchmarks.common import (
    Backend,
    Result,
    Stats,
    Target,
    bench_app,
    log,
    percentile,
    time_calls,
)

NAME = "helpdesk"
SEED = 20_261_202
TOKENS = 2_000  # distinct tokens the timings and the load go through
RUNS, WARMUP = 500, 20
BUDGET = 30.0
WORKERS = 2
CLIENTS = 4  # load processes, one keep-alive connection each
PHASE_SECONDS = 6.0
ROUNDS = 2  # hello, scan, hello-socle, and again: the machine's drift hits each alike
ROOT = Path(__file__).resolve().parents[2]

SCAN_P95 = Target("<", 20, "ms")
THROUGHPUT_RATIO = Target(">=", 0.35, "×")


# -- tokens ------------------------------------------------------------------------------
def sample_tokens(app: Flask, n: int = TOKENS, seed: int = SEED) -> list[str]:
    """``n`` distinct active tokens drawn at random: nine in ten of items, one of rooms."""
    from inventory.extensions import db
    from inventory.labels.models import ScanToken

    rng = random.Random(seed)
    with app.app_context():
        s = db.session
        top = s.scalar(select(func.max(ScanToken.id))) or 0
        ids = rng.sample(range(1, top + 1), min(top, n * 3))
        by_kind: dict[bool, list[str]] = {True: [], False: []}
        for i in range(0, len(ids), 900):
            rows = s.execute(
                select(ScanToken.token, ScanToken.asset_id.is_not(None)).where(
                    ScanToken.id.in_(ids[i : i + 900]), ScanToken.revoked_at.is_(None)
                )
            )
            for token, is_asset in rows:
                by_kind[bool(is_asset)].append(token)
        s.remove()
    rooms = by_kind[False][: n // 10]
    tokens = by_kind[True][: n - len(rooms)] + rooms
    rng.shuffle(tokens)
    return tokens


def time_scan(app: Flask, tokens: list[str]) -> tuple[Stats, Stats]:
    """The page through the test client, one token per run; then its read alone."""
    from inventory.extensions import db
    from inventory.helpdesk.public import public_page

    client = app.test_client()  # anonymous: staff in scope are redirected to the item
    turn = iter(range(10**9))

    def get() -> None:
        token = tokens[next(turn) % len(tokens)]
        response = client.get(f"/q/{token}")
        if response.status_code != 200:
            raise AssertionError(f"GET /q/{token} answered {response.status_code}")
        if "Set-Cookie" in response.headers:  # a first scan sets none: no session to open
            raise AssertionError(f"GET /q/{token} set a cookie")
        response.close()

    page = time_calls(get, runs=RUNS, warmup=WARMUP, budget=BUDGET)

    def queries() -> None:
        token = tokens[next(turn) % len(tokens)]
        assert public_page(db.session, token) is not None
        db.session.remove()  # as at the end of a request

    with app.app_context():
        alone = time_calls(queries, runs=RUNS, warmup=WARMUP, budget=BUDGET)
    return page, alone


# -- gunicorn and the load ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """gunicorn serving wsgi_bench on ``url``'s database; stopped (SIGTERM, then SIGKILL)
    on exit, by its own process id."""

    def __init__(self, url: str, workers: int = WORKERS) -> None:
        self.url, self.workers = url, workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        # Closed (and removed) in __exit__: the server's output, shown if it fails to start.
        self.logfile = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="socle-gunicorn-", suffix=".log"
        )

    def __enter__(self) -> Gunicorn:
        env = {
            **os.environ,
            "BENCH_WSGI_DATABASE_URL": self.url,
            "PYTHONPATH": str(ROOT),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "tests.benchmarks.wsgi_bench:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/bench-hello")
                ok = conn.getresponse().status == 200
                conn.close()
                if ok and len(self.worker_pids()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.logfile.seek(0)
        tail = self.logfile.read().decode(errors="replace")[-2000:]
        self.__exit__()
        raise RuntimeError(f"gunicorn did not start:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU time of the workers so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick


def _load(
    port: int, paths: list[str], start: float, seconds: float
) -> tuple[int, int, list[float]]:
    """One load process: a keep-alive connection (reopened when the server closes it, as
    gunicorn's sync workers do after each response), GET after GET through ``paths`` from
    the wall-clock ``start`` for ``seconds``. Returns (answers 200, others, latencies ms)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)
    done = errors = 0
    latencies: list[float] = []
    end = start + seconds
    i = 0
    while time.time() < end:
        path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
        except OSError:
            conn.close()
            errors += 1
            continue
        latencies.append((time.perf_counter() - t0) * 1000)
        if response.status == 200:
            done += 1
        else:
            errors += 1
    conn.close()
    return done, errors, latencies


@dataclass
class Phase:
    label: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    cpu: float = 0.0  # the workers' CPU seconds
    latencies: tuple[float, ...] = ()

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.requests if self.requests else 0.0

    def add(self, requests: int, errors: int, seconds: float, cpu: float, lat: list[float]) -> None:
        self.requests += requests
        self.errors += errors
        self.seconds += seconds
        self.cpu += cpu
        self.latencies += tuple(lat)


def load_test(url: str, tokens: list[str]) -> dict[str, Phase]:
    """The three endpoints in turns, ROUNDS times, CLIENTS connections each."""
    endpoints = {
        "hello": ["/bench-hello"],
        "scan": [f"/q/{t}" for t in tokens],
        "hello_socle": ["/bench-hello-socle"],
    }
    phases = {k: Phase(k) for k in endpoints}
    ctx = multiprocessing.get_context("spawn")
    with Gunicorn(url) as server, ctx.Pool(CLIENTS) as pool:
        log(f"  gunicorn: {WORKERS} sync workers on port {server.port}, {CLIENTS} clients")

        def phase(key: str, seconds: float) -> tuple[int, int, float, float, list[float]]:
            paths = endpoints[key]
            start = time.time() + 0.5
            cpu0 = None
            jobs = [
                (server.port, paths[k * len(paths) // CLIENTS :] + paths, start, seconds)
                for k in range(CLIENTS)
            ]
            result = pool.starmap_async(_load, jobs)
            time.sleep(max(0.0, start - time.time()))
            cpu0 = server.cpu_seconds()
            answers = result.get()
            cpu = server.cpu_seconds() - cpu0
            lat = [x for _, _, lats in answers for x in lats]
            return sum(a[0] for a in answers), sum(a[1] for a in answers), seconds, cpu, lat

        for key in endpoints:  # warm-up: workers' first requests, connection pools
            phase(key, 1.0)
        for r in range(ROUNDS):
            for key in endpoints:
                n, errors, seconds, cpu, lat = phase(key, PHASE_SECONDS)
                phases[key].add(n, errors, seconds, cpu, lat)
                log(
                    f"  round {r + 1}, {key}: {n / seconds:,.0f} req/s, "
                    f"{1000 * cpu / max(n, 1):.2f} ms CPU/request, {errors} errors"
                )
    return phases


# -- the benchmark ---------------------------------------------------------------------------
def run(backend: Backend, *, scale: float = 1.0) -> list[Result]:
    log(f"{backend.name}: helpdesk scan page at national scale (scale {scale:g})")
    with bench_app(backend, RATELIMIT_ENABLED=False) as app:
        nat = national.build(app, scale=scale, history=False, works=False, tickets=True)
        url = app.config["DATABASE_URL"]
        tokens = sample_tokens(app)
        page, alone = time_scan(app, tokens)
        log(
            f"  GET /q/<token>: median {page.median:.1f} ms, p95 {page.p95:.1f} ms over "
            f"{len(page.samples)} tokens; its read alone p95 {alone.p95:.1f} ms"
        )
        phases = load_test(url, tokens)
    size = f"{nat.assets / 1e6:g}M" if nat.assets >= 1e6 else f"{nat.assets // 1000}k"
    hello, scan, hooks = phases["hello"], phases["scan"], phases["hello_socle"]
    setting = (
        f"gunicorn {WORKERS} sync workers, {CLIENTS} client processes (one connection each, "
        f"reopened after each answer: sync workers close it), no cookie (a phone's first "
        f"scan), {ROUNDS} × {PHASE_SECONDS:g} s per endpoint "
        "in turns; RATELIMIT_ENABLED False"
    )
    results = [
        Result("national data build (helpdesk)", nat.total_seconds, "s", detail=nat.summary()),
        Result(
            f"/q/<token> @{size} assets: p95",
            page.p95,
            "ms",
            SCAN_P95,
            f"{len(page.samples)} runs on as many tokens (1 in 10 of a room), anonymous "
            f"(Flask's whole cycle), {nat.tickets:,} tickets; "
            "RATELIMIT_ENABLED False",
        ),
        Result(f"/q/<token> @{size} assets: median", page.median, "ms"),
        Result("  scan page's read alone: p95", alone.p95, "ms"),
        Result(
            "scan / hello throughput under gunicorn",
            scan.rate / hello.rate if hello.rate else 0.0,
            "×",
            THROUGHPUT_RATIO,
            setting,
        ),
    ]
    for key, p in (("hello", hello), ("scan /q/<token>", scan), ("hello through Socle", hooks)):
        detail = (
            f"{p.requests:,} answers in {p.seconds:g} s, {p.errors} errors, latency p50 "
            f"{percentile(p.latencies, 50):.1f} ms p95 {percentile(p.latencies, 95):.1f} ms"
            if p.latencies
            else "no answer"
        )
        results.append(Result(f"  {key}: throughput", p.rate, "req/s", detail=detail))
        results.append(Result(f"  {key}: workers' CPU per request", p.cpu_ms, "ms"))
    results.append(
        Result(
            "  scan / hello, workers' CPU per request",
            scan.cpu_ms / hello.cpu_ms if hello.cpu_ms else 0.0,
            "×",
        )
    )
    return results


def main(argv: list[str] | None = None) -> int:
    """Only this benchmark; takes the options of ``tests.benchmarks.run``."""
    from tests.benchmarks.run import main as run_main

    return run_main(["--only", NAME, *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    raise SystemExit(main())
