"""The network tests' builders (plain functions)."""

from __future__ import annotations

from inventory.assets import catalogue, lifecycle
from inventory.assets.network import normalize_mac
from inventory.orgs.models import Ecole
from tests.conftest import ADMIN


def make_item(db_session, ecole_id: int, code: str = "eni", mac: str | None = None) -> int:
    ecole = db_session.get(Ecole, ecole_id)
    category = catalogue.category_by_code(db_session, code)
    model = catalogue.get_or_create_model(db_session, "Speechi", f"Modèle {code}", category)
    room = ecole.classrooms[0]
    where = lifecycle.Where(ecole.collectivite, ecole, room)
    asset = lifecycle.create_asset(db_session, ADMIN, where=where, model=model)
    if mac:
        asset.mac = normalize_mac(mac)
    db_session.commit()
    return asset.id
