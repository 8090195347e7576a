"""The suppliers' tests' fixtures: Créteil, its staff (a technician and a finance officer,
working in English) and the Fresnes collectivité beside it (out of their scope)."""

from __future__ import annotations

import pytest

from tests.factories import signed_in


@pytest.fixture
def creteil(registry):
    return registry["collectivites"]["Créteil"]


@pytest.fixture
def fresnes(registry):
    return registry["collectivites"]["Fresnes"]


def _english(client):
    assert client.post("/language", data={"lang": "en", "next": "/"}).status_code == 302
    return client


@pytest.fixture
def tech(app, make_user, creteil):
    client, _ = signed_in(
        app, make_user, "technicien", [("collectivite", creteil)], email="tech@example.org"
    )
    return _english(client)


@pytest.fixture
def finance(app, make_user, creteil):
    client, _ = signed_in(
        app, make_user, "gestionnaire", [("collectivite", creteil)], email="finance@example.org"
    )
    return _english(client)
