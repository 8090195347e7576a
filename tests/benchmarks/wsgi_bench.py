"""The WSGI app gunicorn serves in the helpdesk benchmark: Socle on the benchmark's
database, and beside it ``/bench-hello``, a bare Flask app that answers "hello".

Both live in the same worker processes, behind the same gunicorn settings, so that their
throughputs compare the application's work and nothing else. A request is dispatched on
its path alone, before either app sees it: the hello app runs none of Socle's hooks
(session, sign-in, locale, security headers). ``/bench-hello-socle`` is a route added to
Socle itself, to tell those hooks apart from the page's own work.

    BENCH_WSGI_DATABASE_URL=sqlite:///… gunicorn tests.benchmarks.wsgi_bench:app
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from inventory import create_app
from inventory.web import allow

HELLO = "/bench-hello"

socle = create_app(
    {
        "DATABASE_URL": os.environ["BENCH_WSGI_DATABASE_URL"],
        "SECRET_KEY": "bench-wsgi-secret-key-not-for-production",
        # Public pages are rate-limited per address; every request of the load generator
        # comes from 127.0.0.1, and a limit would measure the limiter's refusals.
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
)
socle.add_url_rule(f"{HELLO}-socle", "bench_hello_socle", allow(None)(lambda: "hello"))

hello = Flask("bench_hello")
hello.add_url_rule(HELLO, "hello", lambda: "hello")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == HELLO:
        return hello(environ, start_response)
    return socle(environ, start_response)


# As wsgi.py does: what start-up built stays out of the cyclic collector's passes.
gc.freeze()
