"""Signing in and out, brute-force protection, sessions."""

from __future__ import annotations

import os
import random
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from limits import parse
from sqlalchemy import select

from inventory import create_app
from inventory.auth.models import User
from tests.conftest import PASSWORD, login

# The French of the page that refuses an attempt over the limit.
TOO_MANY = "Trop de tentatives en peu de temps"
# And of the page that says a password was wrong.
WRONG = "Adresse électronique ou mot de passe incorrect."


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


def test_only_wrong_passwords_count_towards_the_lockout(client, make_user):
    """A sign-in that succeeds gives its place back, and a form without a password checks
    nothing: neither brings the lockout nearer."""
    email = make_user("admin")
    assert _brute_force(client, email, 4) == [200] * 4
    assert client.post("/login", data={"email": email, "password": ""}).status_code == 200
    assert login(client, email).status_code == 302
    assert client.post("/logout").status_code == 302
    assert _brute_force(client, email, 1) == [200], "the fifth wrong password is still tried"
    assert login(client, email).status_code == 429


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


class LimitClock:
    """The clock of the limits counted in memory, moved by the test alone: a window ends
    when the test says so, however slow the machine is at checking passwords."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limit_clock(monkeypatch: pytest.MonkeyPatch) -> LimitClock:
    clock = LimitClock()
    monkeypatch.setattr("limits.storage.memory.time", clock)
    return clock


@pytest.mark.parametrize(
    "app_config", [{"LOGIN_LIMITS": ("3 per 15 minutes", "100 per hour")}], indirect=True
)
def test_the_lockout_ends_by_itself(app, make_user, limit_clock):
    email = make_user("admin")
    client = app.test_client()
    assert _brute_force(client, email, 4) == [200, 200, 200, 429]
    limit_clock.advance(15 * 60 - 1)
    assert login(client, email).status_code == 429, "locked until the window ends"
    limit_clock.advance(2)
    assert login(client, email).status_code == 302


def _worker(database_url: str, tmp_path: Path, limit_storage: str) -> Flask:
    """An app instance like one gunicorn worker, counting its limits in ``limit_storage``."""
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": limit_storage,
        }
    )


def _answer(response: Any) -> str:
    """What a sign-in attempt was told, in the user's words (the page is in French)."""
    body = response.get_data(as_text=True)
    if response.status_code == 200 and WRONG in body:
        return "wrong password"
    if response.status_code == 429 and TOO_MANY in body:
        return "too many attempts"
    return f"{response.status_code}"


def _send_at_once(app: Flask, email: str, address: str, passwords: list[str]) -> list[str]:
    """Each password sent from a client of its own at ``address``, all released together;
    the answers, sorted."""
    barrier = threading.Barrier(len(passwords), timeout=60)
    answers: list[str] = []

    def send(password: str) -> None:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        barrier.wait()
        answers.append(_answer(login(client, email, password)))

    threads = [threading.Thread(target=send, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == len(passwords), "an attempt never got its answer"
    return sorted(answers, reverse=True)


@pytest.mark.parametrize("limit_storage", ["memory", "redis"], indirect=True)
def test_wrong_passwords_sent_at_once_are_tried_no_more_than_the_limit(
    database_url, make_user, tmp_path, limit_storage, limit_clock, monkeypatch
):
    from inventory.auth import services
    from inventory.extensions import db

    # An account and an address of this test's own: a shared Redis may hold others' counts.
    email = make_user("admin", email=f"{uuid.uuid4().hex}@example.org")
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    app = _worker(database_url, tmp_path, limit_storage)
    per_account, per_address = (parse(value) for value in app.config["LOGIN_LIMITS"])
    allowed = min(per_account.amount, per_address.amount)
    tried: list[str] = []
    check = services.check_password_hash

    def checking(pwhash: str, password: str) -> bool:
        tried.append(password)
        return check(pwhash, password)

    monkeypatch.setattr("inventory.auth.services.check_password_hash", checking)
    try:
        answers = _send_at_once(app, email, address, [f"guess-{i}" for i in range(12)])
        assert answers == ["wrong password"] * allowed + ["too many attempts"] * (12 - allowed)
        assert len(tried) == allowed, "only the attempts let through meet the password"
        # Locked: the right password is refused too, and not even checked, until the
        # window ends.
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        assert _answer(login(client, email)) == "too many attempts"
        assert PASSWORD not in tried
        if limit_storage == "memory://":
            limit_clock.advance(per_account.get_expiry() - 1)
            assert login(client, email).status_code == 429
            limit_clock.advance(2)
            assert login(client, email).status_code == 302
        else:
            # Redis keeps the window: the account's counter ends with it.
            import redis

            store = redis.Redis.from_url(limit_storage)
            (key,) = store.keys(f"*/login-account:{email}/*")
            assert int(store.get(key)) == allowed
            assert 0 < store.ttl(key) <= per_account.get_expiry()
    finally:
        with app.app_context():
            db.engine.dispose()


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
