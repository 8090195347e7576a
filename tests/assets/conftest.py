"""Fixtures of the equipment tests: the categories, and schools of Créteil and Fresnes with
target classrooms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.assets.models import EquipmentCategory
from inventory.assets.socle import TARGET_LEVELS
from tests.factories.equipment import english, target_school


@pytest.fixture
def cats(db_session) -> dict[str, int]:
    return dict(db_session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())


@pytest.fixture
def creteil(registry, db_session):
    coll = registry["collectivites"]["Créteil"]
    ecole = target_school(db_session, coll)
    rooms = [r.id for r in ecole.classrooms if set(r.level_list) & set(TARGET_LEVELS)]
    return {"coll": coll, "ecole": ecole.id, "rooms": rooms, "name": ecole.name}


@pytest.fixture
def fresnes(registry, db_session):
    coll = registry["collectivites"]["Fresnes"]
    ecole = target_school(db_session, coll)
    return {"coll": coll, "ecole": ecole.id, "rooms": [r.id for r in ecole.classrooms]}


@pytest.fixture
def tech(login_as, creteil):
    return english(login_as("technicien", [("collectivite", creteil["coll"])]))
