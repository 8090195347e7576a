"""Run the benchmarks on SQLite (and PostgreSQL on request) and print the table.

    python -m tests.benchmarks.run [--postgres [URL]] [--database-url URL] [--only NAME]
                                   [--scale 0.1]

Exits 1 when a target is missed, so that CI can run it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from types import ModuleType

from tests import benchmarks
from tests.benchmarks.common import (
    DEFAULT_POSTGRES_URL,
    Backend,
    PostgresBackend,
    Result,
    backend_for,
    cpu_reference,
    load_average,
    log,
    machine,
    results_table,
)


def modules() -> list[ModuleType]:
    """Every ``bench_*`` module of this package, in name order."""
    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    return [importlib.import_module(f"{benchmarks.__name__}.{n}") for n in names]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="run on this database only (created, then dropped: use a dedicated one, e.g. "
        f"{DEFAULT_POSTGRES_URL}); default: BENCH_DATABASE_URL, else SQLite in a temporary "
        "directory",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES_URL,
        metavar="URL",
        help=f"also run on PostgreSQL (default URL {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[n for n in os.environ.get("BENCH_ONLY", "").split(",") if n] or None,
        help="run only this benchmark (repeatable); default: BENCH_ONLY (comma-separated)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink the national-scale data for a quick try (0.1 = a tenth); the targets "
        "are set for 1",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    found = modules()
    if args.list:
        for m in found:
            print(f"{m.NAME}: {(m.__doc__ or '').strip().splitlines()[0]}")
        return 0
    if args.only:
        unknown = set(args.only) - {m.NAME for m in found}
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        found = [m for m in found if m.NAME in args.only]
    backends: list[Backend] = [backend_for(args.database_url)]
    if args.postgres and not isinstance(backends[0], PostgresBackend):
        backends.append(PostgresBackend(args.postgres))
    load_at_start, speed_at_start = load_average(), cpu_reference()
    header = [machine()]
    for b in backends:
        try:
            header.append(f"{b.name}: {b.version()} at {b.url}")
        except Exception as exc:  # the server is down, the role may not connect...
            raise SystemExit(f"{b.name} at {b.url} cannot be used: {exc}") from exc
    log("; ".join(header))
    if args.scale != 1:
        header.append(f"scale {args.scale:g}: NOT the national-scale figures the targets are for")
    by_engine: dict[str, list[Result]] = {}
    for backend in backends:
        for module in found:
            log(f"CPU reference (5,000,000 Python additions): {cpu_reference()}")
            by_engine.setdefault(backend.name, []).extend(module.run(backend, scale=args.scale))
    text, ok = results_table(by_engine)
    header.append(f"load average (1 min) at start {load_at_start}, at end {load_average()}")
    header.append(
        "CPU reference (5,000,000 Python additions, best of 3; lower is faster): "
        f"{speed_at_start} at start, {cpu_reference()} at end"
    )
    print()
    print("\n".join(header))
    print()
    print(text)
    print()
    print("All targets met." if ok else "Some targets are missed (FAIL above).")
    log("done")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
