"""What a session's fields may hold: the names of its modes, formats, statuses and roles,
and the schools, topics, items, trainers and expenses the user may choose from.

The forms offer these; the services check every value against them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, AssetStatus, EquipmentCategory
from inventory.auth.models import User, UserScope
from inventory.core import policy
from inventory.core.policy import Role, ScopeKind, Subject
from inventory.grants.models import Dossier, DossierSchool, Expense
from inventory.orgs.models import Ecole, SchoolStatus
from inventory.training.models import (
    AttendeeRole,
    SessionFormat,
    SessionMode,
    SessionStatus,
    TrainingSession,
    TrainingTopic,
)

#: The grant volet whose expense lines may fund a session.
ACCOMPANIMENT_VOLET = "accompagnement"

MODE_LABELS = {SessionMode.ON_SITE: _l("on site"), SessionMode.REMOTE: _l("remote")}
FORMAT_LABELS = {
    SessionFormat.WORKSHOP: _l("hands-on workshop"),
    SessionFormat.DEMONSTRATION: _l("demonstration"),
    SessionFormat.CONFERENCE: _l("conference"),
    SessionFormat.REMOTE_FOLLOW_UP: _l("remote follow-up"),
}
STATUS_LABELS = {
    SessionStatus.PLANNED: _l("planned"),
    SessionStatus.HELD: _l("held"),
    SessionStatus.CANCELLED: _l("cancelled"),
}
ROLE_LABELS = {
    AttendeeRole.TEACHER: _l("teacher"),
    AttendeeRole.DIRECTOR: _l("school director"),
    AttendeeRole.MUNICIPAL: _l("municipal staff"),
}


def visible_schools(session: Session, user: Subject) -> list[Ecole]:
    """The open schools a session may be planned for, by name."""
    stmt = (
        select(Ecole)
        .where(Ecole.status != SchoolStatus.CLOSED)
        .options(selectinload(Ecole.commune))
        .order_by(Ecole.name, Ecole.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Ecole)))


def topics(session: Session, include: Iterable[int] = ()) -> list[TrainingTopic]:
    stmt = select(TrainingTopic).where(
        or_(TrainingTopic.active.is_(True), TrainingTopic.id.in_(list(include)))
    )
    return list(session.scalars(stmt.order_by(TrainingTopic.position, TrainingTopic.id)))


def categories(session: Session) -> list[EquipmentCategory]:
    return list(session.scalars(select(EquipmentCategory).order_by(EquipmentCategory.position)))


def assets_of_schools(session: Session, user: Subject, school_ids: Sequence[int]) -> list[Asset]:
    """Items of these schools that a session can cover (not retired nor lost)."""
    if not school_ids:
        return []
    stmt = (
        select(Asset)
        .where(
            Asset.ecole_id.in_(list(school_ids)),
            Asset.status.not_in([AssetStatus.RETIRED, AssetStatus.LOST]),
        )
        .options(
            selectinload(Asset.category),
            selectinload(Asset.classroom),
            selectinload(Asset.ecole),
            selectinload(Asset.model),
        )
        .order_by(Asset.ecole_id, Asset.classroom_id, Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt, Asset)))


def trainer_candidates(session: Session, user: Subject) -> list[User]:
    """Active trainer accounts whose scope meets the acting user's schools.

    Accounts are the administrators' business (the policy hides them); only their names
    are offered here, to name who ran a session."""
    stmt = select(User).where(User.role == Role.FORMATEUR, User.active.is_(True))
    if not user.scope.everything:
        in_scope = policy.condition(user, Ecole)
        covered = select(UserScope.user_id).where(
            or_(
                and_(
                    UserScope.kind == ScopeKind.CIRCONSCRIPTION,
                    UserScope.ref_id.in_(select(Ecole.circonscription_id).where(in_scope)),
                ),
                and_(
                    UserScope.kind == ScopeKind.DEPARTEMENT,
                    UserScope.ref_id.in_(select(Ecole.departement_id).where(in_scope)),
                ),
            )
        )
        stmt = stmt.where(User.id.in_(covered))
    return list(session.scalars(stmt.order_by(User.name, User.id)))


def expense_candidates(session: Session, user: Subject, school_ids: Sequence[int]) -> list[Expense]:
    """Expense lines of an "accompagnement" volet whose dossier covers all these schools."""
    ids = sorted(set(school_ids))
    if not ids:
        return []
    covering = (
        select(DossierSchool.dossier_id)
        .where(DossierSchool.ecole_id.in_(ids))
        .group_by(DossierSchool.dossier_id)
        .having(func.count(func.distinct(DossierSchool.ecole_id)) == len(ids))
    )
    stmt = (
        select(Expense)
        .join(Dossier, Dossier.id == Expense.dossier_id)
        .where(Expense.volet == ACCOMPANIMENT_VOLET, Expense.dossier_id.in_(covering))
        .options(selectinload(Expense.dossier))
        .order_by(Dossier.title, Expense.id)
    )
    return list(session.scalars(policy.visible(user, stmt, Expense)))


def expense_label(expense: Expense) -> str:
    dossier = expense.dossier
    name = dossier.reference or dossier.title
    return f"{name} — {expense.supplier} {expense.invoice_number}"


def expense_of(session: Session, user: Subject, ts: TrainingSession) -> Expense | None:
    """The funding expense, when the user may see its dossier."""
    if ts.expense_id is None:
        return None
    stmt = select(Expense).where(Expense.id == ts.expense_id).options(selectinload(Expense.dossier))
    return session.scalar(policy.visible(user, stmt, Expense))
