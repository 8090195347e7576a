"""A collectivité's technicien subscribes its GLPI to ticket and equipment events in the
browser, copies the secret shown once, and sees in the delivery log the event a real
receiver on loopback got, signed with that secret. Every page is checked with axe-core."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from playwright.sync_api import Page, expect

from inventory.assets import lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.core.policy import Role
from inventory.extensions import db
from tests.e2e.axe import check_a11y
from tests.factories import ADMIN, build_world
from tests.servers import a_webhook_receiver


@pytest.fixture
def app_config():
    # As every browser test, with CSRF on; and the receiver on loopback allowed.
    return {"WTF_CSRF_ENABLED": True, "WEBHOOKS_ALLOW_PRIVATE": True}


def test_a_technicien_subscribes_and_follows_the_deliveries(
    app, registry, db_session, make_user, page: Page, sign_in, translate
):
    world = build_world(db_session)
    email = make_user(Role.TECHNICIEN, [("collectivite", world["coll"])])
    sign_in(email)
    with a_webhook_receiver() as receiver:
        page.goto(f"/collectivites/{world['coll']}")
        page.get_by_role("link", name=translate("Webhooks"), exact=True).first.click()
        check_a11y(page)
        form = page.locator("main form[method=post]")
        form.get_by_label(translate("Name")).fill("GLPI de la ville")
        form.get_by_label(translate("Receiving address")).fill(receiver.url)
        form.get_by_label(translate("Ticket created")).check()
        form.get_by_label(translate("Equipment status changed")).check()
        form.get_by_role("button", name=translate("Create the subscription")).click()
        secret = page.locator("code.secret").inner_text().strip()
        assert secret.startswith("whsec_")
        check_a11y(page)

        with app.app_context():
            screen = db.session.get(Asset, world["screen"].id)
            lifecycle.change_status(db.session, ADMIN, screen, AssetStatus.UNDER_REPAIR)
            db.session.remove()
        ((headers, body),) = receiver.received

    stamp = headers["X-Socle-Timestamp"].encode()
    mac = hmac.new(secret.encode(), stamp + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Socle-Signature"] == "sha256=" + mac
    assert json.loads(body)["event"] == "asset.status_changed"

    page.get_by_role("link", name="GLPI de la ville").click()
    log = page.locator("section", has=page.get_by_role("heading", name=translate("Deliveries")))
    expect(log).to_contain_text(translate("delivered"))
    expect(log).to_contain_text("HTTP 200")
    expect(page.locator("body")).not_to_contain_text(secret)
    check_a11y(page)
