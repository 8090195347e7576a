"""The items an invoice paid for: the assets and works an expense of a dossier may be
linked to, and the amounts linked, which never fund an item beyond its price."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.models import Asset, AssetStatus, EquipmentModel, NetworkWork
from inventory.core import policy
from inventory.core.policy import Subject
from inventory.grants.common import GrantError, money
from inventory.grants.dossiers import covered_ids
from inventory.grants.models import Dossier, FundingLink


@dataclass(frozen=True)
class LinkInput:
    """An item the expense paid for: ``kind`` is 'asset' or 'work'; ``amount_cents`` None
    takes what the item's price leaves to fund, when the price is known."""

    kind: str
    item_id: int
    amount_cents: int | None = None

    @property
    def key(self) -> str:
        return f"{self.kind[0]}:{self.item_id}"


def _linked_totals(
    session: Session, asset_ids: Iterable[int], work_ids: Iterable[int], exclude: int | None
) -> tuple[dict[int, int], dict[int, int]]:
    """Sum of every funding link per asset and per work, but for expense ``exclude``."""
    out: list[dict[int, int]] = []
    for column, ids in (
        (FundingLink.asset_id, list(asset_ids)),
        (FundingLink.work_id, list(work_ids)),
    ):
        if not ids:
            out.append({})
            continue
        stmt = (
            select(column, func.sum(FundingLink.amount_cents))
            .where(column.in_(ids))
            .group_by(column)
        )
        if exclude is not None:
            stmt = stmt.where(FundingLink.expense_id != exclude)
        # The item's column is nullable, but the rows are those of the given ids.
        out.append({k: int(v) for k, v in session.execute(stmt) if k is not None})
    return out[0], out[1]


@dataclass
class ResolvedLink:
    asset: Asset | None
    work: NetworkWork | None
    amount_cents: int


def _item_label(asset: Asset | None, work: NetworkWork | None) -> str:
    if asset is not None:
        return asset.tag + (f" ({asset.serial})" if asset.serial else "")
    return work.title if work is not None else ""


def resolve_links(
    session: Session,
    user: Subject,
    dossier: Dossier,
    invoice_ttc_cents: int | None,
    given: Sequence[LinkInput],
    expense_id: int | None,
) -> list[ResolvedLink]:
    """The items ``given`` for an invoice of ``invoice_ttc_cents`` incl. VAT, checked: in a
    covered school, funded up to their price at most (the links of expense ``expense_id``,
    being replaced, aside), together no more than the invoice."""
    keys = [g.key for g in given]
    if len(set(keys)) != len(keys):
        raise GrantError(_l("An item is linked twice to the same invoice."), field="links")
    covered = covered_ids(dossier)
    asset_ids = [g.item_id for g in given if g.kind == "asset"]
    work_ids = [g.item_id for g in given if g.kind == "work"]
    if len(asset_ids) + len(work_ids) != len(given):
        raise GrantError(_l("Unknown item."), field="links")
    assets = {
        a.id: a
        for a in session.scalars(
            policy.visible(user, select(Asset).where(Asset.id.in_(asset_ids)), Asset)
        )
    }
    works = {
        w.id: w
        for w in session.scalars(
            policy.visible(
                user, select(NetworkWork).where(NetworkWork.id.in_(work_ids)), NetworkWork
            )
        )
    }
    linked_assets, linked_works = _linked_totals(session, assets, works, expense_id)
    out: list[ResolvedLink] = []
    for g in given:
        asset = assets.get(g.item_id) if g.kind == "asset" else None
        work = works.get(g.item_id) if g.kind == "work" else None
        if asset is not None:
            in_dossier = asset.ecole_id in covered or (
                asset.ecole_id is None and asset.collectivite_id == dossier.collectivite_id
            )
            price = asset.price_ttc_cents
            already = linked_assets.get(asset.id, 0)
        elif work is not None:
            in_dossier = work.ecole_id in covered
            price = work.invoice_cents
            already = linked_works.get(work.id, 0)
        else:
            raise GrantError(_l("Unknown item."), field="links")
        label = _item_label(asset, work)
        if not in_dossier:
            raise GrantError(
                _l("%(item)s is not in a school the dossier covers.", item=label), field="links"
            )
        amount = g.amount_cents
        if amount is None:
            if price is None:
                raise GrantError(
                    _l("Give the amount the invoice paid for %(item)s.", item=label),
                    field="links",
                )
            amount = max(price - already, 0)
        if amount <= 0:
            raise GrantError(
                _l("The amount linked to %(item)s must be above 0 €.", item=label), field="links"
            )
        if price is not None and already + amount > price:
            raise GrantError(
                _l(
                    "%(item)s costs %(price)s: the invoices linked to it would cover %(total)s.",
                    item=label,
                    price=money(price),
                    total=money(already + amount),
                ),
                field="links",
            )
        out.append(ResolvedLink(asset, work, amount))
    total = sum(link.amount_cents for link in out)
    if total > (invoice_ttc_cents or 0):
        raise GrantError(
            _l(
                "The items linked add up to %(total)s, more than the invoice's %(ttc)s incl. VAT.",
                total=money(total),
                ttc=money(invoice_ttc_cents),
            ),
            field="links",
        )
    return out


