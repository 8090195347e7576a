"""Shared pieces of the benchmarks: throwaway databases, a migrated app, a signed-in
client, timings, and the table of results with the targets.

A benchmark is a module ``tests/benchmarks/bench_<name>.py`` exposing ``NAME`` and
``run(backend, *, scale=1.0) -> list[Result]``. ``run.py`` finds it, calls it once per
database engine and prints one table for all of them. Inside, a benchmark typically does::

    with bench_app(backend) as app:           # a migrated app on a throwaway database
        ...                                   # build its data (setup, not measured)
        client = signed_in_admin(app)
        stats = time_requests(client, "/ecoles?q=ferry", runs=50, budget=10)
    return [Result("/ecoles q=ferry: p95", stats.p95, "ms", Target("<", 50, "ms"))]
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from inventory.core.policy import Role, Scope

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/socle_bench"
PASSWORD = "bench-correct-horse-battery-staple"
ADMIN_EMAIL = "bench-admin@example.org"
# Never create or drop these, whatever URL is given.
PROTECTED_DATABASES = frozenset({"test", "postgres", "template0", "template1", "socle"})

_started = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr, so that the table on stdout stays clean."""
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


# -- timings -------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Stats:
    """Durations in milliseconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    @property
    def worst(self) -> float:
        return max(self.samples)


def time_calls(
    fn: Callable[[], Any], *, runs: int = 50, warmup: int = 3, budget: float | None = None
) -> Stats:
    """Call ``fn`` ``warmup`` times untimed, then ``runs`` times, each timed alone.

    With a ``budget`` in seconds, stop early once it is spent (after 10 runs at least),
    so that a very slow page does not hold the whole run for minutes.
    """
    gc.collect()  # the garbage of the setup is not the timed code's
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < runs:
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if budget and len(samples) >= 10 and time.perf_counter() - started > budget:
            break
    return Stats(tuple(samples))


def time_requests(
    client: FlaskClient,
    url: str,
    *,
    runs: int = 50,
    warmup: int = 3,
    budget: float | None = None,
    status: int = 200,
) -> Stats:
    """Server time of GET ``url``: the app's whole handling of the request, no network."""

    def get() -> None:
        response = client.get(url)
        if response.status_code != status:
            raise AssertionError(f"GET {url} answered {response.status_code}, not {status}")
        response.close()

    return time_calls(get, runs=runs, warmup=warmup, budget=budget)


@contextlib.contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...``; ``elapsed()`` is in seconds, frozen at exit."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


# -- results -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """``value <op> limit``, e.g. ``Target(">=", 5000)``."""

    op: str
    limit: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return {
            ">=": value >= self.limit,
            ">": value > self.limit,
            "<=": value <= self.limit,
            "<": value < self.limit,
        }[self.op]

    def __str__(self) -> str:
        symbol = {">=": "≥", "<=": "≤"}.get(self.op, self.op)
        return f"{symbol} {fmt(self.limit, self.unit)}"


@dataclass(frozen=True)
class Result:
    """One figure of one benchmark on one engine; no target means informational."""

    metric: str
    value: float
    unit: str = ""
    target: Target | None = None
    detail: str = ""  # what exactly was measured, listed under the table

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)


def fmt(value: float, unit: str = "") -> str:
    if unit == "×":
        text = f"{value:.2f}×"
    elif unit == "KiB":
        text = f"{value:,.0f}"
    elif unit == "ms":
        text = f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"
    elif abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif value == int(value):
        text = f"{int(value)}"
    else:
        text = f"{value:.1f}"
    return f"{text} {unit}" if unit and unit not in ("×", "ms") else text


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int] = frozenset()
) -> str:
    """A plain-text, aligned, Markdown-compatible table; ``right`` aligns those columns."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(out) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def results_table(by_engine: dict[str, list[Result]]) -> tuple[str, bool]:
    """One row per metric, one value and verdict column pair per engine, then the details.

    Returns the text and whether every target was met on every engine.
    """
    metrics: dict[str, Result] = {}
    for results in by_engine.values():
        for r in results:
            metrics.setdefault(r.metric, r)
    engines = list(by_engine)
    headers = ["metric", "target"]
    for engine in engines:
        headers += [engine, ""]
    rows = []
    all_ok = True
    for name, first in metrics.items():
        row = [name, str(first.target) if first.target else "—"]
        for engine in engines:
            found = next((r for r in by_engine[engine] if r.metric == name), None)
            if found is None:
                row += ["n/a", ""]
                continue
            verdict = {True: "PASS", False: "FAIL", None: ""}[found.passed]
            all_ok = all_ok and found.passed is not False
            row += [fmt(found.value, found.unit), verdict]
        rows.append(row)
    right = {2 + 2 * i for i in range(len(engines))}
    text = table(headers, rows, right)
    details = [
        f"- {engine}, {r.metric.strip()}: {r.detail}"
        for engine in engines
        for r in by_engine[engine]
        if r.detail
    ]
    if details:
        text += "\n\n" + "\n".join(details)
    return text, all_ok


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                cpu = text_line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    return (
        f"machine: nproc {usable}{f' ({cpu})' if cpu else ''}{memory}; "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"SQLite {sqlite3.sqlite_version}; {platform.system()} {platform.release()}"
    )


def cpu_reference() -> str:
    """The time of a fixed pure-Python loop, best of three: this host's speed drifts (a
    shared virtual machine), and the figures of one run compare with another's only
    next to it."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return f"{best:.2f} s"


