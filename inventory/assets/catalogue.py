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
        maker = Manufacturer(name=manufacturer)
        session.add(maker)
        session.flush()
    model = session.scalar(select(EquipmentModel).filter_by(manufacturer_id=maker.id, name=name))
    if model is None:
        model = EquipmentModel(manufacturer=maker, name=name, category=category)
        session.add(model)
        session.flush()
    elif model.category_id != category.id:
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
