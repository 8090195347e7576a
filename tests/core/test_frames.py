"""The frame's parts kept per language (inventory/core/frames.py): each page still gets
them in its own language and under the app's own mount point, whatever the pages asked
before it, and nothing of one request (a CSRF token, a path) is kept for another."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.factories import build_world

FRENCH = ("Aller au contenu", "Socle — suivi de l'équipement numérique des écoles primaires.")
ENGLISH = ("Skip to content", "Socle — follow-up of the digital equipment of primary schools.")


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _page(app, path: str, accept: str, base_url: str = "http://localhost/") -> str:
    response = app.test_client().get(path, headers={"Accept-Language": accept}, base_url=base_url)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def test_each_page_gets_the_frame_in_its_own_language(app, registry, db_session):
    token = build_world(db_session)["token"]
    for _ in range(2):  # the second time round, every part is a kept one
        for accept, words, lang in (("fr", FRENCH, "en"), ("en-GB", ENGLISH, "fr")):
            for path in (f"/q/{token}", "/login"):
                html = _page(app, path, accept)
                assert all(w in html for w in words), (path, accept)
                other = FRENCH if words is ENGLISH else ENGLISH
                assert not any(w in html for w in other)
                # The switch offers the other language, on either kind of page.
                assert f'name="lang" value="{lang}"' in html
    # The public page's switch keeps no session; the staff's posts the session's form.
    assert 'class="lang-switch" method="get"' in _page(app, f"/q/{token}", "fr")
    assert 'action="/language"' in _page(app, "/login", "fr")


def test_the_frame_follows_the_mount_point_and_keeps_nothing_of_a_request(app):
    plain = _page(app, "/login", "fr")
    mounted = _page(app, "/login", "fr", base_url="http://localhost/socle/")
    assert 'href="/static/css/socle.css?v=' in plain and 'class="brand" href="/"' in plain
    assert 'href="/socle/static/css/socle.css?v=' in mounted
    assert 'class="brand" href="/socle/"' in mounted
    assert 'href="/static/' not in mounted
    # Each visitor's language form carries its own CSRF token and comes back to its page.
    tokens = {
        re.search(r'name="csrf_token" value="([^"]+)"', _page(app, "/login", "fr"))[1]  # type: ignore[index]
        for _ in range(2)
    }
    assert len(tokens) == 2
    assert 'name="next" value="/login?x=1"' in _page(app, "/login?x=1", "fr")
