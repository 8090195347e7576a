"""Each test starts from an empty, migrated database."""

from sqlalchemy import func, select

from inventory.orgs.models import Ecole


def test_first_test_writes_schools(registry, db_session):
    assert db_session.scalar(select(func.count()).select_from(Ecole)) > 0


def test_next_test_finds_nothing_left(db_session):
    assert db_session.scalar(select(func.count()).select_from(Ecole)) == 0
