"""Webhooks end to end: a collectivité's manager subscribes on its page, events of the
services become deliveries in their transaction, a real HTTP receiver on loopback gets
them signed (and checks the signature as a receiver would), failures are retried with a
delay, and the log and "redeliver" stay within the policy's scope."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from inventory.api import webhooks
from inventory.api.webhooks_models import WebhookDelivery, WebhookSubscription
from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.assets.spreadsheet import HEADERS
from inventory.core import events
from inventory.core.jobs import Job
from inventory.core.policy import Role
from inventory.extensions import db
from inventory.helpdesk import tickets
from inventory.helpdesk.models import Ticket, TicketStatus
from tests.api.payloads import conforms
from tests.assets.builders import KEYS, rooms_of, sample_items, to_xlsx, upload
from tests.factories import ADMIN, build_world, count, fresh, login, report
from tests.servers import a_webhook_receiver

ALL = list(events.NAMES)


@pytest.fixture
def app_config():
    # The receiver listens on loopback, a private address: allowed for these tests. An
    # upload of a few kB is imported by a job (its end is an event).
    return {"WEBHOOKS_ALLOW_PRIVATE": True, "IMPORT_INLINE_MAX_BYTES": 4000}


@pytest.fixture
def world(registry, db_session):
    return build_world(db_session)


@pytest.fixture
def manager(app, make_user, world):
    """A technicien of the Fresnes collectivité, signed in."""
    client = app.test_client()
    email = make_user(Role.TECHNICIEN, [("collectivite", world["coll"])])
    assert login(client, email).status_code == 302
    return client


def subscribe(client, coll_id, url, chosen=ALL, name="GLPI"):
    """Create a subscription on its page; the secret the answer shows once."""
    answer = client.post(
        f"/collectivites/{coll_id}/webhooks",
        data={"name": name, "url": url, "events": chosen, "active": "y"},
    )
    assert answer.status_code == 200, answer.text
    found = re.search(r"whsec_[A-Za-z0-9_-]+", answer.text)
    assert found, "the secret is shown on the answer"
    return found.group(0)


def signed_by(secret, headers, body):
    """What a receiver checks, written here from the documented rule: HMAC-SHA256 of
    "<timestamp>.<body>" with the secret, and a recent timestamp."""
    stamp = headers["X-Socle-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return (
        hmac.compare_digest("sha256=" + expected.hexdigest(), headers["X-Socle-Signature"])
        and abs(time.time() - int(stamp)) < 300
    )


def deliveries(db_session, **where):
    db_session.expire_all()
    stmt = select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id)
    return list(db_session.scalars(stmt))


def test_a_reported_problem_reaches_the_receiver_signed(client, manager, world, db_session):
    with a_webhook_receiver() as receiver:
        secret = subscribe(manager, world["coll"], receiver.url, [events.TICKET_CREATED])
        assert report(client, world["token"], world["types"]["casse"]).status_code in (200, 302)
        assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert signed_by(secret, headers, body)
    assert not signed_by("whsec_another", headers, body)
    payload = conforms(client.get("/api/v1/openapi.json").get_json(), body)
    ticket = db_session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
    assert payload["event"] == headers["X-Socle-Event"] == "ticket.created"
    assert payload["collectivite_id"] == world["coll"]
    assert payload["data"]["ticket"] == ticket.id
    assert payload["data"]["asset"] == world["screen"].id
    assert payload["id"] == headers["X-Socle-Delivery"]
    (delivery,) = deliveries(db_session)
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.delivered_at is not None
    # The secret is kept for signing, never in the change log nor on the page again.
    page = manager.get(f"/webhooks/{delivery.subscription_id}").text
    assert secret not in page and "HTTP 200" in page
    from inventory.core.audit import AuditRecord

    logged = db_session.scalars(
        select(AuditRecord).filter_by(object_type="webhook_subscriptions")
    ).all()
    assert logged and all(secret not in json.dumps(r.changes) for r in logged)


def test_a_failing_receiver_is_retried_later_until_it_answers(app, manager, world, db_session):
    with a_webhook_receiver([500]) as receiver:
        secret = subscribe(manager, world["coll"], receiver.url, [events.ASSET_STATUS_CHANGED])
        with app.app_context():
            screen = db.session.get(Asset, world["screen"].id)
            lifecycle.change_status(db.session, ADMIN, screen, AssetStatus.UNDER_REPAIR)
        (delivery,) = deliveries(db_session)
        assert (delivery.state, delivery.status_code, delivery.attempts) == ("pending", 500, 1)
        assert delivery.last_error == "HTTP 500"
        wait = delivery.next_attempt_at - delivery.last_attempt_at
        assert timedelta(seconds=59) <= wait <= timedelta(seconds=61)
        with app.app_context():
            # Not yet due: nothing is sent.
            assert webhooks.deliver_due(db.session, app.config) == 0
            assert len(receiver.received) == 1
            # Its time come (the periodic task's call), the receiver answers 200.
            later = delivery.next_attempt_at + timedelta(seconds=1)
            assert webhooks.deliver_due(db.session, app.config, now=later) == 1
        assert len(receiver.received) == 2
    (delivery,) = deliveries(db_session)
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", 200, 2)
    first, second = receiver.received
    # The same delivery: same id and body; each attempt signed with its own timestamp.
    assert first[1] == second[1]
    assert first[0]["X-Socle-Delivery"] == second[0]["X-Socle-Delivery"]
    assert all(signed_by(secret, h, b) for h, b in receiver.received)
    data = json.loads(second[1])["data"]
    assert (data["from_status"], data["to_status"]) == ("in_service", "under_repair")


def test_resolving_a_ticket_tells_its_status_and_its_resolution(
    app, client, manager, world, db_session
):
    with a_webhook_receiver() as receiver:
        secret = subscribe(
            manager,
            world["coll"],
            receiver.url,
            [events.TICKET_STATUS_CHANGED, events.TICKET_RESOLVED],
        )
        report(client, world["token"], world["types"]["casse"])
        assert receiver.received == []  # not subscribed to ticket.created
        with app.app_context():
            ticket = db.session.scalar(select(Ticket).order_by(Ticket.id.desc()).limit(1))
            tickets.change_status(
                db.session,
                app.config,
                ADMIN,
                ticket,
                TicketStatus.RESOLVED,
                version=ticket.version,
                resolution="Écran remplacé.",
            )
            ticket_id = ticket.id
        names = [h["X-Socle-Event"] for h, _ in receiver.received]
    assert names == ["ticket.status_changed", "ticket.resolved"]
    assert all(signed_by(secret, h, b) for h, b in receiver.received)
    spec = client.get("/api/v1/openapi.json").get_json()
    conforms(spec, receiver.received[0][1])
    resolved = conforms(spec, receiver.received[1][1])["data"]
    assert resolved == {
        "ticket": ticket_id,
        "ecole": world["ecole"].id,
        "asset": world["screen"].id,
        "resolution": "Écran remplacé.",
    }


def test_only_the_collectivites_active_subscriptions_hear_its_events(
    app, manager, world, registry, db_session
):
    with a_webhook_receiver() as receiver:
        subscribe(manager, world["coll"], receiver.url, [events.ASSET_STATUS_CHANGED])
        subscription = db_session.scalar(select(WebhookSubscription))
        with app.app_context():
            # Another collectivité's event, and an event nobody subscribed to.
            events.emit(
                db.session, events.ASSET_STATUS_CHANGED, registry["collectivites"]["Créteil"]
            )
            events.emit(db.session, events.DOSSIER_STATUS_CHANGED, world["coll"])
            db.session.commit()
            assert receiver.received == []
            # An event of a transaction that rolls back is never delivered.
            events.emit(db.session, events.ASSET_STATUS_CHANGED, world["coll"], asset=1)
            db.session.rollback()
            db.session.commit()
        assert receiver.received == [] and deliveries(db_session) == []
        # Disabled: its events are no longer recorded.
        answer = manager.post(
            f"/webhooks/{subscription.id}",
            data={"name": "GLPI", "url": receiver.url, "events": [events.ASSET_STATUS_CHANGED]},
        )
        assert answer.status_code == 302
        with app.app_context():
            events.emit(db.session, events.ASSET_STATUS_CHANGED, world["coll"], asset=1)
            db.session.commit()
        assert receiver.received == [] and deliveries(db_session) == []
        assert fresh(db_session, WebhookSubscription, subscription.id).active is False


def test_a_new_secret_signs_from_now_on(app, manager, world, db_session):
    with a_webhook_receiver() as receiver:
        old = subscribe(manager, world["coll"], receiver.url, [events.DOSSIER_STATUS_CHANGED])
        subscription = db_session.scalar(select(WebhookSubscription))
        answer = manager.post(f"/webhooks/{subscription.id}/secret")
        new = re.search(r"whsec_[A-Za-z0-9_-]+", answer.text).group(0)
        assert new != old
        with app.app_context():
            events.emit(db.session, events.DOSSIER_STATUS_CHANGED, world["coll"], dossier=1)
            db.session.commit()
    ((headers, body),) = receiver.received
    assert signed_by(new, headers, body) and not signed_by(old, headers, body)


def test_a_failed_delivery_can_be_redelivered_from_the_log(app, manager, world, db_session):
    with a_webhook_receiver([503, 503]) as receiver:
        subscribe(manager, world["coll"], receiver.url, [events.JOB_FINISHED])
        app.config["WEBHOOKS_MAX_ATTEMPTS"] = 2
        with app.app_context():
            events.emit(db.session, events.JOB_FINISHED, world["coll"], job=7, state="done")
            db.session.commit()
            (delivery,) = deliveries(db_session)
            webhooks.deliver_due(db.session, app.config, now=delivery.next_attempt_at)
        (delivery,) = deliveries(db_session)
        assert (delivery.state, delivery.attempts, delivery.status_code) == ("failed", 2, 503)
        page = manager.get(f"/webhooks/{delivery.subscription_id}").text
        assert "HTTP 503" in page and "Renvoyer" in page
        answer = manager.post(f"/webhooks/livraisons/{delivery.id}/renvoyer")
        assert answer.status_code == 302
    (delivery,) = deliveries(db_session)
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("delivered", 1, 200)
    assert len(receiver.received) == 3


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://glpi.example.org/hook", "doit commencer par http:// ou https://"),
        ("https://user:pass@glpi.example.org/hook", "Ne mettez aucun nom"),
        ("pas une adresse", "doit commencer par http:// ou https://"),
    ],
)
def test_a_bad_address_is_refused_and_the_form_kept(manager, world, db_session, url, message):
    answer = manager.post(
        f"/collectivites/{world['coll']}/webhooks",
        data={"name": "MDM", "url": url, "events": [events.TICKET_CREATED]},
    )
    assert answer.status_code == 422
    assert message in answer.text
    assert 'value="MDM"' in answer.text
    assert count(db_session, WebhookSubscription) == 0


def test_private_addresses_are_refused_unless_the_setting_allows_them(app, manager, world):
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://localhost/x"):
        answer = manager.post(
            f"/collectivites/{world['coll']}/webhooks",
            data={"name": "MDM", "url": url, "events": [events.TICKET_CREATED]},
        )
        assert answer.status_code == 422, url
        assert "réseau privé" in answer.text
    assert webhooks.check_url("https://93.184.215.14/hook", app.config) == (
        "https://93.184.215.14/hook"
    )


def test_someone_elses_subscriptions_and_deliveries_answer_404(
    app, manager, make_user, world, registry, db_session
):
    creteil = registry["collectivites"]["Créteil"]
    admin = app.test_client()
    assert login(admin, make_user(Role.ADMIN, [])).status_code == 302
    with a_webhook_receiver([500]) as receiver:
        subscribe(admin, creteil, receiver.url, [events.DOSSIER_STATUS_CHANGED])
        with app.app_context():
            events.emit(db.session, events.DOSSIER_STATUS_CHANGED, creteil, dossier=1)
            db.session.commit()
    (delivery,) = deliveries(db_session)
    theirs = delivery.subscription_id
    for answer in (
        manager.get(f"/collectivites/{creteil}/webhooks"),
        manager.post(f"/collectivites/{creteil}/webhooks", data={"name": "x"}),
        manager.get(f"/webhooks/{theirs}"),
        manager.post(f"/webhooks/{theirs}", data={"name": "x"}),
        manager.post(f"/webhooks/{theirs}/secret"),
        manager.post(f"/webhooks/livraisons/{delivery.id}/renvoyer"),
        manager.get("/admin/webhooks"),
    ):
        assert answer.status_code == 404
    assert deliveries(db_session)[0].attempts == 1  # not sent again
    # A finance manager of the same collectivité does not manage its webhooks either.
    finance = app.test_client()
    email = make_user(Role.GESTIONNAIRE, [("collectivite", creteil)])
    assert login(finance, email).status_code == 302
    assert finance.get(f"/webhooks/{theirs}").status_code == 404
    # The administrator sees every collectivité's log.
    log = admin.get("/admin/webhooks?state=pending").text
    assert "HTTP 500" in log and "GLPI" in log


def test_the_documented_worked_example_is_the_signature_a_receiver_computes(app, client):
    with app.app_context():
        example = webhooks.worked_example()
    mac = hmac.new(
        example["secret"].encode(),
        example["timestamp"].encode() + b"." + example["body"].encode(),
        hashlib.sha256,
    )
    assert example["signature"] == "sha256=" + mac.hexdigest()
    page = client.get("/api/v1/docs").text
    assert 'id="webhooks"' in page and example["signature"] in page
    assert "X-Socle-Signature" in page and "ticket.resolved" in page
    from inventory.paths import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert example["signature"] in readme and example["body"] in readme


def test_a_finished_job_is_told_with_its_kind_and_state(app, registry, login_as, db_session):
    coll = registry["collectivites"]["Créteil"]
    client = login_as("technicien", [("collectivite", coll)])
    with a_webhook_receiver() as receiver:
        subscribe(client, coll, receiver.url, [events.JOB_FINISHED])
        data = to_xlsx(HEADERS, sample_items(rooms_of(db_session, registry, "Créteil")))
        assert upload(client, data, "equipements.xlsx").status_code == 302
    job = db_session.scalar(select(Job).order_by(Job.id.desc()).limit(1))
    ((headers, body),) = receiver.received
    payload = conforms(client.get("/api/v1/openapi.json").get_json(), body)
    assert headers["X-Socle-Event"] == "job.finished"
    assert payload["collectivite_id"] == coll
    assert payload["data"] == {"job": job.id, "kind": "assets.import", "state": "done"}


def test_an_import_tells_each_status_it_changes_like_one_change(
    app, registry, login_as, db_session
):
    """An import that changes items' statuses (core.events) tells each of them, as one
    item's status change does, in the import's transaction."""
    coll = registry["collectivites"]["Créteil"]
    client = login_as("technicien", [("collectivite", coll)])
    rows = sample_items(rooms_of(db_session, registry, "Créteil"), n=6, prefix="EV")
    assert upload(client, to_xlsx(HEADERS, rows), "equipements.xlsx").status_code == 302
    status = KEYS.index("statut")
    for row in rows:
        row[status] = "in_service"
    with a_webhook_receiver() as receiver:
        subscribe(client, coll, receiver.url, [events.ASSET_STATUS_CHANGED])
        assert upload(client, to_xlsx(HEADERS, rows), "equipements.xlsx").status_code == 302
    spec = client.get("/api/v1/openapi.json").get_json()
    told = [conforms(spec, body)["data"] for _headers, body in receiver.received]
    changed = db_session.scalars(
        select(Asset).where(Asset.serial.in_(["EV0000", "EV0002", "EV0004"]))
    ).all()
    assert sorted(d["asset"] for d in told) == sorted(a.id for a in changed)
    assert {(d["from_status"], d["to_status"]) for d in told} == {("delivered", "in_service")}
    assert {d["tag"] for d in told} == {a.tag for a in changed}


def test_a_subscriptions_history_reads_in_words_without_its_secret(app, manager, world, db_session):
    """Its page shows who changed what, the events by their names, a new secret by its
    date only (the secret itself is never logged)."""
    with a_webhook_receiver() as receiver:
        old = subscribe(manager, world["coll"], receiver.url, [events.TICKET_CREATED])
        subscription = db_session.scalar(select(WebhookSubscription))
        answer = manager.post(
            f"/webhooks/{subscription.id}",
            data={
                "name": "GLPI central",
                "url": receiver.url,
                "events": [events.TICKET_CREATED, events.TICKET_RESOLVED],
                "active": "y",
            },
        )
        assert answer.status_code == 302
        new = re.search(r"whsec_[\w-]+", manager.post(f"/webhooks/{subscription.id}/secret").text)
    page = manager.get(f"/webhooks/{subscription.id}", headers={"Accept-Language": "fr"}).text
    history = page[page.index('id="history-title"') :]
    assert "Abonnement webhook" in history
    assert "Ticket créé, Ticket résolu" in history and "GLPI central" in history
    assert "Nouveau secret créé le" in history
    assert old not in page and new.group(0) not in page
