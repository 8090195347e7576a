"""On a phone, a teacher scans a screen's label, reports that the pen no longer works with a
photo, and follows her report; the IT staff acknowledge and resolve it; the follow-up page
shows the outcome. Every page, the public ones included, is checked with axe-core."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from inventory.assets.models import Asset, AssetStatus
from inventory.helpdesk.models import Ticket, TicketPhoto
from tests.e2e.axe import check_a11y
from tests.e2e.conftest import ACTION_TIMEOUT_MS
from tests.factories import build_world

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A phone: small touch screen, French, like the teacher's."""
    context = browser.new_context(
        base_url=live_server,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(out, "PNG")
    return out.getvalue()


def test_a_teacher_reports_a_problem_and_sees_it_resolved(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    page: Page,
    sign_in: Callable[..., None],
    translate: Callable[..., str],
    url: Callable[[str], str],
) -> None:
    world = build_world(db_session)
    screen = world["screen"]
    tech = make_user("technicien", [("collectivite", world["coll"])])

    # The teacher scans the label: the page says what the item is, without an account.
    page.goto(f"/Q/{world['token']}")
    check_a11y(page)
    expect(page.locator("main")).to_contain_text(screen.tag)
    expect(page.locator("main")).to_contain_text(world["rooms"][0].name)
    expect(page.locator("header nav")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    form = page.locator("form.report-form")
    form.get_by_label("Le tactile ou le stylet ne fonctionne pas").check()
    form.locator("textarea[name=description]").fill("Le stylet n'écrit plus sur le tableau.")
    form.locator("input[name=photo]").set_input_files(
        files=[{"name": "tableau.png", "mimeType": "image/png", "buffer": _png()}]
    )
    form.locator("input[name=email]").fill("enseignante@example.org")
    form.locator("button[type=submit]").click()

    follow = page.locator("main .follow-link a")
    expect(follow).to_be_visible()
    check_a11y(page)
    expect(follow).to_have_attribute("href", re.compile(r"/suivi/[A-Za-z0-9_-]{32}$"))
    follow_url = follow.get_attribute("href")
    follow.click()
    page.wait_for_url(follow_url)
    check_a11y(page)
    expect(page.locator("#ticket-status")).to_have_text(translate("new"))

    db_session.expire_all()
    ticket = db_session.scalar(select(Ticket))
    assert ticket.reporter_email == "enseignante@example.org"
    assert db_session.scalar(select(TicketPhoto.ticket_id)) == ticket.id
    assert db_session.get(Asset, screen.id).status is AssetStatus.UNDER_REPAIR

    # The IT staff find it in their queue, acknowledge it, then resolve it.
    sign_in(tech)
    page.goto("/tickets")
    check_a11y(page)
    page.locator(f'main table a[href="/tickets/{ticket.id}"]').click()
    page.wait_for_url(url(f"/tickets/{ticket.id}"))
    check_a11y(page)
    expect(page.locator("main img")).to_have_count(1)
    status_form = page.locator(f'form[action="/tickets/{ticket.id}/statut"]')
    status_form.locator("select[name=status]").select_option("acknowledged")
    status_form.locator("textarea[name=note]").fill("Nous passons demain matin.")
    status_form.locator("button[type=submit]").click()
    expect(page.locator("#ticket-status")).to_have_text(translate("acknowledged"))
    check_a11y(page)

    resolve_form = page.locator(f'form[action="/tickets/{ticket.id}/resoudre"]')
    resolve_form.locator("textarea[name=resolution]").fill("Stylet remplacé sous garantie.")
    resolve_form.locator("button[type=submit]").click()
    expect(page.locator("#ticket-status")).to_have_text(translate("resolved"))
    check_a11y(page)
    db_session.expire_all()
    assert db_session.get(Asset, screen.id).status is AssetStatus.IN_SERVICE

    # The teacher's follow-up page shows the outcome.
    page.goto(follow_url)
    check_a11y(page)
    expect(page.locator("#ticket-status")).to_have_text(translate("resolved"))
    expect(page.locator("#ticket-resolution")).to_have_text("Stylet remplacé sous garantie.")
    expect(page.locator("main")).to_contain_text("Nous passons demain matin.")
    expect(page.locator("main")).not_to_contain_text(tech)
