"""How a scope narrows each registry model: the rules the policy applies."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select

from inventory.core import policy
from inventory.core.audit import AuditRecord
from inventory.core.policy import Scope, ScopeKind
from inventory.orgs.models import (
    Academie,
    Circonscription,
    Classroom,
    Collectivite,
    Commune,
    Departement,
    Ecole,
    Ownership,
)


def _departements_of(scope: Scope) -> Select[int]:
    return select(Departement.id).where(Departement.academie_id.in_(scope.of(ScopeKind.ACADEMIE)))


def ecole_rule(scope: Scope) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if ids := scope.of(ScopeKind.COLLECTIVITE):
        parts.append(Ecole.collectivite_id.in_(ids))
    if ids := scope.of(ScopeKind.CIRCONSCRIPTION):
        parts.append(Ecole.circonscription_id.in_(ids))
    if ids := scope.of(ScopeKind.DEPARTEMENT):
        parts.append(Ecole.departement_id.in_(ids))
    if scope.of(ScopeKind.ACADEMIE):
        parts.append(Ecole.departement_id.in_(_departements_of(scope)))
    return or_(*parts) if parts else false()


def visible_ecole_ids(scope: Scope) -> Select[int]:
    return select(Ecole.id).where(ecole_rule(scope))


def collectivite_rule(scope: Scope) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if ids := scope.of(ScopeKind.COLLECTIVITE):
        parts.append(Collectivite.id.in_(ids))
    if (
        scope.of(ScopeKind.ACADEMIE)
        or scope.of(ScopeKind.DEPARTEMENT)
        or scope.of(ScopeKind.CIRCONSCRIPTION)
    ):
        # An académie-side user sees the collectivités owning a school in their scope.
        parts.append(
            Collectivite.id.in_(select(Ecole.collectivite_id).where(ecole_rule(scope)).distinct())
        )
    return or_(*parts) if parts else false()


def circonscription_rule(scope: Scope) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if ids := scope.of(ScopeKind.CIRCONSCRIPTION):
        parts.append(Circonscription.id.in_(ids))
    if ids := scope.of(ScopeKind.DEPARTEMENT):
        parts.append(Circonscription.departement_id.in_(ids))
    if scope.of(ScopeKind.ACADEMIE):
        parts.append(Circonscription.departement_id.in_(_departements_of(scope)))
    if ids := scope.of(ScopeKind.COLLECTIVITE):
        parts.append(
            Circonscription.id.in_(
                select(Ecole.circonscription_id).where(Ecole.collectivite_id.in_(ids)).distinct()
            )
        )
    return or_(*parts) if parts else false()


def departement_rule(scope: Scope) -> ColumnElement[bool]:
    return Departement.id.in_(select(Ecole.departement_id).where(ecole_rule(scope)).distinct())


def academie_rule(scope: Scope) -> ColumnElement[bool]:
    return Academie.id.in_(
        select(Departement.academie_id).where(departement_rule(scope)).distinct()
    )


def commune_rule(scope: Scope) -> ColumnElement[bool]:
    return Commune.id.in_(select(Ecole.commune_id).where(ecole_rule(scope)).distinct())


def audit_rule(scope: Scope) -> ColumnElement[bool]:
    return or_(
        AuditRecord.ecole_id.in_(visible_ecole_ids(scope)),
        AuditRecord.collectivite_id.in_(select(Collectivite.id).where(collectivite_rule(scope))),
    )


policy.register(Ecole, ecole_rule)
policy.register(Classroom, lambda s: Classroom.ecole_id.in_(visible_ecole_ids(s)))
policy.register(Ownership, lambda s: Ownership.ecole_id.in_(visible_ecole_ids(s)))
policy.register(Collectivite, collectivite_rule)
policy.register(Circonscription, circonscription_rule)
policy.register(Departement, departement_rule)
policy.register(Academie, academie_rule)
policy.register(Commune, commune_rule)
policy.register(AuditRecord, audit_rule)
