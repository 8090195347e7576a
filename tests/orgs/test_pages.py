"""Registry pages as users see them: list, search, filters, school, collectivité, circo."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from inventory.core.text import fold
from inventory.extensions import db
from inventory.orgs.models import Classroom, Ecole
from inventory.orgs.services import school_search_text


def school_links(html: str) -> list[str]:
    return re.findall(r'href="/ecoles/(\d+)"', html)


def test_anonymous_users_are_sent_to_the_login_page(client, registry):
    response = client.get("/ecoles")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_list_search_and_filters(login_as, registry):
    client = login_as("admin")
    everything = client.get("/ecoles").get_data(as_text=True)
    total = len(registry["schools"])
    assert f"sur {total}" in everything or f"of {total}" in everything
    # Search by name, accent- and case-insensitive, by UAI, by commune.
    html = client.get("/ecoles?q=doisneau").get_data(as_text=True)
    assert "Robert Doisneau" in html and len(school_links(html)) >= 1
    html = client.get("/ecoles?q=0940176f").get_data(as_text=True)
    assert len(school_links(html)) == 1
    html = client.get("/ecoles?q=créteil").get_data(as_text=True)
    creteil = client.get(f"/ecoles?collectivite={registry['collectivites']['Créteil']}")
    assert len(school_links(html)) == len(school_links(creteil.get_data(as_text=True)))
    # Nature filter.
    html = client.get("/ecoles?nature=maternelle&q=fresnes").get_data(as_text=True)
    assert "Maternelle" in html or "Nursery" in html
    assert "élémentaire Robert Doisneau" not in html
    # Nonsense filter values are ignored, not errors.
    assert client.get("/ecoles?nature=lycee&page=abc&academie=x").status_code == 200


def test_pagination(login_as, registry, app):
    app.config["PAGE_SIZE"] = 10
    client = login_as("admin")
    first = client.get("/ecoles").get_data(as_text=True)
    second = client.get("/ecoles?page=2").get_data(as_text=True)
    assert len(school_links(first)) == 10
    assert not set(school_links(first)) & set(school_links(second))
    pages = -(-len(registry["schools"]) // 10)
    last = client.get(f"/ecoles?page={pages + 5}").get_data(as_text=True)
    assert len(school_links(last)) == len(registry["schools"]) - (pages - 1) * 10


@contextmanager
def count_queries(app):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_list_query_count_does_not_grow_with_the_page(login_as, registry, app):
    client = login_as("admin")
    app.config["PAGE_SIZE"] = 5
    with count_queries(app) as small:
        client.get("/ecoles")
    app.config["PAGE_SIZE"] = 50
    with count_queries(app) as large:
        client.get("/ecoles")
    assert len(large) == len(small)
    assert len(large) <= 15


def test_school_page_lists_classrooms_and_links(login_as, registry, db_session):
    client = login_as("admin")
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    html = client.get(f"/ecoles/{ecole.id}").get_data(as_text=True)
    assert "0940176F" in html
    assert f'/collectivites/{ecole.collectivite_id}"' in html
    assert f'/circonscriptions/{ecole.circonscription_id}"' in html
    rooms = db_session.scalars(select(Classroom).filter_by(ecole_id=ecole.id)).all()
    assert rooms and all(r.name in html for r in rooms)
    assert "estim" in html  # the demo estimate is flagged


def test_collectivite_and_circonscription_pages(login_as, registry, db_session):
    client = login_as("admin")
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    html = client.get(f"/collectivites/{ecole.collectivite_id}").get_data(as_text=True)
    assert "219400348" in html and "Robert Doisneau" in html
    # Its own schools, and only those, even to an administrator, who may see them all.
    schools = db_session.execute(select(Ecole.uai, Ecole.collectivite_id)).all()
    others = [uai for uai, owner in schools if owner != ecole.collectivite_id]
    assert others and not [uai for uai in others if uai in html]
    assert all(uai in html for uai, owner in schools if owner == ecole.collectivite_id)
    html = client.get(f"/circonscriptions/{ecole.circonscription_id}").get_data(as_text=True)
    assert "0940927X" in html and "Robert Doisneau" in html
    assert client.get("/collectivites/999999").status_code == 404


def test_technician_adds_and_renames_a_classroom(login_as, registry, db_session):
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    client = login_as("technicien", [("collectivite", ecole.collectivite_id)])
    response = client.post(
        f"/ecoles/{ecole.id}/classes",
        data={"name": "Salle polyvalente", "levels": ["CP", "CE1"], "pupils": "23"},
    )
    assert response.status_code == 302
    room = db_session.scalar(select(Classroom).filter_by(name="Salle polyvalente"))
    assert room.level_list == ["CP", "CE1"] and room.pupils == 23
    # A duplicate name is refused with a clear message, and the typed values stay.
    dup = client.post(
        f"/ecoles/{ecole.id}/classes",
        data={"name": "Salle polyvalente", "levels": ["CM2"], "pupils": "12"},
    )
    assert dup.status_code == 422
    html = dup.get_data(as_text=True)
    assert "Salle polyvalente" in html and 'value="12"' in html
    # Rename, then the school page shows the change in its history.
    response = client.post(f"/classes/{room.id}", data={"name": "Salle 12", "levels": ["CM1"]})
    assert response.status_code == 302
    html = client.get(f"/ecoles/{ecole.id}").get_data(as_text=True)
    assert "Salle polyvalente" in html and "Salle 12" in html  # before and after in history


def test_pupils_out_of_range_is_an_error(login_as, registry, db_session):
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    client = login_as("technicien", [("collectivite", ecole.collectivite_id)])
    response = client.post(f"/ecoles/{ecole.id}/classes", data={"name": "X", "pupils": "-3"})
    assert response.status_code == 422
    assert db_session.scalar(select(Classroom).filter_by(name="X")) is None


def test_moving_a_school_keeps_its_classrooms_and_history(app, registry, db_session):
    from inventory.orgs.models import Collectivite

    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    rooms = len(ecole.classrooms)
    other = db_session.scalar(select(Collectivite).filter_by(name="Créteil"))
    result = app.test_cli_runner().invoke(
        args=["schools", "move", "0940176F", other.siren, "--since", "2024-09-01"]
    )
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    assert ecole.collectivite_id == other.id
    assert len(ecole.classrooms) == rooms
    assert [(o.collectivite.name, o.until is None) for o in ecole.ownerships] == [
        ("Fresnes", False),
        ("Créteil", True),
    ]


@pytest.mark.parametrize(
    "query",
    ["oisnea", "ecole ferry", "de", "jean de", 'a"b', "zzz", "du 94"],
)
def test_search_finds_what_a_substring_match_finds(login_as, registry, db_session, query):
    """The search index (trigrams) and the plain scan agree, short words and quotes too."""
    words = fold(query).split()
    expected = {
        str(e.id)
        for e in db_session.scalars(select(Ecole))
        if all(w in e.search_text for w in words)
    }
    client = login_as("admin")
    client.application.config["PAGE_SIZE"] = 1000
    html = client.get("/ecoles", query_string={"q": query}).get_data(as_text=True)
    assert set(school_links(html)) == expected


def test_a_renamed_school_is_found_by_its_new_name(login_as, registry, db_session):
    client = login_as("admin")
    ecole = db_session.scalar(select(Ecole).order_by(Ecole.id))
    ecole.name = "Ecole Zéphyrin Quenouille"
    ecole.search_text = school_search_text(ecole.uai, ecole.name, "Fresnes", None)
    db_session.commit()
    html = client.get("/ecoles?q=zephyrin quenou").get_data(as_text=True)
    assert school_links(html) == [str(ecole.id)]
    ecole.search_text = school_search_text(ecole.uai, "Ecole Victor Hugo", "Fresnes", None)
    db_session.commit()
    assert school_links(client.get("/ecoles?q=zephyrin").get_data(as_text=True)) == []


def test_closed_is_said_as_each_thing_closes_in_french(app, login_as, registry, db_session):
    """'closed' is said three ways in French: a school is « fermée », a ticket or a dossier
    « clôturé » (one English word, a context per meaning)."""
    from flask_babel import force_locale

    from inventory.grants.dossiers import STATUS_LABELS as DOSSIER_LABELS
    from inventory.grants.models import DossierStatus
    from inventory.helpdesk.models import TicketStatus
    from inventory.helpdesk.rules import TICKET_STATUS_LABELS
    from inventory.orgs.models import SchoolStatus

    ecole = db_session.scalar(select(Ecole).filter_by(uai="0940176F"))
    ecole.status = SchoolStatus.CLOSED
    db_session.commit()
    client = login_as("admin")
    client.post("/language", data={"lang": "fr"})
    html = client.get(f"/ecoles/{ecole.id}").get_data(as_text=True)
    assert re.search(r"<dt>Statut</dt><dd>fermée</dd>", html)
    with app.test_request_context(), force_locale("fr"):
        assert str(TICKET_STATUS_LABELS[TicketStatus.CLOSED]) == "clôturé"
        assert str(DOSSIER_LABELS[DossierStatus.CLOSED]) == "clôturé"