@dataclass
class Candidate:
    key: str
    kind: str
    item_id: int
    label: str
    detail: str
    school: str
    price_cents: int | None
    funded_cents: int  # by every link, this expense's included

    @property
    def left_cents(self) -> int | None:
        return None if self.price_cents is None else max(self.price_cents - self.funded_cents, 0)


def link_candidates(session: Session, user: Subject, dossier: Dossier) -> list[Candidate]:
    """The assets and works an expense of this dossier may be linked to: those of the
    covered schools (and, for assets, the collectivité's storage)."""
    covered = list(covered_ids(dossier))
    names = {s.ecole_id: s.ecole.name for s in dossier.schools}
    assets = list(
        session.scalars(
            policy.visible(
                user,
                select(Asset)
                .where(
                    or_(
                        Asset.ecole_id.in_(covered),
                        and_(
                            Asset.ecole_id.is_(None),
                            Asset.collectivite_id == dossier.collectivite_id,
                        ),
                    ),
                    Asset.status.notin_((AssetStatus.RETIRED, AssetStatus.LOST)),
                )
                .options(
                    selectinload(Asset.model).selectinload(EquipmentModel.manufacturer),
                    selectinload(Asset.category),
                    selectinload(Asset.classroom),
                )
                .order_by(Asset.ecole_id, Asset.category_id, Asset.tag),
                Asset,
            )
        )
    )
    works = list(
        session.scalars(
            policy.visible(
                user,
                select(NetworkWork)
                .where(NetworkWork.ecole_id.in_(covered))
                .order_by(NetworkWork.ecole_id, NetworkWork.id),
                NetworkWork,
            )
        )
    )
    funded_a, funded_w = _linked_totals(
        session, [a.id for a in assets], [w.id for w in works], None
    )
    out = []
    for a in assets:
        room = a.classroom.name if a.classroom else ""
        out.append(
            Candidate(
                key=f"a:{a.id}",
                kind="asset",
                item_id=a.id,
                label=a.tag,
                detail=" · ".join(x for x in (a.model.full_name, a.serial or "", room) if x),
                school=names.get(a.ecole_id or 0, ""),
                price_cents=a.price_ttc_cents,
                funded_cents=funded_a.get(a.id, 0),
            )
        )
    for w in works:
        out.append(
            Candidate(
                key=f"w:{w.id}",
                kind="work",
                item_id=w.id,
                label=w.title,
                detail=w.contractor or "",
                school=names.get(w.ecole_id, ""),
                price_cents=w.invoice_cents,
                funded_cents=funded_w.get(w.id, 0),
            )
        )
    return out
