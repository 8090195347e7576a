"""Signed values made by core.signing read back by Flask's and Flask-WTF's own code, and the
other way round: the session cookie and the CSRF token keep their formats."""

from __future__ import annotations

import pytest
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import ValidationError

from inventory.core.signing import KeptSerializer, csrf_token


def test_csrf_tokens_are_flask_wtf_tokens(app):
    with app.test_request_context("/"):
        token = csrf_token()
        assert csrf_token() == token  # one per request, as Flask-WTF's
        assert generate_csrf() == token
        validate_csrf(token)  # raises if Flask-WTF does not accept it
        raw = session["csrf_token"]
        assert len(raw) == 40
    with app.test_request_context("/"):
        session["csrf_token"] = raw  # the same visitor, another request
        validate_csrf(csrf_token())
        with pytest.raises(ValidationError):
            validate_csrf(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with app.test_request_context("/"):
        # Another visitor (another session): the token is not theirs.
        session["csrf_token"] = "0" * 40
        with pytest.raises(ValidationError):
            validate_csrf(token)


def test_a_flask_wtf_token_is_read_the_same(app):
    with app.test_request_context("/"):
        validate_csrf(generate_csrf())


def test_kept_serializer_values_are_itsdangerous_values():
    flask_like = SecureCookieSessionInterface()
    kwargs = {
        "salt": flask_like.salt,
        "serializer": flask_like.serializer,
        "signer_kwargs": {
            "key_derivation": flask_like.key_derivation,
            "digest_method": flask_like.digest_method,
        },
    }
    kept = KeptSerializer(["old-key", "current-key"], **kwargs)
    plain = URLSafeTimedSerializer(["old-key", "current-key"], **kwargs)
    short = {"csrf_token": "a" * 40, "lang": "en"}
    long = {"csrf_token": "a" * 40, "notes": "x" * 500}  # compressed, as itsdangerous does
    for value in (short, long):
        assert plain.loads(kept.dumps(value)) == value
        assert kept.loads(plain.dumps(value)) == value
        assert kept.loads(kept.dumps(value)) == value
    assert kept.dumps(long).startswith(".")
    # Signed with the old key (a rotated secret): still read; with another, refused.
    assert kept.loads(URLSafeTimedSerializer("old-key", **kwargs).dumps(short)) == short
    with pytest.raises(BadSignature):
        kept.loads(URLSafeTimedSerializer("stranger", **kwargs).dumps(short))


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"WTF_CSRF_ENABLED": True}


def test_the_session_cookie_and_its_token_work_from_request_to_request(client):
    # The language form's token comes from the session the page opened; the choice is
    # kept in the session cookie the answer sets, and read by the next request.
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in page
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    refused = client.post("/language", data={"lang": "en", "next": "/login"})
    assert refused.status_code == 400
    sent = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert sent.status_code == 302
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)
