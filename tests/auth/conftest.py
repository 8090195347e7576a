"""The real identity providers the auth tests sign in through, on loopback (the usual
OpenID Connect one, ``oidc_issuer``, is in tests/conftest.py: the access matrix uses it).
Accounts and signing in are what these tests check: with the production password hash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import CasServer, DjangoCasServer, an_oidc_provider


@pytest.fixture(autouse=True)
def password_hashes() -> None:
    """The real hash (tests/conftest.py's fixture of this name makes it cheap elsewhere)."""


@pytest.fixture(scope="module")
def expiring_issuer() -> Iterator[str]:
    """A provider whose ID tokens are expired when they arrive."""
    with an_oidc_provider(id_token_max_age=-600) as issuer:
        yield issuer


@pytest.fixture(scope="module")
def cas_server() -> Iterator[CasServer]:
    server = CasServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def real_cas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DjangoCasServer]:
    """A real CAS server (django-cas-server, in its own virtualenv) on loopback."""
    server = DjangoCasServer(Path(tmp_path_factory.mktemp("cas")))
    yield server
    server.stop()
