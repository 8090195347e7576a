"""What a collectivité prints on its labels: a default funding mention for the items no
grant has paid for yet, and a short prompt that invites a scan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from inventory.core import policy
from inventory.core.errors import DomainError
from inventory.core.policy import Action, Subject
from inventory.orgs.models import Collectivite

MENTION_MAX = 200
# Short enough to sit on one line of the smallest label beside its code.
PROMPT_MAX = 60


class LabelTextsError(DomainError):
    pass


def _clean(text: str | None) -> str | None:
    return " ".join((text or "").split()) or None


def set_label_texts(
    session: Session,
    user: Subject,
    coll: Collectivite,
    *,
    mention: str | None,
    prompt: str | None,
) -> Collectivite:
    """Set (or clear, when empty) the collectivité's default mention and scan prompt. The
    change log records the edit through the session, as for any other field."""
    policy.require(user, Action.ADMIN)
    mention, prompt = _clean(mention), _clean(prompt)
    if mention is not None and len(mention) > MENTION_MAX:
        raise LabelTextsError(
            _l("The mention is longer than %(n)d characters.", n=MENTION_MAX), field="mention"
        )
    if prompt is not None and len(prompt) > PROMPT_MAX:
        raise LabelTextsError(
            _l("The prompt is longer than %(n)d characters.", n=PROMPT_MAX), field="prompt"
        )
    coll.label_mention, coll.label_prompt = mention, prompt
    session.commit()
    return coll