def load_average() -> str:
    """The 1-minute load average: timings on a busy machine are not worth much."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "?"


# -- throwaway databases ---------------------------------------------------------------------
class Backend:
    """An engine on which a benchmark creates databases it drops afterwards."""

    name: str
    url: str

    def database(self) -> contextlib.AbstractContextManager[str]:
        """A new, empty database, dropped on exit; yields its URL."""
        raise NotImplementedError

    def version(self) -> str:
        return ""


class SQLiteBackend(Backend):
    """Files in a temporary directory, or at the path of the URL given (which must not exist)."""

    name = "SQLite"

    def __init__(self, url: str | None = None) -> None:
        self.path: Path | None = None
        if url:
            self.path = Path(url.removeprefix("sqlite:///"))
            if self.path.exists():
                raise SystemExit(f"{self.path} exists: the benchmark only uses a new database")
        self.url = url or "sqlite:///<temporary directory>"
        self.count = 0

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        with tempfile.TemporaryDirectory(prefix="socle-bench-") as tmp:
            self.count += 1
            path = self.path or Path(tmp) / f"bench-{self.count}.db"
            try:
                yield f"sqlite:///{path}"
            finally:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"


class PostgresBackend(Backend):
    """A dedicated database (``socle_bench`` by default), created then dropped each time."""

    name = "PostgreSQL"

    def __init__(self, url: str = DEFAULT_POSTGRES_URL) -> None:
        self.url = url
        parts = urlsplit(url)
        self.dbname = parts.path.lstrip("/")
        if not self.dbname or self.dbname in PROTECTED_DATABASES:
            raise SystemExit(
                f"Refusing to use database {self.dbname!r}: give a dedicated one, "
                "e.g. .../socle_bench (it is dropped and recreated)."
            )
        self.admin_url = parts._replace(path="/postgres").geturl().replace("+psycopg", "")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        quoted = '"' + self.dbname.replace('"', '""') + '"'
        self._admin(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        self._admin(f"CREATE DATABASE {quoted}")
        try:
            yield self.url
        finally:
            self._admin(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")

    def version(self) -> str:
        import psycopg

        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return f"PostgreSQL {row[0] if row else '?'}"


def backend_for(url: str | None) -> Backend:
    if url and url.startswith("postgresql"):
        return PostgresBackend(url)
    if url and not url.startswith("sqlite:///"):
        raise SystemExit(f"Unsupported database URL {url!r}: sqlite:/// or postgresql+psycopg://")
    return SQLiteBackend(url)


# -- the app ---------------------------------------------------------------------------------
class Admin:
    """An administrator seeing everything, as in tests/conftest.py: the actor that creates
    the benchmark's account, and the subject of service calls timed without a request."""

    id = None
    role = Role.ADMIN
    scope = Scope(everything=True)


def make_app(url: str, **config: Any) -> Flask:
    """The app on ``url``, its schema built by the migrations."""
    from flask_migrate import upgrade

    from inventory import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": None,
            **config,
        }
    )
    logging.disable(logging.INFO)  # Alembic's "Running upgrade" lines
    try:
        with app.app_context():
            upgrade()
    finally:
        logging.disable(logging.NOTSET)
    return app


def close_app(app: Flask) -> None:
    """Release every connection, so that the database can be dropped."""
    from inventory.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextlib.contextmanager
def bench_app(backend: Backend, **config: Any) -> Iterator[Flask]:
    """A migrated app on a new throwaway database of ``backend``."""
    with backend.database() as url:
        app = make_app(url, **config)
        try:
            yield app
        finally:
            close_app(app)


def signed_in_admin(app: Flask) -> FlaskClient:
    """A test client signed in as a new administrator (through the real login form)."""
    from inventory.auth.services import create_user
    from inventory.extensions import db

    with app.app_context():
        create_user(
            db.session,
            Admin(),
            email=ADMIN_EMAIL,
            name="Bench",
            role=Role.ADMIN,
            password=PASSWORD,
        )
        db.session.remove()
    client = app.test_client()
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    if response.status_code != 302:
        raise AssertionError(f"login failed: {response.status_code}")
    return client


def analyze(app: Flask) -> None:
    """Refresh the planner statistics, as autovacuum would (PostgreSQL only: the app never
    runs ANALYZE on SQLite, so a real SQLite database has no statistics either)."""
    from sqlalchemy import text

    from inventory.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
