"""The public pages as a phone without cookies gets them, with CSRF protection on as in
production: no cookie is ever set, a report is accepted without any token while the trap
field and the limits still hold, the staff's forms keep their tokens, and what changed
elsewhere shows on the next page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text

from inventory import create_app
from inventory.core.audit import AuditRecord
from inventory.extensions import db
from inventory.helpdesk.models import ProblemType, Ticket, TicketStatus
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import PASSWORD
from tests.factories import build_world, count, report


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, "HELPDESK_REPORT_LIMITS": ("3 per minute", "10 per hour")}


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


def no_cookie(response) -> bool:
    return "Set-Cookie" not in response.headers


def test_a_first_scan_sets_no_cookie_in_either_language(app, world):
    for accept, lang, title in (
        ("fr-FR,fr;q=0.9", "fr", "Signaler"),
        ("en-GB,en;q=0.8", "en-GB", "Report"),
    ):
        for token in (world["token"], world["laptop_token"], world["room_token"]):
            phone = app.test_client()  # a new visitor each time: no cookie at all
            response = phone.get(f"/q/{token}", headers={"Accept-Language": accept})
            assert response.status_code == 200 and no_cookie(response), response.headers
            html = response.get_data(as_text=True)
            assert f'<html lang="{lang}">' in html and title in html
            assert 'name="csrf_token"' not in html
            assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
            assert response.headers["Cache-Control"] == "no-store"
            csp = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            # The report form posts to the page's own address; the switch asks for it again.
            assert re.search(r'<form method="post" enctype="multipart/form-data"', html)
            assert re.search(r'<form class="lang-switch" method="get">', html)
            assert phone.get_cookie("session") is None
    unknown = app.test_client().get("/q/ZZZZZZZZZZZZZZZZ")
    assert unknown.status_code == 404 and no_cookie(unknown)


def test_the_language_switch_of_a_public_page_keeps_no_session(app, world):
    phone = app.test_client()
    english = phone.get(f"/q/{world['token']}?lang=en", headers={"Accept-Language": "fr"})
    html = english.get_data(as_text=True)
    assert english.status_code == 200 and no_cookie(english)
    assert '<html lang="en-GB">' in html and 'name="lang" value="fr"' in html
    # The report is sent to the address with its lang: the answer speaks English too.
    sent = phone.post(
        f"/q/{world['token']}?lang=en",
        data={"problem": str(world["types"]["son"]), "description": "No sound."},
        content_type="multipart/form-data",
        headers={"Accept-Language": "fr"},
    )
    assert sent.status_code == 200 and no_cookie(sent)
    assert '<html lang="en-GB">' in sent.get_data(as_text=True)
    assert (
        phone.get(f"/q/{world['token']}", headers={"Accept-Language": "fr"})
        .get_data(as_text=True)
        .startswith('<!doctype html>\n<html lang="fr">')
    )


def test_a_report_without_any_cookie_or_token_is_accepted_and_sets_no_cookie(
    app, world, db_session
):
    phone = app.test_client()
    sent = report(phone, world["token"], world["types"]["son"], "Plus de son.")
    assert sent.status_code == 200 and no_cookie(sent)
    html = sent.get_data(as_text=True)
    ticket = db_session.scalar(select(Ticket))
    assert ticket.description == "Plus de son." and f"/suivi/{ticket.follow_token}" in html
    follow = phone.get(f"/suivi/{ticket.follow_token}")
    assert follow.status_code == 200 and no_cookie(follow)
    assert follow.headers["X-Robots-Tag"] == "noindex, nofollow"
    # A form with a mistake, a duplicate to join, an unknown follow-up link: no cookie.
    mistake = report(phone, world["token"], "", "")
    assert mistake.status_code == 422 and no_cookie(mistake)
    duplicate = report(phone, world["token"], world["types"]["son"], "Toujours muet.")
    assert duplicate.status_code == 200 and no_cookie(duplicate)
    assert 'name="join" type="hidden" value="1"' in duplicate.get_data(as_text=True)
    assert no_cookie(phone.get("/suivi/inconnu"))
    assert phone.get_cookie("session") is None
    # The change log names the public reporter as anonymous, with the address.
    record = db_session.scalar(
        select(AuditRecord).filter_by(object_type="tickets", object_id=ticket.id, action="create")
    )
    assert record.actor_id is None and record.actor_label == "anonymous"
    assert record.ip == "127.0.0.1"


def test_the_trap_field_and_the_limits_still_hold_without_a_token(app, world, db_session):
    phone = app.test_client()
    trapped = report(phone, world["token"], world["types"]["son"], website="http://spam.example")
    assert trapped.status_code == 200 and "/suivi/" in trapped.get_data(as_text=True)
    assert count(db_session, Ticket) == 0
    # The trap counted as a report sent: two more, then the fourth in a minute is refused,
    # with the typed text kept.
    for code in ("image", "casse"):
        assert report(phone, world["token"], world["types"][code]).status_code == 200
    refused = report(phone, world["token2"], world["types"]["son"], "Écrit avec soin")
    assert refused.status_code == 429 and no_cookie(refused)
    assert "Écrit avec soin" in refused.get_data(as_text=True)
    assert count(db_session, Ticket) == 2
    assert app.test_client().get(f"/q/{world['token2']}").status_code == 200


def test_staff_forms_keep_their_token(app, world, make_user, db_session):
    report(app.test_client(), world["token"], world["types"]["son"])
    ticket = db_session.scalar(select(Ticket))
    staff = app.test_client()
    page = staff.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    email = make_user("technicien", [("collectivite", world["coll"])])
    signed_in = staff.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    html = staff.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    version = html.split('name="version" value="')[1].split('"')[0]
    data = {"body": "Nous passons jeudi.", "visibility": "public", "version": version}
    assert staff.post(f"/tickets/{ticket.id}/messages", data=data).status_code == 400
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    sent = staff.post(f"/tickets/{ticket.id}/messages", data={**data, "csrf_token": token})
    assert sent.status_code == 302
    # Signed in, the language switch of a public page is the public one all the same.
    public = staff.get(f"/suivi/{ticket.follow_token}").get_data(as_text=True)
    assert '<form class="lang-switch" method="get">' in public


def test_changes_made_elsewhere_show_on_the_next_page(app, world, db_session, database_url):
    client = app.test_client()
    assert report(client, world["token"], world["types"]["son"]).status_code == 200
    assert "Pas de son" in client.get(f"/q/{world['token']}").get_data(as_text=True)

    # Another worker's changes, made without this app.
    ticket = db_session.scalar(select(Ticket))
    ticket.status = TicketStatus.RESOLVED
    room = db_session.get(Classroom, world["rooms"][0].id)
    room.name = "Salle des Tilleuls"
    ecole = db_session.get(Ecole, world["ecole"].id)
    ecole.name = "École des <Tilleuls>"
    sound = db_session.get(ProblemType, world["types"]["son"])
    sound.label_fr = "Aucun son ne sort"
    db_session.commit()

    html = client.get(f"/q/{world['token']}").get_data(as_text=True)
    assert "Aucun problème n'est en cours de traitement" in html
    assert "Salle des Tilleuls" in html
    assert "École des &lt;Tilleuls&gt;" in html and "<Tilleuls>" not in html
    assert "Aucun son ne sort" in html and "Pas de son" not in html
    room_page = client.get(f"/q/{world['room_token']}").get_data(as_text=True)
    assert "<h1>Salle des Tilleuls</h1>" in room_page
    assert "Aucun son ne sort" not in room_page  # an item's problem, not a room's

    # Problem types changed by hand in SQL: the next page offers what they are now.
    db_session.execute(
        text("UPDATE problem_types SET active = :no WHERE id = :id"),
        {"no": False, "id": world["types"]["son"]},
    )
    db_session.commit()
    html = client.get(f"/q/{world['token']}").get_data(as_text=True)
    assert f'value="{world["types"]["son"]}"' not in html
    db_session.execute(
        text("UPDATE problem_types SET active = :yes, label_en = :label WHERE id = :id"),
        {"yes": True, "label": "Silent", "id": world["types"]["son"]},
    )
    db_session.commit()
    english = client.get(f"/q/{world['token']}", headers={"Accept-Language": "en"})
    assert "Silent" in english.get_data(as_text=True)

    # And from another app (another worker) on the same database.
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "INSTANCE_PATH": app.instance_path,
        }
    )
    try:
        html = other.test_client().get(f"/q/{world['token']}").get_data(as_text=True)
        assert "Salle des Tilleuls" in html and "Aucun son ne sort" in html
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_replaced_label_is_refused_even_once_its_page_was_served(app, world, db_session):
    client = app.test_client()
    assert client.get(f"/q/{world['token']}").status_code == 200
    tokens.reissue(db_session, db_session.scalar(select(ScanToken).filter_by(token=world["token"])))
    db_session.commit()
    replaced = client.get(f"/q/{world['token']}")
    assert replaced.status_code == 410 and no_cookie(replaced)
    assert report(client, world["token"], world["types"]["son"], "x").status_code == 410
    assert count(db_session, Ticket) == 0


def test_a_problem_can_be_chosen_by_the_address(app, world):
    son = world["types"]["son"]
    html = app.test_client().get(f"/q/{world['token']}?probleme={son}").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]* value="{son}"', html)
    assert "checked" not in app.test_client().get(f"/q/{world['token']}?probleme=x").get_data(
        as_text=True
    )
