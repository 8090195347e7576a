"""Which socle référentiel a funding scheme sets: the preset's, or one an administrator
chooses (the référentiels and their requirements live in ``inventory.assets``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from inventory.assets import referentiels
from inventory.assets.models import Referentiel
from inventory.core import policy
from inventory.core.policy import Action, Subject
from inventory.grants.models import FundingScheme


def of_preset(session: Session, code: str | None) -> Referentiel | None:
    """The référentiel a scheme preset names (installed when missing)."""
    return referentiels.install_preset(session, code) if code else None


def set_referentiel(
    session: Session, user: Subject, scheme: FundingScheme, referentiel_id: int | None
) -> FundingScheme:
    """Point ``scheme`` to a référentiel (None: to none); change-logged with the scheme."""
    policy.require(user, Action.ADMIN)
    ref = policy.load_or_404(user, Referentiel, referentiel_id, session) if referentiel_id else None
    if scheme.referentiel_id != (ref.id if ref else None):
        scheme.referentiel = ref
        session.commit()
    return scheme
