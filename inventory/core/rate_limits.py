"""Rate limits that hold exactly, even when the requests they count arrive at once.

Flask-Limiter counts a limit with ``deduct_when`` after the view has answered: requests
arriving together are all tested against a counter none of them has raised yet, and all
pass. The views whose limits matter (signing in, the public report) count instead with
``reserve``, before they act: each of the route's limits is consumed with one atomic
increment of its counter in the limiter's storage (Redis INCRBY, shared by every worker;
or the memory of the process, under a lock), whose answer says whether this request fits.
A request that turns out not to count (a sign-in that succeeds, a report joined to
another) gives its place back.

Such a route declares its limits with ``checked``: Flask-Limiter still refuses a flood
before any work, and leaves the counting to the view. With Redis unreachable, Flask-
Limiter counts in the memory of each process (``limiter.limiter`` is then that storage's),
and so does ``reserve``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_limiter import RequestLimit
from limits.strategies import FixedWindowRateLimiter
from werkzeug.wrappers import Response

from inventory.extensions import limiter

# The memory storage of ``limits`` (the default, and the fallback while Redis is down)
# starts its expiry timer without a lock: two threads of one worker counting at once make
# it raise, and the request would pass uncounted. This process's own counting takes turns;
# across workers, Redis's increments are atomic by themselves.
_COUNTING = threading.RLock()


def _counted_by_the_view(_response: Response) -> bool:
    """Flask-Limiter only tests the limit before the view; the view reserves its place."""
    return False


def checked(
    limit: str | Callable[[], str], *, key_func: Callable[[], str] | None = None, **options: Any
) -> Callable[..., Any]:
    """A route's limit that Flask-Limiter tests before the view and the view counts with
    ``reserve`` (the address of the request is the key unless ``key_func`` says another)."""
    return limiter.limit(limit, key_func=key_func, deduct_when=_counted_by_the_view, **options)


@dataclass(frozen=True)
class Reservation:
    """The places a request took in its route's limits."""

    taken: tuple[RequestLimit, ...]

    def give_back(self) -> None:
        """This request counts for nothing after all: its places are given back, where the
        strategy has a counter to decrement (the fixed window, the default). Nothing taken
        (the limits switched off, ``RATELIMIT_ENABLED = False``): nothing to give back."""
        if not self.taken:
            return
        strategy = limiter.limiter
        if not isinstance(strategy, FixedWindowRateLimiter):
            return
        try:
            with _COUNTING:
                for limit in self.taken:
                    strategy.storage.incr(limit.key, limit.limit.get_expiry(), amount=-1)
        except Exception:
            current_app.logger.warning(
                "Rate limit storage failed: place not given back", exc_info=True
            )


def reserve(what: str) -> Reservation | None:
    """Count this request against its route's own limits before it acts; None when one of
    them is used up (the request is then refused, and counts for nothing).

    Requests arriving at once on several workers can never all pass a test made before any
    of them counted: the answer of each one's increment decides. A storage failing just
    now lets the request through, and says so in the log (``what`` names it): a limit must
    never lock everyone out.
    """
    taken: list[RequestLimit] = []
    try:
        with _COUNTING:
            for limit in limiter.current_limits:
                if limit.shared:  # an application-wide limit, counted by Flask-Limiter
                    continue
                taken.append(limit)
                if not limiter.limiter.hit(limit.limit, *limit.request_args):
                    # Refused: what this request counted is given back, so that the
                    # counters say how many were let through.
                    Reservation(tuple(taken)).give_back()
                    return None
    except Exception:
        current_app.logger.warning("Rate limit storage failed: %s let through", what, exc_info=True)
    return Reservation(tuple(taken))
