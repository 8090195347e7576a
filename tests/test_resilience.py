"""Socle under faults, through HTTP: Redis unreachable or stopped (signing in and reporting
still work, the limits count per process), the database unreachable (a translated 503 that
needs no database), and the public report's limit under simultaneous requests."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from inventory import create_app
from inventory.assets import catalogue, lifecycle
from inventory.assets.models import AssetStatus
from inventory.extensions import limiter
from inventory.helpdesk.models import ProblemType, Ticket
from inventory.labels import tokens
from inventory.orgs.models import Classroom, Ecole
from tests.conftest import ADMIN, login
from tests.factories import UAI, build_world, count, report
from tests.servers import RedisServer, free_port

FRENCH_503 = "Socle ne parvient pas à joindre sa base de données"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _forget_the_outage() -> Iterator[None]:
    """The limiter is one object for every app of the process: an outage one test caused
    must not make the next test's limiter count in memory."""
    yield
    limiter._storage_dead = False


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _app_with(database_url: str, tmp_path: Path, **config: Any) -> Flask:
    return create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


# -- Redis down ---------------------------------------------------------------------------
def _sign_in_and_report(app: Flask, email: str, world: dict[str, Any]) -> None:
    assert login(app.test_client(), email).status_code == 302
    sent = report(app.test_client(), world["token"], world["types"]["son"], "Pas de son du tout")
    assert sent.status_code == 200 and "/suivi/" in sent.get_data(as_text=True)


def test_with_redis_unreachable_sign_in_and_reports_work_and_limits_count_in_memory(
    database_url, registry, db_session, make_user, tmp_path, caplog
):
    world = build_world(db_session)
    email = make_user("admin")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = _app_with(database_url, tmp_path, REDIS_URL=closed, RATELIMIT_STORAGE_URI=closed)
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    _sign_in_and_report(app, email, world)
    assert count(db_session, Ticket) == 1
    assert "falling back to in-memory storage" in caplog.text
    # The limits still hold, in this process: five reports a minute from one address.
    codes = ["tactile_stylet", "ne_s_allume_pas", "image", "reseau"]
    for code in codes:
        assert report(app.test_client(), world["token"], world["types"][code]).status_code == 200
    refused = report(app.test_client(), world["token2"], world["types"]["casse"], "Gardé")
    assert refused.status_code == 429 and "Gardé" in refused.get_data(as_text=True)
    assert count(db_session, Ticket) == 5
    # The health check says what is wrong.
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.json["checks"]["redis"]["status"] == "failing"
    assert health.json["checks"]["database"]["status"] == "ok"


def test_with_redis_unreachable_wrong_passwords_are_still_limited_in_memory(
    database_url, make_user, tmp_path, caplog
):
    email = make_user("admin")
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = _app_with(database_url, tmp_path, REDIS_URL=closed, RATELIMIT_STORAGE_URI=closed)
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    client = app.test_client()
    wrong = [login(client, email, f"guess-{i}").status_code for i in range(6)]
    assert wrong == [200] * 5 + [429]
    assert login(client, email).status_code == 429, "locked in this process's memory"
    assert "falling back to in-memory storage" in caplog.text


def test_a_redis_stopped_while_serving_degrades_then_recovers(
    database_url, registry, db_session, make_user, tmp_path, redis_server, caplog
):
    world = build_world(db_session)
    email = make_user("admin")
    url = redis_server.url
    app = _app_with(database_url, tmp_path, REDIS_URL=url, RATELIMIT_STORAGE_URI=url)
    first = report(app.test_client(), world["token"], world["types"]["image"])
    assert first.status_code == 200
    assert redis.Redis.from_url(url).keys("LIMITS*"), "the limits count in Redis"
    assert app.test_client().get("/healthz").status_code == 200

    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="flask-limiter")
    _sign_in_and_report(app, email, world)
    assert "falling back to in-memory storage" in caplog.text
    assert count(db_session, Ticket) == 2
    assert app.test_client().get("/healthz").status_code == 503


# -- the database down --------------------------------------------------------------------
def _signed_in_cookie(app: Flask, email: str) -> str:
    client = app.test_client()
    assert login(client, email).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _assert_unavailable(response: Any) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert FRENCH_503 in html
    assert "Traceback" not in html and "OperationalError" not in html
    return html


