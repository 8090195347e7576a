"""The loans tests' fixtures: cheap password hashes, a configuration with a base URL, and
a world of a Créteil school's classe mobile, its staff, and another collectivité's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.factories import Users, hash_passwords_cheaply
from tests.loans.builders import CRETEIL, FRESNES, classe_mobile


@pytest.fixture
def app_config(tmp_path):
    return {"STORAGE_PATH": str(tmp_path / "files"), "BASE_URL": "https://socle.example.fr"}


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    hash_passwords_cheaply(monkeypatch)


@pytest.fixture
def world(registry, make_user, db_session):
    schools = registry["schools"]
    creteil, fresnes = schools[CRETEIL], schools[FRESNES]
    users = Users(
        make_user,
        {
            "director": ("technicien", [("collectivite", creteil[1])]),
            "other": ("technicien", [("collectivite", fresnes[1])]),
            "auditor": ("auditeur", [("circonscription", creteil[2])]),
        },
        named=True,
    )
    kit = classe_mobile(db_session, creteil[0])
    return SimpleNamespace(
        ecole_id=creteil[0],
        collectivite_id=creteil[1],
        other_ecole_id=fresnes[0],
        kit_id=kit.id,
        token=kit.booking_token,
        item_ids=[a.id for a in kit.items],
        users=users,
    )
