from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.orgs.models import Classroom, Ecole
from tests.factories import ADMIN, api_token


@pytest.fixture
def places(registry, db_session) -> dict[str, Any]:
    """A Créteil school and a Fresnes school, each with a few items in its first room."""

    def first_school(name):
        return db_session.scalar(
            select(Ecole)
            .where(Ecole.collectivite_id == registry["collectivites"][name])
            .order_by(Ecole.id)
            .limit(1)
        )

    out: dict[str, Any] = {"coll": registry["collectivites"]}
    eni = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    for key, name, count in (("creteil", "Créteil", 23), ("fresnes", "Fresnes", 3)):
        ecole = first_school(name)
        room = db_session.scalar(
            select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id).limit(1)
        )
        where = lifecycle.Where(ecole.collectivite, ecole, room)
        items = [
            lifecycle.create_asset(db_session, ADMIN, where=where, model=model).id
            for _ in range(count)
        ]
        out[key] = {"ecole": ecole.id, "room": room.id, "items": items}
    db_session.commit()
    return out


@pytest.fixture
def creteil_technician(app, make_user, programme):
    """A technician of Créteil and a read-write token of theirs: (email, secret)."""
    email = make_user("technicien", [("collectivite", programme["collectivites"]["creteil"])])
    return email, api_token(app, email, scope="write")
