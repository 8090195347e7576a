"""How a scope narrows training data: a session is visible with any of its schools."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true

from inventory.core import policy
from inventory.core.policy import Scope
from inventory.orgs.access import visible_ecole_ids
from inventory.training.models import (
    Attendee,
    FollowUpAction,
    Trainer,
    TrainingDocument,
    TrainingSession,
    TrainingTopic,
    session_schools,
)


def session_rule(scope: Scope) -> ColumnElement[bool]:
    return TrainingSession.id.in_(
        select(session_schools.c.session_id).where(
            session_schools.c.ecole_id.in_(visible_ecole_ids(scope))
        )
    )


def _visible_sessions(scope: Scope):
    return select(TrainingSession.id).where(session_rule(scope))


policy.register(TrainingSession, session_rule)
policy.register(TrainingTopic, lambda s: true())
for _model in (Trainer, Attendee, FollowUpAction, TrainingDocument):
    policy.register(_model, lambda s, m=_model: m.session_id.in_(_visible_sessions(s)))
