"""The blueprint of the record endpoints of /api/v1 (tickets, grants, training, figures,
history): the same bearer authentication, problem details, CSRF exemption and per-token
rate limit as the first endpoints' (api.v1), which registers it on its Api."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask_smorest import Blueprint

from inventory.api import auth, common
from inventory.extensions import csrf, limiter

V = TypeVar("V", bound=Callable[..., Any])

blp = Blueprint(
    "api_records",
    __name__,
    url_prefix="/api/v1",
    description="Socle's tickets, grants, training, figures and change log",
)
auth.install(blp)
csrf.exempt(blp)  # no cookie authenticates here: a forged cross-site request has no token
# One budget per token across the API: the same shared scope as api.v1's blueprint.
limiter.shared_limit(auth.rate_limit, scope="api", key_func=auth.rate_limit_key)(blp)


def problems(*codes: int) -> Callable[[V], V]:
    """The problem details an operation of this blueprint may answer (common)."""
    return common.problem_answers(blp, *codes)
