"""Who follows a job: whoever sees its collectivité's data (administrators see them all,
a job of no collectivité, such as a registry import, is theirs only)."""

from __future__ import annotations

from sqlalchemy import select

from inventory.core import policy
from inventory.core.jobs import Job
from inventory.orgs.access import collectivite_rule
from inventory.orgs.models import Collectivite

policy.register(
    Job, lambda s: Job.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(s)))
)
