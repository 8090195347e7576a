"""Signing in and out, brute-force protection, sessions."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from inventory.auth.models import User
from tests.factories.registry import PASSWORD, login


def test_sign_in_and_out(client, make_user, db_session):
    email = make_user("admin")
    response = login(client, email)
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/").status_code == 200
    user = db_session.scalar(select(User).filter_by(email=email))
    assert user.last_login_at is not None
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_email_answer_the_same(client, make_user):
    email = make_user("admin")
    wrong = client.post("/login", data={"email": email, "password": "not the password"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "x"})
    assert wrong.status_code == unknown.status_code == 200

    def strip(response):
        html = response.get_data(as_text=True).replace(email, "")
        html = html.replace("nobody@example.org", "")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", html)  # signed with the time

    assert strip(wrong) == strip(unknown)


def test_next_is_followed_only_when_local(client, make_user):
    email = make_user("admin")
    ok = client.post("/login?next=/ecoles", data={"email": email, "password": PASSWORD})
    assert ok.location == "/ecoles"
    client.post("/logout")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(f"/login?next={target}", data={"email": email, "password": PASSWORD})
        assert response.location == "/", target
        client.post("/logout")


def test_deactivated_accounts_cannot_sign_in(app, client, make_user):
    email = make_user("admin")
    result = app.test_cli_runner().invoke(args=["users", "deactivate", email])
    assert result.exit_code == 0
    assert login(client, email).status_code == 200


def _brute_force(client, email, attempts=50):
    return [
        client.post("/login", data={"email": email, "password": f"guess-{i}"}).status_code
        for i in range(attempts)
    ]


def test_fifty_wrong_passwords_lock_the_account_and_leak_nothing(app, make_user):
    email = make_user("admin")
    # Each attacker comes from its own address, so that only the per-account limit counts.
    real = app.test_client()
    real.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    ghost = app.test_client()
    ghost.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    known = _brute_force(real, email)
    unknown = _brute_force(ghost, "nobody@example.org")
    assert known == unknown, "an existing account must not be told apart from a missing one"
    assert known[:5] == [200] * 5 and set(known[5:]) == {429}
    # Locked: even the right password is refused for now, with a clear message.
    locked = real.post("/login", data={"email": email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "minutes" in locked.get_data(as_text=True)
    # Another account from the same address is not locked by it.
    other = make_user("admin")
    assert login(real, other).status_code == 302


def test_too_many_attempts_from_one_address_are_refused(app, make_user):
    client = app.test_client()
    statuses = [
        client.post("/login", data={"email": f"u{i}@example.org", "password": "x"}).status_code
        for i in range(25)
    ]
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_LIMITS": ("3 per 2 seconds", "100 per hour")}], indirect=True
)
def test_the_lockout_ends_by_itself(app, make_user):
    import time

    email = make_user("admin")
    client = app.test_client()
    assert _brute_force(client, email, 4)[-1] == 429
    time.sleep(2.2)
    assert login(client, email).status_code == 302


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL")
def test_lockout_is_shared_between_workers_through_redis(database_url, make_user):
    """Two app instances stand for two gunicorn workers; Redis holds the counters."""
    import redis

    from inventory import create_app
    from inventory.extensions import db

    url = os.environ["TEST_REDIS_URL"]
    redis.Redis.from_url(url).flushdb()
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "k",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": url,
    }
    worker_a, worker_b = create_app(config), create_app(config)
    email = make_user("admin")
    a, b = worker_a.test_client(), worker_b.test_client()
    try:
        for i in range(5):
            response = a.post("/login", data={"email": email, "password": f"bad{i}"})
            assert response.status_code == 200
        assert b.post("/login", data={"email": email, "password": PASSWORD}).status_code == 429
    finally:
        redis.Redis.from_url(url).flushdb()
        for worker in (worker_a, worker_b):
            with worker.app_context():
                db.engine.dispose()


def test_a_session_moved_to_another_address_ends(client, make_user):
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    assert login(client, make_user("admin")).status_code == 302
    assert client.get("/").status_code == 200
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert client.get("/").status_code == 302
