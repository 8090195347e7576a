"""The alerts before an end, through the job queue (the periodic task, as the scheduler
runs it): a subscription's, a contract's, an item's warranty; once per threshold, to the
collectivité's staff who should hear of it, and again after a renewal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from inventory.assets.models import DigitalService
from inventory.assets.socle import paris_today
from inventory.core import jobs
from inventory.suppliers import contracts
from inventory.suppliers.alerts import thresholds_to_send
from inventory.suppliers.models import ContractKind, ExpiryAlert
from inventory.suppliers.tasks import expiry_alerts
from tests.factories import ADMIN, outbox
from tests.suppliers.builders import item, subscription, supplier


@pytest.fixture
def app_config():
    return {"EXPIRY_ALERT_DAYS": (90, 30), "WARRANTY_ALERT_DAYS": (30,)}


@pytest.fixture
def staff(make_user, creteil, fresnes):
    return {
        "tech": make_user("technicien", [("collectivite", creteil)], email="tech@example.org"),
        "finance": make_user(
            "gestionnaire", [("collectivite", creteil)], email="finance@example.org"
        ),
        "elsewhere": make_user(
            "gestionnaire", [("collectivite", fresnes)], email="fresnes@example.org"
        ),
    }


def run_job(app):
    """The periodic task, through the app's queue (run at once in tests)."""
    with app.app_context():
        jobs.enqueue(expiry_alerts)


def mails(db_session):
    db_session.expire_all()
    return [(m.to, m.body) for m in outbox(db_session)]


def test_a_subscription_alert_comes_once_per_threshold(app, db_session, creteil, staff):
    today = paris_today()
    sub = subscription(db_session, creteil, ends_on=today + timedelta(days=60), name="ENT One")
    run_job(app)
    sent = mails(db_session)
    assert sorted(to for to, _ in sent) == ["finance@example.org", "tech@example.org"]
    assert all("ENT One" in body and f"/abonnements/{sub.service_id}" in body for _, body in sent)
    run_job(app)  # the next morning: nothing new before the next threshold
    assert len(mails(db_session)) == 2
    # Within 30 days: the second threshold's alert.
    service = db_session.get(DigitalService, sub.service_id)
    service.ends_on = today + timedelta(days=20)
    db_session.commit()
    run_job(app)
    assert len(mails(db_session)) == 4
    run_job(app)
    assert len(mails(db_session)) == 4
    # Renewed for a year: nothing until its new end comes near.
    service.ends_on = today + timedelta(days=400)
    db_session.commit()
    run_job(app)
    assert len(mails(db_session)) == 4
    keys = db_session.execute(select(ExpiryAlert.ends_on, ExpiryAlert.days_before)).all()
    assert sorted(d for _, d in keys) == [30, 90, 90]  # 20 days left counted both passed


def test_a_late_first_run_sends_the_nearest_threshold_only(app, db_session, creteil, staff):
    subscription(db_session, creteil, ends_on=paris_today() + timedelta(days=10))
    run_job(app)
    assert len(mails(db_session)) == 2  # one mail each, not one per threshold passed
    run_job(app)
    assert len(mails(db_session)) == 2


def test_contract_and_warranty_alerts(app, db_session, creteil, staff):
    today = paris_today()
    screen = item(db_session, creteil, warranty_end=today + timedelta(days=25))
    item(db_session, creteil, warranty_end=today + timedelta(days=200))  # not yet
    speechi = supplier(db_session, creteil, "Speechi")
    contracts.save_contract(
        db_session,
        ADMIN,
        None,
        contracts.ContractFields(
            ContractKind.LEASING, "L-7", "Location des portables", today, today + timedelta(days=80)
        ),
        supplier=speechi,
    )
    run_job(app)
    sent = dict(mails(db_session))
    # The technician hears of both; the finance officer of the contract alone.
    assert screen.tag in sent["tech@example.org"] and "L-7" in sent["tech@example.org"]
    assert "L-7" in sent["finance@example.org"] and screen.tag not in sent["finance@example.org"]
    assert "fresnes@example.org" not in sent
    run_job(app)
    assert len(mails(db_session)) == 2


@given(
    st.integers(min_value=-5, max_value=120),
    st.sets(st.integers(0, 100), max_size=4),
    st.sets(st.integers(0, 100), max_size=4),
)
def test_an_alert_is_due_when_its_nearest_threshold_passed_is_not_sent(left, days, already):
    sent = already & days
    out = thresholds_to_send(left, days, sent)
    passed = sorted(t for t in days if t >= left)
    if not passed or passed[0] in sent:
        assert out == []
    else:
        assert out[0] == passed[0] and set(out) == set(passed) - sent
