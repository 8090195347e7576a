"""Saved filters: a user saves the equipment list's filters under a name, finds them
beside the list, applies them in one click and deletes them; nobody else sees them;
bad input is refused with a clear message and the typed name comes back."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from inventory.core import saved_filters
from inventory.core.saved_filters import SavedFilter
from tests.assets.builders import english
from tests.factories import PASSWORD, login


@pytest.fixture
def owner(app, make_user):
    client = app.test_client()
    assert login(client, make_user("admin", email="owner@example.org")).status_code == 302
    return english(client)


@pytest.fixture
def other(app, make_user):
    client = app.test_client()
    assert login(client, make_user("admin", email="other@example.org")).status_code == 302
    return english(client)


def _save(client, name: str, query: str, list_name: str = "equipment"):
    return client.post(
        "/filtres",
        data={"list_name": list_name, "query": query, "name": name},
    )


def _flashed(client, response) -> str:
    return client.get(response.location).get_data(as_text=True)


def test_save_list_apply_and_delete(owner, db_session):
    page = owner.get("/equipements?status=delivered&sort=serial&page=3").get_data(as_text=True)
    # The form carries the list's filters and order, not its page.
    found = re.search(r'name="query" value="([^"]*)"', page)
    assert found, "the save form carries the filters"
    query = found.group(1).replace("&amp;", "&")
    assert parse_qs(query) == {"status": ["delivered"], "sort": ["serial"]}

    sent = _save(owner, "  Livrés   par série ", query + "&page=3")
    assert sent.status_code == 302
    assert parse_qs(urlsplit(sent.location).query) == {"status": ["delivered"], "sort": ["serial"]}
    listing = _flashed(owner, sent)
    assert "Filters «Livrés par série» saved." in listing
    saved = db_session.scalars(select(SavedFilter)).one()
    assert (saved.name, saved.list_name) == ("Livrés par série", "equipment")
    assert parse_qs(saved.query) == {"status": ["delivered"], "sort": ["serial"]}

    # Listed beside the list, as a link that applies them.
    home = owner.get("/equipements").get_data(as_text=True)
    link = re.search(r'<a href="(/equipements\?[^"]+)">Livrés par série</a>', home)
    assert link
    applied = owner.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'aria-sort="ascending"' in applied
    assert re.search(r'<option selected value="delivered">', applied)

    deleted = owner.post(f"/filtres/{saved.id}/supprimer", data={"next": "/equipements"})
    assert deleted.status_code == 302 and deleted.location == "/equipements"
    assert "Filters «Livrés par série» deleted." in _flashed(owner, deleted)
    assert db_session.scalars(select(SavedFilter)).all() == []


def test_only_the_owner_sees_applies_or_deletes_them(owner, other, db_session):
    _save(owner, "Les miens", "status=retired")
    saved = db_session.scalars(select(SavedFilter)).one()
    assert "Les miens" in owner.get("/equipements").get_data(as_text=True)
    assert "Les miens" not in other.get("/equipements").get_data(as_text=True)
    # Another user, an administrator too, cannot delete it: 404, and it stays.
    assert other.post(f"/filtres/{saved.id}/supprimer").status_code == 404
    assert db_session.scalars(select(SavedFilter)).one().id == saved.id
    # The same name is free for someone else.
    assert _save(other, "Les miens", "status=lost").status_code == 302
    assert len(db_session.scalars(select(SavedFilter)).all()) == 2


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("", "status=lost", "Give the filter a name."),
        ("x" * 81, "status=lost", "The name is at most 80 characters long."),
        ("Rien", "page=2&after=4", "Choose at least one filter before saving it."),
        ("Long", "q=" + "a" * 1200, "These filters are too long to be saved."),
    ],
)
def test_bad_input_is_refused_and_the_name_comes_back(owner, db_session, name, query, message):
    sent = _save(owner, name, query)
    assert sent.status_code == 302
    page = _flashed(owner, sent)
    assert message in page
    assert db_session.scalars(select(SavedFilter)).all() == []
    if name and message != "Choose at least one filter before saving it.":
        assert f'value="{name}"' in page  # the name typed is in the form again


def test_a_name_taken_on_the_list_is_refused(owner, db_session):
    _save(owner, "Perdus", "status=lost")
    sent = _save(owner, "Perdus", "status=retired")
    page = _flashed(owner, sent)
    assert "You already have a filter named «Perdus» on this list." in page
    assert parse_qs(urlsplit(sent.location).query)["status"] == ["retired"]  # nothing lost
    assert len(db_session.scalars(select(SavedFilter)).all()) == 1


def test_an_unknown_list_is_not_found(owner):
    assert _save(owner, "Ailleurs", "status=lost", list_name="nowhere").status_code == 404


def test_french_messages(app, make_user):
    client = app.test_client()
    assert login(client, make_user("admin")).status_code == 302
    page = client.get(_save(client, "", "status=lost").location).get_data(as_text=True)
    assert "Donnez un nom à ces filtres." in page
    assert "Mes filtres enregistrés" in page


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_saving_and_deleting_need_the_forms_token(app, make_user, db_session):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text)
    email = make_user("admin")
    signed = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert signed.status_code == 302
    assert _save(client, "Sans jeton", "status=lost").status_code == 400
    assert db_session.scalars(select(SavedFilter)).all() == []
    page = client.get("/equipements?status=lost").get_data(as_text=True)
    form = re.search(r'<form [^>]*action="/filtres".*?</form>', page, re.S)
    assert form, "the save form"
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(0))
    assert form_token, "the save form carries its token"
    sent = client.post(
        "/filtres",
        data={
            "list_name": "equipment",
            "query": "status=lost",
            "name": "Avec jeton",
            "csrf_token": form_token.group(1),
        },
    )
    assert sent.status_code == 302
    saved = db_session.scalars(select(SavedFilter)).one()
    assert client.post(f"/filtres/{saved.id}/supprimer").status_code == 400
    assert db_session.scalars(select(SavedFilter)).one().id == saved.id


def test_the_same_filters_read_the_same_whatever_their_spelling():
    assert saved_filters.clean_query("status=lost&page=2&q=&sort=-tag") == "status=lost&sort=-tag"
