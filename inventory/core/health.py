"""What ``/healthz`` checks: a small registry of named checks, each added by one call.

A check is a function of no argument that returns what it measured (a small JSON-able
dict, possibly empty) and raises when what it checks is unhealthy. The database and Redis
checks are registered by the app factory; other parts (the job queue's backlog) register
theirs with ``register(app, name, check)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

Check = Callable[[], Mapping[str, Any] | None]

_KEY = "health_checks"
# A check that hangs would hang the probe: Redis is asked with this timeout (seconds).
REDIS_TIMEOUT = 1.0


class Unhealthy(Exception):
    """Raised by a check whose measure is out of bounds (a backlog too long…)."""


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "failing", **self.detail}


def register(app: Flask, name: str, check: Check) -> None:
    """Add (or replace) the check called ``name``: ``/healthz`` runs it from now on."""
    app.extensions.setdefault(_KEY, {})[name] = check


def registered(app: Flask) -> dict[str, Check]:
    return dict(app.extensions.get(_KEY, {}))


def run(app: Flask) -> list[Outcome]:
    """Run every check, in the order registered; a failing one does not stop the others."""
    outcomes = []
    for name, check in registered(app).items():
        started = time.perf_counter()
        try:
            detail = dict(check() or {})
            ok = True
        except Exception as exc:  # a probe reports every failure, whatever its kind
            detail = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            ok = False
        detail["ms"] = round((time.perf_counter() - started) * 1000, 1)
        outcomes.append(Outcome(name, ok, detail))
    return outcomes


def database_check(engine: Callable[[], Engine]) -> Check:
    """The database answers a ``SELECT 1`` (``engine``: the app's engine, read when run)."""

    def check() -> dict[str, Any]:
        bound = engine()
        with bound.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"engine": bound.dialect.name}

    return check


def redis_check(url: str) -> Check:
    """Redis answers a PING, within ``REDIS_TIMEOUT``."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )

    def check() -> dict[str, Any]:
        client.ping()
        return {}

    return check
