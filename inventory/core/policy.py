"""The one access policy: who may see which rows, and who may change them.

Domains register, per model, how a :class:`Scope` narrows a query of that model
(:func:`register`). Views, services, exports and the API then go through
:func:`visible` for reads and :func:`can` for writes; an object out of scope, or an
action the role may not take, answers 404 so that nothing leaks about what exists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, Select, false, select, true
from werkzeug.exceptions import NotFound


class Role(enum.StrEnum):
    ADMIN = "admin"
    TECHNICIEN = "technicien"
    GESTIONNAIRE = "gestionnaire"
    AUDITEUR = "auditeur"
    FORMATEUR = "formateur"


class Action(enum.StrEnum):
    READ = "read"
    EDIT = "edit"  # classrooms, equipment, works, labels, tickets
    FINANCE = "finance"  # grant dossiers, expenses, payments
    TRAIN = "train"  # accompaniment and training sessions
    EXPORT = "export"
    ADMIN = "admin"  # users, schemes, reference data, imports


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.TECHNICIEN: frozenset({Action.READ, Action.EDIT, Action.EXPORT}),
    Role.GESTIONNAIRE: frozenset({Action.READ, Action.FINANCE, Action.EXPORT}),
    Role.AUDITEUR: frozenset({Action.READ, Action.EXPORT}),
    Role.FORMATEUR: frozenset({Action.READ, Action.TRAIN}),
}


class ScopeKind(enum.StrEnum):
    COLLECTIVITE = "collectivite"
    ACADEMIE = "academie"
    DEPARTEMENT = "departement"
    CIRCONSCRIPTION = "circonscription"


# Which scope kinds each role may be given.
ROLE_SCOPE_KINDS: dict[Role, frozenset[ScopeKind]] = {
    Role.ADMIN: frozenset(),
    Role.TECHNICIEN: frozenset({ScopeKind.COLLECTIVITE}),
    Role.GESTIONNAIRE: frozenset({ScopeKind.COLLECTIVITE}),
    Role.AUDITEUR: frozenset(
        {ScopeKind.ACADEMIE, ScopeKind.DEPARTEMENT, ScopeKind.CIRCONSCRIPTION}
    ),
    Role.FORMATEUR: frozenset({ScopeKind.DEPARTEMENT, ScopeKind.CIRCONSCRIPTION}),
}


@dataclass(frozen=True)
class Scope:
    """The part of the registry a user works on."""

    everything: bool = False
    ids: dict[ScopeKind, frozenset[int]] = field(default_factory=dict)

    def of(self, kind: ScopeKind) -> frozenset[int]:
        return self.ids.get(kind, frozenset())

    @property
    def empty(self) -> bool:
        return not self.everything and not any(self.ids.values())


class Subject(Protocol):
    """What the policy needs to know of a user (anonymous users have no role)."""

    @property
    def role(self) -> Role | None: ...

    @property
    def scope(self) -> Scope: ...


class Anonymous:
    role: Role | None = None
    scope = Scope()


ANONYMOUS = Anonymous()


class Denied(NotFound):
    """Out of scope, or an action the role may not take: answered as 404."""


Rule = Callable[[Scope], ColumnElement[bool]]
_rules: dict[type, Rule] = {}
M = TypeVar("M")


def register(model: type, rule: Rule) -> None:
    """Declare how a scope narrows queries of ``model``."""
    _rules[model] = rule


def allowed(user: Subject, action: Action) -> bool:
    return user.role is not None and action in ROLE_ACTIONS[user.role]


def condition(user: Subject, model: type) -> ColumnElement[bool]:
    """The WHERE clause that keeps the rows of ``model`` in ``user``'s scope."""
    if user.role is None:
        return false()
    scope = user.scope
    if scope.everything:
        return true()
    if scope.empty:
        return false()
    try:
        rule = _rules[model]
    except KeyError:
        raise LookupError(f"no access rule registered for {model.__name__}") from None
    return rule(scope)


# The columns a statement selects: visible() narrows the rows, never the columns.
Columns = TypeVarTuple("Columns")


def visible(user: Subject, stmt: Select[*Columns], model: type | None = None) -> Select[*Columns]:
    """Narrow ``stmt`` to what ``user`` may read; ``model`` defaults to its first entity."""
    if model is None:
        model = stmt.column_descriptions[0]["entity"]
    return stmt.where(condition(user, model))


def can(user: Subject, action: Action, obj: Any, session: Any) -> bool:
    """May ``user`` take ``action`` on ``obj``? (role allows it and obj is in scope)."""
    if not allowed(user, action):
        return False
    model = type(obj)
    stmt = select(model.id).where(model.id == obj.id)
    return session.scalar(visible(user, stmt, model)) is not None


def load_or_404(
    user: Subject, model: type[M], object_id: int, session: Any, action: Action = Action.READ
) -> M:
    """Fetch one object through the policy; out of scope or not allowed → 404."""
    if not allowed(user, action):
        raise Denied()
    stmt = visible(user, select(model).where(model.id == object_id), model)  # type: ignore[attr-defined]
    obj = session.scalar(stmt)
    if obj is None:
        raise Denied()
    return obj


def require(user: Subject, action: Action) -> None:
    """For pages that are not about one object: the role must allow ``action``."""
    if not allowed(user, action):
        raise Denied()
