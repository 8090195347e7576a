"""Saves made at the same instant, for the tests of optimistic locking: each call runs in
a thread of its own (its own request or app context, so its own session and connection,
against the real test database), and all of them have loaded the record before any saves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

TIMEOUT = 60


def simultaneously(model: type, *calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at once. Each thread, right after it loads its first ``model`` row,
    waits until every other thread has loaded its own: all read the same version before
    any of them writes. Returns each call's result, or the exception it raised."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)
    local = threading.local()
    results: list[Any] = [None] * len(calls)

    def loaded(_target: Any, _context: Any) -> None:
        if getattr(local, "waiting", False):
            local.waiting = False
            barrier.wait()

    def run(index: int, call: Callable[[], Any]) -> None:
        local.waiting = True
        try:
            results[index] = call()
        except BaseException as exc:  # handed to the test, which names it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    event.listen(model, "load", loaded)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 2)
    finally:
        event.remove(model, "load", loaded)
    assert not any(t.is_alive() for t in threads), "a save never finished"
    return results
