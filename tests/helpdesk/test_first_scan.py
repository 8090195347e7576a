"""A label's first scan answered before Flask (helpdesk.first_scan): the same answer as
Flask's, a working form, never stale, and Flask for everything else."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from inventory.helpdesk.models import Ticket
from inventory.labels import tokens
from inventory.labels.models import ScanToken
from tests.helpdesk.test_reports import build_world, count
from tests.helpdesk.test_scan_page_cache import comparable, csrf_tokens, post_report


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True, "SESSION_COOKIE_SECURE": False}


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


def first_visit(app, path: str, base_url: str | None = None, **environ: Any):
    """A request from a new visitor (a client without cookies); whether the first-scan
    answer gave it."""
    first_scan = app.extensions["helpdesk_first_scan"]
    before = first_scan.answered
    response = app.test_client().get(path, base_url=base_url, environ_base=environ)
    return response, first_scan.answered > before


def headers_of(response) -> dict[str, str]:
    out = {k: v for k, v in response.headers.items() if k != "Set-Cookie"}
    out["Set-Cookie"] = re.sub(r"^session=[^;]+", "session=-", response.headers["Set-Cookie"])
    return out


@pytest.mark.parametrize("accept", ["fr-FR,fr;q=0.9", "en-GB,en;q=0.8"])
def test_a_first_scan_is_answered_as_flask_answers_it(app, world, db_session, accept):
    # An open problem on the screen: the item's part shows it.
    kept = app.test_client()
    html = kept.get(f"/q/{world['token']}").get_data(as_text=True)
    (csrf,) = csrf_tokens(html)
    kept.post(
        f"/q/{world['token']}",
        data={"problem": str(world["types"]["son"]), "description": "Muet", "csrf_token": csrf},
        content_type="multipart/form-data",
    )
    for token in (world["token"], world["laptop_token"], world["room_token"]):
        path = f"/q/{token}"
        # The first visit renders the parts (through Flask), the next ones use them.
        flask_answer, fast = first_visit(app, path, HTTP_ACCEPT_LANGUAGE=accept)
        assert not fast
        answer, fast = first_visit(app, path, HTTP_ACCEPT_LANGUAGE=accept)
        assert fast and answer.status_code == flask_answer.status_code == 200
        body = answer.get_data(as_text=True)
        assert comparable(body) == comparable(flask_answer.get_data(as_text=True))
        assert headers_of(answer) == headers_of(flask_answer)
        assert f'<html lang="{accept[:2]}">' in body
        assert f'action="/q/{token}"' in body and "-slot-" not in body
        # The same answer as a signed-in staff's session would never get: a new session.
        assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert ("Pas de son" if accept.startswith("fr") else "No sound") in first_visit(
        app, f"/q/{world['token']}", HTTP_ACCEPT_LANGUAGE=accept
    )[0].get_data(as_text=True)


def test_its_form_sends_a_report_and_the_report_shows_at_once(app, world, db_session):
    first_visit(app, f"/q/{world['token']}")  # parts kept
    visitor = app.test_client()
    first_scan = app.extensions["helpdesk_first_scan"]
    before = first_scan.answered
    html = visitor.get(f"/q/{world['token']}").get_data(as_text=True)
    assert first_scan.answered == before + 1
    assert "Aucun problème n'est en cours de traitement" in html
    (csrf,) = csrf_tokens(html)
    sent = post_report(visitor, world["token"], world["types"]["son"], csrf, "Muet")
    assert sent.status_code == 200 and "/suivi/" in sent.get_data(as_text=True)
    assert count(db_session, Ticket) == 1
    # Another new visitor sees the problem at once (its open problems are another key).
    answer, _fast = first_visit(app, f"/q/{world['token']}")
    assert "Pas de son" in answer.get_data(as_text=True)
    # A token of no session is refused, and so is none.
    stranger = app.test_client()
    refused = post_report(stranger, world["token"], world["types"]["son"], csrf, "x")
    assert refused.status_code == 400
    assert count(db_session, Ticket) == 1


def test_everything_else_goes_through_flask(app, world, db_session):
    path = f"/q/{world['token']}"
    first_visit(app, path)  # parts kept
    assert first_visit(app, path)[1]
    chosen, fast = first_visit(app, f"{path}?probleme={world['types']['son']}")
    assert chosen.status_code == 200 and not fast
    son = world["types"]["son"]
    assert re.search(rf'<input checked[^>]* value="{son}"', chosen.get_data(as_text=True))
    with_cookie = app.test_client()
    with_cookie.get("/login")  # a session already
    first_scan = app.extensions["helpdesk_first_scan"]
    before = first_scan.answered
    assert with_cookie.get(path).status_code == 200
    assert first_scan.answered == before
    unknown, fast = first_visit(app, "/q/ZZZZZZZZZZZZZZZZ")
    assert unknown.status_code == 404 and not fast
    tokens.reissue(db_session, db_session.scalar(select(ScanToken).filter_by(token=world["token"])))
    db_session.commit()
    replaced, fast = first_visit(app, path)
    assert replaced.status_code == 410 and not fast


def test_behind_https_and_a_path_prefix_it_answers_as_flask_does(app, world):
    base = "https://socle.example.fr/socle"
    path = f"/q/{world['laptop_token']}"
    flask_answer, fast = first_visit(app, path, base)
    assert not fast
    answer, fast = first_visit(app, path, base)
    assert fast
    assert headers_of(answer) == headers_of(flask_answer)
    assert "Strict-Transport-Security" in answer.headers
    body = answer.get_data(as_text=True)
    assert f'action="/socle/q/{world["laptop_token"]}"' in body
    assert comparable(body) == comparable(flask_answer.get_data(as_text=True))
