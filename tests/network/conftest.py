"""The network tests' fixtures: a Créteil school with its classrooms, a technician of
Créteil working in English."""

from __future__ import annotations

import pytest

from tests.assets.builders import english, first_school_with_target_rooms


@pytest.fixture
def school(registry, db_session):
    coll = registry["collectivites"]["Créteil"]
    ecole = first_school_with_target_rooms(db_session, coll)
    return {"coll": coll, "ecole": ecole.id, "rooms": [r.id for r in ecole.classrooms]}


@pytest.fixture
def tech(login_as, school):
    return english(login_as("technicien", [("collectivite", school["coll"])]))
