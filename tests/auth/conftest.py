"""The real identity providers the auth tests sign in through, on loopback (the usual
OpenID Connect one, ``oidc_issuer``, is in tests/conftest.py: the access matrix uses it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import CasServer, an_oidc_provider


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
