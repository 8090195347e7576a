"""The equipment tests' fixtures: the categories, a Créteil and a Fresnes school with their
target classrooms, and a technician of Créteil working in English."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.assets.models import (
    EquipmentCategory,
)
from inventory.assets.socle import TARGET_LEVELS
from tests.assets.builders import english, first_school_with_target_rooms


@pytest.fixture
def cats(db_session) -> dict[str, int]:
    return dict(db_session.execute(select(EquipmentCategory.code, EquipmentCategory.id)).all())


@pytest.fixture
def creteil(registry, db_session):
    coll = registry["collectivites"]["Créteil"]
    ecole = first_school_with_target_rooms(db_session, coll)
    rooms = [r.id for r in ecole.classrooms if set(r.level_list) & set(TARGET_LEVELS)]
    return {"coll": coll, "ecole": ecole.id, "rooms": rooms, "name": ecole.name}


@pytest.fixture
def fresnes(registry, db_session):
    coll = registry["collectivites"]["Fresnes"]
    ecole = first_school_with_target_rooms(db_session, coll)
    return {"coll": coll, "ecole": ecole.id, "rooms": [r.id for r in ecole.classrooms]}


@pytest.fixture
def tech(login_as, creteil):
    return english(login_as("technicien", [("collectivite", creteil["coll"])]))
