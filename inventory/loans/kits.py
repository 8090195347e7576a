"""Kits: what a school books as one (a classe mobile and its devices), and its public link."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from inventory.assets.models import Asset
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.core.versioning import check_version, guarded
from inventory.labels.tokens import new_token
from inventory.loans.models import Kit, kit_items
from inventory.loans.rules import LoanError, kit_conflict
from inventory.orgs.models import Ecole


def _items_of(
    session: Session, user: Subject, ecole: Ecole, asset_ids: Sequence[int]
) -> list[Asset]:
    """The items of the school the user may edit, in another kit than ``kit_id`` or none."""
    if not asset_ids:
        return []
    stmt = select(Asset).where(Asset.id.in_(asset_ids), Asset.ecole_id == ecole.id)
    found = list(session.scalars(policy.visible(user, stmt)))
    if len(found) != len(set(asset_ids)):
        raise LoanError(_l("Choose items of the kit's school."), field="asset_ids")
    return found


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise LoanError(_l("Give the kit a name (Classe mobile 1…)."), field="name")
    return name[:150]


def create_kit(
    session: Session, user: Subject, ecole: Ecole, name: str, asset_ids: Sequence[int] = ()
) -> Kit:
    """A new kit at a school the user may edit, holding the given items."""
    if not policy.can(user, Action.EDIT, ecole, session):
        raise policy.Denied()
    if ecole.collectivite_id is None:
        raise LoanError(_l("This school belongs to no collectivité."), field="name")
    kit = Kit(
        ecole=ecole,
        collectivite_id=ecole.collectivite_id,
        name=_check_name(name),
        booking_token=new_token(),
        active=True,
    )
    kit.items = _items_of(session, user, ecole, asset_ids)
    session.add(kit)
    _commit_kit(session)
    return kit


@guarded(kit_conflict)
def update_kit(
    session: Session,
    user: Subject,
    kit: Kit,
    version: int | None,
    *,
    name: str,
    active: bool,
    asset_ids: Sequence[int],
) -> Kit:
    if not policy.can(user, Action.EDIT, kit, session):
        raise policy.Denied()
    check_version(kit, version, kit_conflict())
    with session.no_autoflush:
        kit.name = _check_name(name)
        kit.active = active
        kit.items = _items_of(session, user, kit.ecole, asset_ids)
    _commit_kit(session)
    return kit


def _commit_kit(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise LoanError(
            _l("Another kit of the school has this name, or holds one of these items."),
            field="name",
        ) from None


def renew_link(session: Session, user: Subject, kit: Kit) -> Kit:
    """A new public booking link for the kit: the old one stops working."""
    if not policy.can(user, Action.EDIT, kit, session):
        raise policy.Denied()
    kit.booking_token = new_token()
    session.commit()
    return kit


def kit_by_token(session: Session, token: str) -> Kit | None:
    """The active kit a public booking link names (None for any other text)."""
    if not token or len(token) > 32:
        return None
    kit = session.scalar(
        select(Kit).options(*_page_options()).where(Kit.booking_token == token.upper())
    )
    return kit if kit is not None and kit.active else None


def kits_of(session: Session, user: Subject, ecole_id: int | None = None) -> list[Kit]:
    stmt = select(Kit).options(selectinload(Kit.items), selectinload(Kit.ecole))
    if ecole_id is not None:
        stmt = stmt.where(Kit.ecole_id == ecole_id)
    return list(session.scalars(policy.visible(user, stmt.order_by(Kit.ecole_id, Kit.name))))


def _page_options() -> list[Any]:
    """What a kit's pages show of it, loaded with it (templates never query)."""
    return [selectinload(Kit.items), joinedload(Kit.ecole)]


def kit_detail(session: Session, user: Subject, kit_id: int, action: Action = Action.READ) -> Kit:
    kit = policy.load_or_404(user, Kit, kit_id, session, action)
    return session.scalars(select(Kit).options(*_page_options()).where(Kit.id == kit.id)).one()


def candidate_items(session: Session, user: Subject, kit: Kit | None, ecole: Ecole) -> list[Asset]:
    """The school's items a kit may hold: in no kit, or in this one."""
    taken = select(kit_items.c.asset_id)
    if kit is not None:
        taken = taken.where(kit_items.c.kit_id != kit.id)
    stmt = (
        select(Asset).where(Asset.ecole_id == ecole.id, Asset.id.not_in(taken)).order_by(Asset.tag)
    )
    return list(session.scalars(policy.visible(user, stmt)))
