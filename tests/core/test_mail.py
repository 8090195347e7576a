"""Mail through the outbox, against a real SMTP server on loopback (aiosmtpd): a password
reset and an invitation answer normally with the server down, their messages wait in the
outbox with the error, and are sent exactly once when it is back."""

from __future__ import annotations

import re
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from inventory.auth.models import User
from inventory.core.db import utcnow
from inventory.core.mail import MailState, OutboxMessage, backoff, deliver_due, retry_outbox
from inventory.extensions import db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _free_port()
_CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"


@pytest.fixture
def app_config(request):
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": PORT, "SMTP_STARTTLS": False}
    return {**smtp, **getattr(request, "param", {})}


def _outbox(db_session):
    db_session.expire_all()
    return db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_reset_and_invitation_with_smtp_down_then_back(app, login_as, make_user, db_session):
    known = make_user("technicien", [("collectivite", 1)], email="connue@example.org")
    anonymous = app.test_client()
    # Nothing listens on the port: the server is down.
    answers = [
        anonymous.post("/password/forgot", data={"email": email}, follow_redirects=True)
        for email in (known, "inconnue@example.org")
    ]
    assert [a.status_code for a in answers] == [200, 200]
    # The same page whether the address is known or not (the forms' CSRF tokens aside:
    # they carry the second they were made, and the refused mail server takes a while).
    pages = [_CSRF.sub("", a.get_data(as_text=True)) for a in answers]
    assert pages[0] == pages[1]
    admin = login_as("admin")
    invited = admin.post(
        "/admin/users/new",
        data={"email": "invitee@example.org", "name": "Invitée", "role": "admin"},
    )
    assert invited.status_code == 302
    assert db_session.scalar(select(User).filter_by(email="invitee@example.org")) is not None

    waiting = _outbox(db_session)
    assert [m.to for m in waiting] == [known, "invitee@example.org"]
    for message in waiting:
        assert message.state == MailState.PENDING and message.attempts == 1
        assert "Connection refused" in message.last_error or "Errno" in message.last_error
        assert message.next_attempt_at > utcnow()
    page = admin.get("/admin/outbox?show=problems").get_data(as_text=True)
    assert "invitee@example.org" in page and "Connection refused" in page

    # The periodic retry before the message's time: nothing is tried.
    with app.app_context():
        retry_outbox()
    assert [m.attempts for m in _outbox(db_session)] == [1, 1]

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=PORT)
    server.start()
    try:
        with app.app_context():
            later = utcnow() + timedelta(minutes=5)
            assert deliver_due(db.session, app.config, now=later) == 2
            assert deliver_due(db.session, app.config, now=later + timedelta(hours=1)) == 0
            db.session.remove()
    finally:
        server.stop()
    assert [rcpt for rcpt, _ in inbox.messages] == [[known], ["invitee@example.org"]]
    assert "/password/reset/" in inbox.messages[0][1]
    assert "/invitation/" in inbox.messages[1][1]
    sent = _outbox(db_session)
    assert [(m.state, m.attempts) for m in sent] == [(MailState.SENT, 2), (MailState.SENT, 2)]
    assert all(m.sent_at is not None for m in sent)


def test_mail_is_sent_after_the_commit_when_the_server_is_up(app, make_user, db_session):
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=PORT)
    server.start()
    try:
        email = make_user("technicien", [("collectivite", 1)])
        response = app.test_client().post("/password/forgot", data={"email": email})
        assert response.status_code == 302
    finally:
        server.stop()
    assert [rcpt for rcpt, _ in inbox.messages] == [[email]]
    (message,) = _outbox(db_session)
    assert message.state == MailState.SENT and message.attempts == 1


@pytest.mark.parametrize("app_config", [{"SMTP_HOST": None}], indirect=True)
def test_without_a_mail_server_messages_are_kept_locally(app, make_user, db_session):
    email = make_user("technicien", [("collectivite", 1)])
    app.test_client().post("/password/forgot", data={"email": email})
    (message,) = _outbox(db_session)
    assert message.state == MailState.LOCAL and message.attempts == 0


@pytest.mark.parametrize("app_config", [{"OUTBOX_MAX_ATTEMPTS": 2}], indirect=True)
def test_a_message_is_given_up_after_the_last_attempt(app, db_session):
    with app.app_context():
        db.session.add(
            OutboxMessage(to="x@example.org", subject="s", body="b", next_attempt_at=utcnow())
        )
        db.session.commit()
        for hours in (0, 1, 2):  # the server stays down: two attempts, then no more
            deliver_due(db.session, app.config, now=utcnow() + timedelta(hours=hours))
        db.session.remove()
    (message,) = _outbox(db_session)
    assert message.state == MailState.FAILED and message.attempts == 2


def test_backoff_doubles_up_to_six_hours():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30) == timedelta(hours=6)
