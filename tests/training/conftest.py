"""The training tests' fixtures: fast password hashes, the configuration, and a world of
trainers, municipal staff and auditors around two circonscriptions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from inventory.assets.models import EquipmentCategory
from inventory.training.models import (
    TrainingTopic,
)
from tests.factories import Users, hash_passwords_cheaply
from tests.training.builders import A1, A2, A3, B1


@pytest.fixture
def app_config(tmp_path):
    return {"STORAGE_PATH": str(tmp_path / "files"), "BASE_URL": "https://socle.example.fr"}


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Accounts are not what these tests check: hash their passwords cheaply."""
    hash_passwords_cheaply(monkeypatch)


@pytest.fixture
def world(registry, make_user, db_session):
    schools = registry["schools"]  # uai -> (id, collectivite_id, circonscription_id)
    circo_a, circo_b = schools[A1][2], schools[B1][2]
    assert schools[A2][2] == schools[A3][2] == circo_a != circo_b
    coll_a, coll_b = schools[A1][1], schools[B1][1]
    users = Users(
        make_user,
        {
            "trainer_a": ("formateur", [("circonscription", circo_a)]),
            "trainer_b": ("formateur", [("circonscription", circo_b)]),
            "municipal_a": ("technicien", [("collectivite", coll_a)]),
            "municipal_b": ("technicien", [("collectivite", coll_b)]),
            "auditor_a": ("auditeur", [("circonscription", circo_a)]),
            "admin": ("admin", []),
        },
        named=True,
    )
    return SimpleNamespace(
        ids={uai: schools[uai][0] for uai in (A1, A2, A3, B1)},
        circo_a=circo_a,
        circo_b=circo_b,
        coll_a=coll_a,
        users=users,
        topics={t.code: t.id for t in db_session.scalars(select(TrainingTopic))},
        categories={c.code: c.id for c in db_session.scalars(select(EquipmentCategory))},
    )
