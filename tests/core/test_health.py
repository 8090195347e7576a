"""The probes, through HTTP: /healthz and its registry of checks, /metrics and who may read
it, and the JSON log lines."""

from __future__ import annotations

import json
import socket

import pytest

from inventory import create_app
from inventory.core import health, metrics
from inventory.core.db import utcnow
from inventory.core.mail import MailState, OutboxMessage
from inventory.extensions import limiter


@pytest.fixture
def app_config():
    # Every other route limited to one request a minute: the probes must not be.
    return {"RATELIMIT_DEFAULT": "1 per minute", "METRICS_TOKEN": "s3cret-scraper"}


@pytest.fixture(autouse=True)
def _no_default_limits_afterwards():
    """The limiter is one object for every app of the process, and keeps the first default
    limits it is given: the next tests' apps must not inherit these."""
    yield
    limiter.limit_manager.set_default_limits([])


def test_healthz_checks_the_database_sets_no_cookie_and_is_never_limited(app, client):
    browser = app.test_client()
    assert browser.get("/login").status_code == 200
    assert browser.get("/login").status_code == 429  # the default limit holds elsewhere
    for _ in range(3):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
    body = response.json
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["engine"] in {"sqlite", "postgresql"}
    assert "redis" not in body["checks"]  # not configured


def test_a_check_is_added_by_one_call_and_a_failing_one_answers_503(app, client):
    health.register(app, "queue", lambda: {"backlog": 3})
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json["checks"]["queue"]["backlog"] == 3

    def too_long() -> None:
        raise health.Unhealthy("backlog 5000 above 1000")

    health.register(app, "queue", too_long)
    failing = client.get("/healthz")
    assert failing.status_code == 503
    assert failing.json["status"] == "failing"
    assert failing.json["checks"]["queue"] == {
        "status": "failing",
        "error": "Unhealthy: backlog 5000 above 1000",
        "ms": failing.json["checks"]["queue"]["ms"],
    }
    assert failing.json["checks"]["database"]["status"] == "ok"


def test_metrics_count_requests_per_endpoint_for_loopback_or_the_token_only(app, client):
    client.get("/login")
    metrics.register_gauge(app, "socle_outbox_pending", "Messages waiting to be sent", lambda: 7)
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    text = scraped.get_data(as_text=True)
    assert 'flask_http_request_total{method="GET",status="200"}' in text
    assert 'flask_http_request_duration_seconds_count{endpoint="auth.login"' in text
    assert "socle_outbox_pending 7.0" in text
    assert "healthz" not in text  # the probes are not counted

    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    wrong = {"Authorization": "Bearer guess"}
    assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-scraper"}
    assert client.get("/metrics", environ_base=outside, headers=right).status_code == 200


def test_json_logs_are_one_object_a_line(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed}/socle",
            "LOG_FORMAT": "json",
        }
    )
    assert app.test_client().get("/q/ABCDEFGH23456789").status_code == 503
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    entries = [json.loads(line) for line in lines]
    outage = [e for e in entries if e["message"].startswith("Database unavailable")]
    assert outage, lines
    assert outage[0]["level"] == "ERROR" and outage[0]["logger"] == "inventory"
    assert outage[0]["method"] == "GET" and outage[0]["path"] == "/q/ABCDEFGH23456789"


def test_the_queue_and_the_outbox_are_probed(app, client, db_session):
    """The queue's backlog is a check of /healthz; waiting mail and jobs are gauges."""
    now = utcnow()
    for state in (MailState.PENDING, MailState.FAILED, MailState.FAILED):
        db_session.add(
            OutboxMessage(
                to="ecole@example.org", subject="s", body="b", state=state, next_attempt_at=now
            )
        )
    db_session.commit()
    checks = client.get("/healthz").json["checks"]
    assert checks["queue"]["status"] == "ok"
    assert checks["queue"]["waiting"] == 0  # jobs run at once in the tests
    text = client.get("/metrics").get_data(as_text=True)
    assert "socle_outbox_pending 1.0" in text
    assert "socle_outbox_failed 2.0" in text
    assert "socle_queue_waiting 0.0" in text
    assert "socle_jobs_running 0.0" in text
