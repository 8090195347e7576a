"""What a label says about who paid for the item: the mention of the funding scheme behind
its grant (with the EU emblem and the "France Relance" line when the scheme asks for them),
else the collectivité's default mention; and the collectivité's scan prompt."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from inventory.assets.models import Asset
from inventory.grants.models import Dossier, Expense, FundingLink, FundingScheme
from inventory.grants.presets import EU_MENTION
from inventory.orgs.models import Collectivite

# SQLite's limit on bound parameters, with room to spare.
CHUNK = 900


@dataclass(frozen=True)
class Mention:
    """The funding block of one label."""

    text: str | None = None
    emblem: bool = False
    france_relance: bool = False

    def __bool__(self) -> bool:
        return bool(self.text or self.emblem or self.france_relance)


NO_MENTION = Mention()


def scheme_mention(text: str | None, emblem: bool, france_relance: bool) -> Mention:
    # The emblem never stands alone: the EU asks for its statement beside it.
    if emblem and not text:
        text = EU_MENTION
    return Mention(text, emblem, france_relance)


def scheme_mentions(session: Session, asset_ids: Sequence[int]) -> dict[int, Mention]:
    """The mention of the scheme behind each asset's grant, for the assets that have one
    (the first linked expense's scheme when several grants paid for it)."""
    out: dict[int, Mention] = {}
    for i in range(0, len(asset_ids), CHUNK):
        rows = session.execute(
            select(
                FundingLink.asset_id,
                FundingScheme.funding_mention,
                FundingScheme.label_emblem,
                FundingScheme.label_france_relance,
            )
            .join(Expense, Expense.id == FundingLink.expense_id)
            .join(Dossier, Dossier.id == Expense.dossier_id)
            .join(FundingScheme, FundingScheme.id == Dossier.scheme_id)
            .where(
                FundingLink.asset_id.in_(asset_ids[i : i + CHUNK]),
                or_(
                    FundingScheme.funding_mention.is_not(None),
                    FundingScheme.label_emblem.is_(True),
                    FundingScheme.label_france_relance.is_(True),
                ),
            )
            .order_by(FundingLink.id)
        )
        for asset_id, text, emblem, relance in rows:
            if asset_id is not None:  # as the query asks
                out.setdefault(asset_id, scheme_mention(text, emblem, relance))
    return out


def asset_mentions(
    session: Session,
    assets: Iterable[Asset],
    defaults: Mapping[int, tuple[str | None, str | None]],
) -> dict[int, Mention]:
    """Each asset's funding block: its scheme's, else (not invoiced yet, or a scheme that
    prints nothing) its collectivité's default mention (``defaults``, from
    ``collectivite_texts``), else none."""
    assets = list(assets)
    funded = scheme_mentions(session, [a.id for a in assets])
    out = {}
    for asset in assets:
        default = defaults.get(asset.collectivite_id, (None, None))[0]
        out[asset.id] = funded.get(asset.id) or Mention(default)
    return out


def collectivite_texts(
    session: Session, collectivite_ids: Iterable[int | None]
) -> dict[int, tuple[str | None, str | None]]:
    """(default mention, scan prompt) of each collectivité."""
    ids = sorted({i for i in collectivite_ids if i is not None})
    out: dict[int, tuple[str | None, str | None]] = {}
    for i in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Collectivite.id, Collectivite.label_mention, Collectivite.label_prompt).where(
                Collectivite.id.in_(ids[i : i + CHUNK])
            )
        )
        out.update({cid: (mention, prompt) for cid, mention, prompt in rows})
    return out
