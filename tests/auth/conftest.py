"""Accounts and signing in are what these tests check: with the production password hash."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def password_hashes() -> None:
    """The real hash (tests/conftest.py's fixture of this name makes it cheap elsewhere)."""
