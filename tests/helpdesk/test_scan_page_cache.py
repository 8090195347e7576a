"""The public scan page as it is served from its kept parts (helpdesk.page_cache): the
same page as a whole rendering, never stale, with each visitor's own CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, text

from inventory import create_app
from inventory.extensions import db
from inventory.helpdesk.models import ProblemType, Ticket, TicketStatus
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from inventory.orgs.models import Classroom, Ecole
from tests.helpdesk.test_reports import build_world, count, report


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html))


def post_report(client, token: str, problem: int, csrf: str, description: str, **extra: Any):
    """A report sent from the page of ``token`` with this CSRF token."""
    data = {"problem": str(problem), "description": description, "csrf_token": csrf, **extra}
    return client.post(f"/q/{token}", data=data, content_type="multipart/form-data")


def send(client, token: str, problem: int, description: str = "Plus de son.", **extra: Any):
    html = client.get(f"/q/{token}").get_data(as_text=True)
    (csrf,) = csrf_tokens(html)
    return post_report(client, token, problem, csrf, description, **extra)


def comparable(html: str) -> str:
    """A page with what legitimately differs from one request to the next taken out."""
    html = re.sub(r'(name="csrf_token"[^>]*value=)"[^"]+"', r'\1"-"', html)
    return re.sub(r'(name="next" value=)"[^"]*"', r'\1"-"', html)


def test_the_kept_page_is_the_page_a_whole_rendering_gives(app, world, db_session):
    # One open problem on the screen, none on the laptop; a room's label; both languages.
    first = app.test_client()
    assert send(first, world["token"], world["types"]["son"]).status_code == 200
    for lang in ("fr", "en"):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        for token in (world["token"], world["laptop_token"], world["room_token"]):
            shared = client.get(f"/q/{token}")  # from the kept parts, rendered on first use
            again = client.get(f"/q/{token}")  # from the kept parts, already there
            # A query (an unknown one here) makes the view render the page as a whole.
            whole = client.get(f"/q/{token}?x=1")
            assert shared.status_code == again.status_code == whole.status_code == 200
            for response in (shared, again):
                html = response.get_data(as_text=True)
                assert comparable(html) == comparable(whole.get_data(as_text=True))
                assert "-slot-" not in html
                assert f'name="next" value="/q/{token}"' in html
                assert f'action="/q/{token}"' in html
            assert f'<html lang="{lang}">' in shared.get_data(as_text=True)
            assert shared.headers["X-Robots-Tag"] == "noindex, nofollow"
            assert shared.headers["Cache-Control"] == "no-store"
            assert "script-src 'self'" in shared.headers["Content-Security-Policy"]


def test_a_report_shows_at_once_and_each_visitor_has_a_token_of_their_own(app, world):
    alice, bob = app.test_client(), app.test_client()
    before = alice.get(f"/q/{world['token']}").get_data(as_text=True)
    assert "Aucun problème n'est en cours de traitement" in before
    page_b = bob.get(f"/q/{world['token']}").get_data(as_text=True)
    (token_a,) = csrf_tokens(before)  # the form's and the language switch's: the same
    (token_b,) = csrf_tokens(page_b)
    assert token_a != token_b

    sent = alice.post(
        f"/q/{world['token']}",
        data={"problem": str(world["types"]["son"]), "description": "Muet.", "csrf_token": token_a},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200 and "/suivi/" in sent.get_data(as_text=True)
    # Bob's token is his own: it is worth nothing in Alice's session, and the reverse.
    crossed = alice.post(
        f"/q/{world['token']}",
        data={"problem": str(world["types"]["image"]), "description": "x", "csrf_token": token_b},
        content_type="multipart/form-data",
    )
    assert crossed.status_code == 400
    assert "Le formulaire a expiré" in crossed.get_data(as_text=True)

    after = bob.get(f"/q/{world['token']}").get_data(as_text=True)
    assert "Aucun problème n'est en cours de traitement" not in after
    assert "Pas de son" in after  # the problem's type, as reported by Alice
    assert send(bob, world["token"], world["types"]["image"], "Image floue").status_code == 200
    assert "Pas d&#39;image" in bob.get(f"/q/{world['token']}").get_data(as_text=True)


def test_changes_made_elsewhere_show_on_the_next_page(app, world, db_session, database_url):
    client = app.test_client()
    assert send(client, world["token"], world["types"]["son"]).status_code == 200
    assert "Pas de son" in client.get(f"/q/{world['token']}").get_data(as_text=True)

    # Another worker's changes, made without this app: nothing tells its caches.
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
    html = client.get(f"/q/{world['token']}").get_data(as_text=True)
    (csrf,) = csrf_tokens(html)
    tokens.reissue(db_session, db_session.scalar(select(ScanToken).filter_by(token=world["token"])))
    db_session.commit()
    assert client.get(f"/q/{world['token']}").status_code == 410
    sent = post_report(client, world["token"], world["types"]["son"], csrf, "x")
    assert sent.status_code == 410
    assert count(db_session, Ticket) == 0


def test_a_report_without_its_token_is_refused_and_keeps_the_text(app, world, db_session):
    client = app.test_client()
    assert client.get(f"/q/{world['token']}").status_code == 200
    refused = report(client, world["token"], world["types"]["son"], "Texte gardé")
    assert refused.status_code == 400
    assert "Texte gardé" in refused.get_data(as_text=True)
    assert count(db_session, Ticket) == 0