@pytest.mark.parametrize("where", ["postgresql-closed-port", "sqlite-unreadable-path"])
def test_with_the_database_down_pages_answer_a_translated_503(
    app, database_url, registry, db_session, make_user, tmp_path, where
):
    world = build_world(db_session)
    cookie = _signed_in_cookie(app, make_user("admin"))
    if where == "postgresql-closed-port":
        down_url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/socle"
    else:
        (tmp_path / "a-file").write_text("not a folder")
        down_url = f"sqlite:///{tmp_path / 'a-file' / 'socle.db'}"
    down = _app_with(down_url, tmp_path)

    signed_in = down.test_client()
    signed_in.set_cookie("session", cookie)
    _assert_unavailable(signed_in.get("/"))
    _assert_unavailable(signed_in.get("/reports/"))
    anonymous = down.test_client()
    _assert_unavailable(anonymous.get(f"/q/{world['token']}"))
    # A report sent meanwhile comes back with what was typed, ready to be sent again.
    sent = report(anonymous, world["token"], world["types"]["son"], "Écrit pendant la panne")
    html = _assert_unavailable(sent)
    assert "Écrit pendant la panne" in html and 'name="description"' in html
    assert f'name="problem" value="{world["types"]["son"]}"' in html
    # The probe says so too, in JSON.
    health = anonymous.get("/healthz")
    assert health.status_code == 503 and health.json["checks"]["database"]["status"] == "failing"
    assert count(db_session, Ticket) == 0


@pytest.mark.own_app  # it adds a route of its own
def test_errors_that_are_not_an_outage_stay_errors(app):
    # A broken statement is the code's error, not the database's absence: it is not a 503.
    from sqlalchemy import text

    from inventory.extensions import db

    @app.get("/broken-statement")
    def broken() -> str:  # registered for this test only
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    broken.access_rule = True  # type: ignore[attr-defined]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/broken-statement")
    assert response.status_code == 500
    assert FRENCH_503 not in response.get_data(as_text=True)


# -- the report's limit under simultaneous requests ---------------------------------------
def _twelve_screens(db_session: Any) -> list[str]:
    """Twelve interactive screens in a Fresnes school's first room; their label tokens."""
    ecole = db_session.scalar(select(Ecole).filter_by(uai=UAI))
    room = db_session.scalars(
        select(Classroom).filter_by(ecole_id=ecole.id).order_by(Classroom.id)
    ).first()
    eni = catalogue.category_by_code(db_session, "eni")
    model = catalogue.get_or_create_model(db_session, "Speechi", "SPE-75", eni)
    where = lifecycle.Where(ecole.collectivite, ecole, room)
    screens = [
        lifecycle.create_asset(
            db_session,
            ADMIN,
            where=where,
            model=model,
            status=AssetStatus.IN_SERVICE,
            fields=lifecycle.AssetFields(serial=f"SN-{i:04d}"),
        )
        for i in range(12)
    ]
    toks = tokens.active_tokens(db_session, asset_ids=[a.id for a in screens], classroom_ids=[])
    db_session.commit()
    return [toks[("asset", a.id)].token for a in screens]


@pytest.mark.parametrize("limit_storage", ["memory", "redis"], indirect=True)
def test_twelve_simultaneous_reports_let_exactly_five_through(
    database_url, registry, db_session, tmp_path, limit_storage
):
    labels = _twelve_screens(db_session)
    app = _app_with(
        database_url,
        tmp_path,
        RATELIMIT_STORAGE_URI=limit_storage,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}",  # a shared Redis keeps no old count
        HELPDESK_REPORT_LIMITS=("5 per minute", "100 per hour"),
    )
    # Twelve items: reports about one item at the same moment would meet on its version.
    problem = db_session.scalar(select(ProblemType.id).filter_by(code="son"))
    sends = [(token, problem) for token in labels]
    barrier = threading.Barrier(len(sends))
    statuses: list[int] = []
    lock = threading.Lock()

    def send(token: str, problem: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = report(client, token, problem, f"Rapport {problem}")
        status = response.status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=s) for s in sends]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert count(db_session, Ticket) == 5
