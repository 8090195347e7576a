"""The equipment catalogue: models with their category and what they have built in.

Models are created as items are recorded (:func:`get_or_create_model`); here they are
listed, and an administrator declares a model's capabilities (an ENI with a camera, a
microphone and speakers), which the socle counts in every classroom holding one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from inventory.assets.lifecycle import AssetError
from inventory.assets.models import (
    Asset,
    AssetStatus,
    Capability,
    EquipmentCategory,
    EquipmentModel,
    Manufacturer,
    join_capabilities,
)
from inventory.core import policy
from inventory.core.find_or_add import find_or_add
from inventory.core.pagination import Page, paginate
from inventory.core.policy import Action, Subject
from inventory.core.text import fold


@dataclass(frozen=True)
class ModelFilters:
    q: str = ""
    category: int | None = None


def list_models(
    session: Session, user: Subject, filters: ModelFilters, page: int, per_page: int
) -> Page[EquipmentModel]:
    """The catalogue's models, by manufacturer and name."""
    keys = (
        select(EquipmentModel.id)
        .join(Manufacturer, Manufacturer.id == EquipmentModel.manufacturer_id)
        .order_by(Manufacturer.name, EquipmentModel.name, EquipmentModel.id)
    )
    if filters.category:
        keys = keys.where(EquipmentModel.category_id == filters.category)
    for word in filters.q.split()[:5]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        keys = keys.where(
            (Manufacturer.name + " " + EquipmentModel.name).ilike(f"%{escaped}%", escape="\\")
        )
    rows = policy.visible(user, select(EquipmentModel), EquipmentModel).options(
        selectinload(EquipmentModel.manufacturer), selectinload(EquipmentModel.category)
    )
    return paginate(
        session, rows, page, per_page, key_stmt=policy.visible(user, keys, EquipmentModel)
    )


@dataclass
class ModelDetail:
    model: EquipmentModel
    items: int  # items of the model
    in_service: int


def model_detail(session: Session, user: Subject, model_id: int) -> ModelDetail:
    model = policy.load_or_404(user, EquipmentModel, model_id, session)
    session.scalars(
        select(EquipmentModel)
        .where(EquipmentModel.id == model.id)
        .options(selectinload(EquipmentModel.manufacturer), selectinload(EquipmentModel.category))
    ).all()
    counts = select(func.count(), func.count().filter(Asset.status == AssetStatus.IN_SERVICE))
    items, in_service = session.execute(
        policy.visible(user, counts.select_from(Asset).where(Asset.model_id == model.id), Asset)
    ).one()
    return ModelDetail(model, int(items), int(in_service))


def set_capabilities(
    session: Session,
    user: Subject,
    model: EquipmentModel,
    capabilities: Iterable[Capability | str] | None,
) -> EquipmentModel:
    """Declare what ``model`` has built in (None: what its category has); the classrooms
    holding one are checked again in the same transaction."""
    policy.require(user, Action.ADMIN)
    value = None if capabilities is None else join_capabilities(capabilities)
    if model.capabilities != value:
        model.capabilities = value
        session.commit()
    return model


def categories(session: Session) -> list[EquipmentCategory]:
    return list(session.scalars(select(EquipmentCategory).order_by(EquipmentCategory.position)))


def category_by_code(session: Session, code: str) -> EquipmentCategory | None:
    return session.scalar(select(EquipmentCategory).filter_by(code=code))


# A new maker or model is added, if absent, such that two people or imports adding the
# same one at the same moment both get the one entry (core.find_or_add): each written at
# once, its change-log record with it.
def add_maker(session: Session, name: str) -> Manufacturer:
    """The manufacturer of exactly this name, added if absent."""
    with session.no_autoflush:  # a caller's pending items wait for their own flush
        ids = find_or_add(session, Manufacturer, ("name",), [{"name": name}])
        return session.get_one(Manufacturer, ids[(name,)])


def add_model(
    session: Session, maker: Manufacturer, name: str, category: EquipmentCategory
) -> EquipmentModel:
    """The model ``name`` of ``maker``, added in ``category`` if absent (one added just
    now by someone else keeps the category it was given)."""
    new = {"manufacturer_id": maker.id, "name": name, "category_id": category.id}
    new |= {"capabilities": None, "end_of_life": None}
    with session.no_autoflush:
        ids = find_or_add(session, EquipmentModel, ("manufacturer_id", "name"), [new])
        return session.get_one(EquipmentModel, ids[(maker.id, name)])


def get_or_create_model(
    session: Session, manufacturer: str, name: str, category: EquipmentCategory
) -> EquipmentModel:
    """The catalogue model named so, created on first use; its category must agree."""
    manufacturer, name = " ".join(manufacturer.split()), " ".join(name.split())
    if not manufacturer or not name:
        raise AssetError(_l("Give the manufacturer and the model."), field="model")
    maker = session.scalar(
        select(Manufacturer).where(Manufacturer.name == manufacturer)
    ) or _find_folded(session, Manufacturer, manufacturer)
    if maker is None:
        maker = add_maker(session, manufacturer)
    model = session.scalar(select(EquipmentModel).filter_by(manufacturer_id=maker.id, name=name))
    if model is None:
        model = add_model(session, maker, name, category)
    if model.category_id != category.id:  # also when added by someone else just now
        raise AssetError(
            _l(
                "The model %(model)s is catalogued as %(category)s.",
                model=model.full_name,
                category=model.category.name_fr,
            ),
            field="category",
        )
    return model


def _find_folded(session: Session, model: type[Manufacturer], name: str) -> Manufacturer | None:
    wanted = fold(name)
    return next((m for m in session.scalars(select(model)) if fold(m.name) == wanted), None)
