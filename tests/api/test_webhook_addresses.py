"""The webhook address check cannot be turned by DNS rebinding: a receiver's name is
resolved once per attempt, every address it gives is checked, and the request goes to
that very address with the name kept as Host. Two real servers on loopback stand for
the address checked and the one a second resolution would give."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from inventory.api import webhooks, webhooks_http
from inventory.api.webhooks_models import WebhookDelivery
from inventory.core import events
from inventory.extensions import db
from inventory.orgs.models import Collectivite
from tests.factories import ADMIN
from tests.servers import a_webhook_receiver

NAME = "hooks.example.test"


class Resolver:
    """A name server whose answer changes after the first question (a rebinding one)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        addresses = self.answers[0] if len(self.answers) == 1 else self.answers.pop(0)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port))
            for a in addresses
        ]


def _subscribe(app, db_session, registry, url):
    coll = db_session.get(Collectivite, registry["collectivites"]["Créteil"])
    webhooks.create_subscription(
        db_session,
        ADMIN,
        app.config,
        coll,
        webhooks.SubscriptionFields("GLPI", url, (events.DOSSIER_STATUS_CHANGED,)),
    )
    return coll.id


def _emit(app, coll_id):
    with app.app_context():
        events.emit(db.session, events.DOSSIER_STATUS_CHANGED, coll_id, dossier=1)
        db.session.commit()


def test_the_request_goes_to_the_address_resolved_once(app, registry, db_session, monkeypatch):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # both servers are on loopback
    with a_webhook_receiver() as checked:
        try:
            other = a_webhook_receiver(host="127.0.0.2", port=checked.port).__enter__()
        except OSError:
            pytest.fail("127.0.0.2 is loopback on Linux: the second server must start")
        try:
            resolver = Resolver(["127.0.0.1"], ["127.0.0.2"])
            monkeypatch.setattr(webhooks_http, "getaddrinfo", resolver)
            coll = _subscribe(app, db_session, registry, f"http://{NAME}:{checked.port}/hook")
            _emit(app, coll)
        finally:
            other.stop()
    assert resolver.asked == [NAME]  # one resolution for the attempt, none behind it
    assert len(checked.received) == 1 and other.received == []
    headers, _body = checked.received[0]
    assert headers["Host"] == f"{NAME}:{checked.port}"
    delivery = db_session.scalar(select(WebhookDelivery))
    assert (delivery.state, delivery.status_code) == ("delivered", 200)


def test_a_name_that_now_points_inside_is_refused_and_not_called(
    app, registry, db_session, monkeypatch
):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    with a_webhook_receiver() as inside:
        # Public when it was saved, then one of its addresses is loopback.
        resolver = Resolver(["93.184.215.14"], ["93.184.215.14", "127.0.0.1"])
        monkeypatch.setattr(webhooks_http, "getaddrinfo", resolver)
        coll = _subscribe(app, db_session, registry, f"http://{NAME}:{inside.port}/hook")
        _emit(app, coll)
    assert inside.received == [] and resolver.asked == [NAME, NAME]
    delivery = db_session.scalar(select(WebhookDelivery))
    assert delivery.state == "pending" and delivery.status_code is None
    assert "réseau privé" in delivery.last_error
    # Every address counts when saving too.
    with pytest.raises(webhooks.WebhookError):
        webhooks.check_url(f"https://{NAME}/hook", app.config)
