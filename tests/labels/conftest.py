"""Label fixtures shared by the print and job tests."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN


@pytest.fixture
def items(registry, db_session):
    """Five interactive screens in five classrooms of a Fresnes school."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    rooms = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
    ).all()[:5]
    cat = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", cat)
    created = []
    for i, room in enumerate(rooms):
        where = lifecycle.Where(ecole.collectivite, ecole, room)
        created.append(
            lifecycle.create_asset(
                db_session,
                ADMIN,
                where=where,
                model=model,
                status=AssetStatus.IN_SERVICE,
                fields=lifecycle.AssetFields(serial=f"SN{i:04d}"),
            )
        )
    return {"ecole": ecole, "assets": created, "coll": ecole.collectivite_id}
