"""A conflict that no view answered itself (inventory.web): a 409 page with the record's
translated message, the session rolled back, never a server error."""

from __future__ import annotations

import pytest
from sqlalchemy.orm.exc import StaleDataError

from inventory.core.errors import ConflictError


def _raise(error: Exception) -> str:
    raise error


@pytest.mark.own_app  # it adds two routes of its own
def test_a_conflict_reaching_the_app_is_a_409_page_with_its_message(app, client):
    app.add_url_rule(
        "/test-conflict",
        "test_conflict",
        lambda: _raise(ConflictError("Quelqu'un d'autre a enregistré ce dossier.")),
    )
    app.add_url_rule(
        "/test-stale", "test_stale", lambda: _raise(StaleDataError("UPDATE matched 0 rows"))
    )
    answer = client.get("/test-conflict")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Quelqu&#39;un d&#39;autre a enregistré ce dossier." in html
    assert "Enregistré par quelqu&#39;un d&#39;autre" in html  # the page's title, in French

    stale = client.get("/test-stale")
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "Quelqu&#39;un d&#39;autre a enregistré cette fiche au même moment." in html
    assert "UPDATE matched" not in html

    english = client.get("/test-stale", headers={"Accept-Language": "en"})
    assert english.status_code == 409
    assert "Someone else saved this record at the same moment." in english.get_data(as_text=True)
