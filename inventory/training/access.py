"""How a scope narrows training data: a session is visible with any of its schools."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, select, true

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


def _visible_sessions(scope: Scope) -> Select[int]:
    return select(TrainingSession.id).where(session_rule(scope))


policy.register(TrainingSession, session_rule)


def _every_topic(_scope: Scope) -> ColumnElement[bool]:
    return true()  # the topics are a shared list


policy.register(TrainingTopic, _every_topic)


def _of_visible_sessions(model: Any) -> Callable[[Scope], ColumnElement[bool]]:
    """The rule of a session's part: visible with its session."""

    def rule(scope: Scope) -> ColumnElement[bool]:
        return model.session_id.in_(_visible_sessions(scope))

    return rule


for _model in (Trainer, Attendee, FollowUpAction, TrainingDocument):
    policy.register(_model, _of_visible_sessions(_model))
