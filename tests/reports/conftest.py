"""Fixtures of the reports tests: the access matrix's world, for the dashboards' routes."""

from __future__ import annotations

import pytest

from tests.factories.access import access_world


@pytest.fixture
def world(app, registry, make_user, db_session, tmp_path):
    """Créteil (in scope) and a school of another académie (out of scope for everyone)."""
    return access_world(app, registry, make_user, db_session, tmp_path)
